"""Programs: the centers one deployment serves. A program is a folder of FLOWS_DIR (its program.yaml with
the numbers it texts from, its flows, journeys and languages) with a Redis of its own (REDIS_URL_<NAME>),
so everything about its people, staff, tokens and queues is apart from every other program's: a text
belongs to the program of the number it was sent to. A FLOWS_DIR holding a program.yaml itself is the one
program of a deployment, as before programs existed."""
from dataclasses import replace
from pathlib import Path

from service import channels
from service.config import Config, ConfigError
from service.phone import InvalidNumber

TABLE = "sms_outreach_programs"  # app.extensions: every program's Services by name (the webhook routes to them)


def names(flows_dir: Path) -> tuple[str, ...]:
    """The programs' folders, or () for a FLOWS_DIR that is one program itself."""
    flows_dir = Path(flows_dir)
    if (flows_dir / "program.yaml").exists() or not flows_dir.is_dir():
        return ()
    return tuple(sorted(d.name for d in flows_dir.iterdir() if d.is_dir() and (d / "program.yaml").exists()))


def of_process(config: Config) -> Config:
    """The Config of the program this process serves (PROGRAM, else the first): its folder, its Redis,
    its spool. A FLOWS_DIR that is one program: as it is."""
    found = names(config.flows_dir)
    if not found:
        return config
    return config_for(config, config.program or found[0], found)


def config_for(config: Config, name: str, found: tuple[str, ...] | None = None) -> Config:
    found = names(config.flows_dir) if found is None else found
    if name not in found:
        raise ConfigError(f"PROGRAM {name!r} is not a program in FLOWS_DIR ({', '.join(found)})")
    urls = dict(config.program_redis_urls)
    if name not in urls:
        raise ConfigError(f"program {name!r} needs its own Redis: set REDIS_URL_{name.upper()}")
    if len(set(urls[n] for n in found if n in urls)) < len([n for n in found if n in urls]):
        raise ConfigError("each program needs a Redis of its own (two REDIS_URL_<PROGRAM> are the same)")
    return replace(config, flows_dir=Path(config.flows_dir) / name, redis_url=urls[name], redis_sentinels=(),
                   spool_dir=Path(config.spool_dir) / name, program=name)


def with_numbers(config: Config, numbers: tuple[str, ...]) -> Config:
    """Texts go from the program's own numbers (program.yaml `numbers`), when it names them."""
    sms = next((n for n in numbers if channels.of(n) is channels.SMS), "")
    whatsapp = next((channels.number(n) for n in numbers if channels.of(n) is channels.WHATSAPP), "")
    if not (sms or whatsapp) or config.twilio_messaging_service_sid:
        return config
    return replace(config, twilio_from_number=sms or config.twilio_from_number,
                   twilio_whatsapp_number=whatsapp or config.twilio_whatsapp_number)


def route(table: dict, to: str, region: str):
    """The Services of the program whose number a text was sent to (Twilio's To), or None."""
    try:
        address = channels.parse(to, region)
    except InvalidNumber:
        return None
    return next((svc for svc in table.values() if address in svc.numbers), None)
