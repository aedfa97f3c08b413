"""The fallback spool: messages answered while Redis was down, kept (encrypted, fsynced) until
`flask ops replay-fallback` feeds them through the normal path (idempotent on MessageSid)."""
import json
import os
from collections.abc import Iterator
from pathlib import Path

from service.privacy import Vault
from service.sms.validate import InboundSms

NAME = "fallback.spool"


def path_in(directory: Path) -> Path:
    return directory / NAME


def append(directory: Path, vault: Vault, msg: InboundSms) -> None:
    """One encrypted line per message, appended and fsynced: the STOP in it must survive."""
    path = path_in(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = vault.encrypt(json.dumps({"sid": msg.sid, "from": msg.e164, "body": msg.body}))
    with open(path, "a", encoding="ascii") as f:
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


def read(spooled: Path, vault: Vault) -> Iterator[InboundSms | None]:
    """Each line's message, or None for a line that can't be read (wrong key, torn write)."""
    for line in spooled.read_text().splitlines():
        try:
            item = json.loads(vault.decrypt(line))
        except ValueError:
            yield None
            continue
        yield InboundSms(item["sid"], item["from"], item["body"])


def done(spooled: Path) -> None:
    spooled.rename(spooled.with_name(spooled.name.replace(".replaying-", ".replayed-")))
