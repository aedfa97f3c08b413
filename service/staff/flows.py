"""Flows editor (admin): drafts, validation, immutable published versions, diff, rollback, YAML in/out."""
import difflib

import yaml
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from flows.gsm import segment_info, to_gsm7
from flows.loader import PLACEHOLDER_SAMPLES, FlowError, load_documents
from service.runtime import services
from service.staff import flowforms
from service.staff.auth import require
from service.store import accounts, flowdocs
from service.store.accounts import Role

bp = Blueprint("flows", __name__, url_prefix="/staff/flows")
MAX_IMPORT_BYTES = 256 * 1024


def working_documents() -> tuple[dict[str, str], str]:
    """The draft if there is one, else the published version, else the seed files."""
    svc = services()
    draft = flowdocs.draft(svc.redis)
    if draft:
        return draft["documents"], "draft"
    version = flowdocs.published_version(svc.redis)
    if version:
        return flowdocs.documents(svc.redis, version), f"version {version}"
    return flowdocs.seed_documents(svc.config.flows_dir), "seed files"


@bp.get("/")
@require(Role.ADMIN)
def edit():
    docs, origin = working_documents()
    return _render(docs, origin, [])


@bp.post("/")
@require(Role.ADMIN)
def save():
    svc = services()
    docs = flowforms.from_form(request.form, working_documents()[0])
    problems = _problems(docs)
    if request.form.get("action") == "publish" and not problems:
        n = flowdocs.publish(svc.redis, docs, g.account.email, request.form.get("note", "")[:500], svc.now())
        accounts.audit(svc.redis, g.account.email, "publish_flows", f"version {n}", now=services().now())
        flash(f"Published version {n}. New texts are live now.")
        return redirect(url_for(".edit"))
    flowdocs.save_draft(svc.redis, docs, g.account.email, svc.now())
    accounts.audit(svc.redis, g.account.email, "save_flows_draft", now=services().now())
    flash("Draft saved." if not problems else "Draft saved, but it can't be published until the problems are fixed.")
    return _render(docs, "draft", problems), 200 if not problems else 422


@bp.get("/history")
@require(Role.ADMIN)
def history():
    r = services().redis
    return render_template("staff/flow_history.html", versions=flowdocs.history(r),
                           current=flowdocs.published_version(r), audit=accounts.audit_log(r, 100))


@bp.get("/diff/<int:a>/<int:b>")
@require(Role.ADMIN)
def diff(a, b):
    r = services().redis
    try:
        left, right = flowdocs.documents(r, a), flowdocs.documents(r, b)
    except KeyError as exc:
        abort(404, str(exc))
    lines = []
    for name in sorted(set(left) | set(right)):
        lines += difflib.unified_diff(left.get(name, "").splitlines(), right.get(name, "").splitlines(),
                                      f"v{a}/{name}", f"v{b}/{name}", lineterm="")
    return render_template("staff/flow_diff.html", a=a, b=b, lines=lines)


@bp.post("/rollback/<int:n>")
@require(Role.ADMIN)
def rollback(n):
    """Rolling back publishes the old documents as a new version: history only grows."""
    r = services().redis
    try:
        docs = flowdocs.documents(r, n)
    except KeyError as exc:
        abort(404, str(exc))
    new = flowdocs.publish(r, docs, g.account.email, f"rollback to version {n}", services().now())
    accounts.audit(r, g.account.email, "rollback_flows", f"version {n} republished as {new}", now=services().now())
    flash(f"Version {n} is live again, as version {new}.")
    return redirect(url_for(".history"))


@bp.get("/export")
@require(Role.ADMIN)
def export():
    docs, origin = working_documents()
    body = yaml.safe_dump({"documents": docs}, sort_keys=True, allow_unicode=True, width=100)
    return Response(body, mimetype="application/x-yaml",
                    headers={"Content-Disposition": "attachment; filename=flows.yaml"})


@bp.post("/import")
@require(Role.ADMIN)
def import_():
    """An uploaded export becomes the draft, after validation; publishing stays a separate step."""
    upload = request.files.get("file")
    raw = upload.read(MAX_IMPORT_BYTES + 1) if upload else b""
    if not raw or len(raw) > MAX_IMPORT_BYTES:
        abort(400, "choose a flows YAML export of at most 256 KB")
    try:
        docs = yaml.safe_load(raw.decode("utf-8"))["documents"]
        assert isinstance(docs, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in docs.items())
    except (yaml.YAMLError, UnicodeDecodeError, KeyError, TypeError, AssertionError):
        abort(400, "that file is not a flows export (a YAML mapping with 'documents')")
    problems = _problems(docs)
    if problems:
        return _render(working_documents()[0], "unchanged: import refused", problems), 422
    flowdocs.save_draft(services().redis, docs, g.account.email, services().now())
    accounts.audit(services().redis, g.account.email, "import_flows", now=services().now())
    flash("Imported as a draft: review, then publish.")
    return redirect(url_for(".edit"))


@bp.post("/segments")
@require(Role.ADMIN)
def segments():
    data = request.get_json(silent=True) or {}
    text = str(data.get("text", ""))
    sample = {"{program}": str(data.get("program", "")), "{phone}": str(data.get("phone", "")),
              "{callback_eta}": PLACEHOLDER_SAMPLES["callback_eta"]}
    sent = text
    for placeholder, value in sample.items():
        sent = sent.replace(placeholder, value)
    info = segment_info(sent)  # counted as it will be sent, placeholders filled in
    return {"encoding": info.encoding, "segments": info.segments, "units": info.units,
            "non_gsm": list(info.non_gsm), "gsm": to_gsm7(text)}


def _problems(docs: dict[str, str]) -> list[str]:
    try:
        load_documents(docs)
        return []
    except FlowError as exc:
        return exc.problems
    except (yaml.YAMLError, AttributeError, TypeError) as exc:
        return [f"cannot read the flows: {exc}"]


def _render(docs: dict[str, str], origin: str, problems: list[str]):
    try:
        form = flowforms.to_form(docs)
    except (yaml.YAMLError, KeyError, TypeError, AttributeError):
        form = flowforms.to_form(flowdocs.seed_documents(services().config.flows_dir))
        problems = problems + ["the stored draft could not be read; showing the seed files"]
    return render_template("staff/flows.html", form=form, origin=origin, problems=problems,
                           inline=flowforms.field_problems(problems, form),
                           published=flowdocs.published_version(services().redis))
