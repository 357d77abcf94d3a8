"""``flask hall …`` for trading: expire-orders, complete-orders, announce-notices (run from cron), reconcile-stripe
(PAY-11)."""
from __future__ import annotations

import click
from flask import current_app

from hall.cli import _commit, _fail, hall_cli
from hall.payments import GatewayError
from hall.services.core.errors import ServiceError


@hall_cli.command("expire-orders")
def expire_orders() -> None:
    """Expire unpaid orders past their reservation and release their stock or exclusivity (PAY-14; run often)."""
    from hall.services.trading.closing import expire_due_orders

    expired = expire_due_orders()
    _commit()
    click.echo(f"{len(expired)} order(s) expired" + (f": {', '.join(map(str, expired))}" if expired else "."))


@hall_cli.command("complete-orders")
def complete_orders() -> None:
    """Complete delivered orders whose buyer neither confirmed nor disputed within ORDER_AUTO_COMPLETE_DAYS."""
    from hall.services.trading.closing import complete_due_orders

    completed = complete_due_orders()
    _commit()
    click.echo(f"{len(completed)} order(s) completed" + (f": {', '.join(map(str, completed))}" if completed
                                                         else "."))


@hall_cli.command("announce-notices")
def announce_notices() -> None:
    """Tell both sides of accepted orders whose public notice (公示) has ended that they can pay (run hourly)."""
    from hall.services.trading.closing import announce_ended_notices

    announced = announce_ended_notices()
    _commit()
    click.echo(f"{len(announced)} order(s) announced" + (f": {', '.join(map(str, announced))}" if announced
                                                         else "."))


@hall_cli.command("reconcile-stripe")
@click.option("--hours", type=click.IntRange(1, 24 * 90), default=None,
              help="How far back to read from Stripe (default RECONCILE_WINDOW_HOURS).")
def reconcile_stripe(hours: int | None) -> None:
    """Compare Stripe's recent PaymentIntents and refunds with our records; apply what we missed through the
    webhook's idempotent handlers and report what differs. Running it again applies nothing new."""
    from hall.services.trading.stripe_events import reconcile

    try:
        report = reconcile(hours or current_app.config["RECONCILE_WINDOW_HOURS"])
    except ServiceError as error:
        _fail(error)
        return
    except GatewayError as error:
        raise click.ClickException(str(error)) from error
    _commit()
    click.echo(f"checked {report.checked_intents} payment intent(s) and {report.checked_refunds} refund(s); "
               f"applied {len(report.applied)}; differences {len(report.differences)}")
    for line in report.applied:
        click.echo(f"applied: {line}")
    for line in report.differences:
        click.echo(f"differs: {line}")
