"""Settings read from the environment (12-factor), with safe local defaults.

``create_app`` picks a class by ``HALL_ENV`` (development, production, testing) unless a config is passed in.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

INSTANCE_DIR = Path(os.environ.get("HALL_INSTANCE_DIR", Path(__file__).resolve().parents[2] / "instance"))


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely (for example production without a secret key)."""


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whichever spelling of the URL was given."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def local_secret_key(instance_dir: Path = INSTANCE_DIR) -> str:
    """Return the development secret key, generating it once into ``instance/secret_key``.

    Several processes may start at once on one instance directory (``flask run`` beside gunicorn's workers): the key
    is written to a temporary file and linked into place, which never replaces an existing file, so every process
    reads the one key that won and none ever reads a half-written (empty) file."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        fd, temporary = tempfile.mkstemp(dir=instance_dir, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(temporary, path)
            except FileExistsError:  # another process got there first: use its key
                pass
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


def env_flag(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class BaseConfig:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI = ""
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLITE_BUSY_TIMEOUT_MS = 10_000
    PG_LOCK_TIMEOUT_MS = 5_000
    PG_STATEMENT_TIMEOUT_MS = 30_000

    # Sessions (SESS-02): server-side session rows; the cookie only names one.
    SESSION_COOKIE_NAME = "hall_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=2)  # idle timeout, refreshed on each request
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session it is bound to
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]

    PASSWORD_HASH_METHOD = "scrypt"  # Werkzeug's scrypt: n=2**15, r=8, p=1
    TOKEN_MAX_AGE = {"confirm": 3 * 24 * 3600, "reset": 3600, "invite": 7 * 24 * 3600}

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_LIMIT_PER_IP = "30 per 15 minutes"
    # Failed sign-ins, one counter for the API and the console (AUTHN-01, issue 9): per account from one address
    # (the attacker's address is throttled, the owner elsewhere is not), a looser ceiling per account from all
    # addresses together (a distributed guesser), and SIGN_IN_LIMIT_PER_IP per address over every account.
    SIGN_IN_LIMIT_PER_ACCOUNT_AND_ADDRESS = "5 per 15 minutes"
    SIGN_IN_LIMIT_ACCOUNT_CEILING = "50 per hour"
    # Every request body except multipart uploads (which keep MAX_CONTENT_LENGTH and UPLOAD_MAX_BYTES): 413 beyond
    # this, before anything is read. 1 MiB holds the largest real listing (about 100,000 characters of bilingual
    # text, some 600 KB when a client \u-escapes Chinese) and parses in milliseconds.
    MAX_JSON_BODY_BYTES = 1024 * 1024
    REGISTRATION_LIMIT = "20 per hour"
    MAIL_REQUEST_LIMIT = "10 per hour"
    PASSWORD_CHANGE_LIMIT = "10 per hour"
    DIRECTORY_LIMIT = "30 per hour"  # exports build up to EXPORT_MAX_ROWS rows in memory

    MAIL_BACKEND = "log"  # "log": written to the log and kept in the outbox; "smtp": sent after commit
    MAIL_LOG_BODY = True  # the log backend writes bodies (with their links) locally, never in production
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_DEFAULT_SENDER = "未来产业成果发布大厅 <noreply@hall.localhost>"
    # `flask hall deliver-mail` retries only mail at least this old: younger mail may still be being sent by the
    # request (on whichever instance) that queued it; the longest send is a few SMTP timeouts of 10 s.
    MAIL_RETRY_AFTER_SECONDS = 300
    PUBLIC_BASE_URL = "http://127.0.0.1:8000"

    STRIPE_SECRET_KEY: str | None = None
    STRIPE_PUBLISHABLE_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None  # e.g. a localstripe server; default api.stripe.com
    STRIPE_WEBHOOK_TOLERANCE = 300  # seconds a signature may be old, or ahead of our clock (PAY-01)
    PAYMENT_GATEWAY: str | None = None  # stripe | fake | none; default stripe when STRIPE_SECRET_KEY is set
    ALLOW_FAKE_PAYMENTS = False  # production refuses the fake gateway (its card page pays without money) unless set
    STRIPE_TIMEOUT_SECONDS = 8  # one call to Stripe; well under gunicorn's 30 s worker timeout
    STRIPE_MAX_NETWORK_RETRIES = 0  # a failed call answers 502/503 at once; our keys make the client's retry safe

    # Trading
    PLATFORM_FEE_BP = 300  # platform fee in basis points of the order amount (3 %), rounded half up to the fen
    ORDER_RESERVATION_HOURS = 72  # an unpaid order holds stock or exclusivity this long (bank transfers take days)
    ORDER_AUTO_COMPLETE_DAYS = 14  # a delivered order completes by itself unless the buyer disputes it
    # Art. 18, Law on Promoting the Transformation of S&T Achievements: a negotiated price of a state-funded
    # achievement is publicly posted (公示) with the achievement's name for this many days before the deal closes.
    PUBLIC_NOTICE_DAYS = 15
    ORDER_CREATE_LIMIT = "30 per hour"  # per person (RATE-01)
    PAYMENT_CREATE_LIMIT = "30 per hour"
    # Enquiry threads, per person (RATE-01): new threads and messages (spam)
    THREAD_CREATE_LIMIT = "20 per hour"
    THREAD_MESSAGE_LIMIT = "120 per hour"
    RECONCILE_WINDOW_HOURS = 72
    BANK_ACCOUNT_NAME = "未来产业成果交易平台运营有限公司"
    BANK_NAME = "中国工商银行北京海淀支行"
    BANK_ACCOUNT_NUMBER = "0200 0000 0000 0000 000"

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent / "translations")

    API_TITLE = "Future-industry achievements hall"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "/api/v1/docs/static/"  # swagger-ui of the pinned flask-swagger-ui, served locally
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024  # per file (FILE-01); bigger requests get 413
    UPLOAD_DIR: str | None = None  # default: instance/uploads, outside the static files
    LISTING_TERM_DAYS = 365  # a published listing expires after this and must be renewed
    HALL_MAX_PAGE_SIZE = 50
    SEARCH_RANK_WINDOW = 5000  # a query matching more ranks only its newest 5,000 matches (see hall.search.ranked)
    HALL_CACHE_MAX_AGE = 60  # seconds anyone may keep an anonymous hall read (API); it is revalidated by ETag
    # Seconds a worker may answer an anonymous hall read from the hall version it last read without asking the
    # database again: 0 shows every other worker's publish, withdrawal or suspension at once; 1 (production) saves
    # a read per request, well inside the HALL_CACHE_MAX_AGE any cache in front may keep the answer anyway.
    HALL_VERSION_FRESH_WITHIN = 0.0
    EXPORT_MAX_ROWS = 100_000
    TRUSTED_PROXIES = 0  # how many reverse proxies set X-Forwarded-For/-Proto in front of the app
    AUDIT_CHECKPOINT_KEY: str | None = None  # HMAC key of audit checkpoints; default: derived from SECRET_KEY
    READINESS_TIMEOUT_MS = 500  # /readyz: longest wait for a connection, a lock or its probe write

    @classmethod
    def from_environment(cls, database_url: str | None = None, secret_key: str | None = None) -> dict[str, Any]:
        """Return the settings of this class overlaid with what the environment says.

        ``database_url`` and ``secret_key``, when the caller already has them, take precedence.
        """
        settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
        env = os.environ
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
            database_url or env.get("DATABASE_URL") or cls.default_database_url()
        )
        settings["SECRET_KEY"] = secret_key or env.get("SECRET_KEY") or cls.default_secret_key()
        for key in ("UPLOAD_DIR", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "RATELIMIT_STORAGE_URI", "MAIL_BACKEND",
                    "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER", "PUBLIC_BASE_URL",
                    "STRIPE_PUBLISHABLE_KEY", "STRIPE_API_BASE", "PAYMENT_GATEWAY", "BANK_ACCOUNT_NAME", "BANK_NAME",
                    "BANK_ACCOUNT_NUMBER", "ORDER_CREATE_LIMIT", "PAYMENT_CREATE_LIMIT", "THREAD_CREATE_LIMIT",
                    "THREAD_MESSAGE_LIMIT", "AUDIT_CHECKPOINT_KEY"):
            if env.get(key):
                settings[key] = env[key]
        for key in ("MAIL_PORT", "MAIL_RETRY_AFTER_SECONDS", "TRUSTED_PROXIES", "PLATFORM_FEE_BP",
                    "ORDER_RESERVATION_HOURS", "ORDER_AUTO_COMPLETE_DAYS", "PUBLIC_NOTICE_DAYS",
                    "STRIPE_TIMEOUT_SECONDS", "STRIPE_MAX_NETWORK_RETRIES"):
            if env.get(key):
                settings[key] = int(env[key])
        if env.get("HALL_VERSION_FRESH_WITHIN"):
            try:
                settings["HALL_VERSION_FRESH_WITHIN"] = float(env["HALL_VERSION_FRESH_WITHIN"])
            except ValueError:
                raise ConfigError("HALL_VERSION_FRESH_WITHIN must be a number of seconds (0, 1, 0.5 …).") from None
        settings["MAIL_USE_TLS"] = env_flag("MAIL_USE_TLS", cls.MAIL_USE_TLS)
        settings["ALLOW_FAKE_PAYMENTS"] = env_flag("ALLOW_FAKE_PAYMENTS", cls.ALLOW_FAKE_PAYMENTS)
        return settings

    @classmethod
    def default_database_url(cls) -> str:
        """SQLite file under instance/ unless DATABASE_URL says otherwise."""
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'hall.sqlite'}"

    @classmethod
    def default_secret_key(cls) -> str | None:
        """Locally a key generated once into instance/; subclasses may refuse."""
        return local_secret_key()


class DevelopmentConfig(BaseConfig):
    """Local use: SQLite in instance/, mail to the log, rate limits in memory."""

    ENV_NAME = "development"


class TestingConfig(BaseConfig):
    """The test suite: cheap password hashing, no generated files."""

    ENV_NAME = "testing"
    TESTING = True
    PROPAGATE_EXCEPTIONS = False  # tests see the JSON 500 a client would see
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    PAYMENT_GATEWAY = "fake"
    STRIPE_WEBHOOK_SECRET = "whsec_testing_secret"
    PUBLIC_NOTICE_DAYS = 0  # the tests of the notice period set it (tests/api/test_public_notice.py)

    @classmethod
    def default_secret_key(cls) -> str | None:
        return "testing-secret-key-not-for-production"


class ProductionConfig(BaseConfig):
    """Behind a reverse proxy: secure cookies, Redis for rate limits, a real secret key required."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
    TRUSTED_PROXIES = 1  # nginx in front: client addresses come from X-Forwarded-For
    MAIL_LOG_BODY = False  # mailed links carry single-use tokens: keep them out of the log (LOG-01)
    HALL_VERSION_FRESH_WITHIN = 1.0  # anonymous hall reads: another worker's change shows within a second

    @classmethod
    def default_secret_key(cls) -> str | None:
        raise ConfigError("SECRET_KEY must be set in production (a long random string).")

    @classmethod
    def default_database_url(cls) -> str:
        raise ConfigError("DATABASE_URL must be set in production (postgresql://user@host/db).")


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_settings(config: Any = None) -> dict[str, Any]:
    """Resolve ``create_app``'s argument: None (from HALL_ENV), a name, a config class, or a mapping of overrides."""
    overrides: dict[str, Any] = {}
    if isinstance(config, dict):
        overrides = dict(config)
        config = overrides.pop("HALL_ENV", None)
    if config is None:
        config = os.environ.get("HALL_ENV", "development")
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ConfigError(f"HALL_ENV must be one of {', '.join(CONFIGS)}, not {config!r}.")
        config = CONFIGS[config]
    if "DATABASE_URL" in overrides:
        overrides["SQLALCHEMY_DATABASE_URI"] = overrides.pop("DATABASE_URL")
    settings = config.from_environment(
        database_url=overrides.get("SQLALCHEMY_DATABASE_URI"), secret_key=overrides.get("SECRET_KEY")
    )
    settings.update(overrides)
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(settings["SQLALCHEMY_DATABASE_URI"])
    if not settings.get("SECRET_KEY"):
        raise ConfigError("SECRET_KEY is empty.")
    if settings.get("ENV_NAME") == "production" and settings.get("PAYMENT_GATEWAY") == "fake" \
            and not settings.get("ALLOW_FAKE_PAYMENTS"):
        raise ConfigError("PAYMENT_GATEWAY=fake marks card payments paid without any money moving; production "
                          "refuses it. Set ALLOW_FAKE_PAYMENTS=1 only for a benchmark or a copy without real buyers.")
    return settings
