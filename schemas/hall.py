"""Schemas for the public hall: the search query, results in the caller's language, detail, taxonomy."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from hall.models import ListingVersion
from hall.models.listings import DEAL_MODES, LISTING_KINDS, PRICE_MODES, PRODUCT_KINDS, RECOGNITION_LEVELS, TEXT_FIELDS
from hall.search import highlight
from hall.services.core.validation import region_code_problem
from hall.services.publishing.insurance_public import public_first_of_kind
from schemas.common import MAX_ID, StrictSchema, checked_by
from schemas.evaluations import PublicEvaluationReportOut
from schemas.listings import CURRENCIES, MAX_MONEY, AttachmentOut

LANGS = ("zh", "en")


class HallQueryIn(StrictSchema):
    """Filters, sort and page of a hall search."""

    q = fields.String(validate=validate.Length(max=200), metadata={"description": "words in Chinese or English"})
    kind = fields.String(validate=validate.OneOf(LISTING_KINDS))
    direction = fields.String(validate=validate.Length(max=40))
    field = fields.String(validate=validate.Length(max=60))
    trl_min = fields.Integer(validate=validate.Range(min=1, max=9))
    trl_max = fields.Integer(validate=validate.Range(min=1, max=9))
    deal_mode = fields.String(validate=validate.OneOf(DEAL_MODES))
    price_mode = fields.String(validate=validate.OneOf(PRICE_MODES),
                               metadata={"description": "fixed, negotiable (面议) or starting (起价)"})
    price_min = fields.Integer(validate=validate.Range(min=0, max=MAX_MONEY), metadata={"description": "minor units"})
    price_max = fields.Integer(validate=validate.Range(min=0, max=MAX_MONEY), metadata={"description": "minor units"})
    currency = fields.String(validate=validate.OneOf(CURRENCIES))
    region = fields.String(validate=checked_by(region_code_problem),
                           metadata={"description": "a province (110000), city (110100) or county code"})
    institution = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    product_kind = fields.String(validate=validate.OneOf(PRODUCT_KINDS))
    recognition_level = fields.String(validate=validate.OneOf(RECOGNITION_LEVELS))
    state_funded = fields.Boolean()
    sort = fields.String(load_default="relevance", validate=validate.OneOf(("relevance", "newest", "price_asc",
                                                                            "price_desc")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50),
                              metadata={"description": "at most 50"})
    facets = fields.Boolean(load_default=True)
    lang = fields.String(validate=validate.OneOf(LANGS))

    @validates_schema
    def _ranges(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for low, high in (("trl_min", "trl_max"), ("price_min", "price_max")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                raise ValidationError(_("must not be below %(field)s", field=low), high)


class DirectoryQueryIn(HallQueryIn):
    """The same filters for the directory download, plus the format."""

    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


def localized(version: ListingVersion, name: str, lang: str) -> str | None:
    """A text field in ``lang``, falling back to the other language."""
    other = "en" if lang == "zh" else "zh"
    return version.text(name, lang) or version.text(name, other)


def present_version(version: ListingVersion, lang: str, terms: list[str] | None = None) -> dict[str, Any]:
    """The public face of a version in the caller's language (snippets highlighted when there are terms)."""
    data: dict[str, Any] = {name: localized(version, name, lang) for name in TEXT_FIELDS}
    data["language"] = lang if version.text("title", lang) else ("en" if lang == "zh" else "zh")
    if terms:
        data["title_highlighted"] = highlight(data["title"], terms, width=200)
        data["snippet"] = highlight(data["summary"], terms) or highlight(data["description"], terms)
    for key in ("keywords", "direction_code", "field_code", "region_code", "trl", "evaluation", "ip_assets",
                "inventors", "deal_modes", "price_mode", "price_amount", "currency", "state_funded", "product_kind",
                "recognition_level", "first_of_kind"):
        data[key] = getattr(version, key)
    data["first_of_kind"] = public_first_of_kind(version.first_of_kind)  # no policy number, premium or rate
    data["cover"] = next((a for a in version.attachments if a.role == "cover"), None)
    data["attachments"] = [a for a in version.attachments if a.role == "attachment"]
    return data


class HallListingOut(Schema):
    """A published listing in the hall."""

    id = fields.Integer()
    kind = fields.String()
    institution_id = fields.Integer()
    published_at = fields.DateTime()
    language = fields.String(metadata={"description": "the language the text is in (zh or en)"})
    title = fields.String()
    summary = fields.String(allow_none=True)
    title_highlighted = fields.String(metadata={"description": "HTML-escaped, matches in <mark>"})
    snippet = fields.String(allow_none=True, metadata={"description": "HTML-escaped, matches in <mark>"})
    score = fields.Float(allow_none=True)
    keywords = fields.List(fields.String())
    direction_code = fields.String(allow_none=True)
    field_code = fields.String(allow_none=True)
    region_code = fields.String(allow_none=True)
    trl = fields.Integer(allow_none=True)
    deal_modes = fields.List(fields.String())
    price_mode = fields.String(allow_none=True)
    price_amount = fields.Integer(allow_none=True)
    currency = fields.String()
    state_funded = fields.Boolean()
    product_kind = fields.String(allow_none=True)
    recognition_level = fields.String(allow_none=True)
    cover = fields.Nested(AttachmentOut, allow_none=True)


class HallListingDetailOut(HallListingOut):
    """Everything the public may see of a published listing."""

    description = fields.String(allow_none=True)
    benefit = fields.String(allow_none=True)
    scenarios = fields.String(allow_none=True)
    evaluation = fields.Dict(allow_none=True)
    evaluation_reports = fields.List(fields.Nested(PublicEvaluationReportOut), metadata={
        "description": "reports of professional evaluators attached by the institution (evaluated by …)"})
    ip_assets = fields.List(fields.Dict())
    inventors = fields.List(fields.String())
    first_of_kind = fields.Dict(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentOut))
    institution = fields.Dict()
    stock_available = fields.Integer(allow_none=True, metadata={
        "description": "units (or batches) of a first-of-kind product that can be ordered now"})


class HallPageOut(Schema):
    """A page of hall results with the total and the facet counts for the current filter."""

    items = fields.List(fields.Nested(HallListingOut))
    total = fields.Integer()
    matched_all = fields.Integer(allow_none=True, metadata={
        "description": "how many of the total match every word of the query (listed first; the others match some "
                       "of its words: a query that fewer than a page match in full is widened); null without q"})
    page = fields.Integer()
    per_page = fields.Integer()
    terms = fields.List(fields.String(), metadata={"description": "the search tokens the query became"})
    facets = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()))


class FieldOut(Schema):
    """A sub-field of a direction."""

    code = fields.String()
    name_zh = fields.String()
    name_en = fields.String()


class DirectionOut(FieldOut):
    """A direction with its fields."""

    field_list = fields.List(fields.Nested(FieldOut), data_key="fields", attribute="fields")


class PublicInstitutionOut(Schema):
    """An institution's public profile with its published listings."""

    id = fields.Integer()
    kind = fields.String()
    name_zh = fields.String()
    name_en = fields.String(allow_none=True)
    region_code = fields.String()
    website = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    listings = fields.Nested(HallPageOut)


class NoticeQueryIn(StrictSchema):
    """A page of public notices."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


class NoticeOut(Schema):
    """A negotiated price of a state-funded achievement, posted publicly before the deal closes (公示)."""

    order_reference = fields.String()
    listing_id = fields.Integer()
    title_zh = fields.String(allow_none=True)
    title_en = fields.String(allow_none=True)
    seller = fields.Dict()
    deal_mode = fields.String()
    amount = fields.Integer(metadata={"description": "the proposed price, minor units"})
    currency = fields.String()
    notice_from = fields.DateTime()
    notice_until = fields.DateTime()
