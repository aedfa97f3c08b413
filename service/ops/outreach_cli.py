"""`flask contacts import FILE.csv [--commit]` and `flask api-token create --name NAME`: the terminal's
way to load contacts (the same preview and rules as the console) and to make a token for the center's
systems (shown once, stored hashed)."""
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from service import contact_import
from service.ops.cli import moved_first
from service.runtime import services
from service.store import accounts, apitokens


@click.group()
@click.pass_context
def contacts(ctx):
    """Contacts the center knows."""
    moved_first(ctx)


@contacts.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commit", is_flag=True, help="write the good rows (without it: a preview, nothing written)")
@with_appcontext
def import_contacts(path: Path, commit: bool):
    """Check FILE.csv (columns number, language, groups, consent_source, consent_at and the declared
    fields) and print what importing it would do; with --commit, do it."""
    svc = services()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException("the file is not UTF-8 text (save it from the spreadsheet as CSV UTF-8)")
    report = contact_import.run(svc, text, commit)
    for line in report.lines(committed=commit):
        click.echo(line)
    if commit:
        accounts.audit(svc.redis, "cli", "import_contacts", f"{report.created} created, {report.updated} updated",
                       now=svc.now())
    elif report.valid:
        click.echo("Nothing written: run again with --commit to import the good rows.", err=True)
    if report.bad and not report.valid:
        sys.exit(1)


@click.group("api-token")
@click.pass_context
def api_token(ctx):
    """Tokens for the center's systems (the API)."""
    moved_first(ctx)


@api_token.command("create")
@click.option("--name", required=True, help="what uses it, e.g. 'EHR scheduling'")
@with_appcontext
def create(name: str):
    """Print a new token once (only its digest is kept: copy it now)."""
    svc = services()
    token, record = apitokens.create(svc.redis, name, "cli", svc.now())
    accounts.audit(svc.redis, "cli", "create_api_token", f"{record.id} {record.name}", now=svc.now())
    click.echo(token)
