"""Shared helpers for the tests: the one place a test module imports helpers from (never another test module,
which tests/test_layout.py enforces). Nothing here is collected as a test; fixtures live in the conftest.py files.

- ``factories``: factory_boy factories, the test password, sign-in and outbox-mail helpers, a registration body.
- ``listing_data``: complete listing bodies (a bilingual achievement, a first-of-kind product).
- ``listings``: driving listings through the API as their owner (``Owner``, ``create``, ``publish``, ``upload``,
  ``bring_to`` …), an admin's review decisions, and the PDF and PNG files the upload tests send.
- ``hall_listings``: the published hall of the search tests (eight listings, four unpublished ones).
- ``trading``: published listings through the services, the parties of a deal, signed Stripe events.
- ``orders``: the API trading tests' market (signed-in parties, published listings) and order helpers.
- ``order_desk``: the admin console's order desk (a market with the admin's browser) for the console tests.
- ``console``: the admin console's HTML forms, console sign-in and listings in the states a reviewer meets.
- ``races``: racing threads behind a barrier and a connection pool big enough for all of them.
- ``audit``: appending audit events and lifting the append-only guard as an attacker would.
- ``routes``: the API prefix, the unsafe methods and sample paths for URL rules.
- ``streams``: a lazily produced request body that counts what the app read of it.
- ``http_session``: a ``requests`` session against a live server's JSON API.
- ``live_server``: the application served over real HTTP on a free port of 127.0.0.1.
- ``web_browser``: the web front's browser tests: another person's browser, signing in (web front and console),
  the visitor's language link, an order page's id, a cover-sized PNG.
"""
