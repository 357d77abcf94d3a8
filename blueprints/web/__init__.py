"""The web front people visit: the public hall, account pages and the institution workspace, server-rendered
(Jinja, Flask-WTF, Flask-Babel; zh_CN by default, en), calling the same services as the API. No business rule
lives in a view: a view parses a form, calls one service, and renders or redirects."""
from __future__ import annotations

from flask import Blueprint

web = Blueprint("web", __name__)

from blueprints.web import (  # noqa: E402,F401  (routes)
    account,
    contracts_pages,  # technical-contract registration and the annual transformation report
    demands_public,  # the public demand hall (技术需求)
    evaluations_pages,  # evaluation engagements and reports
    exhibitions_pages,  # docking exhibitions (对接会/路演)
    insurance_pages,  # first-of-kind insurance policies and compensation applications
    notifications,  # the person's inbox and mail preferences
    public,
    site,
    workspace,
    workspace_data_rooms,  # NDA data rooms: the NDA page, the owner's data room, requests
    workspace_demands,  # the institution's demands, their matches
    workspace_institution,  # the institution, its members, API tokens
    workspace_orders,  # orders and transaction records
    workspace_threads,  # enquiry threads and messages
)
