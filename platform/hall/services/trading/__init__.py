"""Orders, payments, refunds, settlements, disputes, closing, the ledger and the provider (Stripe) path. Imports
core, accounts and publishing.
"""
