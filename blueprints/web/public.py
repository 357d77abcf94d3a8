"""The public pages of the hall: home, search, listing detail, institution profiles, the 公示 notices, the sitemap
and robots.txt. Anonymous, cacheable for a minute, with a title, a description and a canonical address each.

They call the services the JSON API calls (``hall.search_hall``, ``hall.published_listing``,
``hall.public_institution``, ``order_queries.public_notices``) and check query strings with the API's schemas, so a
page shows exactly what the API would and a bad parameter is a 400 page, never a 500."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape as xml_escape

from flask import Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from blueprints.web import web
from blueprints.web.public_views import (
    PARAM_WORDS,
    SORTS,
    BadQuery,
    absolute,
    active_filters,
    canonical,
    cards,
    facet_groups,
    hall_filter,
    lang,
    load_query,
    org_name,
    pages_of,
    price_text,
    province_name,
    relaxations,
    render_page,
    search_params,
    search_url,
    taxonomy_index,
)
from blueprints.web.site import nav_item
from hall.context import current_request_id
from hall.services.core.errors import NotFound
from hall.services.publishing import hall, hall_pages
from hall.services.publishing.hall import HallFilter
from hall.services.trading import order_queries
from schemas.hall import HallQueryIn, NoticeQueryIn, present_version

nav_item("web.search", _l("Hall"), "everyone", position=10)
nav_item("web.notices", _l("Public notices"), "everyone", position=20)

HOME_NEWEST = 6
HOME_PRODUCTS = 4
HOME_NOTICES = 5
PUBLIC_ENDPOINTS = ("web.home", "web.search", "web.listing", "web.institution", "web.notices", "web.sitemap",
                    "web.robots", "web.demands", "web.demand")
# Paths no crawler needs: the console, the API and the pages of signed-in people (more in ``private_paths``).
PRIVATE_PATHS = ("/admin", "/api/", "/workspace", "/account")


@web.errorhandler(BadQuery)
def bad_query(error: BadQuery) -> Response:
    """A query string the API's schema refuses: a 400 page naming each parameter, with a link without it."""
    def without(names: Any) -> str:
        kept = [(key, value) for key, value in request.args.items(multi=True) if key not in names]
        return request.path + (f"?{urlencode(kept)}" if kept else "")

    problems = [(name, str(PARAM_WORDS[name]) if name in PARAM_WORDS else None, without({name}))
                for name in error.errors]
    return render_page("web/public/bad_query.html", 400, problems=problems, clean_url=without(set(error.errors)))


def not_found(message: str) -> Response:
    """The site's 404 page (always HTML: these addresses are pages)."""
    return render_page("web/error.html", 404, status=404, title=_("Not found"), message=message,
                       request_id=current_request_id())


@web.get("/")
def home() -> Response:
    """The six directions with their counts, the newest listings and first-of-kind products, open notices."""
    newest = hall.search_hall(HallFilter(), sort="newest", per_page=HOME_NEWEST, with_facets=False)
    products = hall.search_hall(HallFilter(kind="first_of_kind"), sort="newest", per_page=HOME_PRODUCTS,
                                with_facets=False)
    notices, notice_total = order_queries.public_notices(1, HOME_NOTICES)
    counts = hall.direction_counts()
    directions = [(d, d.name_en if lang() == "en" else d.name_zh, counts.get(d.code, 0)) for d in hall.taxonomy()]
    return render_page("web/public/home.html", canonical=canonical("web.home"), directions=directions,
                       total=newest.total, newest=cards(newest.rows), products=cards(products.rows),
                       notices=notices, notice_total=notice_total)


@web.get("/hall")
def search() -> Response:
    """Search and browse: every facet of the API as links, active filters with remove links, sort, pages."""
    args = load_query(HallQueryIn())
    result = hall.search_hall(hall_filter(args), sort=args["sort"], page=args["page"], per_page=args["per_page"])
    pages = pages_of(result.total, args["per_page"])
    if args["page"] > pages:
        return not_found(_("There is no page %(page)s of these results.", page=args["page"]))
    names = taxonomy_index()
    params = search_params(args)
    filters = active_filters(args, names)
    sorts = [(key, str(words), search_url(params, sort=key), args["sort"] == key or
              (key == "newest" and args["sort"] == "relevance" and not args.get("q")))
             for key, words in SORTS if key != "relevance" or args.get("q")]
    indexable = result.total > 0 and not args.get("q") and len(params) <= 1 and args["sort"] == "relevance"
    return render_page(
        "web/public/search.html", args=args, result=result, items=cards(result.rows, result.terms), pages=pages,
        facets=facet_groups(result.facets, args, names), filters=filters, sorts=sorts, params=params,
        hidden={k: v for k, v in params.items() if k != "q"}, indexable=indexable,
        clear_url=search_url({"q": args["q"]} if args.get("q") else {}),
        relaxations=relaxations(args, names) if result.total == 0 and params else [],
        csv_url=url_for("hall.download_directory") + "?" + urlencode({**params, "format": "csv"}),
        xlsx_url=url_for("hall.download_directory") + "?" + urlencode({**params, "format": "xlsx"}),
        canonical=canonical("web.search", args["page"], params))


@web.get("/hall/listings/<int:listing_id>")
def listing(listing_id: int) -> Response:
    """A public listing: an achievement or a first-of-kind product in the page's language; 404 for anything the
    hall does not show (a draft, a suspended listing, one of an institution that is not verified …)."""
    try:
        found, version = hall.published_listing(listing_id)
    except NotFound:
        return not_found(_("This listing is not in the hall: it may have been withdrawn or may not be published "
                           "yet."))
    item = present_version(version, lang())
    names = taxonomy_index()
    return render_page(
        "web/public/listing.html", listing=found, version=version, item=item, org=found.institution,
        org_name=org_name(found.institution), names=names,
        price=price_text(version.price_mode, version.price_amount, version.currency),
        province=province_name(version.region_code), canonical=canonical("web.listing", listing_id=found.id))


@web.get("/institutions/<int:institution_id>")
def institution(institution_id: int) -> Response:
    """A verified institution's public profile and its published listings, page by page."""
    args = load_query(HallQueryIn())
    try:
        org = hall.public_institution(institution_id)
    except NotFound:
        return not_found(_("This institution has no public profile."))
    f = hall_filter(args)
    f.institution_id = org.id
    result = hall.search_hall(f, sort=args["sort"], page=args["page"], per_page=args["per_page"], with_facets=False)
    pages = pages_of(result.total, args["per_page"])
    if args["page"] > pages:
        return not_found(_("There is no page %(page)s of these results.", page=args["page"]))
    website = org.website if org.website and org.website.lower().startswith(("https://", "http://")) else None
    return render_page("web/public/institution.html", org=org, org_name=org_name(org), result=result,
                       province=province_name(org.region_code), website=website,
                       items=cards(result.rows, result.terms), page=args["page"], pages=pages,
                       search_url=search_url({"institution": str(org.id)}),
                       canonical=canonical("web.institution", args["page"], institution_id=org.id))


@web.get("/notices")
def notices() -> Response:
    """The 公示 list: negotiated prices of state-funded achievements under public notice now, page by page."""
    args = load_query(NoticeQueryIn())
    items, total = order_queries.public_notices(args["page"], args["per_page"])
    pages = pages_of(total, args["per_page"])
    if args["page"] > pages:
        return not_found(_("There is no page %(page)s of these results.", page=args["page"]))
    return render_page("web/public/notices.html", items=items, total=total, page=args["page"], pages=pages,
                       canonical=canonical("web.notices", args["page"]))


@web.get("/sitemap.xml")
def sitemap() -> Response:
    """The home page, the search page, every public listing and every public institution, as absolute URLs."""
    entries = hall_pages.sitemap_entries(hall_pages.SITEMAP_MAX_URLS - 3)  # the three pages above
    urls: list[tuple[str, Any]] = [(absolute(url_for("web.home")), None), (absolute(url_for("web.search")), None),
                                   (absolute(url_for("web.notices")), None)]
    urls += [(absolute(url_for("web.listing", listing_id=i)), when) for i, when in entries.listings]
    urls += [(absolute(url_for("web.institution", institution_id=i)), when) for i, when in entries.institutions]
    if "web.demands" in current_app.view_functions:  # the demand hall and its demands (blueprints/web/demands_public)
        from blueprints.web.demands_public import sitemap_urls
        urls += sitemap_urls()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, modified in urls:
        lastmod = f"<lastmod>{modified.date().isoformat()}</lastmod>" if modified else ""
        lines.append(f"  <url><loc>{xml_escape(loc)}</loc>{lastmod}</url>")
    lines += ["</urlset>", ""]
    response = Response("\n".join(lines), mimetype="application/xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@web.get("/robots.txt")
def robots() -> Response:
    """Crawlers may read the public pages, not the console, the API or the pages of signed-in people."""
    lines = ["User-agent: *", "Allow: /"] + [f"Disallow: {path}" for path in private_paths()]
    lines += ["", f"Sitemap: {absolute(url_for('web.sitemap'))}", ""]
    response = Response("\n".join(lines), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def private_paths() -> list[str]:
    """``PRIVATE_PATHS`` and the fixed start of every other page of the site (sign-in, registration, the
    workspace …), unless it starts a public page's address too."""
    rules = [rule for rule in current_app.url_map.iter_rules()
             if rule.endpoint.startswith("web.") and "GET" in (rule.methods or ())]
    public = [rule.rule.split("<", 1)[0] for rule in rules if rule.endpoint in PUBLIC_ENDPOINTS]
    paths = list(PRIVATE_PATHS)
    for rule in sorted(rules, key=lambda r: len(r.rule)):
        start = rule.rule.split("<", 1)[0]
        if rule.endpoint in PUBLIC_ENDPOINTS or start in ("", "/") or any(p.startswith(start) for p in public):
            continue
        if not any(start.startswith(path) for path in paths):
            paths.append(start)
    return sorted(paths)
