"""Marshmallow schemas: separate In (load, validate) and Out (dump) schemas per resource."""
