"""The ground floor every capability stands on: errors, the audit chain, the state-machine primitive, validation,
idempotency, mail and notifications. Imports nothing from the other service packages.
"""
