"""People and institutions: sign-up, sessions, API tokens, institution verification and membership. Imports only
core.
"""
