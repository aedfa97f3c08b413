"""`flask ops ...` and `flask staff ...`: terminal tools for the people who keep the service healthy."""
from collections import Counter

import click
from flask.cli import with_appcontext

from service.ops.health import readiness
from service.ops.summary import summary
from service.runtime import services
from service.sms import spool
from service.sms.inbound import replay
from service.store import accounts
from service.store.accounts import Role


@click.group()
def ops():
    """Operations commands."""


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
        click.echo("nothing spooled")
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


@click.group()
def staff():
    """Staff accounts."""


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
