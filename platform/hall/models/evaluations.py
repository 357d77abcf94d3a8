"""Models of evaluation engagements and reports by professional institutions."""
from __future__ import annotations
