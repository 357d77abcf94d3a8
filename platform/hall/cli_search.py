"""``flask hall reindex-hall``: write every published listing's hall index entry again with the current search
rules (after an upgrade that changes the tokenizer, the synonym list or the index's columns).
``flask hall rebuild-facets``: count the kept facet counts again from the hall index (after a bulk load)."""
from __future__ import annotations

import click
from sqlalchemy import select

from hall.cli import _commit, hall_cli
from hall.extensions import db


@hall_cli.command("reindex-hall")
@click.option("--batch", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Listings per transaction.")
def reindex_hall(batch: int) -> None:
    """Re-tokenize every listing in the hall index, a batch per transaction (the hall stays searchable)."""
    from hall.models import HallIndexEntry, Listing
    from hall.search import index_listing, taxonomy_names

    names, done, after = taxonomy_names(), 0, 0
    while True:
        ids = list(db.session.scalars(select(HallIndexEntry.listing_id).where(HallIndexEntry.listing_id > after)
                                      .order_by(HallIndexEntry.listing_id).limit(batch)))
        if not ids:
            break
        for listing in db.session.scalars(select(Listing).where(Listing.id.in_(ids))):
            if listing.published_version is not None and listing.published_at is not None:
                index_listing(listing, names)
                done += 1
        _commit()
        after = ids[-1]
    click.echo(f"{done} listing(s) reindexed.")


@hall_cli.command("rebuild-facets")
def rebuild_facets() -> None:
    """Count the hall's kept facet counts again from the hall index, in one transaction."""
    from hall.search import rebuild_hall_facets

    rows = rebuild_hall_facets()
    _commit()
    click.echo(f"{rows} facet count(s) written.")
