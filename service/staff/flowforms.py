"""Flow documents <-> the builder's form fields, and the builder's operations (add, remove, move a step
or an answer). Staff edit fields; YAML stays the stored format, which the builder writes for them.

A flow written the old way (reply + followups) opens as a flow with one step, "reply", and is saved in
the steps format with its timed follow-ups kept as they are (pending ones still find their text)."""
import re

import yaml

from flows.model import LEGACY_STEP, UNWRITTEN

NAME = re.compile(r"[^a-z0-9_]")
MAX_ROWS = 60
MAX_NAME = 31  # a step's name, as the loader allows it
NEW_STEP = "+new"  # a "goes to" choice: a new step, made on save and named for what leads to it
SECTIONS = ("answers", "timeout", "next")  # a step's optional parts, shown once used or asked for


def empty_step(name: str, languages: list[str]) -> dict:
    """A new step: its text starts as the visible placeholder (it can't be published until written); other
    languages start empty (marked as a missing translation)."""
    return {"name": name, "was": name, "text": {lang: UNWRITTEN if lang == languages[0] else "" for lang in languages}, "answers": [], "otherwise": "",
            "timeout_after": "", "timeout_go": "", "next_after": "", "next_go": "", "set": "", "callback": False,
            "inbox": False, "show": (), "formerly": [], "listen": True}


def flow_to_form(doc: dict, languages: list[str]) -> dict:
    """The builder's view of one flow document."""
    default = languages[0]
    steps = doc.get("steps") if isinstance(doc.get("steps"), dict) else None
    if steps is None:  # today's format: one step, "reply"
        steps = {LEGACY_STEP: {"text": doc.get("reply", ""), "action": doc.get("action")}}
    return {"flow": str(doc.get("flow", "")), "keyword": _by_language(doc.get("keyword"), languages, default),
            "aliases": _words_by_language(doc.get("aliases"), languages, default),
            "summary": _by_language(doc.get("summary"), languages, default),
            "menu": "" if doc.get("menu") is False else str(doc.get("menu", "")),
            "start": str(doc.get("start") or next(iter(steps), "")),
            "steps": [_step_to_form(str(name), step, languages, default) for name, step in steps.items()],
            "followups": [{"after": str(f.get("after", "")), "text": _by_language(f.get("text"), languages, default)}
                          for f in doc.get("followups") or [] if isinstance(f, dict)]}


def _step_to_form(name: str, step, languages: list[str], default: str) -> dict:
    step = step if isinstance(step, dict) else {}
    timeout, nxt = _jump(step.get("timeout")), _jump(step.get("next"))
    return {"name": name, "was": name, "show": (), "text": _by_language(step.get("text"), languages, default),
            "answers": [{"match": _words_by_language(a.get("match"), languages, default), "go": str(a.get("go", ""))}
                        for a in step.get("answers") or [] if isinstance(a, dict)],
            "otherwise": str(step.get("otherwise") or ""), "timeout_after": timeout[0], "timeout_go": timeout[1],
            "next_after": nxt[0], "next_go": nxt[1],
            "set": ", ".join(f"{k}={v}" for k, v in (step.get("set") or {}).items()),
            "callback": step.get("action") == "callback", "inbox": step.get("action") == "inbox",
            "formerly": [str(f) for f in step.get("formerly") or [] if isinstance(f, str)],
            "listen": step.get("listen", True) is not False}


def _jump(value) -> tuple[str, str]:
    if isinstance(value, str):
        return "", value
    if isinstance(value, dict):
        return str(value.get("after") or ""), str(value.get("go") or "")
    return "", ""


def _by_language(value, languages: list[str], default: str) -> dict[str, str]:
    value = value if isinstance(value, dict) else {default: value or ""}
    return {lang: str(value.get(lang) or "") for lang in languages}


def _words_by_language(value, languages: list[str], default: str) -> dict[str, str]:
    value = value if isinstance(value, dict) else {default: value or []}
    return {lang: ", ".join(str(w) for w in (value.get(lang) or []) if not isinstance(w, dict))
            if isinstance(value.get(lang), list) else str(value.get(lang) or "") for lang in languages}


def form_from_request(values, languages: list[str]) -> dict:
    """Read the posted fields back into the builder's view (nothing typed is dropped)."""
    form = {"flow": values.get("flow", "").strip().lower(),
            "keyword": {lang: values.get(f"keyword.{lang}", "") for lang in languages},
            "aliases": {lang: values.get(f"aliases.{lang}", "") for lang in languages},
            "summary": {lang: values.get(f"summary.{lang}", "") for lang in languages},
            "menu": values.get("menu", "").strip(), "start": values.get("start", ""), "steps": [], "followups": []}
    for i in range(MAX_ROWS):
        prefix = f"step.{i}."
        if prefix + "name" not in values:
            break
        step = {"name": NAME.sub("_", values.get(prefix + "name", "").strip().lower()),
                "was": values.get(prefix + "was", ""),
                "show": tuple(p for p in values.get(prefix + "show", "").split() if p in SECTIONS),
                "text": {lang: values.get(f"{prefix}text.{lang}", "") for lang in languages},
                "otherwise": values.get(prefix + "otherwise", ""), "set": values.get(prefix + "set", ""),
                "callback": bool(values.get(prefix + "callback")), "inbox": bool(values.get(prefix + "inbox")),
                "formerly": [NAME.sub("_", f.lower()) for f in values.get(prefix + "formerly", "").split()],
                "listen": values.get(prefix + "listen", "1") != "0",
                "answers": []}
        for part in ("timeout_after", "timeout_go", "next_after", "next_go"):
            step[part] = values.get(prefix + part, "").strip()
        for j in range(MAX_ROWS):
            if f"{prefix}answer.{j}.go" not in values:
                break
            step["answers"].append({"go": values.get(f"{prefix}answer.{j}.go", ""),
                                    "match": {lang: values.get(f"{prefix}answer.{j}.match.{lang}", "")
                                              for lang in languages}})
        form["steps"].append(step)
    for k in range(MAX_ROWS):
        if f"followup.{k}.after" not in values:
            break
        form["followups"].append({"after": values.get(f"followup.{k}.after", "").strip(),
                                  "text": {lang: values.get(f"followup.{k}.text.{lang}", "") for lang in languages}})
    _rename(form)
    _new_steps(form, languages)
    return form


def _rename(form: dict) -> None:
    """A step renamed in the builder is renamed wherever the flow names it (the first step, answers,
    other replies, timeouts, nexts)."""
    renamed = {s["was"]: s["name"] for s in form["steps"] if s.get("was") and s["name"] and s["was"] != s["name"]}
    if not renamed:
        return
    form["start"] = renamed.get(form["start"], form["start"])
    for step in form["steps"]:
        for part in ("otherwise", "timeout_go", "next_go"):
            step[part] = renamed.get(step[part], step[part])
        for answer in step["answers"]:
            answer["go"] = renamed.get(answer["go"], answer["go"])
        if step["was"] != step["name"]:  # people waiting at the old name are waiting here (flows.model.Step)
            step["formerly"] = [f for f in dict.fromkeys([*step.get("formerly", []), step["was"]])
                                if f and f != step["name"]]
            step["renamed_from"], step["was"] = step["was"], step["name"]


def name_problems(form: dict) -> dict[int, str]:
    """Steps whose name can't be kept, by their place: blank, or already another step's (saving would
    silently lose one of them)."""
    found, seen = {}, {}
    for i, step in enumerate(form["steps"]):
        if not step["name"]:
            found[i] = "a step needs a name (lower-case letters, digits and _)"
        elif step["name"] in seen:
            found[i] = f"another step is already called {step['name']}: give this one a name of its own"
        seen.setdefault(step["name"], i)
    return found


def _new_steps(form: dict, languages: list[str]) -> None:
    """Every "goes to: a new step" becomes a step of its own, named for what leads to it (an answer's first
    word, "no_answer" for a timeout, "later" for a next)."""
    for step in list(form["steps"]):
        for answer in step["answers"]:
            if answer["go"] == NEW_STEP:
                words = [w for v in answer["match"].values() for w in v.split(",") if w.strip()]
                answer["go"] = _add(form, _step_name(words[0] if words else "answer"), languages)
        for part, name in (("otherwise", "other_reply"), ("timeout_go", "no_answer"), ("next_go", "later")):
            if step[part] == NEW_STEP:
                step[part] = _add(form, name, languages)


def _step_name(word: str) -> str:
    """A step name made from an answer's word: lower-case letters, digits and _, starting with a letter."""
    name = NAME.sub("_", word.strip().lower())
    return (name if name[:1].isalpha() and name[:1].isascii() else f"answer_{name}")[:MAX_NAME]


def _add(form: dict, name: str, languages: list[str]) -> str:
    name = name or "step"
    while name in {s["name"] for s in form["steps"]}:
        name = name[:MAX_NAME - 2] + "_2"
    form["steps"].append(empty_step(name, languages))
    return name


def apply(form: dict, op: str, languages: list[str]) -> dict:
    """One builder operation, named by the button pressed: add_step:<name>, remove_step:<i>, up:<i>,
    down:<i>, add_answer:<i>, add_timeout:<i>, add_next:<i>, remove_answer:<i>:<j>, add_followup,
    remove_followup:<k>."""
    verb, _, arg = op.partition(":")
    steps = form["steps"]
    if verb == "add_step":
        _add(form, NAME.sub("_", arg.strip().lower()) or f"step{len(steps) + 1}", languages)
    elif verb in ("add_timeout", "add_next") and arg.isdigit() and int(arg) < len(steps):
        steps[int(arg)]["show"] = (*steps[int(arg)]["show"], verb[4:])
    elif verb in ("remove_step", "up", "down", "add_answer") and arg.isdigit() and int(arg) < len(steps):
        i = int(arg)
        if verb == "remove_step":
            steps.pop(i)
        elif verb == "up" and i > 0:
            steps[i - 1], steps[i] = steps[i], steps[i - 1]
        elif verb == "down" and i + 1 < len(steps):
            steps[i + 1], steps[i] = steps[i], steps[i + 1]
        elif verb == "add_answer":
            steps[i]["answers"].append({"match": {lang: "" for lang in languages}, "go": ""})
    elif verb == "remove_answer":
        i, _, j = arg.partition(":")
        if i.isdigit() and j.isdigit() and int(i) < len(steps) and int(j) < len(steps[int(i)]["answers"]):
            steps[int(i)]["answers"].pop(int(j))
    elif verb == "add_followup":
        form["followups"].append({"after": "", "text": {lang: "" for lang in languages}})
    elif verb == "remove_followup" and arg.isdigit() and int(arg) < len(form["followups"]):
        form["followups"].pop(int(arg))
    return form


def form_to_doc(form: dict, version: int, languages: list[str]) -> dict:
    """The flow document the builder writes (always the steps format)."""
    default = languages[0]
    doc = {"flow": form["flow"], "version": version}
    keyword = _one_or_many(form["keyword"], default, word=True)
    if keyword or form["menu"] != "none":  # a hidden flow without a keyword: only a journey starts it
        doc["keyword"] = keyword
    aliases = _words(form["aliases"], default)
    if aliases:
        doc["aliases"] = aliases
    summary = _one_or_many(form.get("summary") or {}, default)
    if summary:
        doc["summary"] = summary
    doc["menu"] = int(form["menu"]) if form["menu"].isdigit() else False if form["menu"] == "none" else 100
    doc["start"] = form["start"] or (form["steps"][0]["name"] if form["steps"] else "")
    doc["steps"] = {s["name"]: _step_doc(s, default) for s in form["steps"] if s["name"]}
    for step in (s for s in form["steps"] if s["name"]):  # a name a step has now is that step's, not an alias
        formerly = [f for f in step.get("formerly", []) if f and f not in doc["steps"]]
        if formerly:
            doc["steps"][step["name"]]["formerly"] = formerly
    followups = [{"after": f["after"], "text": _one_or_many(f["text"], default)} for f in form["followups"]
                 if f["after"] or any(v.strip() for v in f["text"].values())]
    if followups:
        doc["followups"] = followups
    return doc


def _step_doc(step: dict, default: str) -> dict:
    text = _one_or_many(step["text"], default)
    out = {"text": text} if text or not step.get("inbox") else {}
    answers = [{"match": _words(a["match"], default), "go": a["go"]} for a in step["answers"]
               if a["go"] or any(v.strip() for v in a["match"].values())]
    if answers:
        out["answers"] = answers
    if step["otherwise"]:
        out["otherwise"] = step["otherwise"]
    if step["timeout_go"] or step["timeout_after"]:
        out["timeout"] = {"after": step["timeout_after"], "go": step["timeout_go"]}
    if step["next_go"] or step["next_after"]:
        out["next"] = {"go": step["next_go"], **({"after": step["next_after"]} if step["next_after"] else {})}
    pairs = [p.split("=", 1) for p in step["set"].split(",") if "=" in p]
    if pairs:
        out["set"] = {k.strip(): v.strip() for k, v in pairs}
    if not step.get("listen", True):
        out["listen"] = False
    if step["callback"]:
        out["action"] = "callback"
    elif step.get("inbox"):
        out["action"] = "inbox"
    return out


def _one_or_many(values: dict[str, str], default: str, word: bool = False):
    clean = {k: (v.strip().upper() if word else " ".join(v.split())) for k, v in values.items() if v.strip()}
    return clean.get(default, "") if set(clean) <= {default} else clean


def _words(values: dict[str, str], default: str):
    lists = {k: [w.strip().upper() for w in v.split(",") if w.strip()] for k, v in values.items()}
    lists = {k: v for k, v in lists.items() if v}
    return lists.get(default, []) if set(lists) <= {default} else lists


def dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def named(doc: dict, name: str, phone: str) -> dict:
    """The program document with this name and call back number (its numbers and the rest stay)."""
    info = doc.get("program") if isinstance(doc.get("program"), dict) else {}
    return {**doc, "program": {**info, "name": name, "phone": phone}}


def program_to_form(doc: dict, languages: list[str], messages: tuple[str, ...]) -> dict:
    default = languages[0]
    info = doc.get("program") if isinstance(doc.get("program"), dict) else {}
    texts = doc.get("messages") if isinstance(doc.get("messages"), dict) else {}
    return {"name": str(info.get("name", "")), "phone": str(info.get("phone", "")),
            "messages": {m: _by_language(texts.get(m), languages, default) for m in messages}}


def program_from_request(values, doc: dict, languages: list[str], messages: tuple[str, ...],
                         optional: tuple[str, ...] = ()) -> dict:
    """The program document with the posted name, phone and messages (an optional message left empty is
    left out: the built-in text is sent)."""
    doc = named(doc, values.get("program.name", "").strip(), values.get("program.phone", "").strip())
    texts = {m: _one_or_many({lang: values.get(f"msg.{m}.{lang}", "") for lang in languages}, languages[0])
             for m in messages}
    doc["messages"] = {m: t for m, t in texts.items() if t or m not in optional}
    return doc


def field_for(path: tuple, form: dict | None) -> str | None:
    """The form field a loader problem is about, from the problem's path in the document."""
    if not path:
        return None
    if form is None:  # program.yaml
        return f"msg.{path[1]}" if len(path) > 1 and path[0] == "messages" else None
    head = path[0]
    if head in ("keyword", "aliases", "summary", "start", "menu"):
        return head
    if head == "reply":
        return "step.0.text"
    if head == "followups" and len(path) > 1:
        return f"followup.{path[1]}.{'after' if path[2:3] == ('after',) else 'text'}"
    if head != "steps" or len(path) < 2:
        return None
    names = [s["name"] for s in form["steps"]]
    if path[1] not in names:
        return None
    prefix = f"step.{names.index(path[1])}."
    rest = path[2:]
    if not rest or rest[0] in ("text", "otherwise", "set"):
        return prefix + (rest[0] if rest else "name")
    if rest[0] in ("timeout", "next"):
        return prefix + rest[0] + ("_after" if rest[1:2] == ("after",) else "_go")
    if rest[0] == "answers" and len(rest) > 1:
        return f"{prefix}answer.{rest[1]}.{'go' if rest[2:3] == ('go',) else 'match'}"
    return prefix + "name"
