"""A readable difference between two versions of the flows: per flow and per step, what changed, in
words and with the texts side by side; never raw YAML."""
from dataclasses import dataclass, field

from flows.model import Flow, FlowSet, Step


@dataclass
class Section:
    title: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (what, before, after)


def compare(old: FlowSet, new: FlowSet) -> list[Section]:
    sections = [_program(old, new)]
    for name in sorted(set(old.flows) | set(new.flows)):
        before, after = old.flows.get(name), new.flows.get(name)
        if before is None:
            sections.append(Section(f"Flow {name}", [("flow", "(none)", f"added, keyword {_keyword(after)}")]))
        elif after is None:
            sections.append(Section(f"Flow {name}", [("flow", f"keyword {_keyword(before)}", "(deleted)")]))
        else:
            sections.append(_flow(before, after))
    return [s for s in sections if s.changes]


def _program(old: FlowSet, new: FlowSet) -> Section:
    section = Section("Program texts")
    _pair(section, "name", old.program.name, new.program.name)
    _pair(section, "phone", old.program.phone, new.program.phone)
    for message in sorted(set(old.program.messages) | set(new.program.messages)):
        _texts(section, message, old.program.messages.get(message, {}), new.program.messages.get(message, {}))
    return section


def _flow(old: Flow, new: Flow) -> Section:
    section = Section(f"Flow {new.name}")
    _pair(section, "keyword", _keyword(old), _keyword(new))
    _pair(section, "aliases", _aliases(old), _aliases(new))
    _pair(section, "start step", old.start, new.start)
    _pair(section, "place in the menu", str(old.menu), str(new.menu))
    for name in list(dict.fromkeys([*old.steps, *new.steps])):
        before, after = old.steps.get(name), new.steps.get(name)
        if before is None or after is None:
            _pair(section, f"step {name}", "(none)" if before is None else _summary(before),
                  "(deleted)" if after is None else _summary(after))
            continue
        _step(section, before, after)
    for i in range(max(len(old.followups), len(new.followups))):
        a = old.followups[i] if i < len(old.followups) else None
        b = new.followups[i] if i < len(new.followups) else None
        _pair(section, f"follow-up {i + 1}", _followup(a), _followup(b))
    return section


def _step(section: Section, old: Step, new: Step) -> None:
    where = f"step {new.name}"
    _texts(section, f"{where}: text", old.text, new.text)
    _pair(section, f"{where}: answers", _answers(old), _answers(new))
    _pair(section, f"{where}: otherwise", old.otherwise or "-", new.otherwise or "-")
    for part in ("timeout", "next"):
        _pair(section, f"{where}: {part}", _jump(getattr(old, part)), _jump(getattr(new, part)))
    _pair(section, f"{where}: remembers", _set(old), _set(new))
    _pair(section, f"{where}: queues a call back", str(old.action == "callback"), str(new.action == "callback"))


def _texts(section: Section, what: str, old: dict, new: dict) -> None:
    for language in sorted(set(old) | set(new)):
        _pair(section, f"{what} ({language})", old.get(language, "(none)"), new.get(language, "(none)"))


def _pair(section: Section, what: str, before: str, after: str) -> None:
    if before != after:
        section.changes.append((what, before, after))


def _keyword(flow: Flow) -> str:
    return ", ".join(f"{v} ({k})" for k, v in sorted(flow.keyword.items()))


def _aliases(flow: Flow) -> str:
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(flow.aliases.items())) or "-"


def _answers(step: Step) -> str:
    return "; ".join(f"{'/'.join(w for words in a.match.values() for w in words)} -> {a.go}" for a in step.answers) or "-"


def _jump(jump) -> str:
    return f"{jump.go} after {jump.after}" if jump and jump.after else (f"{jump.go} at once" if jump else "-")


def _set(step: Step) -> str:
    return ", ".join(f"{k}={v}" for k, v in step.set.items()) or "-"


def _summary(step: Step) -> str:
    return next(iter(step.text.values()), "")


def _followup(followup) -> str:
    return f"after {followup.after}: {next(iter(followup.text.values()))}" if followup else "(none)"
