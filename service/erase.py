"""Erasing a person: every record of theirs in Redis at once, their texts at Twilio by a worker. Used
by an admin's "Delete data" and by the retention sweep."""
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
