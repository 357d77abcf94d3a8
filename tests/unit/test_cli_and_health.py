"""The ``flask hall`` commands (create-admin, seed-demo, suspend-user), the health probes, and the settings
that refuse to start an unsafe configuration."""
from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from hall.config import ConfigError, load_settings, local_secret_key
from hall.extensions import db
from hall.models import ApiToken, AuditEvent, AuthSession, Institution, OutboxMail, User
from hall.models.accounts import INSTITUTION_KINDS
from hall.models.types import utcnow
from hall.services.accounts import accounts, sessions
from hall.services.core.audit import verify_chain
from tests.conftest import make_app
from tests.support.factories import PASSWORD, UserFactory, sign_in

GOOD_PASSWORD = "量子纠缠 tastes like 7 lemons"


def hall(app: Flask, *args: str, input: str | None = None) -> Result:  # noqa: A002 - click's name
    return app.test_cli_runner().invoke(args=["hall", *args], input=input)


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        counts = {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
                  for model in (Institution, User, AuditEvent, AuthSession, ApiToken, OutboxMail)}
        db.session.remove()
    return counts


def add_user(app: Flask, **values: object) -> str:
    with app.app_context():
        email = UserFactory(**values).email
        db.session.commit()
        db.session.remove()
    return email


def read_credentials(path: Path) -> list[tuple[str, str, str]]:
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return [tuple(line.split("\t")) for line in lines]  # type: ignore[misc]


# --- create-admin -------------------------------------------------------------------------------------------

def test_create_admin_creates_a_confirmed_admin(app: Flask) -> None:
    result = hall(app, "create-admin", "--email", "Chief@Hall.Example.cn", "--password", GOOD_PASSWORD,
                  "--display-name", "首席管理员")
    assert result.exit_code == 0, result.output
    assert "chief@hall.example.cn is a platform admin" in result.output
    with app.app_context():
        # authenticate refuses unconfirmed or suspended accounts and wrong passwords
        user = accounts.authenticate("chief@hall.example.cn", GOOD_PASSWORD)
        assert user.is_admin is True
        assert user.email_confirmed_at is not None
        assert user.display_name == "首席管理员"
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["user.registered", "user.admin_granted"]
        assert verify_chain().intact
        db.session.remove()


@pytest.mark.parametrize("password", ["password", "short", "12345678", "chief@hall.example.cn"])
def test_create_admin_refuses_a_weak_password(app: Flask, password: str) -> None:
    before = row_counts(app)
    result = hall(app, "create-admin", "--email", "chief@hall.example.cn", "--password", password)
    assert result.exit_code != 0
    assert "password" in result.output
    assert "is a platform admin" not in result.output
    assert row_counts(app) == before


def test_create_admin_grants_the_flag_to_an_existing_account(app: Flask) -> None:
    email = add_user(app, email="member@example.cn")
    with app.app_context():
        password_hash = db.session.scalar(select(User.password_hash).where(User.email == email))
        db.session.remove()
    for _ in range(2):  # the second run changes nothing
        result = hall(app, "create-admin", "--email", "MEMBER@example.cn")
        assert result.exit_code == 0, result.output
    with app.app_context():
        users = db.session.scalars(select(User)).all()
        assert [(u.email, u.is_admin, u.password_hash) for u in users] == [(email, True, password_hash)]
        assert db.session.scalars(select(AuditEvent.action)).all() == ["user.admin_granted"]
        db.session.remove()


def test_create_admin_prompts_for_a_password_when_none_is_given(app: Flask) -> None:
    typed = f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n"  # password and confirmation
    result = hall(app, "create-admin", "--email", "boss@example.cn", input=typed)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert accounts.authenticate("boss@example.cn", GOOD_PASSWORD).is_admin
        db.session.remove()


# --- seed-demo ----------------------------------------------------------------------------------------------

def test_seed_demo_creates_verified_institutions_of_every_kind(app: Flask, tmp_path: Path) -> None:
    credentials = tmp_path / "demo" / "credentials.txt"
    result = hall(app, "seed-demo", "--credentials", str(credentials))
    assert result.exit_code == 0, result.output
    assert str(credentials) in result.output
    with app.app_context():
        orgs = db.session.scalars(select(Institution).order_by(Institution.id)).all()
        assert sorted(org.kind for org in orgs) == sorted(INSTITUTION_KINDS)
        for org in orgs:
            assert org.verification_status == "verified", org.name_en
            roles = sorted(member.institution_role for member in org.members)
            assert roles.count("owner") >= 1 and roles.count("member") >= 1, (org.name_en, roles)
            assert all(member.email_confirmed_at is not None for member in org.members)
        assert verify_chain().intact
        db.session.remove()


def test_seed_demo_credentials_sign_in(app: Flask, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.txt"
    result = hall(app, "seed-demo", "--credentials", str(credentials))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    entries = read_credentials(credentials)
    assert len(entries) == 1 + 2 * len(INSTITUTION_KINDS)  # the admin, then an owner and a member per kind
    with app.app_context():
        assert len({email for email, _, _ in entries}) == len(entries) == db.session.scalar(
            select(func.count()).select_from(User))
        admins = []
        for email, password, role in entries:
            user = accounts.authenticate(email, password)
            assert user.email == email
            if user.is_admin:
                admins.append((email, role))
        assert len(admins) == 1 and admins[0][1] == "platform admin"
        db.session.remove()


def test_seed_demo_twice_adds_nothing(app: Flask, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.txt"
    assert hall(app, "seed-demo", "--credentials", str(credentials)).exit_code == 0
    written = credentials.read_text(encoding="utf-8")
    before = row_counts(app)
    assert before["institutions"] == len(INSTITUTION_KINDS)
    result = hall(app, "seed-demo", "--credentials", str(credentials))
    assert result.exit_code == 0, result.output
    assert "nothing added" in result.output
    assert row_counts(app) == before
    assert credentials.read_text(encoding="utf-8") == written  # the passwords that work are still on file


def test_seed_demo_if_empty_leaves_a_used_database_alone(app: Flask, tmp_path: Path) -> None:
    add_user(app)
    before = row_counts(app)
    credentials = tmp_path / "credentials.txt"
    result = hall(app, "seed-demo", "--if-empty", "--credentials", str(credentials))
    assert result.exit_code == 0, result.output
    assert "already holds data" in result.output
    assert row_counts(app) == before
    assert not credentials.exists()


def test_seed_demo_if_empty_seeds_an_empty_database(app: Flask, tmp_path: Path) -> None:
    result = hall(app, "seed-demo", "--if-empty", "--credentials", str(tmp_path / "credentials.txt"))
    assert result.exit_code == 0, result.output
    assert row_counts(app)["institutions"] == len(INSTITUTION_KINDS)


# --- suspend-user -------------------------------------------------------------------------------------------

def test_suspend_user_ends_sessions_and_tokens(app: Flask, client: FlaskClient) -> None:
    email = add_user(app)
    with app.app_context():
        user = accounts.find_user_by_email(email)
        assert user is not None
        sessions.start_session(user, ip_address="192.0.2.1", user_agent="cli-test")
        _, token = sessions.create_api_token(user, "script")
        db.session.commit()
        db.session.remove()
    sign_in(client, email, PASSWORD)
    assert client.get("/api/v1/me").status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    result = hall(app, "suspend-user", email, "--reason", "fraud report #42")
    assert result.exit_code == 0, result.output
    assert "suspended" in result.output

    assert client.get("/api/v1/me").status_code == 401  # the captured cookie no longer counts
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with app.app_context():
        user = accounts.find_user_by_email(email)
        assert user is not None and user.status == "suspended"
        rows = db.session.scalars(select(AuthSession).where(AuthSession.user_id == user.id)).all()
        assert len(rows) == 2
        assert all(row.ended_at is not None and row.ended_reason == "suspended" for row in rows)
        assert all(t.revoked_at is not None for t in db.session.scalars(select(ApiToken)).all())
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.suspended"))
        assert event is not None and event.reason == "fraud report #42" and event.object_id == str(user.id)
        db.session.remove()


def test_reinstate_user_lifts_the_suspension_through_the_users_state_machine(app: Flask, client: FlaskClient) -> None:
    email = add_user(app)
    assert hall(app, "suspend-user", email, "--reason", "fraud report #42").exit_code == 0
    again = hall(app, "suspend-user", email, "--reason", "twice")
    assert again.exit_code != 0 and "“Suspended”" in again.output  # the table refuses suspend from suspended
    result = hall(app, "reinstate-user", email, "--reason", "cleared")
    assert result.exit_code == 0, result.output
    sign_in(client, email, PASSWORD)
    assert client.get("/api/v1/me").status_code == 200
    with app.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.from_state, AuditEvent.to_state)
                                    .where(AuditEvent.object_type == "user", AuditEvent.action.in_(
                                        ("user.suspended", "user.reinstated"))).order_by(AuditEvent.id)).all()
        assert [tuple(e) for e in events] == [("user.suspended", "active", "suspended"),
                                              ("user.reinstated", "suspended", "active")]
    assert hall(app, "reinstate-user", email).exit_code != 0  # not suspended any more
    assert hall(app, "reinstate-user", "nobody@example.cn").exit_code != 0


def test_suspend_user_refuses_unknown_accounts_and_missing_reasons(app: Flask) -> None:
    email = add_user(app)
    before = row_counts(app)
    unknown = hall(app, "suspend-user", "nobody@example.cn", "--reason", "x")
    assert unknown.exit_code != 0 and "No account" in unknown.output
    assert hall(app, "suspend-user", email).exit_code != 0  # --reason is required
    blank = hall(app, "suspend-user", email, "--reason", "   ")
    assert blank.exit_code != 0
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.scalar(select(User.status).where(User.email == email)) == "active"
        db.session.remove()


def test_suspending_twice_is_refused(app: Flask) -> None:
    email = add_user(app)
    assert hall(app, "suspend-user", email, "--reason", "first").exit_code == 0
    again = hall(app, "suspend-user", email, "--reason", "second")
    assert again.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "user.suspended")) == 1
        db.session.remove()


# --- health probes ------------------------------------------------------------------------------------------

def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_readyz_fails_closed_when_the_database_is_unreachable(tmp_path: Path, kind: str) -> None:
    url = (f"sqlite:///{tmp_path / 'no-such-directory' / 'hall.sqlite'}" if kind == "sqlite"
           else "postgresql://postgres@127.0.0.1:1/hall")
    app = make_app(url)
    try:
        client = app.test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.is_json
        assert response.get_json() == {"status": "unavailable", "database": "unreachable"}
        assert "Traceback" not in response.get_data(as_text=True)
        assert client.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        with app.app_context():
            db.engine.dispose()


def test_deliver_mail_leaves_mail_that_its_request_may_still_be_sending(app: Flask) -> None:
    """A message committed moments ago may be in the hands of the request (on any instance) that queued it: the
    retry command takes only messages older than MAIL_RETRY_AFTER_SECONDS, so nothing is mailed twice."""
    with app.app_context():
        fresh = OutboxMail(recipient="a@example.cn", subject="s", body="b", purpose="test")
        old = OutboxMail(recipient="b@example.cn", subject="s", body="b", purpose="test",
                         created_at=utcnow() - timedelta(seconds=app.config["MAIL_RETRY_AFTER_SECONDS"] + 1))
        db.session.add_all([fresh, old])
        db.session.commit()
        ids = fresh.id, old.id
        db.session.remove()
    result = hall(app, "deliver-mail")
    assert result.exit_code == 0 and "1 message(s) delivered" in result.output, result.output
    with app.app_context():
        sent = {mail.id: mail.sent_at is not None for mail in db.session.scalars(select(OutboxMail))}
        db.session.remove()
    assert sent == {ids[0]: False, ids[1]: True}


# --- settings -----------------------------------------------------------------------------------------------

def test_production_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"HALL_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("SECRET_KEY", "")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"HALL_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_starts_with_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    settings = load_settings({"HALL_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert settings["SECRET_KEY"] == "k" * 48
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["DEBUG"] is False


def test_production_answers_anonymous_hall_reads_from_a_version_read_within_a_second(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.delenv("HALL_VERSION_FRESH_WITHIN", raising=False)
    production = {"HALL_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    assert load_settings(production)["HALL_VERSION_FRESH_WITHIN"] == 1.0
    assert load_settings({**production, "HALL_ENV": "development"})["HALL_VERSION_FRESH_WITHIN"] == 0.0
    monkeypatch.setenv("HALL_VERSION_FRESH_WITHIN", "0.25")
    assert load_settings(production)["HALL_VERSION_FRESH_WITHIN"] == 0.25
    monkeypatch.setenv("HALL_VERSION_FRESH_WITHIN", "soon")
    with pytest.raises(ConfigError, match="HALL_VERSION_FRESH_WITHIN"):
        load_settings(production)


def test_the_local_secret_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    key = local_secret_key(tmp_path)
    assert len(key) >= 48 and local_secret_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_a_process_that_loses_the_race_for_the_local_secret_key_uses_the_winners(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes starting at once both find no key; the one that writes second must read the first one's
    (one key for every process, so a cookie signed by one is read by the other) instead of failing."""
    (tmp_path / "secret_key").write_text("the winner's key\n")
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda self: False if self.name == "secret_key" else real_exists(self))
    assert local_secret_key(tmp_path) == "the winner's key"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_production_refuses_to_start_without_a_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings({"HALL_ENV": "production"})


def test_production_refuses_the_fake_gateway_unless_told_it_is_not_for_real_buyers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.delenv("ALLOW_FAKE_PAYMENTS", raising=False)
    production = {"HALL_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://", "PAYMENT_GATEWAY": "fake"}
    with pytest.raises(ConfigError, match="ALLOW_FAKE_PAYMENTS"):
        load_settings(production)
    monkeypatch.setenv("ALLOW_FAKE_PAYMENTS", "1")
    assert load_settings(production)["PAYMENT_GATEWAY"] == "fake"
    assert load_settings({**production, "HALL_ENV": "development"})["PAYMENT_GATEWAY"] == "fake"


def test_unknown_environment_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="HALL_ENV"):
        load_settings({"HALL_ENV": "staging", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    monkeypatch.setenv("HALL_ENV", "prod")
    with pytest.raises(ConfigError, match="HALL_ENV"):
        load_settings(None)


def test_optimize_db_refreshes_statistics(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["hall", "optimize-db"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("SELECT count(*) FROM sqlite_stat1")).scalar() > 0
        else:
            analyzed = db.session.execute(text(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'hall_index'")).scalar()
            assert analyzed is not None
