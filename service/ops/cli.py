"""`flask ops ...` and `flask staff ...`: terminal tools for the people who keep the service healthy."""
from collections import Counter

import click
import yaml
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext

from service import channels, migration, programs
from service.erase import erase_address
from service.phone import InvalidNumber
from service.ops.health import readiness
from service.ops.summary import summary
from service.runtime import services
from service.sms import spool
from service.sms.inbound import replay
from service.store import accounts, keys, legacy, rotation
from service.store.accounts import Role


UNGUARDED = {None, "migrate-keys", "status"}  # what runs while another layout's data is unmoved


def moved_first(ctx: click.Context) -> None:
    """A command that reads or writes people refuses while another layout's data is unmoved, as the
    processes do (runtime.refuse_unmoved): it would not see them, and what it wrote would clash."""
    if ctx.invoked_subcommand in UNGUARDED:
        return
    with ctx.ensure_object(ScriptInfo).load_app().app_context():
        if legacy.left(services().redis):
            raise click.ClickException("this Redis holds data under another layout's names: run `flask ops "
                                       "migrate-keys` first")


@click.group()
@click.pass_context
def ops(ctx):
    """Operations commands."""
    moved_first(ctx)


@ops.command("status")
@with_appcontext
def status():
    """Queues, workers, pending follow-ups, callbacks: the same summary the ops page shows."""
    r = services().redis
    for name, ok in readiness(r).items():
        click.echo(f"{name:<10} {'ok' if ok else 'NOT READY'}")
    s = summary(r)
    for row in s.queues:
        click.echo(f"queue {row.name:<10} queued={row.waiting} failed={row.failed} retrying={row.retrying}")
    click.echo(f"follow-ups pending={s.followups_pending}"
               + (f" next_due={int(s.followups_oldest_due)}" if s.followups_oldest_due is not None else ""))
    click.echo(f"callbacks waiting={s.callbacks_waiting}"
               + (f" oldest_since={int(s.callbacks_oldest)}" if s.callbacks_oldest is not None else ""))
    click.echo(f"crisis flags open={s.crisis_open}")


@ops.command("replay-fallback")
@with_appcontext
def replay_fallback():
    """Apply the messages the fallback URL spooled while Redis was down, as of when they were received:
    a message older than the person's latest news never re-subscribes them or starts follow-ups, and
    one from before an erasure never brings the person back."""
    svc = services()
    taken = spool.take(svc.config.spool_dir, int(svc.now()))
    if not taken:
        click.echo("nothing spooled" + (f" for program {svc.config.program} (each program has its own spool: "
                                        "run it with PROGRAM= for each)" if svc.config.program else ""))
        return
    outcomes: Counter = Counter()
    for spooled in taken:
        unreadable = []
        for line, msg in spool.read(spooled, svc.vault):
            if msg is None:
                unreadable.append(line)
                continue
            outcomes[replay(svc, msg).value] += 1
        kept = spool.finish(spooled, unreadable)
        if kept:
            click.echo(f"{len(unreadable)} unreadable line(s) kept in {kept}")
    click.echo("replayed " + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) if outcomes
               else "nothing to replay")


@ops.command("erase")
@click.argument("number")
@click.option("--everywhere", is_flag=True,
              help="Every program of this deployment, and the number's SMS and WhatsApp addresses alike.")
@with_appcontext
def erase(number, everywhere):
    """Erase a person who asked to be forgotten: every record in this program (PROGRAM), or --everywhere.
    Their texts at Twilio are deleted by a worker; an opt-out stays honoured. Audited; never echoes the number."""
    own = services()
    try:
        address = channels.parse(number, own.config.default_region, strict=True)
    except InvalidNumber as exc:
        raise click.BadParameter(f"{exc} (E.164 like +16175550123, or whatsapp:+16175550123)",
                                 param_hint="NUMBER") from None
    table = (current_app.extensions.get(programs.TABLE) or {}) if everywhere else {}
    targets = table or {own.config.program or "this program": own}
    bare = channels.number(address)
    addresses = [c.address(bare) for c in channels.CHANNELS] if everywhere else [address]
    unmoved = sorted(name for name, svc in targets.items() if legacy.left(svc.redis))
    if unmoved:  # its old names hold people this release does not see: an erasure there would miss them
        raise click.ClickException(f"nothing was erased: the Redis of {', '.join(unmoved)} still holds data under "
                                   "the old key names; run `flask ops migrate-keys` with that PROGRAM first")
    for name, svc in sorted(targets.items()):
        found = []
        for a in addresses:
            erased = erase_address(svc, a)
            for pk in erased:
                accounts.audit(svc.redis, "cli", "delete_person", pk, now=svc.now())
            found += [a] if erased else []
        click.echo(f"{name}: " + (f"erased {len(found)} ({', '.join(channels.of(a).label for a in found)})"
                                  if found else "nothing kept"))


@click.group()
@click.pass_context
def staff(ctx):
    """Staff accounts."""
    moved_first(ctx)


@staff.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.password_option(help="Prompted when not given; at least 12 characters.")
@with_appcontext
def create_staff(email, role, password):
    """Create (or reset) a staff account."""
    svc = services()
    try:
        account = accounts.create(svc.redis, email, password, Role(role), now=svc.now())
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    accounts.audit(svc.redis, "cli", "create_staff", f"{account.email} as {account.role.value}", now=svc.now())
    click.echo(f"created {account.email} ({account.role.value})")


@ops.command("migrate-keys")
@click.option("--force", is_flag=True, help="Move the data even though its published flows name another program.")
@with_appcontext
def migrate_keys(force):
    """Move what another layout kept (a release before programs: keys `sms:...`; a deployment of one program
    split into folders: `sms:{main}:...`) and its queued jobs under the program this process serves
    (PROGRAM). Run it once after the upgrade, before the processes start (they refuse to until it has: the
    new layout would not see who said STOP). Safe to run again; what both layouts wrote is merged, a single
    value both wrote is kept in its new form and the old one listed (store/legacy.py)."""
    svc = services()
    r = svc.redis
    theirs, ours = _program_named(legacy.published_documents(r)), programs.display_name(svc)
    if svc.config.program and (theirs or legacy.left(r)) and theirs != ours and not force:  # whose is it?
        raise click.ClickException(
            f"the old data's published flows are {theirs!r}'s, and PROGRAM={svc.config.program} is {ours!r}: run it "
            "with that program's PROGRAM (or --force if the center was renamed)" if theirs else
            f"nothing in the old data says whose it is (no flows were published from the console): if it is "
            f"{ours!r}'s (PROGRAM={svc.config.program}), run it again with --force")
    tally, jobs = migration.migrate(r, svc.now())
    click.echo(f"keys moved under program {keys.program_of(r)}: {tally.moved}; merged into keys this release had "
               f"written: {tally.merged}; key names inside values renamed: {tally.relinked}; jobs moved: {jobs}")
    if tally.dropped:
        click.echo("an unfinished key rotation was forgotten: run `flask ops rotate-keys` again")
    if tally.kept:
        click.echo(f"{len(tally.kept)} single values kept under their old names (this release wrote the same key "
                   "meanwhile, and its value was kept): compare them by hand:")
        for key in tally.kept[:50]:
            click.echo(f"  {key}")
    if legacy.left(r):
        click.echo("old keys are still being written: is a process of the previous release running?")


def _program_named(docs: dict[str, str]) -> str:
    """The program name in a set of flow files (program.yaml), or ""."""
    try:
        program = (yaml.safe_load(docs.get("program.yaml") or "") or {}).get("program") or {}
    except yaml.YAMLError:
        return ""
    return str(program.get("name") or "") if isinstance(program, dict) else ""


@ops.command("rotate-keys")
@click.option("--max-batches", type=int, default=0, help="Stop after this many batches (resume by running again).")
@with_appcontext
def rotate_keys(max_batches):
    """Re-encrypt everything with the newest DATA_ENCRYPTION_KEY and move every person to their id under
    the newest PHONE_HASH_KEY. Resumable (progress is kept in Redis) and safe to run twice. Once it
    reports nothing left, the older keys can be removed from the environment."""
    svc = services()
    r, tally, batches = svc.redis, rotation.Tally(), 0
    in_flight = {e.decode().split("|", 1)[1] for e in r.zrange(keys.of(r).JOBS_PENDING, 0, -1)}
    phases = [("people", lambda c: rotation.rekey_batch(r, svc.vault, c, in_flight, tally, svc.now()))] + [
        (pattern, lambda c, p=pattern: rotation.reencrypt_batch(r, svc.vault, p, c, tally))
        for pattern in rotation.encrypted(keys.of(r))]
    for phase, step in phases:
        cursor = rotation.saved_cursor(r, phase)
        while True:
            if max_batches and batches >= max_batches:
                click.echo(f"stopped after {batches} batch(es); run again to resume")
                return
            cursor, batches = step(cursor), batches + 1
            rotation.save_cursor(r, phase, cursor)
            if not cursor:
                break
    spooled = spool.rotate(svc.config.spool_dir, svc.vault, int(svc.now()))
    click.echo(f"people moved to the newest person key: {tally.moved}; values re-encrypted: {tally.reencrypted} "
               f"({tally.current} were already); spooled messages re-encrypted: {spooled}")
    if tally.busy or tally.changed or tally.conflicts:
        click.echo(f"left for another run: {tally.busy} people (a follow-up was being sent), {tally.changed} values "
                   f"(written meanwhile); conflicts: {tally.conflicts}. Run again.")
    elif not (tally.moved or tally.reencrypted or spooled):
        others = [n for n in programs.names(svc.config.flows_dir.parent) if n != svc.config.program] \
            if svc.config.program else []
        click.echo(("nothing left under older keys" + (f" in program {svc.config.program}: run it for "
                    f"{', '.join(others)} too (PROGRAM=...) before removing them from the environment"
                    if others else ": they can be removed from the environment"))
                   + (" (but see the note on erased people below)" if tally.remnants else ""))
    if tally.remnants:
        click.echo(f"{tally.remnants} erased people keep only an opt-out under an older person key: keep that "
                   "PHONE_HASH_KEY listed (after the newest) for as long as their opt-out must be honoured")
