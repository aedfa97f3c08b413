"""All configuration, read once from the environment; production refuses to start without its secrets."""
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows import closures
from flows.hours import WeeklyHours, parse_weekly
from flows.schedule import SendRules
from service.phone import InvalidNumber, to_e164
from service.store.keys import DEFAULT as ONE_PROGRAM  # the name of a FLOWS_DIR that is one program

PRODUCTION_SECRETS = ("SECRET_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "DATA_ENCRYPTION_KEY",
                      "PHONE_HASH_KEY", "PUBLIC_BASE_URL")
# Outside tests a guessable session key forges an admin's cookie and an empty auth token accepts any
# "Twilio" signature: development needs real secrets too (make run generates them into var/dev.env).
DEVELOPMENT_SECRETS = ("SECRET_KEY", "TWILIO_AUTH_TOKEN", "DATA_ENCRYPTION_KEY", "PHONE_HASH_KEY")
MIN_SECRET_KEY = 16
DEFAULT_FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows" / "definitions"
TEST_SECRET_KEY = "test-only-secret-key"


class ConfigError(RuntimeError):
    """A setting is missing or unreadable; the message names it and never echoes a secret."""


class Secret:
    """A value that prints as stars, so it never lands in a traceback or a log."""

    def __init__(self, value: str):
        self._value = value

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Config:
    app_env: str
    redis_url: str = field(repr=False)  # may carry a password
    secret_key: Secret
    public_base_url: str
    twilio_account_sid: str
    twilio_auth_token: Secret
    data_encryption_key: Secret
    phone_hash_key: Secret
    metrics_token: Secret
    timezone: ZoneInfo
    business_hours: WeeklyHours
    send_hours: WeeklyHours  # SEND_HOURS: when unprompted texts may go out, in the recipient's time
    callback_within_minutes: int
    replies_per_hour: int
    crisis_replies_per_hour: int
    default_region: str
    flows_dir: Path
    spool_dir: Path
    twilio_api_base_url: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_from_number: str = ""
    twilio_whatsapp_number: str = ""  # our WhatsApp sender (E.164); the SMS number when not set
    staff_alert_numbers: tuple[str, ...] = ()
    send_rate_per_second: int = 1
    followups_per_week: int = 3
    followup_horizon_days: int = 14
    retention_days: int = 365
    conversation_hours: int = 72
    handoff_idle_hours: int = 24  # a conversation staff took over goes back to the bot after this long idle
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    proxy_hops: int = 0  # reverse proxies in front of the console whose X-Forwarded-For is trusted
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    program: str = ""  # the program this process serves, when FLOWS_DIR holds several (service/programs.py)
    program_redis_urls: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # REDIS_URL_<PROGRAM>
    program_numbers: tuple[str, ...] = ()  # with several programs: this program's own numbers (program.yaml)
    program_sentinel_masters: tuple[tuple[str, str], ...] = ()  # REDIS_SENTINEL_MASTER_<PROGRAM>
    program_timezones: tuple[tuple[str, ZoneInfo], ...] = ()  # CENTER_TIMEZONE_<PROGRAM>: a center's own zone
    program_alert_numbers: tuple[tuple[str, tuple[str, ...]], ...] = ()  # STAFF_ALERT_NUMBERS_<PROGRAM>
    redis_sentinel_master: str = ""
    redis_password: Secret = field(default_factory=lambda: Secret(""))
    closures: tuple[tuple[date, str], ...] = ()  # CLOSURES: days the center is closed (holidays)

    def __post_init__(self):
        """Business hours know the closures, so every promise made from them honours a holiday."""
        days = frozenset(day for day, _ in self.closures)
        if self.business_hours.closed != days:
            object.__setattr__(self, "business_hours", self.business_hours.with_closed(days))

    @property
    def testing(self) -> bool:
        return self.app_env == "test"

    @property
    def production(self) -> bool:
        return self.app_env == "production"

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token
                    and (self.twilio_messaging_service_sid or self.twilio_from_number))

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86400

    def send_rules(self) -> SendRules:
        return SendRules(self.send_hours, self.timezone, self.followups_per_week, self.followup_horizon_days)

    def with_overrides(self, overrides: Mapping[str, str]) -> "Config":
        """Settings staff changed in the console, parsed like the environment."""
        env, region = _Env(overrides), self.default_region
        parsers = {
            "BUSINESS_HOURS": ("business_hours", lambda n: env.hours(n, "")),
            "SEND_HOURS": ("send_hours", lambda n: env.hours(n, "")),
            "CALLBACK_WITHIN_MINUTES": ("callback_within_minutes", lambda n: env.integer(n, 1)),
            "REPLIES_PER_HOUR": ("replies_per_hour", lambda n: env.integer(n, 1)),
            "CRISIS_REPLIES_PER_HOUR": ("crisis_replies_per_hour", lambda n: env.integer(n, 1)),
            "FOLLOWUPS_PER_WEEK": ("followups_per_week", lambda n: env.integer(n, 1)),
            "FOLLOWUP_HORIZON_DAYS": ("followup_horizon_days", lambda n: env.integer(n, 1)),
            "CONVERSATION_HOURS": ("conversation_hours", lambda n: env.integer(n, 1, maximum=24 * 30)),
            "HANDOFF_IDLE_HOURS": ("handoff_idle_hours", lambda n: env.integer(n, 1, maximum=24 * 30)),
            "STAFF_ALERT_NUMBERS": ("staff_alert_numbers", lambda n: env.numbers(n, region)),
            "CLOSURES": ("closures", env.closures),
        }
        unknown = set(overrides) - set(parsers)
        if unknown:
            raise ConfigError(f"{sorted(unknown)[0]} cannot be changed in the console")
        return replace(self, **{parsers[n][0]: parsers[n][1](n) for n in overrides})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        env = _Env(os.environ if environ is None else environ)
        app_env = env.choice("APP_ENV", ("production", "development", "test"), "production")
        if app_env == "production":
            missing = [name for name in PRODUCTION_SECRETS if not env.get(name)]
            if not (env.get("TWILIO_MESSAGING_SERVICE_SID") or env.get("TWILIO_FROM_NUMBER")):
                missing.append("TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
            if missing:
                raise ConfigError(f"production needs {', '.join(missing)} set in the environment")
        if app_env == "development":
            missing = [name for name in DEVELOPMENT_SECRETS if not env.get(name)]
            if missing:
                raise ConfigError(f"development needs {', '.join(missing)} set (make run generates them)")
        if app_env != "test" and len(env.get("SECRET_KEY")) < MIN_SECRET_KEY:
            raise ConfigError(f"SECRET_KEY must have at least {MIN_SECRET_KEY} characters")
        if env.get("PROGRAM") and not program_folders(Path(env.get("FLOWS_DIR", str(DEFAULT_FLOWS_DIR)))):
            raise ConfigError(f"PROGRAM={env.get('PROGRAM')} names a program, but FLOWS_DIR is one program itself: "
                              "unset PROGRAM (its queues and keys would not be the ones the other processes use)")
        return cls(
            app_env=app_env,
            redis_url=env.get("REDIS_URL") if env.get("REDIS_SENTINELS") else env.required("REDIS_URL"),
            redis_sentinels=env.sentinels("REDIS_SENTINELS"),
            redis_sentinel_master=env.get("REDIS_SENTINEL_MASTER", "mymaster"),
            redis_password=Secret(env.get("REDIS_PASSWORD", "")),
            secret_key=Secret(env.get("SECRET_KEY", TEST_SECRET_KEY)),
            public_base_url=env.get("PUBLIC_BASE_URL", f"http://localhost:{env.get('PORT', '5000')}").rstrip("/"),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=Secret(env.get("TWILIO_AUTH_TOKEN", "")),
            data_encryption_key=Secret(env.get("DATA_ENCRYPTION_KEY", "")),
            phone_hash_key=Secret(env.get("PHONE_HASH_KEY", "")),
            metrics_token=Secret(env.get("METRICS_TOKEN", "")),
            timezone=env.zone("CENTER_TIMEZONE", "America/New_York"),
            business_hours=env.hours("BUSINESS_HOURS", "Mon-Fri 09:00-17:00"),
            send_hours=env.hours("SEND_HOURS", "Mon-Sun 09:00-20:00"),
            callback_within_minutes=env.integer("CALLBACK_WITHIN_MINUTES", 30),
            replies_per_hour=env.integer("REPLIES_PER_HOUR", 10),
            crisis_replies_per_hour=env.integer("CRISIS_REPLIES_PER_HOUR", 3),
            default_region=env.get("DEFAULT_REGION", "US"),
            flows_dir=Path(env.get("FLOWS_DIR", str(DEFAULT_FLOWS_DIR))),
            spool_dir=Path(env.get("SPOOL_DIR", str(Path(__file__).resolve().parent.parent / "var" / "spool"))),
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL", "").rstrip("/"),
            twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
            twilio_whatsapp_number=env.get("TWILIO_WHATSAPP_NUMBER", ""),
            staff_alert_numbers=env.numbers("STAFF_ALERT_NUMBERS", env.get("DEFAULT_REGION", "US")),
            send_rate_per_second=env.integer("SEND_RATE_PER_SECOND", 1),
            followups_per_week=env.integer("FOLLOWUPS_PER_WEEK", 3),
            followup_horizon_days=env.integer("FOLLOWUP_HORIZON_DAYS", 14),
            retention_days=env.integer("RETENTION_DAYS", 365, maximum=3650),
            conversation_hours=env.integer("CONVERSATION_HOURS", 72, maximum=24 * 30),
            handoff_idle_hours=env.integer("HANDOFF_IDLE_HOURS", 24, maximum=24 * 30),
            session_idle_minutes=env.integer("SESSION_IDLE_MINUTES", 30, maximum=24 * 60),
            session_max_hours=env.integer("SESSION_MAX_HOURS", 12, maximum=24 * 7),
            proxy_hops=env.integer("PROXY_HOPS", 0, minimum=0, maximum=5),
            closures=env.closures("CLOSURES"),
            program=env.get("PROGRAM", "").strip().lower(),
            program_redis_urls=env.per_program("REDIS_URL_", env.get),
            program_sentinel_masters=env.per_program("REDIS_SENTINEL_MASTER_", env.get),
            program_timezones=env.per_program("CENTER_TIMEZONE_", lambda name: env.zone(name, "")),
            program_alert_numbers=env.per_program("STAFF_ALERT_NUMBERS_",
                                                  lambda name: env.numbers(name, env.get("DEFAULT_REGION", "US"))),
        )


def validate_overrides(base: Config, values: Mapping[str, str]) -> dict[str, str]:
    """The console's settings, checked by the environment's parsers (ConfigError names the bad one);
    an empty value means the default."""
    kept = {k: v.strip() for k, v in values.items() if v.strip()}
    base.with_overrides(kept)
    return kept


@lru_cache(maxsize=32)
def _apply(base: Config, frozen: str) -> Config:
    return base.with_overrides(json.loads(frozen))


def effective(base: Config, values: dict[str, str]) -> Config:
    """The Config in force: cached per distinct set of overrides, so the hot path only pays a lookup."""
    return _apply(base, json.dumps(values, sort_keys=True)) if values else base


PROGRAM_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")  # a program's folder: its keys' hash tag, its queues' prefix


def check_programs(found: tuple[str, ...], program: str, named: Mapping[str, list[str]]) -> None:
    """The programs' folders fit to name their keys and queues, `program` one of them, and every
    <SETTING>_<PROGRAM> variable (`named`: setting -> the programs named) naming one of them: what the
    web, console and CLI (service/programs.py) and the rq CLI's settings (rq_settings) refuse alike."""
    strange = next((n for n in found if not PROGRAM_NAME.fullmatch(n) or n == ONE_PROGRAM), None)
    if strange is not None:
        raise ConfigError(f"program folder {strange!r} in FLOWS_DIR: name it with lower-case letters, digits and "
                          "'_' (it names the program's keys, queues and <NAME>_<PROGRAM> variables), and not "
                          f"{ONE_PROGRAM!r} (the name of a FLOWS_DIR that is one program)")
    if program and program not in found:
        raise ConfigError(f"PROGRAM {program!r} is not a program in FLOWS_DIR "
                          f"({', '.join(found) or 'one program itself: unset PROGRAM'})")
    for setting, names in named.items():
        strays = sorted(set(names) - set(found))
        if strays:  # a typo of REDIS_URL_<PROGRAM> would put that program on the deployment's Redis
            raise ConfigError(f"{setting}_{strays[0].upper()} names no program in FLOWS_DIR ({', '.join(found)})")


def program_folders(flows_dir: Path) -> tuple[str, ...]:
    """The programs' folders of a FLOWS_DIR holding several (service/programs.py), or () for one that is a
    program itself."""
    flows_dir = Path(flows_dir)
    if (flows_dir / "program.yaml").exists() or not flows_dir.is_dir():
        return ()
    return tuple(sorted(d.name for d in flows_dir.iterdir() if d.is_dir() and (d / "program.yaml").exists()))


class _Env:
    def __init__(self, environ: Mapping[str, str]):
        self._environ = environ

    def get(self, name: str, default: str = "") -> str:
        value = self._environ.get(name, "")
        return value.strip() if value and value.strip() else default

    def per_program(self, prefix: str, read) -> tuple:
        """(program, read(name)) for every set variable named prefix + a program ("REDIS_URL_HARBOR"), by
        program (lower case, as its folder)."""
        return tuple(sorted((name[len(prefix):].lower(), read(name)) for name, value in self._environ.items()
                            if name.startswith(prefix) and value.strip()))

    def required(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise ConfigError(f"{name} must be set (make run starts a local Redis and sets it for you)")
        return value

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.get(name, default)
        if value not in options:
            raise ConfigError(f"{name} must be one of {', '.join(options)}, not {value!r}")
        return value

    def integer(self, name: str, default: int, maximum: int = 100_000, minimum: int = 1) -> int:
        value = self.get(name, str(default))
        try:
            number = int(value) if value.isascii() else -1
        except ValueError:
            number = -1
        if not minimum <= number <= maximum:
            raise ConfigError(f"{name} must be a whole number from {minimum} to {maximum}, not {value!r}")
        return number

    def zone(self, name: str, default: str) -> ZoneInfo:
        value = self.get(name, default)
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{name}: unknown time zone {value!r}") from None

    def sentinels(self, name: str) -> tuple[tuple[str, int], ...]:
        found = []
        for item in filter(None, (i.strip() for i in self.get(name).split(","))):
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(f"{name} must be host:port pairs, comma-separated, not {item!r}")
            found.append((host, int(port)))
        return tuple(found)

    def numbers(self, name: str, region: str) -> tuple[str, ...]:
        try:
            return tuple(to_e164(n, region, strict=True) for n in self.get(name).split(",") if n.strip())
        except InvalidNumber:
            raise ConfigError(f"{name}: every entry must be a phone number, comma-separated") from None

    def closures(self, name: str) -> tuple[tuple[date, str], ...]:
        try:
            return tuple(closures.parse(self.get(name, "")).items())
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None

    def hours(self, name: str, default: str) -> WeeklyHours:
        try:
            return parse_weekly(self.get(name, default))
        except ValueError as exc:
            raise ConfigError(f"{name}: {exc}") from None
