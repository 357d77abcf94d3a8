"""Models of technical-contract registration records of completed orders."""
from __future__ import annotations
