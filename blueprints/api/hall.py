"""The public hall: search, listing detail, institution profiles, the taxonomy, the downloadable directory."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from marshmallow import fields, validate

from blueprints.actor import viewer
from blueprints.api.base import ApiBlueprint, file_download, paginated, spreadsheet_download
from blueprints.api.hall_caching import detail_etag, hall_read, search_etag
from blueprints.downloads import send_attachment
from hall.extensions import limiter
from hall.services.docking import data_room_files
from hall.services.policy import evaluations_reports
from hall.services.publishing import directory, hall
from hall.services.publishing.attachments import ALLOWED_TYPES
from hall.services.publishing.hall import HallFilter
from hall.services.trading import order_queries
from schemas.common import ErrorSchema, StrictSchema
from schemas.evaluations import present_public_report
from schemas.hall import (
    DirectionOut,
    DirectoryQueryIn,
    HallListingDetailOut,
    HallPageOut,
    HallQueryIn,
    NoticeOut,
    NoticeQueryIn,
    PublicInstitutionOut,
    present_version,
)

blp = ApiBlueprint("hall", __name__, url_prefix="/hall", description="The public hall: find published listings")

FILTER_KEYS = ("q", "kind", "direction", "field", "trl_min", "trl_max", "deal_mode", "price_mode", "price_min",
               "price_max", "currency", "region", "product_kind", "recognition_level", "state_funded")


class LangIn(StrictSchema):
    """The language to answer in."""

    lang = fields.String(validate=validate.OneOf(("zh", "en")))


def _lang(explicit: str | None) -> str:
    """?lang= wins, then Accept-Language, then Chinese."""
    if explicit:
        return explicit
    return "en" if request.accept_languages.best_match(["zh", "en"]) == "en" else "zh"


def _request_lang() -> str:
    """The answer's language from the request alone (before its arguments are parsed), for the search's ETag."""
    explicit = request.args.get("lang")
    return _lang(explicit if explicit in ("zh", "en") else None)


def _filter(args: dict[str, Any]) -> HallFilter:
    return HallFilter(institution_id=args.get("institution"), **{key: args.get(key) for key in FILTER_KEYS})


def _page(result: hall.HallPage, lang: str, page: int, per_page: int) -> dict[str, Any]:
    items = []
    for entry, version, score in result.rows:
        item = present_version(version, lang, result.terms)
        item.update(id=entry.listing_id, kind=entry.kind, institution_id=entry.institution_id,
                    published_at=entry.published_at, score=score)
        items.append(item)
    return {"items": items, "total": result.total, "matched_all": result.matched_all, "page": page,
            "per_page": per_page, "terms": result.terms, "facets": result.facets}


@blp.route("/listings", methods=["GET"])
@hall_read(etag_of=lambda: search_etag(_request_lang()))
@blp.arguments(HallQueryIn, location="query")
@blp.response(200, HallPageOut)
def search(args: dict[str, Any]) -> dict[str, Any]:
    """Search and filter published listings; sorted by relevance (with q), newest or price; facet counts for the
    current filter. Text comes in the caller's language (?lang= or Accept-Language), else the other one."""
    known = {"version": g.hall_version} if "hall_version" in g else {}  # read for the ETag (hall_read)
    result = hall.search_hall(_filter(args), sort=args["sort"], page=args["page"], per_page=args["per_page"],
                              with_facets=args["facets"], **known)
    return _page(result, _lang(args.get("lang")), args["page"], args["per_page"])


@blp.route("/listings/<int:listing_id>", methods=["GET"])
@hall_read(etag_of=lambda listing_id: detail_etag(listing_id, _request_lang()))
@blp.arguments(LangIn, location="query")
@blp.response(200, HallListingDetailOut)
def listing_detail(args: dict[str, Any], listing_id: int) -> dict[str, Any]:
    """A published listing; anything not published is 404."""
    listing, version = hall.published_listing(listing_id)
    data = present_version(version, _lang(args.get("lang")))
    org = listing.institution
    data.update(id=listing.id, kind=listing.kind, institution_id=listing.institution_id,
                published_at=listing.published_at, stock_available=listing.stock,
                institution={"id": org.id, "name_zh": org.name_zh, "name_en": org.name_en, "kind": org.kind})
    data["evaluation_reports"] = [present_public_report(report, _lang(args.get("lang")))
                                  for report in evaluations_reports.public_reports(listing)]
    return data


@blp.route("/listings/<int:listing_id>/attachments/<int:attachment_id>", methods=["GET"])
@file_download(blp, ALLOWED_TYPES)
@blp.alt_response(401, schema=ErrorSchema, description="a confidential file asked for without signing in")
@blp.alt_response(403, schema=ErrorSchema, description="a confidential file: your institution has no access under "
                                                       "the listing's current NDA (the message says how to get it)")
def public_attachment(listing_id: int, attachment_id: int) -> Any:
    """A file of a published listing, as a download. A confidential file opens only to the owner institution and
    to institutions whose request, under the listing's current NDA version, was approved; each such download is
    logged for the owner."""
    attachment, path = data_room_files.hall_download(viewer(), listing_id, attachment_id,
                                                     record=request.method != "HEAD")
    return send_attachment(attachment, path)


@blp.route("/institutions/<int:institution_id>", methods=["GET"])
@hall_read()
@blp.arguments(HallQueryIn, location="query")
@blp.response(200, PublicInstitutionOut)
def institution_profile(args: dict[str, Any], institution_id: int) -> dict[str, Any]:
    """A verified institution's public profile with its published listings (filterable like the search)."""
    org = hall.public_institution(institution_id)
    f = _filter(args)
    f.institution_id = org.id
    result = hall.search_hall(f, sort=args["sort"], page=args["page"], per_page=args["per_page"],
                              with_facets=args["facets"])
    return {"id": org.id, "kind": org.kind, "name_zh": org.name_zh, "name_en": org.name_en,
            "region_code": org.region_code, "website": org.website, "description": org.description,
            "listings": _page(result, _lang(args.get("lang")), args["page"], args["per_page"])}


@blp.route("/taxonomy", methods=["GET"])
@hall_read()
@blp.response(200, DirectionOut(many=True))
def taxonomy() -> Any:
    """The six future-industry directions and their fields, with the codes listings use."""
    return hall.taxonomy()


@blp.route("/notices", methods=["GET"])
@blp.arguments(NoticeQueryIn, location="query")
@blp.response(200, NoticeOut(many=True), headers={"X-Pagination": {
    "description": "total, total_pages, page, per_page (JSON)", "schema": {"type": "string"}}})
def public_notices(args: dict[str, Any]) -> Any:
    """Public notice (公示) of negotiated prices for state-funded achievements: the achievement, the seller, the
    proposed price and when the notice ends (Art. 18 of the Law on Promoting the Transformation of S&T
    Achievements). The deal can be paid only after its notice ends."""
    items, total = order_queries.public_notices(args["page"], args["per_page"])
    return paginated(items, total, args["page"], args["per_page"], size_name="per_page")


@blp.route("/directory", methods=["GET"])
@limiter.limit(lambda: current_app.config["DIRECTORY_LIMIT"])
@blp.arguments(DirectoryQueryIn, location="query")
@spreadsheet_download(blp)
def download_directory(args: dict[str, Any]) -> Response:
    """The directory of published listings matching the filter, as CSV (UTF-8 with BOM) or XLSX."""
    limit = int(current_app.config["EXPORT_MAX_ROWS"])
    if args["format"] == "xlsx":
        body = directory.directory_xlsx(_filter(args), limit)
        mimetype, name = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "directory.xlsx"
    else:
        body = directory.directory_csv(_filter(args), limit)
        mimetype, name = "text/csv", "directory.csv"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
