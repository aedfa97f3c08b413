"""Flow documents <-> the editor's form fields. Staff edit fields; YAML stays the stored format."""
import yaml

from flows.loader import PROGRAM_MESSAGES

EMPTY_FOLLOWUP_ROWS = 1


def to_form(docs: dict[str, str]) -> dict:
    program = yaml.safe_load(docs["program.yaml"])
    flows = []
    for filename, text in sorted(docs.items()):
        if filename == "program.yaml":
            continue
        doc = yaml.safe_load(text)
        rows = [{"after": str(f.get("after", "")), "text": f.get("text", "")} for f in doc.get("followups") or []]
        flows.append({"file": filename, "flow": doc.get("flow", ""), "keyword": doc.get("keyword", ""),
                      "aliases": ", ".join(doc.get("aliases") or []), "reply": doc.get("reply", ""),
                      "action": doc.get("action") or "",
                      "followups": rows + [{"after": "", "text": ""}] * EMPTY_FOLLOWUP_ROWS})
    return {"program": program["program"], "messages": program["messages"], "flows": flows}


def from_form(form, docs: dict[str, str]) -> dict[str, str]:
    """Rebuild every document from the submitted fields; files not on the form are kept as they were."""
    result = dict(docs)
    program = yaml.safe_load(docs["program.yaml"])
    program["program"] = {"name": form.get("program.name", "").strip(), "phone": form.get("program.phone", "").strip()}
    program["messages"] = {m: _text(form.get(f"msg.{m}", "")) for m in PROGRAM_MESSAGES}
    result["program.yaml"] = _dump(program)
    for filename in docs:
        if filename != "program.yaml" and f"flow.{filename}.keyword" in form:
            result[filename] = _dump(_flow(form, filename, yaml.safe_load(docs[filename])))
    return result


def _flow(form, filename: str, doc: dict) -> dict:
    prefix = f"flow.{filename}."
    doc["keyword"] = form.get(prefix + "keyword", "").strip().upper()
    doc["aliases"] = [a.strip().upper() for a in form.get(prefix + "aliases", "").split(",") if a.strip()]
    doc["reply"] = _text(form.get(prefix + "reply", ""))
    rows = []
    for i in range(50):
        after, text = form.get(f"{prefix}fu.{i}.after"), form.get(f"{prefix}fu.{i}.text")
        if after is None and text is None:
            break
        if (after or "").strip() or (text or "").strip():
            rows.append({"after": (after or "").strip(), "text": _text(text or "")})
    doc["followups"] = rows
    return doc


def field_problems(problems: list[str], form: dict) -> dict[str, list[str]]:
    """Attach each loader problem to the form field it is about, so the editor can show it inline."""
    files = {f["flow"]: f["file"] for f in form["flows"]}
    found: dict[str, list[str]] = {}
    for problem in problems:
        where, _, rest = problem.partition(": ")
        name = _field(where, rest, files, form["messages"])
        if name:
            found.setdefault(name, []).append(rest)
    return found


def _field(where: str, rest: str, files: dict[str, str], messages: dict) -> str | None:
    head = rest.split(":")[0].split(" message")[0]
    if where == "program.yaml":
        return f"msg.{head}" if head in messages else None
    file = files.get(where)
    if file is None:
        return None
    if head == "reply":
        return f"flow.{file}.reply"
    if head.startswith("follow-up "):
        return f"flow.{file}.fu.{int(head.split()[1]) - 1}.text"
    if "keyword" in rest or "alias" in rest:
        return f"flow.{file}.aliases"
    return None


def _text(value: str) -> str:
    return " ".join(value.replace("\r\n", "\n").split())


def _dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
