"""The fallback spool: messages answered while Redis was down, kept (encrypted, fsynced, readable by the
service's user only) until `flask ops replay-fallback` applies them as of when they were received."""
import json
import os
from collections.abc import Iterator
from pathlib import Path

from service.privacy import Vault
from service.sms.validate import InboundSms

NAME = "fallback.spool"


def path_in(directory: Path) -> Path:
    return directory / NAME


def append(directory: Path, vault: Vault, msg: InboundSms, received_at: float) -> None:
    """One encrypted line per message, appended and fsynced: the STOP in it must survive."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = vault.encrypt(json.dumps({"sid": msg.sid, "from": msg.e164, "body": msg.body, "at": received_at}))
    fd = os.open(path_in(directory), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="ascii") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def take(directory: Path, stamp: int) -> list[Path]:
    """Move the live spool aside (the fallback keeps appending to a fresh file meanwhile) and return every
    file waiting for replay, an interrupted replay's included."""
    path = path_in(directory)
    if path.exists():
        path.rename(path.with_suffix(f".replaying-{stamp}"))
    return sorted(path.parent.glob(path.stem + ".replaying-*"))


def read(spooled: Path, vault: Vault) -> Iterator[tuple[str, InboundSms | None]]:
    """Each line with its message, or None for a line that can't be read (wrong key, torn write). A line
    written before lines kept their time gets the file's time, and is marked undated."""
    written = spooled.stat().st_mtime
    for line in spooled.read_text().splitlines():
        try:
            item = json.loads(vault.decrypt(line))
        except ValueError:
            yield line, None
            continue
        yield line, InboundSms(item["sid"], item["from"], item["body"], received_at=item.get("at", written),
                               undated="at" not in item)


def rotate(directory: Path, vault: Vault, stamp: int) -> int:
    """Re-encrypt every spooled line not yet replayed with the newest key (each file swapped whole)."""
    take(directory, stamp)  # the live spool is moved aside first: the fallback may be appending to it
    count = 0
    for path in sorted(directory.glob("fallback.*")) if directory.exists() else ():
        lines = path.read_text().splitlines()
        rotated = [_rotated(vault, line) for line in lines]
        count += sum(a != b for a, b in zip(lines, rotated))
        temporary = path.with_name(path.name + ".rotating")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write("".join(line + "\n" for line in rotated))
        os.replace(temporary, path)
    return count


def _rotated(vault: Vault, line: str) -> str:
    try:
        return vault.rotate(line)
    except ValueError:
        return line  # unreadable with every key: kept as it is


def finish(spooled: Path, unreadable: list[str]) -> Path | None:
    """A replayed file is deleted; lines that could not be read are kept apart (still encrypted, 0600)
    for someone with the right key, and that file's path is returned."""
    kept = None
    if unreadable:
        kept = spooled.with_name(spooled.name.replace(".replaying-", ".unreadable-"))
        fd = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write("\n".join(unreadable) + "\n")
    spooled.unlink()
    return kept
