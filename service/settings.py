"""Center settings staff may change in the console, kept in Redis over the environment's defaults."""
import json
from functools import lru_cache

from redis import Redis

from service.config import Config

KEY = "sms:settings"
EDITABLE = {
    "BUSINESS_HOURS": "Business hours for call backs (e.g. Mon-Fri 09:00-17:00; Sat 10:00-14:00)",
    "SEND_HOURS": "Hours follow-ups may be delivered, in the recipient's time (e.g. Mon-Sun 09:00-20:00)",
    "CALLBACK_WITHIN_MINUTES": "Call back promise during business hours, in minutes",
    "REPLIES_PER_HOUR": "Replies per number per hour before going silent",
    "CRISIS_REPLIES_PER_HOUR": "Crisis replies per number per hour",
    "FOLLOWUPS_PER_WEEK": "Follow-ups per person per 7 days",
    "FOLLOWUP_HORIZON_DAYS": "Days after which an undelivered follow-up is dropped",
    "STAFF_ALERT_NUMBERS": "On-call numbers for CALL and crisis alerts, comma-separated",
}


def overrides(r: Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in r.hgetall(KEY).items()}


def validate(base: Config, values: dict[str, str]) -> dict[str, str]:
    """The same parsers as the environment (ConfigError names the bad field); empty means the default."""
    kept = {k: v.strip() for k, v in values.items() if k in EDITABLE and v.strip()}
    base.with_overrides(kept)
    return kept


def save(r: Redis, base: Config, values: dict[str, str]) -> dict[str, str]:
    kept = validate(base, values)
    pipe = r.pipeline()
    pipe.delete(KEY)
    if kept:
        pipe.hset(KEY, mapping=kept)
    pipe.execute()
    return kept


@lru_cache(maxsize=32)
def _apply(base: Config, frozen: str) -> Config:
    return base.with_overrides(json.loads(frozen))


def effective(base: Config, values: dict[str, str]) -> Config:
    """The Config in force: cached per distinct set of overrides, so the hot path only pays a lookup."""
    return _apply(base, json.dumps(values, sort_keys=True)) if values else base
