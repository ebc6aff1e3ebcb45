"""The command line, on the Flask server: ``flask --app app:server COMMAND``."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import secrets
import sys

import click
from flask import Flask

import settings
from data_access.batches import RollbackError, list_batches, rollback_batch
from data_access.contract import KINDS
from data_access.demo_load import database_is_empty, load_demo
from data_access.ingest.load import ingest
from data_access.migrate import upgrade
from data_access.reads.cache import data_versions
from data_access.reads.filters import Filters
from data_access.reads.kpis import headline_kpis
from data_access.reads.snapshot import SNAPSHOT_READS
from data_access.store import default_cache, default_engine, snapshots
from data_access.users import ROLES, UserError, audit, audit_upload, create_user, has_users


def cli_user() -> str:
    return f"cli:{getpass.getuser()}"


def prepare_database(with_demo: bool) -> None:
    """Create or upgrade the schema; load the demo data into an empty database if asked.

    With no user yet, an ``admin`` is created with a random password printed this once.
    """
    upgrade(default_engine())
    if with_demo and database_is_empty(default_engine()):
        load_demo(default_engine(), pseudonym_key=settings.pseudonym_key())
    if not has_users(default_engine()):
        password = secrets.token_urlsafe(15)
        create_user(default_engine(), "admin", password, "admin")
        audit(default_engine(), cli_user(), "user_created", "admin (admin)", "ok", "first start")
        click.echo(f"First start: sign in as 'admin' with the password {password} (shown only this once).")


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


@click.command("init-db")
def init_db() -> None:
    """Create the database, or upgrade it in place to the current schema; bring the activity snapshot current,
    so that workers started next serve from it at once."""
    upgrade(default_engine())
    _bring_snapshot_current()
    click.echo(f"database ready: {default_engine().url.render_as_string(hide_password=True)}")


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@click.option("--entities", default="", help="Comma-separated entity codes the user is limited to (default: all).")
@click.option("--sso", is_flag=True, help="No password: the user signs in through single sign-on only.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
def create_user_command(username: str, role: str, entities: str, sso: bool, password_stdin: bool) -> None:
    """Add a user with a role (viewer, uploader, admin), optionally limited to some entities."""
    upgrade(default_engine())
    if sso:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    scope = tuple(code.strip() for code in entities.split(",") if code.strip()) or None
    try:
        create_user(default_engine(), username, password, role, scope)
    except UserError as error:
        audit(default_engine(), cli_user(), "user_created", username, "refused", str(error))
        raise click.ClickException(str(error)) from None
    audit(default_engine(), cli_user(), "user_created", f"{username} ({role})", "ok", f"entities: {entities or 'all'}")
    click.echo(f"user {username} created: {role}" + (f", limited to {', '.join(scope)}" if scope else ""))


@click.command("load-demo")
def load_demo_command() -> None:
    """Load the bundled demo data (into an empty database only)."""
    upgrade(default_engine())
    if not database_is_empty(default_engine()):
        raise click.ClickException("the database already holds uploads; load the demo into an empty database")
    for result in load_demo(default_engine(), pseudonym_key=settings.pseudonym_key()):
        click.echo(f"{result.kind}: {result.rows_inserted} rows (batch {result.batch_id})")


@click.command("import-csv")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_csv(kind: str, path: str, as_json: bool) -> None:
    """Validate and load a CSV or .xlsx file of KIND; all or nothing."""
    upgrade(default_engine())
    result = ingest(
        default_engine(),
        kind,
        path,
        pseudonym_key=settings.pseudonym_key(),
        uploaded_by=cli_user(),
        max_errors=settings.get_int("MAX_REPORTED_ERRORS"),
    )
    audit_upload(default_engine(), cli_user(), result.kind, result.file_name, result.status, result.as_dict())
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        _print_report(result)
    if result.status == "rejected":
        sys.exit(1)
    if result.status == "loaded" and kind in SNAPSHOT_READS:
        _bring_snapshot_current()


def _bring_snapshot_current() -> None:
    """After a load or rollback: the activity snapshot of the new data version, so pages read it at once."""
    engine = default_engine()
    if snapshots(engine).build(data_versions(engine).of(SNAPSHOT_READS)) is None:
        click.echo("the activity snapshot could not be brought current (see the log); pages use SQL", err=True)


def _print_report(result) -> None:  # type: ignore[no-untyped-def]
    if result.status == "loaded":
        click.echo(
            f"loaded {result.file_name} as batch {result.batch_id}: {result.rows_read} rows read, "
            f"{result.rows_inserted} inserted, {result.rows_replaced} replaced"
        )
    elif result.status == "duplicate":
        click.echo(f"{result.file_name} is already loaded (batch {result.batch_id}); nothing written")
    else:
        click.echo(f"rejected {result.file_name}: {result.error_count} error(s); nothing written", err=True)
        for error in result.errors:
            where = f"row {error.row}" if error.row is not None else "file"
            column = f", column {error.column}" if error.column else ""
            value = f" {error.value!r}" if error.value else ""
            click.echo(f"  {where}{column}:{value} {error.reason}", err=True)
        if result.error_count > len(result.errors):
            click.echo(f"  ... and {result.error_count - len(result.errors)} more", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.command("batches")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def batches_command(as_json: bool) -> None:
    """List every upload attempt, newest first."""
    upgrade(default_engine())
    frame = list_batches(default_engine())
    if as_json:
        click.echo(frame.to_json(orient="records", date_format="iso", indent=2))
        return
    columns = ["id", "kind", "status", "file_name", "rows_read", "rows_inserted", "rows_replaced", "error_count",
               "uploaded_by", "uploaded_at"]  # fmt: skip
    click.echo(frame[columns].to_string(index=False) if len(frame) else "no uploads yet")


@click.command("rollback")
@click.argument("batch_id", type=int)
def rollback_command(batch_id: int) -> None:
    """Roll back a loaded batch, restoring exactly the state before it."""
    upgrade(default_engine())
    try:
        result = rollback_batch(default_engine(), batch_id, rolled_back_by=cli_user())
    except RollbackError as exc:
        audit(default_engine(), cli_user(), "rollback", f"batch {batch_id}", "refused", str(exc))
        raise click.ClickException(str(exc)) from None
    audit(default_engine(), cli_user(), "rollback", f"batch {batch_id} ({result.kind})", "ok")
    click.echo(
        f"rolled back batch {result.batch_id} ({result.kind}): {result.rows_removed} rows removed, "
        f"{result.rows_restored} restored"
    )
    if result.kind in SNAPSHOT_READS:
        _bring_snapshot_current()


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def status_command(as_json: bool) -> None:
    """Whether the activity snapshot is current for the data version, its size and age, and the cache."""
    engine = default_engine()
    version = data_versions(engine).of(SNAPSHOT_READS)
    report = {
        "store": engine.url.render_as_string(hide_password=True),
        "snapshot": snapshots(engine).status(version),
        "cache": default_cache(settings.get("CACHE_URL")).describe(),
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    snapshot = report["snapshot"]
    click.echo(f"store: {report['store']}")
    click.echo(f"data version: {snapshot['data_version']}")
    if snapshot["current"]:
        size = snapshot["bytes"] / 2**20
        click.echo(f"activity snapshot: current, {size:.0f} MiB, built {snapshot['built_at']} ({snapshot['file']})")
    else:
        doing = "being built" if snapshot["building"] else "not built yet (the next page visit starts it)"
        click.echo(f"activity snapshot: {doing}; pages answer activity figures from the store meanwhile")
    click.echo(f"snapshot folder: {snapshot['folder']} ({snapshot['files']} file(s))")
    cache = report["cache"]
    if cache["kind"] != "redis":
        click.echo("cache: each process's own memory (CACHE_URL is not set)")
    elif cache["reachable"]:
        click.echo(f"cache: Redis, {cache['used_memory_bytes'] / 2**20:.1f} MiB used, {cache['keys']} keys")
    else:
        click.echo(f"cache: Redis NOT REACHABLE ({cache['error']}): pages compute every figure")


@click.command("kpis")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--entity", help="Entity code.")
@click.option("--duty-station", help="Duty station code.")
@click.option("--from", "date_from", callback=_date, help="Period start, YYYY-MM-DD.")
@click.option("--to", "date_to", callback=_date, help="Period end, YYYY-MM-DD.")
def kpis_command(
    as_json: bool, entity: str | None, duty_station: str | None, date_from: dt.date | None, date_to: dt.date | None
) -> None:
    """Headline figures with the data contract's definitions."""
    upgrade(default_engine())
    figures = headline_kpis(default_engine(), Filters(entity, duty_station, date_from, date_to))
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(f"headcount {figures['headcount']:,} (as of {figures['as_of_date']}) in "
               f"{figures['entities']} entities and {figures['duty_stations']} duty stations")  # fmt: skip
    for name, p in figures["platforms"].items():
        click.echo(f"{name}: {p['learners']:,} learners, {p['completers']:,} completers, "
                   f"{p['activities']:,} activities, {p['completions']:,} completions")  # fmt: skip
    for name, p in figures["programmes"].items():
        click.echo(f"{name}: {p['cohorts']} cohorts, {p['participants']:,} participants, "
                   f"{p['graduates']:,} graduates, completion {p['completion_rate']}")  # fmt: skip


@click.command("run-jobs")
@click.option("--once", is_flag=True, help="Stop when no upload step is waiting (default: run until stopped).")
@click.option("--poll", "poll_seconds", default=1.0, show_default=True, help="Seconds between looks for work.")
def run_jobs_command(once: bool, poll_seconds: float) -> None:
    """Run queued upload previews and commits (with UPLOAD_WORKERS=queue); any number may run."""
    from server.uploads import run_jobs  # the web side's job runner: paths, progress files, auditing

    ran = run_jobs(once=once, poll_seconds=poll_seconds)
    click.echo(f"ran {ran} upload step(s)")


COMMANDS = (
    init_db,
    load_demo_command,
    create_user_command,
    import_csv,
    batches_command,
    rollback_command,
    status_command,
    kpis_command,
    run_jobs_command,
)


def register_commands(server: Flask) -> None:
    for command in COMMANDS:
        server.cli.add_command(command)
