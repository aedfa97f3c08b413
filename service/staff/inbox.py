"""The staff inbox (staff): everyone who wrote lately, one conversation at a time, texting people back,
taking a conversation over from the bot and handing it back; live through a cheap conditional GET."""
import secrets

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from service import handoff
from service.channels import mask
from service.runtime import services
from service.staff import display
from service.staff.auth import require
from service.staff.crises import OUTCOMES
from service.store import accounts, attention, callbacks, conversations, crises, holds, inbox, keys, notes, people
from service.store.accounts import Role

bp = Blueprint("inbox", __name__, url_prefix="/staff/inbox")
PAGE = 25
FILTERS = {"all": "Everyone", "mine": "Held by me", "unassigned": "Not held by anyone", "crisis": "Crisis open",
           "callback": "Waiting for a call back"}
MAX_NOTE = 2000
FRAGMENT_SECONDS = 1.0


@bp.get("/")
@require(Role.STAFF)
def index():
    svc = services()
    search = "".join(c for c in request.args.get("q", "") if c.isdigit())[-4:]
    chosen = request.args.get("filter", "all") if request.args.get("filter") in FILTERS else "all"
    raw = request.args.get("p", "1")
    number = max(1, int(raw)) if raw.isdecimal() and raw.isascii() and len(raw) <= 6 else 1
    if request.args.get("fragment"):  # the live refresh: at most one rendering a second per view and process
        g.passive = True
        version = inbox.version(svc.redis)
        if request.headers.get("If-None-Match") == f'"{version}"':
            return _live(None, version)
        key = (svc.config.program, search, chosen, number, g.account.email if chosen == "mine" else "")
        fragments = _fragments()
        cached = fragments.get(key)
        if not cached or svc.now() >= cached[0]:
            if len(fragments) > 200:  # views nobody polls any more
                for old in [k for k, v in fragments.items() if svc.now() >= v[0]]:
                    del fragments[old]
            cached = fragments[key] = (svc.now() + FRAGMENT_SECONDS, version,
                                       _list(svc, search, chosen, number, "staff/_inbox_rows.html"))
        return _live(cached[2], cached[1])
    return _list(svc, search, chosen, number, "staff/inbox.html")


def _live(html: str | None, version: int) -> Response:
    """A live page's poll answered: 304 when nothing changed since `version`, else the part that changed.
    The ETag is the version the part was rendered at (a part reused from a second ago is refreshed at the
    next poll); the open crisis count rides along for the header."""
    headers = {"ETag": f'"{version}"', "Cache-Control": "no-cache",
               "X-Crisis-Count": str(crises.count_open(services().redis))}
    if html is None:
        return Response(status=304, headers=headers)
    return Response(html, headers=headers, mimetype="text/html")


def _fragments() -> dict:
    """Rendered inbox lists of this process, by program and view (the version changes with every text in a surge, so
    a list is reused for a second: live pages stay within 2 s of the truth, and twenty open inboxes cost
    one rendering a second, not twenty)."""
    return current_app.extensions.setdefault("inbox_fragments", {})


def _list(svc, search: str, chosen: str, number: int, template: str) -> str:
    """Open crises pinned above everything, oldest first, with the person's own words; then everyone else
    by their latest message."""
    pinned = _pinned(svc) if not search and chosen in ("all", "crisis") else []
    asking = _asking(svc, {row.pk for row, _ in pinned}) if not search and chosen == "all" else []
    only, skip = _filter(svc, chosen, search)
    if pinned or asking:
        skip = (skip or set()) | {row.pk for row, _ in pinned} | {row.pk for row, _ in asking}
    rows, total = inbox.page(svc.redis, svc.vault, (number - 1) * PAGE, PAGE, only, skip)
    default = svc.flows().program.default_language
    labels = {r.pk: display.language(r.language or default) for r in rows + [row for row, _ in pinned + asking]}
    return render_template(template, rows=rows, pinned=pinned, asking=asking, labels=labels, total=total, page=number,
                           pages=max(1, -(-total // PAGE)), q=search, filter=chosen, filters=FILTERS,
                           version=inbox.version(svc.redis), mask=mask)


def _asking(svc, crises_shown: set[str]) -> list[tuple]:
    """(inbox row, why) for everyone a conversation put before staff, oldest first (not twice)."""
    waiting = [(pk, since) for pk, since in attention.waiting(svc.redis) if pk not in crises_shown]
    rows = {r.pk: r for r in inbox.rows(svc.redis, svc.vault, waiting)}
    return [(rows[pk], attention.reason_of(svc.redis, pk)) for pk, _ in waiting if pk in rows]


def _pinned(svc) -> list[tuple]:
    """(inbox row, crisis) for every open crisis of a real person, oldest first."""
    found = crises.open_crises(svc.redis, svc.vault)
    rows = {r.pk: r for r in inbox.rows(svc.redis, svc.vault, [(c.person, c.last_at) for c in found])}
    return [(rows[c.person], c) for c in found if c.person in rows]


def _filter(svc, chosen: str, search: str) -> tuple[set | None, set | None]:
    """(only these people, or None for everyone; minus these)."""
    only = inbox.everyone_matching(svc.redis, svc.vault, search) if search else None
    held = holds.held(svc.redis)
    if chosen == "mine":
        mine = {pk for pk in held if holds.holder(svc.redis, pk) == g.account.email}
        only = mine if only is None else only & mine
    elif chosen == "crisis":
        crisis = crises.people_in_crisis(svc.redis)
        only = crisis if only is None else only & crisis
    elif chosen == "callback":
        waiting = {cb.person for cb in callbacks.waiting(svc.redis, svc.vault)}
        only = waiting if only is None else only & waiting
    return only, set(held) if chosen == "unassigned" else None


@bp.get("/changes")
@require(Role.STAFF)
def changes():
    """What other console pages poll for the header's crisis count: the inbox version as an ETag (304
    when unchanged: one GET and no rendering) and the number of open crises."""
    g.passive = True
    svc = services()
    version = inbox.version(svc.redis)
    etag = f'"{version}"'
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    body = {"version": version, "crisis": crises.count_open(svc.redis)}
    return body, 200, {"ETag": etag, "Cache-Control": "no-cache"}


@bp.get("/<pk>")
@require(Role.STAFF)
def conversation(pk):
    svc = services()
    if not svc.redis.exists(keys.of(svc.redis).contact(pk)):
        abort(404, "no such person (or their data was deleted)")
    if request.args.get("fragment"):
        g.passive = True
        version = inbox.version(svc.redis)
        if request.headers.get("If-None-Match") == f'"{version}"':
            return _live(None, version)
        inbox.opened(svc.redis, pk)
        version = inbox.version(svc.redis)
        return _live(_render(pk, "staff/_conversation.html")[0], version)
    accounts.audit(svc.redis, g.account.email, "view_conversation", pk, now=svc.now())
    inbox.opened(svc.redis, pk)
    return _render(pk, "staff/conversation.html")


def page(pk: str, status: int = 200, **extra):
    """The conversation page as it is now (a refused action shows it with its status)."""
    return _render(pk, "staff/conversation.html", status, **extra)


def _render(pk: str, template: str, status: int = 200, **extra):
    svc = services()
    person = handoff.recipient(svc, pk)
    transcript = people.transcript(svc.redis, svc.vault, pk)
    delivery = _delivery(svc, [m["sid"] for m in transcript if m["dir"] == "out"])
    context = {"pk": pk, "person": person, "mask": mask, "transcript": transcript, "delivery": delivery,
               "language": display.language_of(svc, pk), "holder": holds.holder(svc.redis, pk),
               "history": people.consent_history(svc.redis, pk), "notes": notes.of(svc.redis, svc.vault, pk),
               "pending": display.pending_steps(svc, pk), "refusal": handoff.why_not(person, svc.now()),
               "conversation": conversations.decode(svc.redis.hget(keys.of(svc.redis).contact(pk), conversations.FIELD)),
               "crises": crises.of_person(svc.redis, svc.vault, pk), "outcomes": OUTCOMES,
               "simulated": svc.redis.hget(keys.of(svc.redis).contact(pk), "simulated") == b"1",
               "attention": attention.reason_of(svc.redis, pk),
               "callback": _open_callback(svc, pk), "nonce": secrets.token_hex(16),
               "version": inbox.version(svc.redis), "language_code": _language_code(svc, pk),
               "plain_spanish": svc.flows().program.plain_spanish, **extra}
    return render_template(template, **context), status


def _language_code(svc, pk: str) -> str:
    return people.language_of(svc.vault, svc.redis.hget(keys.of(svc.redis).contact(pk), people.LANGUAGE)) \
        or svc.flows().program.default_language


def _open_callback(svc, pk: str):
    value = svc.redis.hget(keys.of(svc.redis).contact(pk), "open_callback")
    return callbacks.get(svc.redis, svc.vault, value.decode()) if value else None


def _delivery(svc, ids: list[str]) -> dict[str, dict]:
    """Each outbound text sent through the API (follow-ups, staff replies): our state and Twilio's status."""
    ids = [i for i in ids if "/" not in i]  # "SM.../0": answered in TwiML, Twilio reports nothing back
    pipe = svc.redis.pipeline(transaction=False)
    for mid in ids:
        pipe.hmget(keys.of(pipe).message(mid), "state", "status", "error_code")
    out = {}
    for mid, (state, status, code) in zip(ids, pipe.execute()):
        if state:
            out[mid] = {"state": state.decode(), "status": (status or b"").decode(), "code": (code or b"").decode()}
    return out


@bp.post("/<pk>/reply")
@require(Role.STAFF)
def reply(pk):
    svc = services()
    text, nonce = request.form.get("text", "")[:handoff.MAX_REPLY * 2], request.form.get("nonce", "")
    person = handoff.recipient(svc, pk)
    if person is None:
        abort(404, "no such person (or their data was deleted)")
    text = svc.flows().languages.as_sent(text, _language_code(svc, pk), svc.flows().program.plain_spanish)
    late = handoff.outside_hours(svc, pk, person) if not handoff.why_not(person, svc.now()) else None
    if late and request.form.get("confirm") != "late":
        return _render(pk, "staff/conversation.html", 200, draft=text, nonce=nonce, late=late)
    try:
        handoff.reply(svc, pk, g.account.email, text, nonce)
    except handoff.ReplyRefused as refused:
        return _render(pk, "staff/conversation.html", 422, draft=text, nonce=nonce, reply_error=str(refused))
    flash("Sent to the outbound queue. You hold this conversation now: the bot stays quiet until you hand it back.")
    return redirect(url_for(".conversation", pk=pk))


@bp.post("/<pk>/reveal")
@require(Role.STAFF)
def reveal(pk):
    """The number, shown to call them (a tel: link) in this answer only; every reveal is audited."""
    svc = services()
    if people.phone_of(svc.redis, svc.vault, pk) is None:
        abort(404, "no such person (or their data was deleted)")
    accounts.audit(svc.redis, g.account.email, "reveal_number", pk, now=svc.now())
    handoff.touch(svc, pk, g.account.email)
    return page(pk, revealed=True)


@bp.post("/<pk>/attended")
@require(Role.STAFF)
def attended(pk):
    """What a conversation put before staff has been looked after."""
    svc = services()
    _exists(svc, pk)
    if attention.done(svc.redis, pk):
        accounts.audit(svc.redis, g.account.email, "attended", pk, now=svc.now())
        flash("Marked done: they are no longer pinned in the inbox.")
    return redirect(url_for(".conversation", pk=pk))


@bp.post("/<pk>/take")
@require(Role.STAFF)
def take(pk):
    svc = services()
    if not handoff.take_over(svc, pk, g.account.email):
        abort(404, "no such person (or their data was deleted)")
    flash("You hold this conversation: the bot answers only STOP, START, HELP and crisis words.")
    return redirect(url_for(".conversation", pk=pk))


@bp.post("/<pk>/hand-back")
@require(Role.STAFF)
def hand_back(pk):
    svc = services()
    _exists(svc, pk)
    if handoff.hand_back(svc, pk, g.account.email, holder=request.form.get("holder")):
        flash("Handed back to the bot: its follow-ups resume.")
    else:
        flash("Not handed back: the conversation changed meanwhile (already handed back, or taken over by "
              "someone else). This is how it is now.")
    return redirect(url_for(".conversation", pk=pk))


@bp.post("/<pk>/note")
@require(Role.STAFF)
def note(pk):
    svc = services()
    _exists(svc, pk)
    text = request.form.get("note", "").strip()
    if not text:
        return _render(pk, "staff/conversation.html", 422, note_error="Write the note first.")
    if not handoff.add_note(svc, pk, g.account.email, text[:MAX_NOTE], request.form.get("about", "")[:80]):
        abort(404, "no such person (or their data was deleted)")
    return redirect(url_for(".conversation", pk=pk) + "#notes")


def _exists(svc, pk: str) -> None:
    if not svc.redis.exists(keys.of(svc.redis).contact(pk)):
        abort(404, "no such person (or their data was deleted)")


@bp.post("/segments")
@require(Role.STAFF)
def segments():
    """The reply box's live counter: encoding and segments as it will be sent."""
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    typed = str(data.get("text", ""))[:handoff.MAX_REPLY]
    sent = services().flows().languages.as_sent(typed, str(data.get("language", ""))[:5],
                                                data.get("plain_spanish", True) is not False)
    return display.segment_counter(sent, typed)
