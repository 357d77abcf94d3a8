"""Models of first-of-kind insurance policies and premium compensation applications."""
from __future__ import annotations
