"""The public demand hall (技术需求): ``/demands`` (search, every facet of GET /api/v1/demands/hall as links in words,
sort, pages, help when nothing is found) and ``/demands/<id>`` (a published demand). Anonymous, cacheable for a
minute, canonical addresses; the same services and query schema as the API, so a bad parameter is a 400 page."""
from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from blueprints.web import web
from blueprints.web.demands_views import (
    SORTS,
    active_filters,
    cards,
    demand_budget,
    demand_filter,
    facets,
    hall_url,
    params_of,
    relaxations,
)
from blueprints.web.public import not_found
from blueprints.web.public_views import (
    absolute,
    canonical,
    lang,
    load_query,
    org_name,
    pages_of,
    province_name,
    render_page,
    taxonomy_index,
)
from blueprints.web.site import nav_item
from hall.i18n import money
from hall.services.core.errors import NotFound
from hall.services.docking import demand_hall
from hall.services.docking.demand_hall import DemandFilter
from schemas.demands import DemandHallQueryIn, present_demand

nav_item("web.demands", _l("Demands"), "everyone", position=15)

SITEMAP_DEMANDS = 5_000  # the newest public demands named in sitemap.xml


@web.get("/demands")
def demands() -> Response:
    """Search and browse the published, open demands: facets as links, filters in force with remove links, sort,
    pages; with no result, each filter to drop and how many demands that finds."""
    args = load_query(DemandHallQueryIn())
    result = demand_hall.search_demands(demand_filter(args), sort=args["sort"], page=args["page"],
                                        per_page=args["per_page"])
    pages = pages_of(result.total, args["per_page"])
    if args["page"] > pages:
        return not_found(_("There is no page %(page)s of these results.", page=args["page"]))
    names = taxonomy_index()
    params = params_of(args)
    filters = active_filters(args, names)
    sorts = [(key, str(words), hall_url(params, sort=key), args["sort"] == key or
              (key == "newest" and args["sort"] == "relevance" and not args.get("q")))
             for key, words in SORTS if key != "relevance" or args.get("q")]
    return render_page(
        "web/demands/hall.html", args=args, result=result, items=cards(result.rows, result.terms), pages=pages,
        facets=facets(result.facets, args, names), filters=filters, sorts=sorts,
        hidden={k: v for k, v in params.items() if k != "q"},
        indexable=result.total > 0 and not args.get("q") and len(params) <= 1 and args["sort"] == "relevance",
        clear_url=hall_url({"q": args["q"]} if args.get("q") else {}),
        relaxations=relaxations(args, names) if result.total == 0 and params else [],
        canonical=canonical("web.demands", args["page"], params))


@web.get("/demands/<int:demand_id>")
def demand(demand_id: int) -> Response:
    """A published, open demand in the page's language; anything else (a draft, a closed or expired demand, one of
    an institution that is not verified) is 404."""
    try:
        found = demand_hall.published_demand(demand_id)
    except NotFound:
        return not_found(_("This demand is not in the hall: it may have been closed or may not be published yet."))
    item = present_demand(found, lang())
    return render_page(
        "web/demands/demand.html", demand=found, item=item, org=found.institution, org_name=org_name(found.institution),
        names=taxonomy_index(), budget=demand_budget(found), province=province_name(found.region_code),
        bounty=money(found.bounty_amount, found.currency) if found.bounty_amount else None,
        canonical=canonical("web.demand", demand_id=found.id))


def sitemap_urls() -> list[tuple[str, Any]]:
    """The demand hall and its newest public demands, as (absolute address, last change) for sitemap.xml."""
    newest = demand_hall.search_demands(DemandFilter(), sort="newest", per_page=SITEMAP_DEMANDS, with_facets=False)
    urls: list[tuple[str, Any]] = [(absolute(url_for("web.demands")), None)]
    urls += [(absolute(url_for("web.demand", demand_id=d.id)), d.published_at) for d, _score in newest.rows]
    return urls
