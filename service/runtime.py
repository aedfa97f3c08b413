"""What every process builds once and hands down: config, Redis, vault, clock, flows.

The web keeps it in `app.extensions`; a worker builds its own (workers/runtime.py). Nothing is built at
import time."""
from dataclasses import dataclass

from flask import abort, current_app, g, has_request_context
from redis import Redis
from redis.exceptions import RedisError
from redis.sentinel import Sentinel

from flows.engine import Policy
from flows.loader import load_directory, shippable
from flows.model import FlowSet
from flows.reading import Reader, default_reader
from languages import Languages, for_flows
from service import config as settings_config, programs
from service.clock import Clock
from service.config import Config, ConfigError
from service.privacy import Vault
from service.store import keys, legacy, settings
from service.store.flowdocs import FlowSource
from service.store.metrics import Buffer

EXTENSION = "sms_outreach"
ROUTED = "program_services"  # flask.g: the Services of the program a Twilio request belongs to


@dataclass(frozen=True)
class Services:
    config: Config
    redis: Redis
    vault: Vault
    source: FlowSource
    policy: Policy
    counters: Buffer  # this process's metric counts, flushed to Redis in the background
    clock: Clock
    reader: Reader  # crisis and language, read from what people write (the model loaded once)

    def now(self) -> float:
        return self.clock.now()

    @property
    def numbers(self) -> frozenset[str]:
        """The addresses texts to this program come to (program.yaml `numbers`): how a text is routed."""
        return frozenset(self.source.seed.program.numbers)

    def flows(self) -> FlowSet:
        """The published flows now: staff may publish a new version at any moment."""
        return self.source.current(self.redis)

    @property
    def languages(self) -> Languages:
        """Every language this deployment reads (shipped, and FLOWS_DIR/languages)."""
        return self.source.seed.languages

    def current_config(self, overrides: dict[str, str] | None = None) -> Config:
        """Config with the console's settings applied (read from Redis unless the caller has them)."""
        values = settings.overrides(self.redis) if overrides is None else overrides
        return settings_config.effective(self.config, values)

    def policy_for(self, config: Config) -> Policy:
        return self.policy if config is self.config else policy(config)


def build(config: Config, clock: Clock | None = None, serves_all: bool = False) -> Services:
    """Everything one program's processes share (the program this process serves: service/programs.py;
    `serves_all`: the web process, which routes every program's texts)."""
    config = programs.of_process(config, serves_all)
    seed = shippable(load_directory(config.flows_dir, for_flows(config.flows_dir)))
    config = programs.with_numbers(config, seed.program.numbers)
    return Services(config, connect(config), Vault.from_config(config), FlowSource(seed), policy(config), Buffer(),
                    clock or Clock(), default_reader())


def build_all(config: Config, own: Services, clock: Clock | None = None) -> dict[str, Services]:
    """Every program's Services, by name ({} for a deployment of one program), this process's own among
    them: the webhook routes each text to its program's."""
    return {name: own if name == own.config.program else build(programs.config_for(config, name), clock)
            for name in programs.names(config.flows_dir)}


_UNCHECKED: set[int] = set()  # id(Services) whose Redis did not answer refuse_unmoved at start: checked at use


def refuse_unmoved(every: list[Services], strict: bool = False) -> None:
    """A process that texts or acts on people does not start while a Redis still holds a release's data
    from before programs under its old names: it would see nobody, not even who said STOP (`flask ops
    migrate-keys` moves it). A Redis that does not answer now is checked when a request first uses it
    (services()); `strict` (a worker's first job): its error is raised, and the next job checks again."""
    for svc in every:
        try:
            unmoved = legacy.left(svc.redis)
        except RedisError:
            if strict:
                raise
            _UNCHECKED.add(id(svc))
            continue
        if unmoved:
            raise ConfigError(_unmoved(svc))


def _unmoved(svc: Services) -> str:
    return (f"the Redis of program {keys.program_of(svc.redis)} holds data of the release before programs under "
            "its old names: run `flask ops migrate-keys` (with that PROGRAM) first")


def _checked(svc: Services) -> Services:
    """A program whose Redis did not answer at start, checked now (once it answers): 503 while it holds
    data under the old names, or does not answer (Twilio uses the fallback URL)."""
    if id(svc) in _UNCHECKED:
        try:
            unmoved = legacy.left(svc.redis)
        except RedisError:
            abort(503, "storage unavailable")
        if unmoved:
            current_app.logger.error(_unmoved(svc))
            abort(503, "this program's data waits for `flask ops migrate-keys`")
        _UNCHECKED.discard(id(svc))
    return svc


def connect(config: Config) -> Redis:
    """Short timeouts: with Redis down the webhook must answer 503 fast so Twilio uses the fallback URL.

    With Sentinel the client asks the sentinels for the current primary and follows a failover.
    """
    timeouts = {"socket_timeout": 2, "socket_connect_timeout": 1}
    named = {"client_name": keys.client_name(config.program)}  # the program the keys carry (store/keys.py)
    if config.redis_sentinels:
        sentinel = Sentinel(list(config.redis_sentinels), sentinel_kwargs=timeouts, **timeouts)
        return sentinel.master_for(config.redis_sentinel_master, health_check_interval=30,
                                   password=config.redis_password.reveal() or None, **timeouts, **named)
    client = Redis.from_url(config.redis_url, health_check_interval=30, **timeouts, **named)
    if keys.program_of(client) != (config.program or keys.DEFAULT):  # the URL's own ?client_name= won
        raise ConfigError("REDIS_URL sets client_name: leave it out (the service names each program's connection "
                          "for the program, and its keys follow that name)")
    return client


def policy(config: Config) -> Policy:
    return Policy(config.business_hours, config.callback_within_minutes, config.replies_per_hour,
                  config.crisis_replies_per_hour, config.conversation_hours, on_call=bool(config.staff_alert_numbers))


def route_to(svc: Services, instead: bool = False, checked: bool = True) -> None:
    """This request belongs to that program (a Twilio request by its number, a console request by its
    session, an API request by its token; `instead`: a sign-in, whichever session came with it):
    services() answers its Services from here on. `checked`: as services() (the fallback URL answers
    without Redis; a session is opened before the request is dispatched, where no abort can answer)."""
    if instead:
        g.pop(ROUTED, None)
    g.setdefault(ROUTED, svc)
    if _UNCHECKED and checked:
        _checked(g.get(ROUTED))


def services(checked: bool = True) -> Services:
    """The running app's Services (inside a request or an app context): those of the program the request
    was routed to, else this process's program's. `checked`: a program whose Redis did not answer at
    start is checked for data under the old names first (_checked; the health and metrics endpoints
    report instead); before routing, in a process serving several programs, no program is checked."""
    routed = g.get(ROUTED)
    svc = routed or current_app.extensions[EXTENSION]
    if _UNCHECKED and checked and (routed is not None or not current_app.extensions.get(programs.TABLE)) \
            and has_request_context():
        _checked(svc)
    return svc
