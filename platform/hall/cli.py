"""``flask hall …``: create-admin, seed-demo, verify-audit, audit-checkpoint, suspend-user, reinstate-user,
deliver-mail."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from hall.extensions import db
from hall.services.core.errors import ServiceError

hall_cli = AppGroup("hall", help="Platform administration commands.")


def _commit() -> None:
    """Commit the command's one transaction, then deliver any mail it queued."""
    db.session.commit()
    messages = db.session.info.pop("mail_queued", None)
    if messages:
        from hall.services.core.mailer import send_queued

        send_queued(messages)


def _fail(error: ServiceError) -> None:
    db.session.rollback()
    detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.errors.items())
    raise click.ClickException(error.message + (f" ({detail})" if detail else ""))


@hall_cli.command("create-admin")
@click.option("--email", required=True, help="The admin's e-mail address.")
@click.option("--display-name", default=None, help="Name shown in the console.")
@click.option("--password", default=None, help="Omit to be prompted (or to grant the flag to an existing account).")
def create_admin(email: str, display_name: str | None, password: str | None) -> None:
    """Create a platform admin, or grant the admin flag to an existing account (the only way to grant it)."""
    from hall.services.accounts import accounts

    if password is None and accounts.find_user_by_email(email) is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.grant_admin(email, display_name=display_name, password=password)
    except ServiceError as error:
        _fail(error)
        return
    _commit()
    click.echo(f"{user.email} is a platform admin.")


@hall_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when the database holds no institution or person.")
@click.option("--credentials", "credentials_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write the demo accounts (default: instance/demo-credentials.txt).")
def seed_demo_command(if_empty: bool, credentials_path: Path | None) -> None:
    """Add the demo institutions, people and admin (idempotent); print the accounts created with their passwords."""
    from hall.demo import database_is_empty, seed_demo

    if if_empty and not database_is_empty():
        click.echo("The database already holds data; demo data not added.")
        return
    created, listings_added = seed_demo()
    _commit()
    if not created and not listings_added:
        click.echo("Demo data already present; nothing added.")
        return
    if listings_added:
        click.echo(f"{listings_added} demo listing(s) published.")
    if not created:
        return
    path = credentials_path or Path(current_app.instance_path) / "demo-credentials.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Demo accounts created by `flask hall seed-demo` (e-mail, password, role)"]
    lines += [f"{account.email}\t{account.password}\t{account.role}" for account in created]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    click.echo(f"Demo accounts (also in {path}):")
    for account in created:
        click.echo(f"  {account.email:24} {account.password:18} {account.role}")


@hall_cli.command("verify-audit")
@click.option("--against", "against", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also hold the chain against the checkpoints exported to this file (JSON lines).")
def verify_audit(against: Path | None) -> None:
    """Check the audit trail's hash chain and hold it against every signed checkpoint (the database's, and those
    exported to --against); name the first broken event, or the truncation, and exit 1 if there is one."""
    from hall.db import read_only_transactions
    from hall.services.core.audit import CheckpointFileError, read_exported_claims, stored_claims, verify_chain

    with read_only_transactions():
        try:
            claims = stored_claims() + (read_exported_claims(against) if against is not None else [])
        except CheckpointFileError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from error
        verdict = verify_chain(claims=claims)
        db.session.rollback()
    for note in verdict.notes:
        click.echo(f"Note: {note}", err=True)
    if verdict.truncated:
        click.echo(f"Audit chain TRUNCATED or REWRITTEN at event {verdict.broken_event_id}: {verdict.problem} "
                   f"({verdict.events_checked} events checked).", err=True)
        sys.exit(1)
    if not verdict.intact:
        click.echo(f"Audit chain BROKEN at event {verdict.broken_event_id}: {verdict.problem} "
                   f"({verdict.events_checked} events before it are intact).", err=True)
        sys.exit(1)
    click.echo(f"Audit chain intact: {verdict.events_checked} events checked.")
    if verdict.latest_checkpoint is None:
        click.echo("No signed checkpoint to compare with: deleting the newest events would go unnoticed. "
                   "Run `flask hall audit-checkpoint` (from cron).", err=True)
    else:
        click.echo(f"It matches {verdict.checkpoints_matched} signed checkpoint(s); the latest is "
                   f"{verdict.latest_checkpoint.describe()}.")


@hall_cli.command("audit-checkpoint")
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also append the checkpoint as one JSON line to this file (keep it on another machine or "
                   "write-once storage).")
def audit_checkpoint(export_path: Path | None) -> None:
    """Verify the audit trail, then sign and store a checkpoint of every stream's head (count, last id, root over
    the heads); run from cron, e.g. every 5 minutes. Refuses (exit 1) when the trail is broken or truncated."""
    from hall.db import read_only_transactions
    from hall.services.core.audit import export_checkpoint, take_checkpoint, verify_for_checkpoint

    with read_only_transactions():  # the walk may be long: on SQLite it must not hold the write lock
        try:
            verdict = verify_for_checkpoint()
        except ServiceError as error:
            db.session.rollback()
            _fail(error)
            return
        db.session.rollback()
    if not verdict.intact:
        click.echo(f"Audit chain not intact at event {verdict.broken_event_id}: {verdict.problem}. "
                   "No checkpoint signed.", err=True)
        sys.exit(1)
    try:
        row = take_checkpoint(verdict)
    except ServiceError as error:
        _fail(error)
        return
    _commit()
    head = f"last event {row.last_event_id}, hash {row.last_event_hash[:16]}…" if row.last_event_id else "empty"
    click.echo(f"Checkpoint #{row.id}: {row.event_count} events in {row.stream_count} streams ({head}, "
               f"root {(row.root_hash or '')[:16]}…).")
    if export_path is not None:
        try:
            export_checkpoint(row, export_path)
        except OSError as error:
            raise click.ClickException(f"Checkpoint #{row.id} is stored but could not be exported: {error}") \
                from error
        click.echo(f"Exported to {export_path}.")


@hall_cli.command("suspend-user")
@click.argument("email")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
def suspend_user(email: str, reason: str) -> None:
    """Suspend a person: every session and token ends at once."""
    from hall.services.accounts import accounts

    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    try:
        accounts.suspend_user(None, user, reason)
    except ServiceError as error:
        _fail(error)
    _commit()
    click.echo(f"{user.email} is suspended; its sessions and tokens have ended.")


@hall_cli.command("reinstate-user")
@click.argument("email")
@click.option("--reason", default=None, help="Why (kept in the audit trail).")
def reinstate_user(email: str, reason: str | None) -> None:
    """Lift a person's suspension; they sign in again (their old sessions and tokens stay ended)."""
    from hall.services.accounts import accounts

    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    try:
        accounts.reinstate_user(None, user, reason)
    except ServiceError as error:
        _fail(error)
    _commit()
    click.echo(f"{user.email} is active again.")


@hall_cli.command("deliver-mail")
def deliver_mail() -> None:
    """Deliver queued mail that has not been sent yet (retries after SMTP failures)."""
    from hall.services.core.mailer import deliver_pending

    click.echo(f"{deliver_pending()} message(s) delivered.")


@hall_cli.command("expire-listings")
def expire_listings() -> None:
    """Move published listings whose term or recognition has ended to expired (run daily from cron)."""
    from hall.services.publishing.listing_review import expire_due_listings

    expired = expire_due_listings()
    _commit()
    click.echo(f"{len(expired)} listing(s) expired" + (f": {', '.join(map(str, expired))}" if expired else "."))


@hall_cli.command("export-directory")
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--q", default=None, help="Search words (Chinese or English).")
@click.option("--kind", type=click.Choice(["achievement", "first_of_kind"]), default=None)
@click.option("--direction", default=None, help="Direction code, e.g. energy.")
@click.option("--field", default=None, help="Field code, e.g. energy.hydrogen.")
@click.option("--region", default=None, help="Administrative division code; a province code covers its cities.")
@click.option("--limit", type=int, default=None, help="At most this many rows (default: EXPORT_MAX_ROWS).")
def export_directory(file_format: str, output: Path, q: str | None, kind: str | None, direction: str | None,
                     field: str | None, region: str | None, limit: int | None) -> None:
    """Write the directory of published listings matching the filter as CSV or XLSX."""
    from hall.services.publishing.directory import directory_csv, directory_xlsx
    from hall.services.publishing.hall import HallFilter

    hall_filter = HallFilter(q=q, kind=kind, direction=direction, field=field, region=region)
    cap = limit or int(current_app.config["EXPORT_MAX_ROWS"])
    body = directory_xlsx(hall_filter, cap) if file_format == "xlsx" else directory_csv(hall_filter, cap)
    output.write_bytes(body)
    click.echo(f"Directory written to {output} ({len(body)} bytes).")


@hall_cli.command("optimize-db")
def optimize_db() -> None:
    """Refresh the query planner's statistics (SQLite ANALYZE / PostgreSQL ANALYZE); run daily from cron."""
    from sqlalchemy import text

    bind = db.session.get_bind()
    if bind.dialect.name == "sqlite":
        db.session.execute(text("ANALYZE"))
        db.session.execute(text("INSERT INTO hall_fts(hall_fts) VALUES ('optimize')"))
        db.session.execute(text("INSERT INTO demand_fts(demand_fts) VALUES ('optimize')"))
    else:
        db.session.execute(text("ANALYZE"))
    db.session.commit()
    click.echo("Planner statistics refreshed.")
