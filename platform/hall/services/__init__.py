"""Business rules, one module per capability. Services take plain arguments, flush, and never commit."""
