"""Delete an erased person's texts at Twilio: the ones we know the sids of, and every other text to or
from their number (TwiML replies, whose sids we never learn), unless the number has come back since (a
new text, or the center setting it again before this ran): then only the known ones, so nothing of the
new relationship is deleted. Safe to run twice: gone counts as done."""
from service.store import erasure, people
from workers.delivery import RetryLater
from workers.runtime import Runtime
from workers.sender import Failure, SendError


def erase_at_provider(rt: Runtime, work_id: str) -> int:
    r = rt.svc.redis
    work = erasure.provider_work(r, rt.svc.vault, work_id)
    if work is None:
        return 0
    sender = rt.sender_for({"simulated": "1" if work.simulated else "0"})
    try:
        back = work.number is not None and people.phone_of(r, rt.svc.vault, rt.svc.vault.person_key(work.number))
        sids = sorted(set(work.provider_sids) | set(sender.find(work.number) if work.number and not back else ()))
        for sid in sids:
            sender.delete(sid)
    except SendError as exc:
        if exc.failure is Failure.RETRY:
            raise RetryLater(str(exc)) from None
        raise
    erasure.provider_work_done(r, work_id)
    return len(sids)
