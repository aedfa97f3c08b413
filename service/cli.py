"""`flask ops ...`: terminal tools for the people who keep the queues healthy."""
import json
import time

import click
from flask.cli import with_appcontext
from rq import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from service import accounts, callbacks, followups, queues
from service.accounts import Role
from service.context import services
from service.fallback import spool_path
from service.health import readiness
from service.inbound import InboundSms, handle



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
    for name in queues.ALL:
        q = Queue(name, connection=r)
        click.echo(f"queue {name:<10} queued={q.count} failed={FailedJobRegistry(queue=q).count} "
                   f"retrying={ScheduledJobRegistry(queue=q).count}")
    oldest = r.zrange(followups.DUE, 0, 0, withscores=True)
    click.echo(f"follow-ups pending={r.zcard(followups.DUE)}"
               + (f" next_due={int(oldest[0][1])}" if oldest else ""))
    waiting = r.zrange(callbacks.WAITING, 0, 0, withscores=True)
    click.echo(f"callbacks waiting={r.zcard(callbacks.WAITING)}"
               + (f" oldest_since={int(waiting[0][1])}" if waiting else ""))
    click.echo(f"crisis flags open={r.zcard(callbacks.CRISIS_OPEN)}")


@ops.command("replay-fallback")
@with_appcontext
def replay_fallback():
    """Feed messages the fallback URL spooled (while Redis was down) through the normal path."""
    svc = services()
    path = spool_path(svc)
    if path.exists():  # the fallback keeps appending to a fresh file meanwhile; nothing is skipped
        path.rename(path.with_suffix(f".replaying-{int(time.time())}"))
    taken = sorted(path.parent.glob(path.stem + ".replaying-*"))  # an interrupted replay's file too
    if not taken:
        click.echo("nothing spooled")
        return
    done = failed = 0
    for spooled in taken:
        for line in spooled.read_text().splitlines():
            try:
                item = json.loads(svc.vault.decrypt(line))
            except ValueError:
                failed += 1  # unreadable (wrong key, torn write): kept in the file, reported below
                continue
            handle(svc, InboundSms(item["sid"], item["from"], item["body"]))
            done += 1
        spooled.rename(spooled.with_name(spooled.name.replace(".replaying-", ".replayed-")))
    click.echo(f"replayed {done} message(s)" + (f"; {failed} unreadable line(s) left in the replayed files" if failed else ""))


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
    try:
        account = accounts.create(services().redis, email, password, Role(role))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    accounts.audit(services().redis, "cli", "create_staff", f"{account.email} as {account.role.value}")
    click.echo(f"created {account.email} ({account.role.value})")
