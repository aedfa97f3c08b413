"""Programs: the centers one deployment serves. A program is a folder of FLOWS_DIR (its program.yaml with
the numbers it texts from, its flows, journeys and languages). Its people, staff, tokens and queues are
apart from every other program's: under keys and queue names that carry it, in the deployment's Redis or
in one of its own (REDIS_URL_<NAME>, or a Sentinel primary), so programs spread over several primaries as
a deployment grows. A text belongs to the program of the number it was sent to. A FLOWS_DIR holding a
program.yaml itself is the one program of a deployment, as before programs existed."""
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from service import channels
from service.config import Config, ConfigError, check_programs, program_folders
from service.phone import InvalidNumber

TABLE = "sms_outreach_programs"  # app.extensions: every program's Services by name (the webhook routes to them)
ROUTES = "sms_outreach_routes"  # app.extensions: each program number -> its program's Services
CONSOLE = "sms_outreach_console"  # app.extensions: the programs a console started without PROGRAM offers at
# sign-in, by name ({} when it serves one program): each request goes to the program its session names


names = program_folders  # the programs' folders, or () for a FLOWS_DIR that is one program itself


def of_process(config: Config, serves_all: bool = False) -> Config:
    """The Config of the program this process serves (PROGRAM): its folder, its Redis, its spool. Only
    the web and console processes (`serves_all`: they route every text, and every staff member to the
    program they signed in to) may leave PROGRAM unset; they start as the first.
    A FLOWS_DIR that is one program: as it is."""
    found = names(config.flows_dir)
    if not found:
        return config
    if not config.program and not serves_all:
        raise ConfigError(f"FLOWS_DIR holds several programs ({', '.join(found)}): set PROGRAM to the one "
                          "this process serves (only the web and console processes serve them all)")
    if config.twilio_messaging_service_sid:
        raise ConfigError("with several programs each texts from its own numbers (program.yaml numbers): "
                          "unset TWILIO_MESSAGING_SERVICE_SID (a shared sender pool would mix the centers)")
    return config_for(config, config.program or found[0], found)


def config_for(config: Config, name: str, found: tuple[str, ...] | None = None) -> Config:
    found = names(config.flows_dir) if found is None else found
    check_programs(found, name, {setting: [n for n, _ in values] for setting, values in (
        ("CENTER_TIMEZONE", config.program_timezones), ("STAFF_ALERT_NUMBERS", config.program_alert_numbers),
        ("REDIS_URL", config.program_redis_urls), ("REDIS_SENTINEL_MASTER", config.program_sentinel_masters))})
    redis = _redis_of(config)
    kind, where = redis.get(name) or _shared(config)
    place = {"redis_sentinel_master": where, "redis_url": ""} if kind == "sentinel" else \
        {"redis_url": where, "redis_sentinels": ()}
    own = {"timezone": dict(config.program_timezones).get(name, config.timezone),  # a center's own, else the
           "staff_alert_numbers": dict(config.program_alert_numbers).get(name, config.staff_alert_numbers)}  # deployment's
    return replace(config, flows_dir=Path(config.flows_dir) / name, spool_dir=Path(config.spool_dir) / name,
                   program=name, **own, **place)


def _shared(config: Config) -> tuple[str, str]:
    """The deployment's Redis (REDIS_URL, or REDIS_SENTINEL_MASTER): programs without their own share it,
    each under its own keys (store/keys.py) and queues (service/queues.py)."""
    return ("sentinel", config.redis_sentinel_master) if config.redis_sentinels else ("url", config.redis_url)


def _redis_of(config: Config) -> dict[str, tuple[str, str]]:
    """The programs with a Redis of their own: a primary that Sentinel names (REDIS_SENTINEL_MASTER_<PROGRAM>,
    with REDIS_SENTINELS), else a URL (REDIS_URL_<PROGRAM>: a server, or a database of one)."""
    found = {name: ("url", url) for name, url in config.program_redis_urls}
    if config.redis_sentinels:
        found.update({name: ("sentinel", master) for name, master in config.program_sentinel_masters})
    return found


def rq_settings(environ: Mapping[str, str] | None = None) -> dict:
    """Settings for the rq CLI (`-c workers.rq_settings`): PROGRAM ("" for a FLOWS_DIR that is one
    program), whose queues the process serves, and that program's Redis, chosen as for the web (of_process):
    its own REDIS_URL_<PROGRAM> or Sentinel primary, else the deployment's."""
    config = of_process(Config.from_env(environ))
    if not config.redis_sentinels:
        return {"PROGRAM": config.program, "REDIS_URL": config.redis_url}
    return {"PROGRAM": config.program, "SENTINEL": {
        "INSTANCES": list(config.redis_sentinels), "MASTER_NAME": config.redis_sentinel_master,
        "SOCKET_TIMEOUT": 5, "DB": 0, "PASSWORD": config.redis_password.reveal() or None}}


def with_numbers(config: Config, numbers: tuple[str, ...]) -> Config:
    """One program of several texts from its own numbers only (program.yaml `numbers`: its first SMS number,
    its first WhatsApp address), never from the deployment's: a reply to another number would reach
    another center, or none. A deployment of one program: as configured."""
    if not config.program:
        return config
    sms = next((n for n in numbers if channels.of(n) is channels.SMS), "")
    if not sms:
        raise ConfigError(f"program {config.program!r} lists no SMS number (program.yaml numbers) to text from")
    whatsapp = next((channels.number(n) for n in numbers if channels.of(n) is channels.WHATSAPP), "")
    return replace(config, twilio_from_number=sms, twilio_whatsapp_number=whatsapp, program_numbers=tuple(numbers))


def routes(table: dict) -> dict:
    """Each program number -> its program's Services; a number of two programs is refused (a text to it
    could only be routed by guessing), and so is a name of two (staff choose their program by it, and
    `flask ops migrate-keys` tells whose data it moves by it)."""
    found, owner, named = {}, {}, {}
    for name, svc in table.items():
        shown = display_name(svc).strip().casefold()
        if shown in named:
            raise ConfigError(f"{named[shown]} and {name} are both named {display_name(svc)!r} (program.yaml "
                              "program: name): give each center its own")
        named[shown] = name
        for number in svc.numbers:
            if number in owner:
                raise ConfigError(f"{number} is a number of both {owner[number]} and {name} (program.yaml numbers)")
            found[number], owner[number] = svc, name
    return found


def route(by_number: dict, to: str, region: str):
    """The Services of the program whose number a text was sent to (Twilio's To), or None."""
    try:
        return by_number.get(channels.parse(to, region))
    except InvalidNumber:
        return None


def console_table(config: Config, table: dict) -> dict:
    """What a console offers at sign-in: every program when it was started without PROGRAM and FLOWS_DIR
    holds several, else nothing to choose (the one program it serves)."""
    return table if table and not config.program else {}


def display_name(svc) -> str:
    """A program as staff know it: its program.yaml name."""
    return svc.source.seed.program.name
