"""Delete an erased person's texts at Twilio: the ones we know the sids of, and every other text to or
from their number (TwiML replies, whose sids we never learn). Safe to run twice: gone counts as done."""
from service.store import erasure
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
        sids = sorted(set(work.provider_sids) | set(sender.find(work.number) if work.number else ()))
        for sid in sids:
            sender.delete(sid)
    except SendError as exc:
        if exc.failure is Failure.RETRY:
            raise RetryLater(str(exc)) from None
        raise
    erasure.provider_work_done(r, work_id)
    return len(sids)
