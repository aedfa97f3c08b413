"""Flow data: what staff configure, frozen so the engine can share it between requests."""
import re
from dataclasses import dataclass, field
from datetime import timedelta

# Placeholders are bare names in braces, nothing else: str.format's fields ("{program:>200000000}",
# "{program.__class__}") would let a flow text cost seconds and gigabytes, or reach into objects.
PLACEHOLDER = re.compile(r"\{([a-z_]{1,30})\}")


def placeholders(template: str) -> list[str]:
    """The names a text uses; ValueError when a brace is not part of a bare {name}."""
    if "{" in PLACEHOLDER.sub("", template) or "}" in PLACEHOLDER.sub("", template):
        raise ValueError("braces are only for placeholders like {program}")
    return PLACEHOLDER.findall(template)


def fill(template: str, values: dict[str, str]) -> str:
    """Each known {name} replaced by its value; anything else is left as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


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
        return fill(template, {"program": self.program.name, "phone": self.program.phone, **extra})

    def message(self, name: str, **extra: str) -> str:
        return self.render(self.program.messages[name], **extra)
