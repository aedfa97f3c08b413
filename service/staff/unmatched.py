"""What the bot didn't understand (staff look, admins teach): every text that matched nothing, newest
first, with counts by day and language; from a row an admin makes it an alias of a keyword or an
answer of a question in one action, and it becomes the draft (published like any change)."""
from datetime import date, timedelta

import yaml

from flows.source import load_yaml
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from flows.matching import KEYWORD, shown, words
from service.runtime import services
from service.staff import display, flows as flow_pages
from service.staff.auth import require
from service.store import accounts, daily, unmatched
from service.store.accounts import Role

bp = Blueprint("unmatched", __name__, url_prefix="/staff/unmatched")
PAGE = 50
DAYS = 14
MAX_ANSWER_WORDS = 4


@bp.get("/")
@require(Role.STAFF)
def index():
    svc = services()
    rows, total = unmatched.recent(svc.redis, svc.vault, 0, PAGE)
    flowset = svc.flows()
    return render_template("staff/unmatched.html", rows=rows, total=total, counts=_counts(svc, flowset),
                           languages=flowset.program.languages, targets=_targets(flowset), mask=display)


def _counts(svc, flowset) -> list[dict]:
    """The last DAYS days, newest first: how many texts were not understood, per language."""
    today = date.fromisoformat(daily.day_of(svc.now(), svc.config.timezone))
    found = daily.read(svc.redis, [today - timedelta(days=i) for i in range(DAYS)])
    languages = flowset.program.languages
    return [{"date": row["date"], "total": row["counters"].get("not_understood", 0),
             "by_language": {lang: row["counters"].get(f"not_understood_lang:{lang}", 0) for lang in languages}}
            for row in found]


def _targets(flowset) -> list[tuple[str, str]]:
    """Where a text can be taught: (value, label): each flow's keyword, each question's answers."""
    out = []
    for name, flow in sorted(flowset.flows.items()):
        out.append((f"alias:{name}", f"A word for {flowset.keyword_of(name)} (the {name} flow)"))
        for step in flow.steps.values():
            for i, answer in enumerate(step.answers):
                first = next(iter(answer.match.values()))[0]
                out.append((f"answer:{name}/{step.name}/{i}", f"An answer like {first} to {name}'s question '{step.name}'"))
    return out


@bp.post("/<uid>/teach")
@require(Role.ADMIN)
def teach(uid):
    svc = services()
    row = unmatched.get(svc.redis, svc.vault, uid)
    if row is None:
        abort(404, "no such text (it was deleted with its person, or by retention)")
    kind, _, target = request.form.get("as", "").partition(":")
    docs, _ = flow_pages.working()
    try:
        changed, what = (_alias if kind == "alias" else _answer if kind == "answer" else _refuse)(docs, target, row)
    except ValueError as refused:
        flash(f"Not added: {refused}")
        return redirect(url_for(".index"))
    problems = flow_pages.load_problems(changed)  # publishing checks the translations
    if problems:
        flash(f"Not added: {problems[0].message}")
        return redirect(url_for(".index"))
    flow_pages.save_draft(changed, "teach_bot")
    unmatched.taught(svc.redis, uid, what)
    accounts.audit(svc.redis, g.account.email, "teach_bot", f"{uid} {what}", now=svc.now())
    flash(f"Added to the draft: {what}. Publish it on the Flows page to make it live.")
    return redirect(url_for(".index"))


def _refuse(docs, target, row):
    raise ValueError("choose a keyword or an answer to add it to")


def _alias(docs: dict[str, str], flow: str, row) -> tuple[dict[str, str], str]:
    found = words(row.body)
    if len(found) != 1 or not KEYWORD.match(found[0]):
        raise ValueError("a keyword's alias is one word (2 to 20 letters or digits); this text is not")
    doc, file = _doc(docs, flow)
    language = row.language or _default(docs)
    aliases = doc.get("aliases") or {}
    aliases = aliases if isinstance(aliases, dict) else {_default(docs): list(aliases)}
    word = shown(row.body.strip().strip("?!.,"))
    aliases[language] = [*(aliases.get(language) or []), word]
    doc["aliases"] = aliases
    return {**docs, file: _dump(doc)}, f"{word} as a word for {flow}"


def _answer(docs: dict[str, str], target: str, row) -> tuple[dict[str, str], str]:
    flow, _, rest = target.partition("/")
    step, _, index = rest.partition("/")
    found = words(row.body)
    if not found or len(found) > MAX_ANSWER_WORDS:
        raise ValueError(f"an answer is at most {MAX_ANSWER_WORDS} words; this text is longer")
    doc, file = _doc(docs, flow)
    answers = ((doc.get("steps") or {}).get(step) or {}).get("answers") or []
    if not index.isdigit() or int(index) >= len(answers):
        raise ValueError("that question or answer no longer exists")
    answer, language = answers[int(index)], row.language or _default(docs)
    match = answer.get("match") or []
    match = match if isinstance(match, dict) else {_default(docs): list(match)}
    phrase = " ".join(found)
    match[language] = [*(match.get(language) or []), phrase]
    answer["match"] = match
    return {**docs, file: _dump(doc)}, f"{phrase} as an answer to {flow}/{step}"


def _doc(docs: dict[str, str], flow: str) -> tuple[dict, str]:
    file = f"{flow}.yaml"
    if file not in docs:
        raise ValueError("that flow no longer exists")
    doc = load_yaml(docs[file])
    if not isinstance(doc, dict):
        raise ValueError("that flow's draft can't be read; fix it on the Flows page first")
    return doc, file


def _default(docs: dict[str, str]) -> str:
    return flow_pages.languages(docs)[0]


def _dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
