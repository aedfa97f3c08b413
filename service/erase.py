"""Erasing a person: every record of theirs in Redis at once, their texts at Twilio by a worker. Used
by an admin's "Delete data", the API, `flask ops erase` and the retention sweep."""
from service import queues
from service.runtime import Services
from service.store import erasure


def erase_person(svc: Services, pk: str, silent_before: float | None = None) -> bool:
    """False when `silent_before` is given and the person texted since (the retention sweep's race)."""
    now, keep = svc.now(), svc.config.retention_seconds
    erased = erasure.erase(svc.redis, svc.vault, pk, now, keep, silent_before)
    if erased is None:
        return False
    if erased.number or erased.provider_sids:
        work_id = f"{pk}-{int(now)}"
        erasure.hand_over(svc.redis, svc.vault, work_id, erased, keep)
        queues.enqueue_provider_erasure(svc.redis, work_id)
    return True


def erase_address(svc: Services, address: str) -> list[str]:
    """Erase whoever this address is: under the newest person key and under any older one still holding
    something of theirs (a key rotation unfinished, or one that met a conflict). The person keys erased."""
    found = [pk for pk in (svc.vault.person_key(address), *svc.vault.older_person_keys(address))
             if erasure.known(svc.redis, pk)]
    for pk in found:
        erase_person(svc, pk)
    return found
