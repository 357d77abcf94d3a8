"""``flask hall expire-demands``: published demands whose deadline has passed leave the demand hall (run daily
from cron, beside ``expire-listings``)."""
from __future__ import annotations

import click

from hall.cli import _commit, hall_cli


@hall_cli.command("expire-demands")
def expire_demands() -> None:
    """Move published demands whose deadline has passed to expired (run daily from cron)."""
    from hall.services.docking.demand_review import expire_due_demands

    expired = expire_due_demands()
    _commit()
    click.echo(f"{len(expired)} demand(s) expired" + (f": {', '.join(map(str, expired))}" if expired else "."))
