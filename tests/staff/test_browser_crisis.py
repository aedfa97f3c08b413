"""A crisis worked whole in a real browser, at desktop and phone sizes: pinned, claimed, refused to a colleague, resolved."""
import re

import pytest

from service.store import accounts, crises
from tests.conftest import replies, svc_of
from tests.staff.browser import MARKS, browser, console, sign_in  # noqa: F401 (a fixture)
from tests.staff.test_browser_inbox import ServerPhone

pytestmark = MARKS
FIRST, SECOND, CALM = "+16175550177", "+16175550166", "+16175550155"  # two people in a crisis, one who is not
LIVE = 5000  # ms: the page polls every second and an inbox list is at most a second old
VIEWPORTS = [pytest.param({"width": 1280, "height": 800}, id="1280x800"),
             pytest.param({"width": 390, "height": 844}, id="390x844")]
SHORT = "We're here."  # the start of the short answer while a crisis is open
TOLD = "We've told our on-call team."
MENU = "Reply with one word"
OUTCOME = "We told them to call 911 (or called it)"
CONFIRM = "Resolve this crisis? The bot will talk with them as usual again."


@pytest.fixture
def server(redis_url, redis, clock, fake):
    with console(redis_url, clock, TWILIO_API_BASE_URL=fake.url, TWILIO_FROM_NUMBER="+18555909944",
                 STAFF_ALERT_NUMBERS="+16175550100") as base:
        yield base


def text(server, clock, number, body) -> list[str]:
    """`number` texts `body` through the signed webhook; time passes on the server's clock (so an inbox list
    rendered a second ago is not reused); the answers sent back."""
    response = ServerPhone(server.app.test_client(), number, str(server)).text(body)
    assert response.status_code == 200, response.data
    clock.advance(2)
    return replies(response)


def fits(page, where):
    if page.viewport_size["width"] <= 390:
        wide, room = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide <= room + 1, f"{where}: {wide} px wide in a {room} px window"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_crisis_pinned_claimed_refused_to_a_colleague_and_resolved(server, browser, clock, redis, viewport):
    from playwright.sync_api import expect
    vault = svc_of(server.app).vault
    first, second = vault.person_key(FIRST), vault.person_key(SECOND)
    assert replies_are_ordinary(text(server, clock, CALM, "SIGNS"))

    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    sign_in(page, server, "staff@center.org")
    page.goto(server + "/staff/inbox/")
    count = page.locator("#crisis-count")
    expect(count).to_have_text("0 open crises")
    expect(page.get_by_role("heading", name=re.compile("^Open crises"))).to_have_count(0)

    # Two people write a crisis, a minute apart: both pinned live, oldest first, above someone who wrote later.
    [answer] = text(server, clock, FIRST, "my brother overdosed and isn't breathing")
    assert "911" in answer and TOLD in answer and MENU not in answer  # the full answer, once
    clock.advance(60)
    text(server, clock, SECOND, "my friend took too many pills and won't wake up")
    clock.advance(60)
    text(server, clock, CALM, "TREATMENT")  # the newest text of all, yet below the crises
    expect(count).to_have_text("2 open crises", timeout=LIVE)
    pinned = page.locator("section.pinned")
    expect(pinned.get_by_role("heading", name=re.compile("^Open crises"))).to_be_visible(timeout=LIVE)
    rows = pinned.locator("li.inbox-row")
    expect(rows).to_contain_text(["*******0177", "*******0166"], timeout=LIVE)  # oldest first
    row = rows.filter(has_text="*******0177")
    expect(row).to_contain_text("They wrote: my brother overdosed and isn't breathing")
    expect(row).to_contain_text("Nobody owns it yet")
    expect(row).to_contain_text("1 text")
    everyone = page.locator("li.inbox-row", has_text="*******0155")
    expect(everyone).to_be_visible()
    assert page.evaluate("""() => {  // the pinned section comes before the calm texter's row
        const p = document.querySelector('section.pinned'), rows = [...document.querySelectorAll('li.inbox-row')];
        const calm = rows.find(r => r.textContent.includes('*******0155'));
        return !!(p.compareDocumentPosition(calm) & Node.DOCUMENT_POSITION_FOLLOWING) && !p.contains(calm);
    }""")
    fits(page, "inbox with open crises")

    # While it is open every text gets a short answer, never a menu; a keyword asked for gets its information
    # (no question left waiting); the pinned row follows live.
    [signs] = text(server, clock, FIRST, "SIGNS")
    assert signs.startswith("Signs of heroin dependence") and MENU not in signs, signs
    [answer] = text(server, clock, FIRST, "hello?")
    assert answer.startswith(SHORT) and TOLD in answer and MENU not in answer, answer
    expect(row).to_contain_text("3 texts", timeout=LIVE)
    expect(row).to_contain_text("They wrote: hello?")
    expect(rows).to_contain_text(["*******0177", "*******0166"])  # still oldest first

    # Claim it from the conversation page.
    row.get_by_role("link", name="*******0177").click()
    panel = page.locator("#crisis")
    expect(panel).to_contain_text("They wrote: my brother overdosed and isn't breathing")
    expect(panel).to_contain_text("and 2 more texts since")
    expect(panel).to_contain_text("Nobody owns this crisis yet.")
    fits(page, "conversation, crisis unclaimed")
    panel.get_by_role("button", name="Claim this crisis").click()
    expect(page.get_by_role("status").filter(has_text="You own this crisis now")).to_be_visible()
    expect(panel).to_contain_text("Owner: you")
    expect(panel.get_by_role("button", name="Claim this crisis")).to_have_count(0)
    expect(panel.get_by_role("button", name="Release it")).to_be_visible()
    flag = crises.open_of(redis, first)
    assert crises.get(redis, vault, flag).claimed_by == "staff@center.org"

    # A colleague sees who owns it and cannot take it, nor resolve it.
    colleague = browser.new_context(viewport=viewport).new_page()
    sign_in(colleague, server, "admin@center.org")
    colleague.goto(server + "/staff/inbox/")
    expect(colleague.locator("section.pinned li.inbox-row", has_text="*******0177")).to_contain_text(
        "Owner: staff@center.org")
    colleague.goto(server + f"/staff/inbox/{first}")
    theirs = colleague.locator("#crisis")
    expect(theirs).to_contain_text("Owner: staff@center.org")
    expect(theirs.get_by_role("button", name="Claim this crisis")).to_have_count(0)
    expect(theirs.get_by_role("button", name="Resolve")).to_have_count(0)
    expect(theirs.get_by_role("button", name="Release it")).to_have_count(0)
    token = colleague.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = colleague.request.post(server + f"/staff/crises/{flag}/claim", form={"csrf_token": token},
                                     max_redirects=0)
    assert refused.status == 409, refused.status
    assert "Not claimed: staff@center.org owns it" in refused.text()
    assert crises.get(redis, vault, flag).claimed_by == "staff@center.org"

    # Release it and claim it back.
    panel.get_by_role("button", name="Release it").click()
    expect(page.get_by_role("status").filter(has_text="Released")).to_be_visible()
    expect(panel).to_contain_text("Nobody owns this crisis yet.")
    panel.get_by_role("button", name="Claim this crisis").click()
    expect(panel).to_contain_text("Owner: you")

    # A text while the page is open: the transcript and the panel follow live.
    [answer] = text(server, clock, FIRST, "EMS is here now")
    assert answer.startswith("Thank you for letting us know.")  # news that help is there is thanked
    expect(page.locator("#transcript")).to_contain_text("EMS is here now", timeout=LIVE)
    expect(panel).to_contain_text("and 3 more texts since", timeout=LIVE)

    # The number to call them, the reply box and the notes, all on the same page.
    page.get_by_role("button", name="Reveal the number to call them").click()
    expect(page.locator(f"a[href='tel:{FIRST}']")).to_be_visible()
    expect(page.get_by_label("Reply by text")).to_be_visible()
    expect(page.get_by_label("Add a note (only staff see it)")).to_be_visible()
    expect(panel).to_contain_text("Owner: you")
    fits(page, "conversation, crisis claimed, number revealed")

    # Resolve, with an outcome in plain words, a note and a confirmation.
    expect(panel.get_by_role("radio")).to_have_count(4)
    panel.get_by_label(OUTCOME).check()
    panel.get_by_label('Note (required for "Something else")').fill("Stayed on the line until EMS arrived")
    panel.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status").filter(has_text=f"Crisis resolved: {OUTCOME}.")).to_be_visible()
    assert dialogs == [CONFIRM]
    expect(page.locator("#crisis")).to_have_count(0)
    history = page.locator("section", has=page.get_by_role("heading", name="Resolved crises"))
    expect(history).to_contain_text("my brother overdosed")
    expect(history).to_contain_text("by staff@center.org: we told them to call 911 (or called it)")
    expect(page.locator("#notes")).to_contain_text("Stayed on the line until EMS arrived")
    expect(count).to_have_text("1 open crisis")
    fits(page, "conversation, crisis resolved")

    # The colleague resolves the other one, which nobody owns: the count goes to 0 live on this page.
    colleague.on("dialog", lambda d: d.accept())
    colleague.goto(server + f"/staff/inbox/{second}")
    colleague.locator("#crisis").get_by_label("We could not reach them").check()
    colleague.locator("#crisis").get_by_role("button", name="Resolve").click()
    expect(colleague.get_by_role("status").filter(has_text="Crisis resolved: We could not reach them")).to_be_visible()
    expect(count).to_have_text("0 open crises", timeout=LIVE)
    assert crises.count_open(redis) == 0

    # The bot talks with them as usual again; the inbox pins nothing.
    assert replies_are_ordinary(text(server, clock, FIRST, "SIGNS"))
    page.goto(server + "/staff/inbox/")
    expect(count).to_have_text("0 open crises")
    expect(page.get_by_role("heading", name=re.compile("^Open crises"))).to_have_count(0)
    expect(page.locator("li.inbox-row", has_text="*******0177")).not_to_contain_text("crisis")
    fits(page, "inbox after")
    done = [e["action"] for e in accounts.audit_log(redis) if e["action"].endswith("_crisis")]
    assert done[::-1] == ["claim_crisis", "release_crisis", "claim_crisis", "resolve_crisis", "resolve_crisis"]


def replies_are_ordinary(answers: list[str]) -> bool:
    """The signs flow's first text (not a crisis answer)."""
    return bool(answers) and not answers[0].startswith(SHORT) and "911 now" not in answers[0]
