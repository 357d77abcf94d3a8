"""Web pages of docking exhibitions, their entries, registrations and leads."""
from __future__ import annotations
