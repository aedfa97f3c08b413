"""The staff console in a real browser: Playwright driving Debian's Chromium."""

from tests.staff.browser import MARKS, browser, server, sign_in  # noqa: F401 (fixtures)

pytestmark = MARKS


def test_build_a_flow_publish_it_and_walk_it_in_the_simulator(server, browser):
    """A flow from nothing, without YAML: steps, answers, a `go` picked from a list, the live counter's
    GSM-7 fix; published, it answers in the simulator, which shows each answer's step and the state."""
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, server, "admin@center.org")
    page.click("nav >> text=Flows")
    page.fill("#new-flow", "checkin")
    page.fill("#new-keyword", "CHECKIN")
    page.fill("#new-summary", "a quick check-in")
    page.fill("#new-summary-es", "un control rapido")  # the menu line in every language the program offers
    page.click("text=Create flow")
    page.fill("#new_step", "self")
    page.click("text=Add step")  # the new step opens in the panel
    page.click("svg.flow-picture [data-edit='start']")  # the picture is the map: back to the first step
    page.click("#step-start >> text=Add an answer")
    question = page.locator("textarea[name='step.0.text.en']")
    question.fill("How are you doing \u2014 OK or NOT? Reply OK or NOT.")
    page.wait_for_selector("text=Replace non-GSM characters")
    page.click("text=Replace non-GSM characters")
    assert "\u2014" not in question.input_value()
    page.wait_for_selector("text=as sent: GSM-7")
    page.fill("input[name='step.0.answer.0.match.en']", "OK, FINE")
    page.select_option("select[name='step.0.answer.0.go']", "self")
    page.click("svg.flow-picture [data-edit='self']")
    page.fill("textarea[name='step.1.text.en']", "Glad to hear it. Reply CALL any time to talk with us.")
    page.fill("textarea[name='step.1.text.es']", "Nos alegra. Responda LLAMAR cuando quiera hablar.")
    page.click("text=Save draft")  # kept, but the program offers Spanish: nothing half-translated goes live
    page.wait_for_selector("#problems")
    assert "to fix before publishing" in page.inner_text("#problems") and "start" in page.inner_text("#problems")
    page.click("svg.flow-picture [data-edit='start']")
    page.fill("textarea[name='step.0.text.es']", "Como esta? Responda BIEN o MAL.")
    page.fill("input[name='step.0.answer.0.match.es']", "BIEN")
    page.click("text=Save draft")
    page.wait_for_selector("text=Draft saved")
    assert page.locator("svg.flow-picture [data-step='self']").count() == 1  # drawn on the server
    page.click("text=All flows")
    page.fill("#note", "check-in flow")
    page.click("button:has-text('Publish')")
    page.wait_for_selector("text=Published version 1")
    page.click("nav summary")  # Simulator is under "More"
    page.click("nav >> text=Simulator")
    page.fill("#sim-body", "checkin")
    page.click(".compose button")
    page.wait_for_selector("#transcript li.out")
    assert "How are you doing - OK or NOT?" in page.inner_text("#transcript")
    assert "checkin/start" in page.inner_text("#transcript") and "checkin/start" in page.inner_text("#conversation")
    page.fill("#sim-body", "fine")
    page.click(".compose button")
    page.wait_for_selector("text=Glad to hear it")
    assert "checkin/self" in page.inner_text("#transcript") and "Not waiting" in page.inner_text("#conversation")


def test_call_lands_in_the_queue_and_can_be_claimed_on_a_phone_screen(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, server, "staff@center.org")
    page.click("nav summary")  # the daily work in sight, the rest under "More"
    page.click("nav >> text=Simulator")
    page.fill("input[name=body]", "CALL <b>please</b>")
    page.click(".compose button")
    page.wait_for_selector("text=call you back")
    page.click("nav summary")
    page.click("nav >> text=Crises & call backs")
    card = page.locator("[data-callback]")
    assert card.count() == 1 and "asked just now" in card.inner_text()
    page.click("text=Claim")
    page.wait_for_selector("text=Claimed by staff@center.org")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(server + "/staff/simulator/")
    assert "<b>please</b>" in page.inner_text("#transcript")  # shown as text, not markup


def test_the_editor_shows_english_and_spanish_side_by_side_with_their_own_counters(server, browser):
    """Wide screen: each text's languages side by side, each with its live counter (Spanish counted as it
    will be sent: plain, GSM-7); a changed English text marks its Spanish; on a phone they stack."""
    from playwright.sync_api import expect
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, server, "admin@center.org")
    page.goto(server + "/staff/flows/edit/signs?step=ask")
    en, es = page.locator("textarea[name='step.1.text.en']"), page.locator("textarea[name='step.1.text.es']")
    a, b = en.bounding_box(), es.bounding_box()
    assert abs(a["y"] - b["y"]) < 2 and b["x"] > a["x"] + a["width"]  # side by side
    es_count = page.locator("textarea[name='step.1.text.es'] + .count")
    es_count.wait_for()
    assert "GSM-7" in es_count.inner_text()
    es.fill("¿Es sobre usted? Responda YO u OTRO. " + "á" * 30)  # á goes out as a: still GSM-7
    expect(es_count).to_contain_text("67 characters")
    assert "GSM-7" in es_count.inner_text() and "1 segment" in es_count.inner_text()
    en.fill("Is this about you, or someone you love? Reply ME or OTHER.")
    es.fill("¿Es sobre usted o sobre alguien que quiere? Responda YO u OTRO.")
    page.click("button[value=save]")
    assert page.locator(".mark.stale").count() == 0  # both edited together: nothing to check
    page.click("svg.flow-picture [data-edit='nudge']")
    page.locator("textarea[name='step.6.text.en']").fill("Still there? Reply ME or OTHER, or CALL. Reply STOP to opt out.")
    page.click("button[value=save]")
    stale = page.locator(".mark.stale")
    assert stale.count() == 1 and "changed since this translation was last edited" in stale.inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.click(".outline [data-edit='ask']")  # on a phone the outline is the map
    a, b = en.bounding_box(), es.bounding_box()
    assert b["y"] > a["y"] + a["height"] - 1 and abs(a["x"] - b["x"]) < 2  # stacked on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
