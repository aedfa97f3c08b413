"""The console's navigation by task: the daily work in sight, the rest under one "More" menu, the open
crisis count always visible to staff, and no developer words on staff pages."""
import html as html_lib
import re

import pytest

from tests.conftest import Phone
from tests.staff.test_staff import login, staff_app  # noqa: F401 (fixture)


def nav(html: str) -> tuple[list[str], list[str]]:
    block = re.search(r'<nav aria-label="Console".*?</nav>', html, re.S).group(0)
    primary_part, _, more_part = block.partition('<details class="more">')
    names = lambda part: [html_lib.unescape(re.sub(r"<[^>]+>", "", m)).strip() for m in re.findall(r"<a [^>]*>(.*?)</a>", part, re.S)]
    return names(primary_part), names(more_part)


@pytest.mark.parametrize("role, primary, more", [
    ("admin", ["Inbox", "Contacts", "Broadcasts", "Flows", "Insights"],
     ["Crises & call backs", "Not understood", "Simulator", "Journeys", "History", "Settings", "Accounts", "Ops",
      "My password", "RQ dashboard"]),
    ("staff", ["Inbox", "Contacts", "Broadcasts", "Insights"],
     ["Crises & call backs", "Not understood", "Simulator", "My password"]),
    ("ops", ["Insights", "Ops"], ["My password", "RQ dashboard"]),
])
def test_primary_tasks_in_sight_and_the_rest_under_more(staff_app, role, primary, more):
    html = login(staff_app, role).get("/staff/insights").get_data(as_text=True)
    assert nav(html) == (primary, more)


def test_the_open_crisis_count_is_on_every_staff_page(staff_app):
    Phone(staff_app.test_client(), "+16175550160").text("my son overdosed and is not breathing")
    client = login(staff_app, "staff")
    for path in ("/staff/inbox/", "/staff/contacts/", "/staff/broadcasts/", "/staff/insights", "/staff/simulator/"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        assert re.search(r'id="crisis-count"[^>]*>1 open crisis<', html), path


def test_the_current_page_under_more_marks_the_menu(staff_app):
    html = login(staff_app, "admin").get("/staff/settings/").get_data(as_text=True)
    assert '<summary class="current">More</summary>' in html and 'aria-current="page">Settings<' in html


@pytest.mark.parametrize("path", ["/staff/inbox/", "/staff/simulator/", "/staff/contacts/", "/staff/broadcasts/",
                                  "/staff/callbacks", "/staff/unmatched/", "/staff/settings/", "/staff/flows/"])
def test_no_developer_words_on_staff_pages(staff_app, path):
    html = login(staff_app, "admin").get(path, follow_redirects=True).get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S))
    for word in ("surface", "payload", "webhook", "FIRST_MESSAGE", "reached_safe"):
        assert word not in text, (path, word)
