"""Where a person is in a conversation (one short field on their contact record), what steps `set`
about them (each value encrypted, like every personal datum), and the results per flow version: how
many people reached each step, chose each answer, timed out or went `otherwise`. Counts only, never who
(people are counted with HyperLogLog sketches, which can't be read back as a list)."""
from redis import Redis

from flows.engine import Conversation, Event, StepEvent
from service.privacy import Vault
from service.store import keys

FIELD = "conv"
VAR_PREFIX = "var:"


def encode(conversation: Conversation) -> str:
    return f"{conversation.flow}|{conversation.step}|{int(conversation.since)}|{conversation.misses}"


def decode(value: bytes | str | None) -> Conversation | None:
    if not value:
        return None
    flow, step, since, misses = (value.decode() if isinstance(value, bytes) else value).split("|")
    return Conversation(flow, step, float(since), int(misses))


def save(pipe, vault: Vault, pk: str, conversation: Conversation | None, variables: dict[str, str]) -> None:
    ks = keys.of(pipe)
    if conversation is None:
        pipe.hdel(ks.contact(pk), FIELD)
    else:
        pipe.hset(ks.contact(pk), FIELD, encode(conversation))
    if variables:
        pipe.hset(ks.contact(pk), mapping={VAR_PREFIX + k: vault.encrypt(v) for k, v in variables.items()})


def variables(r: Redis, vault: Vault, pk: str) -> dict[str, str]:
    return {k.decode()[len(VAR_PREFIX):]: vault.decrypt(v) for k, v in r.hgetall(keys.of(r).contact(pk)).items()
            if k.startswith(VAR_PREFIX.encode())}


def count(pipe, version: int, pk: str, events: tuple[StepEvent, ...]) -> None:
    for event in events:
        pipe.hincrby(keys.of(pipe).flow_results(version, event.flow), _field(event), 1)
        if event.kind is Event.REACHED:
            pipe.pfadd(keys.of(pipe).flow_reach(version, event.flow, event.step), pk)


def _field(event: StepEvent) -> str:
    if event.kind is Event.ANSWER:
        return f"answer:{event.step}:{event.answer}"
    return f"{event.kind.value}:{event.step}"


def results(r: Redis, version: int, flow: str, steps: list[str]) -> dict:
    """{"reached:<step>": times, "people:<step>": people, "answer:<step>:<i>": n, ...} for one flow version."""
    pipe = r.pipeline(transaction=False)
    pipe.hgetall(keys.of(r).flow_results(version, flow))
    for step in steps:
        pipe.pfcount(keys.of(r).flow_reach(version, flow, step))
    counts, *people = pipe.execute()
    out = {k.decode(): int(v) for k, v in counts.items()}
    out.update({f"people:{step}": n for step, n in zip(steps, people)})
    return out
