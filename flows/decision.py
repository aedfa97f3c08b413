"""The engine's vocabulary: what it is told about a texter (Texter, Policy, Conversation) and what it
decides (Decision). Plain frozen values, shared by the engine, the store and the workers."""
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum

from flows.alerts import Alert
from flows.hours import WeeklyHours
from flows.matching import Intent


class Consent(str, Enum):
    SUBSCRIBED = "subscribed"
    OPTED_OUT = "opted_out"


class Silence(str, Enum):
    OPTED_OUT = "opted_out"
    FLOOD = "flood"
    HELD = "held"  # a staff member took the conversation over: they answer
    ECHO = "echo"  # an auto-responder sending our words (or its own) back: no ping-pong


class Event(str, Enum):
    """What flow results count (per flow version, per step): counts only, never who."""
    REACHED = "reached"
    ANSWER = "answer"
    TIMEOUT = "timeout"
    OTHERWISE = "otherwise"


@dataclass(frozen=True)
class Policy:
    """Center settings the engine needs; the service builds it from config."""
    business_hours: WeeklyHours
    callback_within_minutes: int = 30
    replies_per_hour: int = 10
    crisis_replies_per_hour: int = 3
    conversation_hours: int = 72
    on_call: bool = True  # staff alert numbers are set: a crisis answer may say our team was told


@dataclass(frozen=True)
class Conversation:
    """A question waiting for its answer."""
    flow: str
    step: str
    since: float  # when it was asked (epoch seconds)
    misses: int = 0  # unmatched replies in a row


@dataclass(frozen=True)
class Texter:
    """What the store knows about the sender when the message arrives."""
    consent: Consent = Consent.SUBSCRIBED
    first_contact: bool = True
    replies_last_hour: int = 0
    crisis_replies_last_hour: int = 0
    callback_open: bool = False  # already waiting for a call back: a second CALL keeps their place
    conversation: Conversation | None = None
    language: str = ""  # "": the program's default
    held: bool = False  # a staff member took the conversation over from the bot
    crisis_open: bool = False  # a crisis of theirs is open until staff resolve it: the bot talks differently
    crisis_kind: str = ""  # what their open crisis is about, as its latest text that said one ("overdose", "self_harm")
    owes_disclosure: bool = False  # their first answer was a crisis answer: the next ordinary one carries it
    recent: tuple[str, ...] = ()  # digests of the latest texts both ways (flows.echo)
    fields: dict = field(default_factory=dict)  # what texts may say of them: name -> the value as a text says it


@dataclass(frozen=True)
class ScheduledFollowUp:
    flow: str
    step: int | str  # int: one of the flow's timed follow-ups; str: a step sent later (next, timeout)
    after: timedelta
    timeout: bool = False  # a question's timeout: at most one per person, dropped when they answer
    silent: bool = False  # the step it goes to sends nothing (action: inbox): no send hours to wait for


@dataclass(frozen=True)
class StepEvent:
    kind: Event
    flow: str
    step: str
    answer: int | None = None


@dataclass(frozen=True)
class Decision:
    intent: Intent
    replies: tuple[str, ...] = ()
    flow: str | None = None
    keyword: str = ""
    consent: Consent = Consent.SUBSCRIBED
    consent_changed: bool = False
    callback: bool = False  # queue a new call back request
    inbox: str = ""  # put the person before staff in the inbox, with why ("flow/step" of an `action: inbox` step)
    crisis: bool = False  # a crisis text, or a text of a person whose crisis is open
    crisis_replied: bool = False
    opens_crisis: bool = False  # a new crisis: flagged for staff, and on-call told (once, not per text)
    crisis_why: str = ""  # what heard it: "words" (a crisis phrase) or "model" (the classifier)
    crisis_kind: str = ""  # what a crisis text is about, when its words say (flows.crisis_talk.kind)
    cancel_followups: bool = False
    schedule: tuple[ScheduledFollowUp, ...] = field(default_factory=tuple)
    silence: Silence | None = None
    alert: Alert | None = None  # text the on-call staff
    sources: tuple[str, ...] = ()  # where each reply came from: "flow/step", or a program message's name
    conversation: Conversation | None = None  # the state after this message...
    conversation_changed: bool = False  # ...to be written (else the stored one stays as it is)
    cancel_timeout: bool = False  # they left a question: its timeout is not to fire
    vars: dict = field(default_factory=dict)  # what steps `set` about the person
    events: tuple[StepEvent, ...] = ()
    language: str = ""  # the person's language from now on, when it changed ("": as it was)
    # an unprompted text's approved template, one per reply (None: it has none): flows.templates
    templates: tuple[dict | None, ...] = ()

    understood: bool = True  # False: nothing matched (no keyword, answer, request): staff should see it
    disclosure_owed: bool | None = None  # the disclosure still owed after this text (None: unchanged)
