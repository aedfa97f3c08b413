"""While PHONE_HASH_KEY is being rotated, a person may still be known under an older key: whoever acts on
them next (their own text, an API call) moves them to the newest key first, consent and all."""
import logging

from service.runtime import Services
from service.store import rotation

log = logging.getLogger(__name__)


def move_to_newest(svc: Services, address: str, pk: str, now: float) -> bool:
    """Moves the person known under an older key to `pk` (the newest); True when someone moved."""
    for old in svc.vault.older_person_keys(address):
        outcome = "retry"
        for _ in range(3):  # "retry": a record of theirs was added while moving: read again
            if (outcome := rotation.rekey(svc.redis, old, pk, now)) != "retry":
                break
        if outcome == "moved":
            rotation.move_groups(svc.redis, svc.vault, old, pk)
            log.info("person_rekeyed", extra={"person": pk})
            return True
    return False


def current_key(svc: Services, address: str) -> str:
    """The person's key under the newest PHONE_HASH_KEY, with whatever was kept under an older one."""
    pk = svc.vault.person_key(address)
    if svc.vault.older_person_keys(address):
        move_to_newest(svc, address, pk, svc.now())
    return pk
