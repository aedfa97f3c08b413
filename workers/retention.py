"""The daily retention sweep (RETENTION_DAYS): people silent for that long (no text from them, no
change to what the center knows of them) are erased like a deletion would; for people still texting, transcript exchanges, staff notes and consent-trail MessageSids older
than that go, and so do older entries of the staff audit log and of the closed call backs' index. Finished texts, closed call backs and resolved crisis flags expire by themselves (their TTL is set
when they finish)."""
from service.erase import erase_person
from service.store import accounts, callbacks, contacts, inbound, people, unmatched
from workers.runtime import Runtime

BATCH = 500


def sweep(rt: Runtime) -> dict[str, int]:
    svc = rt.svc
    cutoff = svc.now() - svc.config.retention_seconds
    erased = trimmed = 0
    skipped: set[str] = set()
    while silent := [pk for pk in people.silent_since(svc.redis, cutoff, BATCH + len(skipped))
                     + contacts.unchanged_since(svc.redis, cutoff, BATCH + len(skipped)) if pk not in skipped]:
        for pk in silent:
            if erase_person(svc, pk, silent_before=cutoff):
                erased += 1
            else:
                skipped.add(pk)  # texted while the sweep ran: not silent any more
        if len(skipped) > BATCH:
            break
    for pk in people.kept_since(svc.redis, cutoff, BATCH * 20):
        trimmed += people.trim_before(svc.redis, pk, cutoff)
    trimmed += accounts.trim_audit(svc.redis, cutoff)
    inbound.forget_seen_before(svc.redis, cutoff)
    callbacks.forget_closed_before(svc.redis, cutoff)  # their records expired by their own TTL
    trimmed += unmatched.forget_before(svc.redis, cutoff)
    return {"erased": erased, "trimmed": trimmed}
