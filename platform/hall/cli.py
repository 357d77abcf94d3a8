"""``flask hall …``: create-admin, seed-demo, verify-audit, suspend-user, deliver-mail."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from hall.extensions import db
from hall.services.errors import ServiceError

hall_cli = AppGroup("hall", help="Platform administration commands.")


def _commit() -> None:
    """Commit the command's one transaction, then deliver any mail it queued."""
    db.session.commit()
    messages = db.session.info.pop("mail_queued", None)
    if messages:
        from hall.services.mailer import send_queued

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
    from hall.services import accounts

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
def verify_audit() -> None:
    """Check the audit trail's hash chain; name the first broken event and exit 1 if there is one."""
    from hall.services.audit import verify_chain

    verdict = verify_chain()
    if verdict.intact:
        click.echo(f"Audit chain intact: {verdict.events_checked} events checked.")
        return
    click.echo(f"Audit chain BROKEN at event {verdict.broken_event_id}: {verdict.problem} "
               f"({verdict.events_checked} events before it are intact).", err=True)
    sys.exit(1)


@hall_cli.command("suspend-user")
@click.argument("email")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
def suspend_user(email: str, reason: str) -> None:
    """Suspend a person: every session and token ends at once."""
    from hall.services import accounts

    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    try:
        accounts.suspend_user(None, user, reason)
    except ServiceError as error:
        _fail(error)
    _commit()
    click.echo(f"{user.email} is suspended; its sessions and tokens have ended.")


@hall_cli.command("deliver-mail")
def deliver_mail() -> None:
    """Deliver queued mail that has not been sent yet (retries after SMTP failures)."""
    from hall.services.mailer import deliver_pending

    click.echo(f"{deliver_pending()} message(s) delivered.")


@hall_cli.command("expire-listings")
def expire_listings() -> None:
    """Move published listings whose term or recognition has ended to expired (run daily from cron)."""
    from hall.services.listing_review import expire_due_listings

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
    from hall.services.directory import directory_csv, directory_xlsx
    from hall.services.hall import HallFilter

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
    else:
        db.session.execute(text("ANALYZE"))
    db.session.commit()
    click.echo("Planner statistics refreshed.")
