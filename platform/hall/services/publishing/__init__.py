"""The hall: listings, their versions and review, attachments, public search and the promotion directory. Imports
core and accounts.
"""
