"""The rules a flow set must keep before it can go live: keywords that don't clash or shadow compliance
words, steps that exist and can be reached, no endless or over-long chains, answers that don't clash,
and texts that are short, GSM-7 in the encoding they will be sent in, with known placeholders."""
from flows import gsm
from flows.fields import FieldType
from flows.matching import KEYWORD, fold
from flows.model import Flow, FlowSet, Program, Step, placeholders, unknown_placeholder
from languages import Languages, builtin
from flows.source import Document, Problem

MAX_SEGMENTS = 3
MAX_CHAIN = 3  # steps sent together, without a wait
CALLBACK_ETA_SAMPLE = "after 9:00 AM ET on Wednesday, Nov 25"
BASIC_PLACEHOLDERS = {"program", "phone", "keywords", "menu"}
FIRST_CONTACT_MESSAGES = ("menu", "language", "thanks", "unclear")  # may be a number's first reply: the disclosure is appended
# Program messages that may use a placeholder of their own, and a sample to measure them with.
MESSAGE_PLACEHOLDERS = {**{name: {"flagged"} for name in ("crisis", "crisis_again", "crisis_call", "crisis_update",
                                                            "crisis_self_harm", "crisis_self_harm_again", "crisis_stay",
                                                            "crisis_afraid", "crisis_self_harm_more",
                                                            "crisis_self_harm_update")},
                        "choices": {"choices"}}
PLACEHOLDER_SAMPLES = {"flagged": "We've told our on-call team.", "choices": "ME, OTHER or SOMEONE ELSE"}
FIELD_SAMPLES = {FieldType.TEXT: "Alexandra Maria", FieldType.DATE: "Wednesday, December 16",
                 FieldType.DATETIME: "Wednesday, December 16 at 10:30 AM", FieldType.NUMBER: "12"}
# What each compliance message must say is each language's (texts.required); a list inside offers alternatives.
COMPLIANCE_MESSAGES = ("disclosure", "menu", "help", "stop", "start", "crisis")  # needed in every language


def assemble(program: Program, program_doc: Document, flows: list[Flow], docs: dict[str, Document],
             problems: list[Problem], known: Languages) -> FlowSet:
    by_file = {doc.data["flow"].strip().lower(): doc for doc in docs.values() if isinstance(doc.data.get("flow"), str)}
    for name in sorted({f.name for f in flows if [g.name for g in flows].count(f.name) > 1}):
        files = sorted(d.file for d in docs.values() if d.data.get("flow", "").strip().lower() == name)
        problems.append(Problem(files[-1], 1, name, f"flow name '{name}' is used by more than one file ({', '.join(files)})"))
    triggers, languages = _triggers(flows, by_file, known)
    flowset = FlowSet(program, {f.name: f for f in flows}, triggers, languages, languages=known)
    _check_program(flowset, program_doc)
    warnings: list[Problem] = []
    for flow in flows:
        doc = by_file.get(flow.name) or program_doc
        _check_graph(flow, doc, known)
        _check_flow_texts(flowset, flow, doc)
        warnings += _missing_translations(flowset, flow, doc)
        _unknown_languages(flowset, flow, doc)
    return FlowSet(program, flowset.flows, triggers, languages, tuple(warnings), languages=known)


def _triggers(flows: list[Flow], by_file: dict[str, Document], known: Languages) -> tuple[dict[str, str], dict[str, str]]:
    triggers: dict[str, str] = {}
    languages: dict[str, str] = {}
    for flow in flows:
        doc = by_file[flow.name]
        for language, words in _trigger_words(flow):
            for word in map(fold, words):
                path = ("keyword",) if word == fold(flow.keyword.get(language, "")) else ("aliases",)
                if not KEYWORD.match(word):
                    doc.problem(flow.name, f"keyword '{word}' must be 2-20 letters or digits", path)
                elif word in known.reserved:
                    doc.problem(flow.name, f"'{word}' is a reserved compliance keyword", path)
                elif word in known.switch:
                    doc.problem(flow.name, f"'{word}' asks for a language and can't be a flow keyword", path)
                elif word in triggers and triggers[word] != flow.name:
                    doc.problem(flow.name, f"keyword '{word}' is already used by {triggers[word]}", path)
                triggers.setdefault(word, flow.name)
                languages[word] = language if languages.get(word, language) == language else ""
    return triggers, {word: language for word, language in languages.items() if language}


def _trigger_words(flow: Flow):
    for language in sorted(set(flow.keyword) | set(flow.aliases)):
        yield language, [w for w in (flow.keyword.get(language), *flow.aliases.get(language, ())) if w]


def _check_graph(flow: Flow, doc: Document, known: Languages) -> None:
    for step in flow.steps.values():
        _check_step(flow, step, doc, known)
    reachable = _reachable(flow)
    for name in flow.steps:
        if name not in reachable:
            doc.problem(f"{flow.name} step {name}", "can't be reached from the start step", ("steps", name))
    for name in flow.steps:
        chain = _chain(flow, name)
        if chain is None:
            doc.problem(f"{flow.name} step {name}", "its next steps come back to it without a wait (a loop)",
                        ("steps", name, "next"))
        elif len(chain) > MAX_CHAIN:
            doc.problem(f"{flow.name} step {name}",
                        f"chains {len(chain)} steps without a wait ({' > '.join(chain)}); at most {MAX_CHAIN}",
                        ("steps", name, "next"))


def _check_step(flow: Flow, step: Step, doc: Document, known: Languages) -> None:
    where, path = f"{flow.name} step {step.name}", ("steps", step.name)
    for field, target in (("otherwise", step.otherwise), ("timeout", step.timeout and step.timeout.go),
                          ("next", step.next and step.next.go)):
        if target is not None and target not in flow.steps:
            doc.problem(where, f"{field} goes to '{target}', which is not a step", path + (field,))
    for i, answer in enumerate(step.answers):
        if answer.go not in flow.steps:
            doc.problem(where, f"answer {i + 1} goes to '{answer.go}', which is not a step", path + ("answers", i, "go"))
    if not step.asks and (step.otherwise or step.timeout):
        doc.problem(where, "otherwise and timeout belong to a step that asks (has answers)", path)
    if step.asks and step.next:
        doc.problem(where, "a step that asks waits for the answer: use timeout, not next", path + ("next",))
    if not step.text and (step.asks or step.next or step.name == flow.start):
        doc.problem(where, "only a last step, reached after a wait or an answer, may say nothing (action: inbox)",
                    path + ("text",))
    _check_answers(where, step, doc, path, known)


def _check_answers(where: str, step: Step, doc: Document, path, known: Languages) -> None:
    seen: dict[tuple[str, str], int] = {}
    for i, answer in enumerate(step.answers):
        for language, words in answer.match.items():
            for word in words:
                if word in known.reserved and word not in known.words("answerable"):
                    doc.problem(where, f"answer {i + 1}: '{word}' is a compliance word (STOP, START, HELP...) and "
                                       "can't be an answer", path + ("answers", i, "match"))
                elif (language, word) in seen and seen[(language, word)] != i:
                    doc.problem(where, f"answers {seen[(language, word)] + 1} and {i + 1} both match '{word}'",
                                path + ("answers", i, "match"))
                seen.setdefault((language, word), i)


def _reachable(flow: Flow) -> set[str]:
    seen, todo = set(), [flow.start]
    while todo:
        name = todo.pop()
        step = flow.steps.get(name)
        if step is None or name in seen:
            continue
        seen.add(name)
        todo += [a.go for a in step.answers] + [j.go for j in (step.timeout, step.next) if j] + \
            ([step.otherwise] if step.otherwise else [])
    return seen


def _chain(flow: Flow, name: str) -> list[str] | None:
    """The steps sent together starting at `name` (following `next` without a wait); None for a loop."""
    chain = [name]
    while (step := flow.steps.get(chain[-1])) and step.next and not step.next.after:
        if step.next.go in chain:
            return None
        chain.append(step.next.go)
    return chain


def delayed_steps(flow: Flow) -> set[str]:
    """Steps that go out unprompted, after a wait (a timeout, or next after some time)."""
    names = set()
    for step in flow.steps.values():
        for jump in (step.timeout, step.next):
            if jump and jump.after:
                names.add(jump.go)
    return names


def _check_program(flowset: FlowSet, doc: Document) -> None:
    program = flowset.program
    for name in COMPLIANCE_MESSAGES:
        for language in program.languages:
            if language not in program.messages[name]:
                doc.problem(name, f"needs its {flowset.languages.name(language)} text ({language}): the program texts in "
                                  f"{', '.join(program.languages)}", ("messages", name))
    for name, texts in program.messages.items():
        for language, template in texts.items():
            for part in flowset.languages.text(language, "required").get(name, ()) if language in flowset.languages else ():
                options = tuple(part) if isinstance(part, list) else (part,)
                if not any(o.lower() in template.lower() for o in options):
                    doc.problem(name, f"message ({language}) must include {' or '.join(options)}", ("messages", name))
            suffix = name in FIRST_CONTACT_MESSAGES
            allowed = BASIC_PLACEHOLDERS | MESSAGE_PLACEHOLDERS.get(name, set())
            _check_text(flowset, doc, name, template, language, suffix, allowed, ("messages", name))
    for language, menu in program.messages["menu"].items():
        if "{menu}" in menu:  # every listed keyword says what it is for: each flow's summary (checked there)
            continue
        missing = [w for w in _listed(flowset, language) if w not in menu] if "{keywords}" not in menu else []
        if missing:
            doc.problem("menu", f"must name every keyword, or say {{keywords}} to list them (missing: "
                                f"{', '.join(missing)})", ("messages", "menu"))


def _listed(flowset: FlowSet, language: str) -> list[str]:
    """The keywords the menu names, read back from "A, B or C" in the language's words."""
    text = flowset.keywords(language)
    for joiner in {flowset.languages.text(language, "or"), *flowset.languages.text(language, "or_before", {}).values()}:
        text = text.replace(joiner, ", ")
    return [w for w in text.split(", ") if w]


def _check_flow_texts(flowset: FlowSet, flow: Flow, doc: Document) -> None:
    delayed, legacy = delayed_steps(flow), "reply" in doc.data
    default = flowset.program.default_language
    if flow.menu is not None and flow.keyword and not flow.summary.get(default) and \
            any("{menu}" in t for t in flowset.program.messages.get("menu", {}).values()):
        doc.problem(flow.name, f"summary: the menu says what every keyword is for; write one line "
                               f"({flowset.languages.name(default)}) for {flow.keyword.get(default, flow.name)}", ("summary",))
    bad_action = doc.data.get("action") not in (None, "callback")  # reported already: don't report twice
    for step in flow.steps.values():
        allowed = BASIC_PLACEHOLDERS | set(flowset.program.fields) | (
            {"callback_eta"} if step.action == "callback" or bad_action else set())
        where, path = (f"{flow.name} reply", ("reply",)) if legacy else \
            (f"{flow.name} step {step.name}", ("steps", step.name, "text"))
        for language, template in step.text.items():
            text = unprompted(template, language, flowset.languages) if step.name in delayed else template
            _check_text(flowset, doc, where, text, language, step.name == flow.start, allowed, path)
        _check_template(doc, where, step.template, allowed, ("steps", step.name, "template") if not legacy else ())
    for i, followup in enumerate(flow.followups):
        where, path = f"{flow.name} follow-up {i + 1}", ("followups", i, "text")
        for language, template in followup.text.items():
            words = flowset.languages.text(language, "how_to_stop")
            if not any(w in template.upper() for w in words):
                doc.problem(where, f"must say how to stop ({' or '.join(words)})", path)
            _check_text(flowset, doc, where, template, language, False, BASIC_PLACEHOLDERS, path)
        _check_template(doc, where, followup.template, BASIC_PLACEHOLDERS, ("followups", i, "template"))


def _check_template(doc: Document, where: str, template, allowed: set[str], path) -> None:
    """A template's variables use the placeholders its text may (a typo would go out as written)."""
    for name, value in (template.variables.items() if template else ()):
        unknown = unknown_placeholder(value, allowed)
        if unknown:
            doc.problem(where, f"template variable {name}: only {', '.join(sorted(allowed))} may be filled in "
                               f"(not {unknown})", path + ("variables",))


def check_journey(flowset: FlowSet, doc: Document, journey) -> None:
    """A journey's flows exist, and its texts are what any unprompted text must be (say how to stop, GSM-7,
    3 segments), with the program's placeholders and the contact's declared fields."""
    allowed = BASIC_PLACEHOLDERS | set(flowset.program.fields)
    for i, event in enumerate(journey.events):
        if event is None:  # refused already
            continue
        where, path = f"{journey.name} event {i + 1}", ("events", i)
        if event.flow is not None and event.flow not in flowset.flows:
            doc.problem(where, f"flow '{event.flow}' does not exist", path + ("flow",))
        _check_template(doc, where, event.template, allowed, path + ("template",))
        for language, template in (event.text or {}).items():
            words = flowset.languages.text(language, "how_to_stop")
            if not any(w in template.upper() for w in words):
                doc.problem(where, f"must say how to stop ({' or '.join(words)})", path + ("text",))
            _check_text(flowset, doc, where, template, language, False, allowed, path + ("text",))


def _unknown_languages(flowset: FlowSet, flow: Flow, doc: Document) -> None:
    """A text or word list in a language no file describes ("sp" for "es") would never be sent or matched."""
    parts = [(("keyword",), flow.keyword), (("aliases",), flow.aliases), (("summary",), flow.summary),
             *((("followups", i, "text"), f.text) for i, f in enumerate(flow.followups))]
    for step in flow.steps.values():
        parts.append((("steps", step.name, "text"), step.text))
        parts += [(("steps", step.name, "answers", i, "match"), a.match) for i, a in enumerate(step.answers)]
    for path, by_language in parts:
        for code in sorted(set(by_language) - set(flowset.languages.by_code)):
            doc.problem(flow.name, f"'{code}' is not a language (a language is a file in languages/: "
                                   f"{', '.join(flowset.languages.by_code)})", path)


def _missing_translations(flowset: FlowSet, flow: Flow, doc: Document) -> list[Problem]:
    """Texts without a version in one of the program's languages. Nothing is published or
    started with one (loader.shippable); a version live from before still loads and sends the default
    language's text instead, and the console lists them. A keyword may be one word for every language."""
    program, name = flowset.program, flowset.languages.name
    found = []
    texts = [(f"{flow.name} step {s.name}", ("steps", s.name, "text"), s.text) for s in flow.steps.values() if s.text]
    if "reply" in doc.data:
        texts = [(f"{flow.name} reply", ("reply",), flow.reply)]
    texts += [(f"{flow.name} follow-up {i + 1}", ("followups", i, "text"), f.text) for i, f in enumerate(flow.followups)]
    if flow.summary:
        texts.append((f"{flow.name} summary", ("summary",), flow.summary))
    for where, path, text in texts:
        for language in program.languages:
            if language != program.default_language and not text.get(language):
                what = "summary" if path == ("summary",) else "text"
                found.append(Problem(doc.file, doc.line(path), where,
                                     f"no {name(language)} {what} ({language}): "
                                     f"every language the program offers needs one", path))
    return found


def unprompted(template: str, language: str, known: Languages | None = None) -> str:
    """A step that goes out after a wait always says how to stop (in any language's words: texts.how_to_stop),
    else gets the language's texts.opt_out_reminder."""
    known = known or builtin()
    return template if any(w in template.upper() for w in known.how_to_stop) else f"{template} {known.text(language, 'opt_out_reminder')}"


def _check_text(flowset: FlowSet, doc: Document, where: str, template: str, language: str, first_contact: bool,
                allowed: set[str], path) -> None:
    try:
        fields = set(placeholders(template))
    except ValueError:
        doc.problem(where, "a { or } that is not a placeholder (placeholders look like {program})", path)
        return
    unknown = fields - allowed
    if unknown:
        doc.problem(where, f"unknown placeholder {{{sorted(unknown)[0]}}}", path)
        return
    samples = {name: FIELD_SAMPLES[kind] for name, kind in flowset.program.fields.items()}
    text = flowset.render(template, callback_eta=flowset.languages.text(language, "callback_eta_sample"),
                          language=language, **PLACEHOLDER_SAMPLES, **samples)
    if first_contact:
        text += "\n\n" + flowset.message("disclosure", language)
    info = gsm.segment_info(flowset.languages.as_sent(text, language, flowset.program.plain_spanish))
    label = f" ({language})" if len(flowset.program.languages) > 1 else ""
    # accents kept (plain_spanish off: gsm.kept_when_not_plain) go out as UCS-2: counted so, not refused
    refused = [c for c in info.non_gsm if c not in flowset.languages.kept_accents(language)]
    if refused:
        doc.problem(where, f"non-GSM characters{label} {' '.join(repr(c) for c in refused)}", path)
    elif info.segments > MAX_SEGMENTS:
        doc.problem(where, f"{info.segments} segments{label} (at most {MAX_SEGMENTS}"
                           f"{', with the first-contact disclosure' if first_contact else ''})", path)
