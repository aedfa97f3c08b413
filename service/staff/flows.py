"""Flows (admin): build flows in the console (steps, questions, answers, timeouts) without YAML; every
change is kept as a draft at once; publish makes an immutable version live; history, a readable diff,
rollback; YAML export and import, whose problems name their lines and never lose what was typed."""
import logging

import yaml
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from flows.checks import CALLBACK_ETA_SAMPLE
from flows.loader import OPTIONAL_MESSAGES, PROGRAM_MESSAGES, load_documents
from flows.model import UNWRITTEN
from flows.source import load_yaml, FlowError
from service import queues
from service.runtime import services
from service.staff import display, flowdiff, flowforms, flowpicture, flowyaml, translations
from service.staff.auth import require
from service.store import accounts, conversations, flowdocs
from service.store.accounts import Role

bp = Blueprint("flows", __name__, url_prefix="/staff/flows")
log = logging.getLogger("service.flows")
MAX_IMPORT_BYTES = 256 * 1024


def working() -> tuple[dict[str, str], str]:
    """The draft if there is one, else the published version, else the seed files."""
    svc = services()
    draft = flowdocs.draft(svc.redis)
    if draft:
        return draft["documents"], "draft"
    version = flowdocs.published_version(svc.redis)
    if version:
        return flowdocs.documents(svc.redis, version), f"version {version}"
    return flowdocs.seed_documents(svc.config.flows_dir), "seed files"


MESSAGES = PROGRAM_MESSAGES + tuple(OPTIONAL_MESSAGES)


def _program_doc(docs: dict[str, str]) -> dict:
    try:
        program = load_yaml(docs.get("program.yaml", "")) or {}
    except yaml.YAMLError:
        program = {}
    return program if isinstance(program, dict) else {}


def languages(docs: dict[str, str]) -> list[str]:
    """The program's languages, its default first."""
    program = _program_doc(docs)
    found = program.get("languages") if isinstance(program.get("languages"), list) else []
    default = program.get("default_language", "en")
    return [default] + [lang for lang in found if lang != default and lang in services().languages]


def _texts_context(docs: dict[str, str], file: str) -> dict:
    """What the side-by-side texts need: language names, the program's plain-Spanish setting, and which
    translations of this file are out of date ("path|language")."""
    langs = languages(docs)
    stale = translations.outdated(docs, flowdocs.translation_stamps(services().redis), langs)
    names = {code: services().languages.name(code) for code in services().languages.by_code}
    return {"languages": langs, "names": names, "plain_spanish": _program_doc(docs).get("plain_spanish", True)
            is not False, "stale": {key.split("|", 1)[1] for key in stale if key.startswith(file + "|")}}


def problems_of(docs: dict[str, str]) -> list:
    """What stops the draft from being published: what stops it from loading, else a missing translation."""
    try:
        return list(load_documents(docs, services().languages).warnings)
    except FlowError as exc:
        return exc.problems


def load_problems(docs: dict[str, str]) -> list:
    """What stops the documents from loading at all (a missing translation does not: a draft may lack one
    while it is written, and is drawn, compared and taught meanwhile; only publishing needs every one)."""
    try:
        load_documents(docs, services().languages)
        return []
    except FlowError as exc:
        return exc.problems


def save_draft(docs: dict[str, str], action: str) -> None:
    svc = services()
    before, _ = working()
    stamps = translations.restamp(before, docs, flowdocs.translation_stamps(svc.redis), languages(docs))
    flowdocs.save_draft(svc.redis, docs, g.account.email, svc.now())
    flowdocs.save_translation_stamps(svc.redis, stamps)
    accounts.audit(svc.redis, g.account.email, action, now=svc.now())


@bp.get("/")
@require(Role.ADMIN)
def index():
    svc = services()
    docs, origin = working()
    problems = problems_of(docs)
    documents = {name: _flow_doc(docs, name) for name in sorted(docs) if name != "program.yaml"}
    broken = load_problems(docs) if problems else []
    flows = {name: doc for name, doc in documents.items() if "journey" not in doc}
    journeys = {name: doc for name, doc in documents.items() if "journey" in doc}
    pictures = _pictures(docs) if not broken else {}
    langs = languages(docs)
    stale = [dict(zip(("file", "path", "language"), key.split("|")), source=svc.languages.name(langs[0]))
             for key in sorted(translations.outdated(docs, flowdocs.translation_stamps(svc.redis), langs))]
    for item in stale:
        item["language"] = svc.languages.name(item["language"])
    return render_template("staff/flows_index.html", origin=origin, flows=flows, journeys=journeys, problems=problems,
                           pictures=pictures, published=flowdocs.published_version(svc.redis), stale=stale,
                           languages=langs, names={code: svc.languages.name(code) for code in langs})


@bp.post("/new")
@require(Role.ADMIN)
def new():
    docs, _ = working()
    name = flowforms.NAME.sub("", request.form.get("flow", "").strip().lower())
    keyword = request.form.get("keyword", "").strip().upper()
    if not name or f"{name}.yaml" in docs or name == "program":
        flash("Give the new flow a name of its own (lower-case letters and digits).")
        return redirect(url_for(".index"))
    langs = languages(docs)
    step = {"text": UNWRITTEN}
    summary = {lang: " ".join(request.form.get("summary" if lang == langs[0] else f"summary.{lang}", "").split())[:60]
               for lang in langs}
    summary = summary[langs[0]] if len(langs) == 1 else {lang: line for lang, line in summary.items() if line}
    doc = {"flow": name, "version": 1, "keyword": keyword or name.upper(), **({"summary": summary} if summary else {}),
           "menu": 100, "start": "start", "steps": {"start": step}}
    docs = {**docs, f"{name}.yaml": flowforms.dump(doc)}
    save_draft(docs, "create_flow")
    flash(f"Flow {name} created in the draft{'' if langs == ['en'] else ' (texts in every language)'}.")
    return redirect(url_for(".edit", name=name, step="start"))


@bp.get("/edit/<name>")
@require(Role.ADMIN)
def edit(name):
    docs, origin = working()
    if f"{name}.yaml" not in docs:
        abort(404, "no such flow in the working version")
    langs = languages(docs)
    form = flowforms.flow_to_form(_flow_doc(docs, f"{name}.yaml"), langs)
    return _render_flow(docs, origin, form, problems_of(docs), request.args.get("step", ""))


@bp.post("/edit/<name>")
@require(Role.ADMIN)
def change(name):
    """Every button of the builder posts the whole form: nothing typed is lost, whatever was pressed."""
    docs, _ = working()
    if f"{name}.yaml" not in docs:
        abort(404, "no such flow in the working version")
    langs = languages(docs)
    form = flowforms.form_from_request(request.form, langs)
    form["flow"] = name
    op = request.form.get("op", "save")
    if op == "add_step":  # Enter in any field presses Add step (the form's first button): with no name, a save
        new_step = request.form.get("new_step", "").strip()
        op = f"add_step:{new_step}" if new_step else "save"
    before = len(form["steps"])
    if op != "save":
        flowforms.apply(form, op, langs)
    focus = request.form.get("focus", "")
    if op.startswith("add_step") and len(form["steps"]) > before:
        focus = form["steps"][-1]["name"]  # the new step opens in the panel
    focus = next((s["name"] for s in form["steps"] if focus in (s["name"], s.get("renamed_from"))), focus)
    unnamed = flowforms.name_problems(form)
    if unnamed:  # nothing saved: saving would lose a step
        first = form["steps"][min(unnamed)]["name"] or focus
        return _render_flow(docs, "draft", form, [], first, names=unnamed), 422
    version = (_flow_doc(docs, f"{name}.yaml").get("version") or 1)
    docs = {**docs, f"{name}.yaml": flowforms.dump(flowforms.form_to_doc(form, version, langs))}
    save_draft(docs, "save_flows_draft")
    problems = problems_of(docs)
    if op == "publish" and not problems:
        n = _publish(docs, request.form.get("publish_note", ""))
        flash(f"Published version {n}. New texts are live now.")
        return redirect(url_for(".edit", name=name, step=focus or None))
    if op == "save" and not problems:
        flash("Draft saved. Publish it below to make it live.")
        return redirect(url_for(".edit", name=name, step=focus or None))
    return _render_flow(docs, "draft", form, problems, focus), 422 if op in ("save", "publish") and problems else 200


@bp.post("/delete/<name>")
@require(Role.ADMIN)
def delete(name):
    docs, _ = working()
    if f"{name}.yaml" not in docs:
        abort(404, "no such flow in the working version")
    save_draft({k: v for k, v in docs.items() if k != f"{name}.yaml"}, "delete_flow")
    flash(f"Flow {name} deleted from the draft; publish to make it so.")
    return redirect(url_for(".index"))


@bp.route("/program", methods=["GET", "POST"])
@require(Role.ADMIN)
def program():
    docs, origin = working()
    langs = languages(docs)
    doc = load_yaml(docs.get("program.yaml", "")) or {}
    if request.method == "POST":
        doc = flowforms.program_from_request(request.form, doc, langs, MESSAGES, optional=tuple(OPTIONAL_MESSAGES))
        docs = {**docs, "program.yaml": flowforms.dump(doc)}
        save_draft(docs, "save_flows_draft")
        origin = "draft"
    problems = problems_of(docs)
    form = flowforms.program_to_form(doc, langs, MESSAGES)
    status = 422 if request.method == "POST" and problems else 200
    return render_template("staff/flows_program.html", form=form, origin=origin, problems=problems,
                           inline=_inline(problems, "program.yaml", None), **_texts_context(docs, "program.yaml")), status


@bp.post("/publish")
@require(Role.ADMIN)
def publish():
    docs, _ = working()
    problems = problems_of(docs)
    if problems:
        flash(f"Can't publish: {len(problems)} problem(s) to fix first (listed below).")
        return redirect(url_for(".index"))
    n = _publish(docs, request.form.get("note", ""))
    flash(f"Published version {n}. New texts are live now.")
    return redirect(url_for(".index"))


def _publish(docs: dict[str, str], note: str) -> int:
    """The working documents (without problems) become the next live version, audited."""
    svc = services()
    n = flowdocs.publish(svc.redis, docs, g.account.email, svc.vault.encrypt(note[:500]), svc.now(),
                         languages=svc.languages)
    accounts.audit(svc.redis, g.account.email, "publish_flows", f"version {n}", now=svc.now())
    _journeys_changed(svc, n)
    return n


@bp.post("/discard")
@require(Role.ADMIN)
def discard():
    svc = services()
    flowdocs.discard_draft(svc.redis)
    accounts.audit(svc.redis, g.account.email, "discard_flows_draft", now=svc.now())
    flash("Draft discarded: you are editing the live version again.")
    return redirect(url_for(".index"))


@bp.get("/history")
@require(Role.ADMIN)
def history():
    svc = services()
    versions = [{**v, "note": _decrypted(v.get("note", ""))} for v in flowdocs.history(svc.redis)]
    return render_template("staff/flow_history.html", versions=versions, current=flowdocs.published_version(svc.redis),
                           audit=accounts.audit_log(svc.redis, 100))


@bp.get("/diff/<int:a>/<int:b>")
@require(Role.ADMIN)
def diff(a, b):
    svc = services()
    try:
        old, new = (svc.source.version(svc.redis, n) for n in (a, b))
    except KeyError as exc:
        abort(404, str(exc))
    return render_template("staff/flow_diff.html", a=a, b=b, sections=flowdiff.compare(old, new))


@bp.get("/diff/draft")
@require(Role.ADMIN)
def draft_diff():
    """What publishing the draft would change, against the live version."""
    svc = services()
    docs, origin = working()
    if load_problems(docs):
        flash("Fix the draft's problems first: then its changes can be compared.")
        flow = request.args.get("flow", "")
        return redirect(url_for(".edit", name=flow) if f"{flow}.yaml" in docs else url_for(".index"))
    live = flowdocs.published_version(svc.redis)
    old = svc.source.version(svc.redis, live) if live else \
        load_documents(flowdocs.seed_documents(svc.config.flows_dir), svc.languages)
    return render_template("staff/flow_diff.html", a=live or "the seed files", b="the draft",
                           sections=flowdiff.compare(old, load_documents(docs, services().languages)))


@bp.post("/rollback/<int:n>")
@require(Role.ADMIN)
def rollback(n):
    """Rolling back publishes the old documents as a new version: history only grows."""
    svc = services()
    try:
        docs = flowdocs.documents(svc.redis, n)
    except KeyError as exc:
        abort(404, str(exc))
    try:
        new = flowdocs.publish(svc.redis, docs, g.account.email, svc.vault.encrypt(f"rollback to version {n}"),
                               svc.now(), keep_draft=True, languages=svc.languages)
    except FlowError as refused:  # e.g. from before a language was offered: nothing half-translated goes live
        flash(f"Version {n} can't go live again: {'; '.join(map(str, refused.problems[:5]))}"
              + (f" (and {len(refused.problems) - 5} more)" if len(refused.problems) > 5 else ""))
        return redirect(url_for(".history"))
    accounts.audit(svc.redis, g.account.email, "rollback_flows", f"version {n} republished as {new}", now=svc.now())
    _journeys_changed(svc, new)
    flash(f"Version {n} is live again, as version {new}.")
    return redirect(url_for(".history"))


@bp.get("/export")
@require(Role.ADMIN)
def export():
    docs, _ = working()
    return Response(flowyaml.export(docs), mimetype="application/x-yaml",
                    headers={"Content-Disposition": "attachment; filename=flows.yaml"})


@bp.route("/import", methods=["GET", "POST"])
@require(Role.ADMIN)
def import_():
    """A YAML export (pasted or uploaded) becomes the draft once it is valid; when it is not, the page
    shows each problem with its line and keeps the text as it was sent."""
    if request.method == "GET":
        return render_template("staff/flows_import.html", text="", problems=[])
    upload = request.files.get("file")
    raw = upload.read(MAX_IMPORT_BYTES + 1) if upload and upload.filename else request.form.get("text", "").encode()
    text = raw.decode("utf-8", errors="replace")
    if not raw.strip() or len(raw) > MAX_IMPORT_BYTES:
        return render_template("staff/flows_import.html", text=text[:MAX_IMPORT_BYTES],
                               problems=["paste or choose a flows YAML export of at most 256 KB"]), 400
    docs, starts, problems = flowyaml.parse(text)
    if not problems and "program.yaml" not in docs:
        problems = ["the export has no program.yaml document"]
    problems = problems or flowyaml.located(load_problems(docs), starts)  # publishing needs every translation
    if problems:
        return render_template("staff/flows_import.html", text=text, problems=problems), 422
    save_draft(docs, "import_flows")
    flash("Imported as the draft: review, then publish.")
    return redirect(url_for(".index"))


@bp.post("/segments")
@require(Role.ADMIN)
def segments():
    """The live counter under each text: encoding and segments as it will be sent, placeholders filled."""
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    text, language = str(data.get("text", ""))[:2000], str(data.get("language", "en"))[:5]
    sample = {"{program}": str(data.get("program", ""))[:200], "{phone}": str(data.get("phone", ""))[:40],
              "{callback_eta}": CALLBACK_ETA_SAMPLE, "{keywords}": "SIGNS, TREATMENT or CALL"}
    for placeholder, value in sample.items():
        text = text.replace(placeholder, value)
    sent = services().flows().languages.as_sent(text, language, data.get("plain_spanish", True) is not False)
    return display.segment_counter(sent, str(data.get("text", ""))[:2000])


def _journeys_changed(svc, version: int) -> None:
    """A publish that changed a journey (or the flows its events start) plans every contact again."""
    before = flowdocs.documents(svc.redis, version - 1) if version > 1 else flowdocs.seed_documents(svc.config.flows_dir)
    after = flowdocs.documents(svc.redis, version)
    if load_documents(before, services().languages).journeys != load_documents(after, services().languages).journeys:
        queues.enqueue_replan_everyone(svc.redis, version)


def _flow_doc(docs: dict[str, str], filename: str) -> dict:
    try:
        doc = load_yaml(docs[filename])
    except yaml.YAMLError:
        return {"flow": filename.removesuffix(".yaml")}
    return doc if isinstance(doc, dict) else {"flow": filename.removesuffix(".yaml")}


def _pictures(docs: dict[str, str]) -> dict:
    svc = services()
    flowset = load_documents(docs, services().languages)
    version = flowdocs.published_version(svc.redis) or 0
    default = flowset.program.default_language
    return {f"{name}.yaml": flowpicture.svg(flow, default, conversations.results(svc.redis, version, name,
                                                                                  list(flow.steps)))
            for name, flow in flowset.flows.items()}


def _render_flow(docs: dict[str, str], origin: str, form: dict, problems: list, editing: str = "",
                 names: dict[int, str] | None = None):
    """The builder: the flow's picture is its map (each step a link), the chosen step's panel beside it,
    each problem on the step it belongs to, and save, discard and publish at hand. `names`: step names
    that can't be kept, by the step's place (nothing was saved)."""
    svc = services()
    langs = languages(docs)
    steps = [s["name"] for s in form["steps"]]
    editing = editing if editing in steps else (form["start"] if form["start"] in steps else steps[0] if steps else "")
    file = f"{form['flow']}.yaml"
    on_steps = _on_steps(problems, file)
    inline = _inline(problems, file, form)
    for i, message in (names or {}).items():
        inline.setdefault(f"step.{i}.name", []).append(message)
        on_steps.setdefault(form["steps"][i]["name"], []).append(message)
    flow = flowpicture.sketch(form, langs[0])
    version = flowdocs.published_version(svc.redis) or 0
    results = conversations.results(svc.redis, version, flow.name, list(flow.steps))
    try:
        picture = flowpicture.svg(flow, langs[0], results, editing=editing,
                                  problems={name: len(found) for name, found in on_steps.items()})
        table = flowpicture.arrows(flow, langs[0], results)
    except Exception:  # the draft is saved already: a picture that can't be drawn must not lock the editor
        log.exception("flow_picture_failed", extra={"flow": form["flow"]})
        picture, table = None, []
    problems = [*problems, *(f"Step {form['steps'][i]['name'] or i + 1}: {m}" for i, m in (names or {}).items())]
    return render_template("staff/flow_edit.html", form=form, origin=origin, problems=problems, editing=editing,
                           inline=inline, steps=steps, picture=picture,
                           table=table, on_steps=on_steps,
                           elsewhere=[p for p in problems if getattr(p, "file", None) != file or p.path[:1] != ("steps",)
                                      or len(p.path) < 2 or p.path[1] not in steps],
                           new_step=flowforms.NEW_STEP, **_texts_context(docs, file))


def _on_steps(problems: list, file: str) -> dict[str, list[str]]:
    """This flow's problems by the step they belong to, in plain words (no file, no line)."""
    found: dict[str, list[str]] = {}
    for p in problems:
        path = getattr(p, "path", ())
        if getattr(p, "file", None) == file and len(path) >= 2 and path[0] == "steps":
            found.setdefault(str(path[1]), []).append(p.message)
    return found


def _inline(problems: list, file: str, form: dict | None) -> dict[str, list[str]]:
    """Each problem beside the field it is about (the rest stay in the list at the top)."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        if getattr(problem, "file", None) == file:
            name = flowforms.field_for(getattr(problem, "path", ()), form)
            if name:
                found.setdefault(name, []).append(problem.message)
    return found


def _decrypted(note: str) -> str:
    try:
        return services().vault.decrypt(note) if note else ""
    except ValueError:
        return note  # written before notes were encrypted
