"""Flow data: what staff configure, frozen so the engine can share it between requests.

A flow is a keyword and steps: the first step's text answers the keyword; a step may ask a question
(its answers pick the next step), send another step at once or later (`next`), move on by itself when
no answer comes (`timeout`), remember something about the person (`set`) or queue a call back. Every
text is held per language ({"en": ..., "es": ...}); a flow written the old way (`reply` + `followups`)
is a flow with one step, "reply", and its timed follow-ups.
"""
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from flows.templates import Template
from languages import Languages, builtin

# Placeholders are bare names in braces, nothing else: str.format's fields ("{program:>200000000}",
# "{program.__class__}") would let a flow text cost seconds and gigabytes, or reach into objects.
PLACEHOLDER = re.compile(r"\{([a-z_]{1,30})\}")
UNWRITTEN = "[Write this text]"  # a new text's visible placeholder: a flow that still has one can't be published
LEGACY_STEP = "reply"  # the one step of a flow written as reply + followups

Text = dict  # language -> text
# What a text may name and still be the same for everyone who gets it (the program's, not a person's);
# "flagged" is the crisis answer's line about on-call staff: one of two texts, never personal.
SHARED_PLACEHOLDERS = frozenset({"program", "phone", "keywords", "menu", "flagged"})
DISCLOSURE_GAP = "\n\n"  # between an answer and the disclosure it carries (flows.steps.with_disclosure)


def placeholders(template: str) -> list[str]:
    """The names a text uses; ValueError when a brace is not part of a bare {name}."""
    if "{" in PLACEHOLDER.sub("", template) or "}" in PLACEHOLDER.sub("", template):
        raise ValueError("braces are only for placeholders like {program}")
    return PLACEHOLDER.findall(template)


def unknown_placeholder(template: str, allowed) -> str | None:
    """The first placeholder a text uses that is not allowed ("{" for a brace that is none), or None."""
    try:
        unknown = set(placeholders(template)) - set(allowed)
    except ValueError:
        return "{"
    return sorted(unknown)[0] if unknown else None


def fill(template: str, values: dict[str, str]) -> str:
    """Each known {name} replaced by its value; anything else is left as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class FollowUp:
    after: timedelta
    text: Text
    template: Template | None = None  # sent instead, where only an approved template may go (flows.templates)


@dataclass(frozen=True)
class Jump:
    """Go to a step, at once (after == 0) or later, through the follow-up machinery."""
    go: str
    after: timedelta = timedelta(0)


@dataclass(frozen=True)
class Answer:
    match: dict[str, tuple[str, ...]]  # language -> words or phrases, normalized (upper case, no accents)
    go: str


@dataclass(frozen=True)
class Step:
    name: str
    text: Text
    answers: tuple[Answer, ...] = ()
    otherwise: str | None = None  # where an unmatched reply goes (the same step: ask again)
    timeout: Jump | None = None
    next: Jump | None = None
    set: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # "callback" queues a staff phone call; "inbox" puts them before staff
    formerly: tuple[str, ...] = ()  # names it had: someone waiting at one of them is waiting here
    # a reply that answers it and says more is read by the crisis model too ("son is slumped and wont
    # answer"); false for a question answered with codes and a reason ("R cant make it": C/R)
    listen: bool = True
    template: Template | None = None  # sent instead, unprompted, where only an approved template may go

    @property
    def asks(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Flow:
    name: str
    version: int
    keyword: dict[str, str]  # language -> the keyword
    aliases: dict[str, tuple[str, ...]]
    start: str
    steps: dict[str, Step]
    followups: tuple[FollowUp, ...] = ()  # timed texts scheduled when the flow starts
    menu: int | None = 100  # order in the menu's {keywords}; None: not listed
    summary: Text = field(default_factory=dict)  # one line per language: what the keyword is for ({menu})

    @cached_property
    def renamed(self) -> dict[str, str]:
        """A name a step had -> its name now (a name in use by a step is that step's, never an alias)."""
        return {old: step.name for step in self.steps.values() for old in step.formerly if old not in self.steps}

    def current(self, name: str) -> str | None:
        """The name a step has now, for the name a person's conversation or a planned text holds (a step
        renamed since keeps its people); None when no step has or had it."""
        return name if name in self.steps else self.renamed.get(name)

    def step(self, name: str) -> Step | None:
        now = self.current(name)
        return self.steps[now] if now is not None else None

    @property
    def action(self) -> str | None:
        """The first step's action (a flow that queues a call back when it starts)."""
        return self.steps[self.start].action

    @property
    def reply(self) -> Text:
        return self.steps[self.start].text


@dataclass(frozen=True)
class Program:
    name: str
    phone: str
    version: int
    messages: dict[str, Text] = field(default_factory=dict)
    languages: tuple[str, ...] = ("en",)
    default_language: str = "en"
    plain_spanish: bool = True  # send Spanish without á í ó ú, so it stays GSM-7
    fields: dict = field(default_factory=dict)  # what a center may know of a contact: name -> flows.fields.FieldType
    numbers: tuple[str, ...] = ()  # the numbers it texts from and is texted at: "+1...", "whatsapp:+1..."


@dataclass(frozen=True)
class FlowSet:
    program: Program
    flows: dict[str, Flow]
    triggers: dict[str, str]  # normalized keyword or alias -> flow name
    trigger_language: dict[str, str] = field(default_factory=dict)  # keyword -> its language (if only one)
    warnings: tuple = ()  # what the loader let through but staff should see (missing translations)
    journeys: dict = field(default_factory=dict)  # name -> flows.journeys.Journey
    languages: Languages = field(default_factory=builtin)  # every language read (the program offers some)

    def text(self, text: Text, language: str = "") -> str:
        """The text in a language, else in the program's default language."""
        return text.get(language) or text[self.program.default_language]

    def filled(self, part, language: str, fill) -> tuple[str, dict | None]:
        """A step's, follow-up's or journey event's text in the person's language and, when it names one,
        its approved template as Twilio is sent it, both filled by `fill` (flows.templates)."""
        content = part.template.content(language, self.program.default_language, fill) if part.template else None
        return fill(self.text(part.text, language)), content

    def render(self, template: str, **extra: str) -> str:
        """A text as it is sent: placeholders filled, and Spanish without the accents GSM-7 lacks (unless
        the program says otherwise)."""
        language = extra.get("language") or self.program.default_language
        values = {"program": self.program.name, "phone": self.program.phone, "keywords": self.keywords(language)}
        if "{menu}" in template:
            values["menu"] = self.menu_text(language)
        text = fill(template, {**values, **extra})
        if "  " in text:  # an empty placeholder ("{flagged}" with no one on call) leaves no gap
            text = re.sub(r" {2,}", " ", text).strip()
        return self.languages.as_sent(text, language, self.program.plain_spanish)

    @cached_property
    def shared_texts(self) -> frozenset[str]:
        """Every text as sent that is the same for everyone who gets it: each program message and step
        text naming no person's field and no time, in each language, alone and with the disclosure. A
        transcript stores these by reference (service/store/texts.py), not as a copy per person."""
        templates = [*self.program.messages.values(), *(s.text for f in self.flows.values() for s in f.steps.values()),
                     *(u.text for f in self.flows.values() for u in f.followups)]
        found = set()
        for language in self.program.languages:
            flagged = {"", self.message("flagged", language)} if "flagged" in self.program.messages else {""}
            disclosure = self.message("disclosure", language) if "disclosure" in self.program.messages else ""
            for template in {self.text(t, language) for t in templates if t}:
                if not set(PLACEHOLDER.findall(template)) <= SHARED_PLACEHOLDERS:
                    continue
                for line in flagged:
                    text = self.render(template, language=language, flagged=line)
                    found.update((text, text + DISCLOSURE_GAP + disclosure) if disclosure else (text,))
        return frozenset(found)

    @property
    def callback_flow(self) -> str | None:
        """The flow a request to be phoned starts (the first, in menu order, whose first step queues a call)."""
        found = sorted((f.menu if f.menu is not None else 10_000, f.name) for f in self.flows.values()
                       if f.action == "callback")
        return found[0][1] if found else None

    def keyword_of(self, flow: str) -> str:
        """A flow's keyword in the program's default language."""
        keyword = self.flows[flow].keyword
        return keyword.get(self.program.default_language) or next(iter(keyword.values()), flow.upper())

    def message(self, name: str, language: str = "", **extra: str) -> str:
        return self.render(self.text(self.program.messages[name], language), language=language, **extra)

    def keywords(self, language: str = "") -> str:
        """The published keywords, in menu order, as a text names them: "SIGNS, TREATMENT or CALL"."""
        words = [self.text(f.keyword, language) for f in sorted(self.flows.values(), key=lambda f: (f.menu or 0, f.name))
                 if f.menu is not None and f.keyword]
        return self.join(words, language)

    def listed(self) -> list[Flow]:
        """The flows the menu lists, in menu order."""
        return [f for f in sorted(self.flows.values(), key=lambda f: (f.menu or 0, f.name))
                if f.menu is not None and f.keyword]

    def menu_text(self, language: str = "") -> str:
        """Every listed keyword with its flow's one-line summary: "SIGNS: the signs of heroin dependence.
        TREATMENT: how treatment works." (a keyword without a summary is refused by flows.checks)."""
        parts = []
        for f in self.listed():
            summary = self.text(f.summary, language).rstrip(".") if f.summary else ""
            parts.append(f"{self.text(f.keyword, language)}: {summary}." if summary else self.text(f.keyword, language))
        return " ".join(parts)

    def join(self, words: list[str], language: str = "") -> str:
        """"A, B or C" in the language's words (texts.or; texts.or_before: Spanish's "o" is "u" before an o sound)."""
        if len(words) < 2:
            return "".join(words)
        code = language or self.program.default_language
        joiner = next((j for start, j in self.languages.text(code, "or_before", {}).items()
                       if words[-1].upper().startswith(start)), self.languages.text(code, "or"))
        return ", ".join(words[:-1]) + joiner + words[-1]
