"""HTTP only: the JSON API under /api/v1 and the health checks. Business rules live in hall.services."""
