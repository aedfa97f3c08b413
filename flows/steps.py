"""Walking a flow's steps: a keyword starts one, an answer moves along, a reply no answer matched gets a
short prompt naming the choices (once), and a step whose time has come is sent by the worker."""
from dataclasses import dataclass, field, replace
from datetime import datetime

from flows.checks import unprompted
from flows.decision import (Conversation, Decision, Event, Policy, ScheduledFollowUp, StepEvent, Texter)
from flows.hours import callback_eta
from flows.matching import Intent, match_answer, says_more, shown
from flows.model import DISCLOSURE_GAP, Flow, FlowSet, Step

MAX_CHAIN = 3
MAX_MISSES = 2


@dataclass
class Walk:
    """Entering a step and the ones chained after it without a wait."""
    texts: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    conversation: Conversation | None = None
    schedule: list = field(default_factory=list)
    callback: bool = False
    inbox: str = ""  # a step with `action: inbox`: the person goes before staff, and why ("flow/step")
    vars: dict = field(default_factory=dict)
    events: list = field(default_factory=list)
    templates: list = field(default_factory=list)  # each text's approved template, filled (None: none)


def active(flows: FlowSet, policy: Policy, conversation: Conversation | None, now: datetime) -> Conversation | None:
    """The waiting question (by the name its step has now: a step renamed since keeps its people), unless
    it expired or its flow or step no longer exists."""
    if conversation is None or now.timestamp() - conversation.since > policy.conversation_hours * 3600:
        return None
    flow = flows.flows.get(conversation.flow)
    step = flow.step(conversation.step) if flow else None
    if step is None or not step.asks:
        return None
    return conversation if step.name == conversation.step else replace(conversation, step=step.name)


def with_disclosure(flows: FlowSet, texter: Texter, text: str) -> str:
    """A person's first ordinary answer carries the program's disclosure (a crisis answer never does)."""
    owed = texter.first_contact or texter.owes_disclosure
    return text + DISCLOSURE_GAP + flows.message("disclosure", texter.language) if owed else text


def send_step(flows: FlowSet, policy: Policy, texter: Texter, flow_name: str, ref: int | str,
              now: datetime) -> Decision | None:
    """A step (or a timed follow-up) whose time has come, for the worker to send; None when its flow or
    step no longer exists. Consent, send hours and caps are the worker's to check."""
    flow = flows.flows.get(flow_name)
    if flow is None:
        return None
    if isinstance(ref, int):
        if ref >= len(flow.followups):
            return None
        followup = flow.followups[ref]
        text, template = flows.filled(followup, texter.language, lambda t: flows.render(t, language=texter.language))
        return Decision(Intent.FLOW, (text,), flow.name, sources=(f"{flow.name}/followup-{ref + 1}",),
                        templates=(template,))
    ref = flow.current(ref)
    if ref is None:
        return None
    waiting = active(flows, policy, texter.conversation, now)
    timed_out = waiting is not None and waiting.flow == flow.name and \
        flow.steps[waiting.step].timeout is not None and flow.steps[waiting.step].timeout.go == ref
    walk = walk_from(flows, policy, texter, flow, ref, now)
    texts = (unprompted(walk.texts[0], texter.language or flows.program.default_language, flows.languages), *walk.texts[1:]) \
        if walk.texts else ()
    events = ((StepEvent(Event.TIMEOUT, flow.name, waiting.step),) if timed_out else ()) + tuple(walk.events)
    conversation = walk.conversation or (replace(waiting, since=now.timestamp()) if timed_out else None)
    return Decision(Intent.FLOW, texts, flow.name, callback=walk.callback, schedule=tuple(walk.schedule),
                    sources=tuple(walk.sources), conversation=conversation,
                    conversation_changed=walk.conversation is not None or timed_out, vars=walk.vars, events=events,
                    inbox=walk.inbox, templates=tuple(walk.templates))


def walk_from(flows: FlowSet, policy: Policy, texter: Texter, flow: Flow, name: str, now: datetime) -> Walk:
    walk = Walk()
    for _ in range(MAX_CHAIN):
        step = flow.steps[name]
        if step.text:  # a silent step (action: inbox) sends nothing
            text, template = flows.filled(step, texter.language, _filler(flows, policy, texter, step, now))
            walk.texts.append(text)
            walk.sources.append(f"{flow.name}/{step.name}")
            walk.templates.append(template)
        walk.events.append(StepEvent(Event.REACHED, flow.name, step.name))
        walk.vars.update(step.set)
        walk.callback |= step.action == "callback"
        walk.inbox = f"{flow.name}/{step.name}" if step.action == "inbox" else walk.inbox
        if step.asks:
            walk.conversation = Conversation(flow.name, step.name, now.timestamp())
            if step.timeout:
                target = flow.steps.get(step.timeout.go)
                walk.schedule.append(ScheduledFollowUp(flow.name, step.timeout.go, step.timeout.after, timeout=True,
                                                       silent=target is not None and not target.text))
            break
        if step.next is None:
            break
        if step.next.after:
            walk.schedule.append(ScheduledFollowUp(flow.name, step.next.go, step.next.after))
            break
        name = step.next.go
    return walk


def _filler(flows: FlowSet, policy: Policy, texter: Texter, step: Step, now: datetime):
    """How a step's texts are filled for this person: its text, and its template's variables."""
    language = texter.language or flows.program.default_language
    eta = callback_eta(now, policy.business_hours, policy.callback_within_minutes, language, flows.languages) \
        if step.action == "callback" else ""
    values = {name: texter.fields.get(name, "") for name in flows.program.fields}
    return lambda template: flows.render(template, callback_eta=eta, language=texter.language, **values)


def start(flows: FlowSet, policy: Policy, texter: Texter, name: str, word: str, now: datetime) -> Decision:
    flow = flows.flows[name]
    walk = walk_from(flows, policy, texter, flow, flow.start, now)
    texts = [with_disclosure(flows, texter, walk.texts[0]), *walk.texts[1:]]
    followups = [ScheduledFollowUp(name, i, f.after) for i, f in enumerate(flow.followups)]
    return Decision(Intent.FLOW, tuple(texts), name, word, callback=walk.callback, cancel_followups=True,
                    schedule=tuple(followups + walk.schedule), sources=tuple(walk.sources),
                    conversation=walk.conversation, conversation_changed=True, vars=walk.vars,
                    events=tuple(walk.events))


def answer_of(flows: FlowSet, waiting: Conversation, body: str) -> int | None:
    return match_answer(body, _options(flows, waiting))


def answer_says_more(flows: FlowSet, waiting: Conversation, body: str) -> bool:
    """A reply that answers the question and says more ("son is slumped and wont answer"), at a question
    that listens for that (flows.model.Step.listen)."""
    return flows.flows[waiting.flow].steps[waiting.step].listen and says_more(body, _options(flows, waiting), flows.languages)


def _options(flows: FlowSet, waiting: Conversation) -> list[tuple[str, ...]]:
    step = flows.flows[waiting.flow].steps[waiting.step]
    return [tuple(w for words in a.match.values() for w in words) for a in step.answers]


def answered(flows: FlowSet, policy: Policy, texter: Texter, waiting: Conversation, answer: int,
             now: datetime) -> Decision:
    flow = flows.flows[waiting.flow]
    step = flow.steps[waiting.step]
    walk = walk_from(flows, policy, texter, flow, step.answers[answer].go, now)
    return Decision(Intent.FLOW, tuple(walk.texts), flow.name, callback=walk.callback, schedule=tuple(walk.schedule),
                    sources=tuple(walk.sources), conversation=walk.conversation, conversation_changed=True,
                    cancel_timeout=step.timeout is not None, vars=walk.vars, inbox=walk.inbox,
                    events=(StepEvent(Event.ANSWER, flow.name, step.name, answer), *walk.events))


def unmatched(flows: FlowSet, policy: Policy, texter: Texter, waiting: Conversation, now: datetime) -> Decision:
    """A reply the question did not expect: its `otherwise` step when it names another one, else a short
    prompt naming the choices (never the whole question again); the second in a row ends the
    conversation with the menu."""
    flow = flows.flows[waiting.flow]
    step = flow.steps[waiting.step]
    event = StepEvent(Event.OTHERWISE, flow.name, step.name)
    if waiting.misses + 1 >= MAX_MISSES:
        return Decision(Intent.UNKNOWN, (flows.message("menu", texter.language),), sources=("menu",),
                        conversation_changed=True, cancel_timeout=step.timeout is not None, events=(event,),
                        understood=False)
    if step.otherwise and step.otherwise != step.name:
        walk = walk_from(flows, policy, texter, flow, step.otherwise, now)
        conversation = replace(walk.conversation, misses=waiting.misses + 1) if walk.conversation else None
        return Decision(Intent.FLOW, tuple(walk.texts), flow.name, callback=walk.callback,
                        schedule=tuple(walk.schedule), sources=tuple(walk.sources), conversation=conversation,
                        conversation_changed=True, cancel_timeout=step.timeout is not None, vars=walk.vars,
                        events=(event, *walk.events), understood=False)
    prompt = flows.message("choices", texter.language, choices=choices(flows, step, texter.language))
    return Decision(Intent.FLOW, (prompt,), flow.name, sources=(f"{flow.name}/{step.name}:choices",),
                    conversation=replace(waiting, misses=waiting.misses + 1), conversation_changed=True,
                    events=(event,), understood=False)


def choices(flows: FlowSet, step: Step, language: str) -> str:
    """The first word of each answer in the person's language, as a prompt names them: "ME or OTHER"."""
    language = language or flows.program.default_language
    default = flows.program.default_language
    names = [shown((a.match.get(language) or a.match.get(default) or next(iter(a.match.values())))[0])
             for a in step.answers]
    return flows.join(names, language)
