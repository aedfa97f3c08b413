"""Flow data: what staff configure, frozen so the engine can share it between requests."""
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True)
class FollowUp:
    after: timedelta
    text: str


@dataclass(frozen=True)
class Flow:
    name: str
    version: int
    keyword: str
    aliases: tuple[str, ...]
    reply: str
    action: str | None = None  # "callback" queues a staff phone call
    followups: tuple[FollowUp, ...] = ()


@dataclass(frozen=True)
class Program:
    name: str
    phone: str
    version: int
    messages: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowSet:
    program: Program
    flows: dict[str, Flow]
    triggers: dict[str, str]  # keyword or alias -> flow name

    def render(self, template: str, **extra: str) -> str:
        return template.format(program=self.program.name, phone=self.program.phone, **extra)

    def message(self, name: str, **extra: str) -> str:
        return self.render(self.program.messages[name], **extra)
