"""Data of a release before programs (keys named `sms:...` without their program), moved under the program
that owns it: `flask ops migrate-keys`, once, before the new release serves texts."""
from redis import Redis

from service.store import keys

LEGACY = "sms:"
BATCH = 1000
# indexes every deployment of the old release had once it served anyone: their presence says data is unmoved
MARKERS = ("sms:contacts:recent", "sms:contacts:known", "sms:settings", "sms:flows:published", "sms:api-tokens")


def is_legacy(key: bytes) -> bool:
    return key.startswith(LEGACY.encode()) and not key.startswith(b"sms:{")


def left(r: Redis) -> bool:
    """Whether the old release's data is still under its old names (one EXISTS)."""
    return bool(r.exists(*MARKERS))


def move_all(r: Redis) -> tuple[int, list[str]]:
    """Every old key moved (how many), and those a key of the new name kept in place (listed)."""
    cursor, moved, clashes = 0, 0, []
    while True:
        cursor, done, left_in_place = move_batch(r, cursor)
        moved, clashes = moved + done, clashes + left_in_place
        if not cursor:
            return moved, clashes


def move_batch(r: Redis, cursor: int) -> tuple[int, int, list[str]]:
    """Rename a batch of old keys to their program's names (RENAMENX: never over a key the new release
    wrote); returns the next cursor (0: done), how many moved, and the keys left because a key of the new
    name exists."""
    cursor, found = r.scan(cursor, match=LEGACY + "*", count=BATCH)
    old = [k for k in found if is_legacy(k)]
    prefix = keys.of(r).prefix.encode()
    pipe = r.pipeline(transaction=False)
    for key in old:
        pipe.renamenx(key, prefix + key[len(LEGACY):])
    results = pipe.execute(raise_on_error=False)
    moved = sum(1 for res in results if res is True or res == 1)
    clashes = [k.decode() for k, res in zip(old, results) if res is False or res == 0]
    return cursor, moved, clashes
