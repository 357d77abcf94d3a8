"""``flask hall backfill-contract-records``: the technical-contract registration records of orders completed before
the feature existed (existing databases, demo data). New completions are recorded as they happen, and an
institution's list makes missing ones lazily; this command does them all at once (idempotent)."""
from __future__ import annotations

import click

from hall.cli import _commit, hall_cli
from hall.services.policy import contracts  # also subscribes the record to order completions


@hall_cli.command("backfill-contract-records")
@click.option("--batch", default=500, show_default=True, help="Orders recorded per transaction.")
def backfill_contract_records(batch: int) -> None:
    """Make the missing contract records of completed orders, a batch per transaction."""
    total = 0
    while True:
        done = contracts.backfill_records(limit=max(batch, 1))
        _commit()
        total += len(done)
        if len(done) < max(batch, 1):
            break
    click.echo(f"{total} contract record(s) made.")
