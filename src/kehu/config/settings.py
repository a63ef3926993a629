"""Kehu settings. Every value comes from the environment with a safe default;
the embedded default (SQLite under ./var) needs no variable at all."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kehu.config.env import (
    env_base_url,
    env_bool,
    env_choice,
    env_choices,
    env_email,
    env_int,
    env_list,
    env_pool,
    env_rate,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("KEHU_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use KEHU_SECRET_KEY, else a key generated once and kept in the data directory."""
    configured = env_str("KEHU_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("KEHU_DEBUG", False)
ALLOWED_HOSTS = env_list("KEHU_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("KEHU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",  # two-factor sign-in (kehu/accounts/twofactor.py): TOTP and recovery codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "ninja",  # serves the Swagger UI assets from the install instead of a CDN
    "kehu.core",
    "kehu.accounts",
    "kehu.customers",
    "kehu.history",
    "kehu.jobs",
    "kehu.notifications",
    "kehu.transfer",
    "kehu.classification",
    "kehu.followup",
    "kehu.pool",
    "kehu.privacy",  # the consent ledger (同意记录); later data-subject requests
    "kehu.audit",  # the tamper-evident audit trail (设置 → 审计日志, `kehu audit verify`)
    "kehu.backups",  # no models: `kehu backup`, `kehu restore` and the nightly backup job
    "kehu.demo",  # no models: installed for its `kehu demo` and `kehu setup` commands
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kehu.core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kehu.accounts.middleware.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "kehu.audit.context.AuditContextMiddleware",  # the request behind audit entries services write
    "kehu.core.uploads.UploadLimitMiddleware",  # before CSRF: an over-limit body is a 413 page
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kehu.accounts.sessions.IdleTimeoutMiddleware",
    "kehu.accounts.twofactor.TwoFactorGateMiddleware",
    "kehu.accounts.middleware.UserLanguageAfterAuthMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kehu.accounts.ratelimit.ApiRateLimitMiddleware",  # after auth: a session counts per person
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the 429 page
]

# Health and metrics (kehu/ops, docs/deploy.md). /healthz and /readyz are answered first,
# before the host check and the HTTPS redirect: a load balancer probes a server by its own
# address over plain HTTP. /metrics (Prometheus text) is `off` (404, the default), `token`
# (Authorization: Bearer KEHU_METRICS_TOKEN, at least 32 characters) or `public`; when on,
# django-prometheus counts every request (its two middlewares around the others): +0.24 to
# 0.38 ms p50 on GET /api/v1/customers (8-15 ms), multiprocess mode, bench/metrics.py.
KEHU_METRICS = env_choice("KEHU_METRICS", "off", ("off", "token", "public"))
KEHU_METRICS_TOKEN = env_str("KEHU_METRICS_TOKEN").strip()
if KEHU_METRICS == "token" and len(KEHU_METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("KEHU_METRICS=token needs KEHU_METRICS_TOKEN (or _FILE) of at "
                               "least 32 characters, e.g. from `openssl rand -hex 32`")
# A worker's heartbeat older than a minute is reported by /readyz; with this on it also makes
# /readyz answer 503 (off by default: a stopped worker should page someone, not take every web
# server out of the load balancer).
KEHU_READYZ_REQUIRE_WORKER = env_bool("KEHU_READYZ_REQUIRE_WORKER", False)
MIDDLEWARE.insert(0, "kehu.ops.middleware.ProbeMiddleware")
if KEHU_METRICS != "off":
    MIDDLEWARE.insert(1, "django_prometheus.middleware.PrometheusBeforeMiddleware")
    MIDDLEWARE.append("django_prometheus.middleware.PrometheusAfterMiddleware")

ROOT_URLCONF = "kehu.config.urls"
WSGI_APPLICATION = "kehu.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "kehu.notifications.context_processors.notifications",
                "kehu.accounts.context_processors.access",
            ],
        },
    },
]


KEHU_DB_PARALLEL_WORKERS = env_int("KEHU_DB_PARALLEL_WORKERS", 0, minimum=0)
# What a job that reads a whole table asks for (core.db.parallel_workers): PostgreSQL's own default.
KEHU_DB_JOB_PARALLEL_WORKERS = env_int("KEHU_DB_JOB_PARALLEL_WORKERS", 2, minimum=0)


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        url = f"sqlite:///{DATA_DIR / 'kehu.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=env_int("KEHU_DB_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL + IMMEDIATE writers: concurrent requests wait for the lock instead of failing.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000; "
                "PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY;"
            ),
        }
    if config["ENGINE"] == "django.db.backends.postgresql":
        # No JIT: Kehu's queries are short reads whose row estimates can still pass
        # jit_above_cost; a quick search over 2,800 candidates spent 11.8 of its 27 ms
        # compiling (PostgreSQL 15, 100,000 customers).
        # No parallel workers either, unless asked (KEHU_DB_PARALLEL_WORKERS; a job that
        # wants them asks with core.db.parallel_workers): a plan that hides the owner from
        # the planner (the scope's walk) looks cheap enough to gather in parallel, and
        # starting the workers cost a rep's kanban 271 of its 314 ms of SQL, 15 ms without
        # (PostgreSQL 15, 1,000,000 customers, load 2).
        options = config.setdefault("OPTIONS", {})
        options["options"] = (f"{options.get('options', '')} -c jit=off -c "
                              f"max_parallel_workers_per_gather={KEHU_DB_PARALLEL_WORKERS}").strip()
        # PgBouncer in transaction mode: a server-side cursor (QuerySet.iterator) cannot
        # outlive the transaction that the pooler may hand to another client.
        pgbouncer = env_bool("KEHU_DB_PGBOUNCER", False)
        config["DISABLE_SERVER_SIDE_CURSORS"] = pgbouncer
        # Prepared statements: parameters bound by the server, and a statement a connection
        # runs a second time prepared (psycopg keeps up to 100 a connection), so the list's
        # scoped UNION and the gate's small queries are parsed and planned once. A customer
        # list page in process, 1,000,000 customers: p50 14.9-15.5 -> 12.8-14.0 ms (a rep
        # with 500 shares), 12.2-12.5 -> 10.6-10.8 (a busy rep). Off behind PgBouncer,
        # which (before 1.21's max_prepared_statements) hands a prepared name to a
        # connection that never saw it; Django leaves them off for that reason.
        if env_bool("KEHU_DB_PREPARE", not pgbouncer):
            options["server_side_binding"] = True
            options["prepare_threshold"] = 2
    pool = env_pool("KEHU_DB_POOL")
    if pool is not None:
        if config["ENGINE"] != "django.db.backends.postgresql":
            raise ImproperlyConfigured("KEHU_DB_POOL needs DATABASE_URL to be PostgreSQL")
        # psycopg's pool in each process (Django 5.1+); Django refuses it with persistent
        # connections, so KEHU_DB_CONN_MAX_AGE does not apply.
        config["OPTIONS"]["pool"] = pool
        config["CONN_MAX_AGE"] = 0
    test_name = env_str("KEHU_SQLITE_TEST_NAME")  # a file, so a test's worker process shares it
    if config["ENGINE"] == "django.db.backends.sqlite3" and test_name:
        config["TEST"] = {"NAME": test_name}
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Applied wherever a password is set: the accounts services, the CLI, Django's admin.
KEHU_PASSWORD_MIN_LENGTH = env_int("KEHU_PASSWORD_MIN_LENGTH", 10, minimum=8)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("username", "display_name", "first_name", "last_name",
                                     "email")}},
    {"NAME": "kehu.accounts.validators.MinimumLengthValidator",
     "OPTIONS": {"min_length": KEHU_PASSWORD_MIN_LENGTH}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Password sign-ins are throttled (kehu/accounts/throttle.py): the failures of one account
# and those from one address each lock sign-ins at the limit, for the cool-off counted from
# the last failure. ModelBackend stays listed by its own name: sessions record it.
AUTHENTICATION_BACKENDS = [
    "kehu.accounts.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
KEHU_LOGIN_FAILURE_LIMIT = env_int("KEHU_LOGIN_FAILURE_LIMIT", 5, minimum=1)
KEHU_LOGIN_COOLOFF_MINUTES = env_int("KEHU_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
# Reverse proxies in front of Kehu that append the client's address to X-Forwarded-For
# (0: none, the connection's address is the client's).
KEHU_PROXY_COUNT = env_int("KEHU_PROXY_COUNT", 0, minimum=0)
# The API's rate limits (accounts/ratelimit.py): "calls/period" or "off". A script that
# pages through 1,000,000 customers 500 at a time makes 2,000 calls: ten minutes at the
# default, which keeps one runaway loop from starving everyone else.
KEHU_API_RATE_PER_TOKEN = env_rate("KEHU_API_RATE_PER_TOKEN", "600/min")
KEHU_API_RATE_PER_ADDRESS = env_rate("KEHU_API_RATE_PER_ADDRESS", "1200/min")
# Who reads the API's docs and schema (accounts/auth.py docs_gate): login | public | off.
KEHU_API_DOCS = env_choice("KEHU_API_DOCS", "login", ("login", "public", "off"))
AXES_FAILURE_LIMIT = KEHU_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=KEHU_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # hammering a lock does not extend it
AXES_RESET_ON_SUCCESS = True  # the account's count only, see LoginThrottleHandler
AXES_HANDLER = "kehu.accounts.throttle.LoginThrottleHandler"
AXES_CLIENT_IP_CALLABLE = "kehu.accounts.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "kehu.accounts.throttle.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # count failures; do not keep a row per successful sign-in
# Two-factor sign-in (kehu/accounts/twofactor.py). A wrong code counts as a failed sign-in in
# the throttle above, so django-otp's own per-device back-off is off: one counter, one lock.
# Admins and roles marked "requires two-factor" must have a device; tests that sign admins in
# with a password alone switch KEHU_TWO_FACTOR_ENFORCED off (tests/conftest.py).
KEHU_TWO_FACTOR_ENFORCED = True
OTP_TOTP_ISSUER = "Kehu"  # the name the authenticator app shows
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]  # masked in a failure's record
# Django's admin lists people's devices (to remove a lost phone's) but never shows a key or code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["kehu.config.formats"]
USE_I18N = True
TIME_ZONE = env_str("KEHU_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise serves from the finders; it only needs the folder
STATICFILES_DIRS = [BASE_DIR / "static"]  # the hand-made app.css / app.js of the web UI
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "files"

SESSION_COOKIE_HTTPONLY = True
# A session ends after KEHU_SESSION_DAYS however busy, and after KEHU_SESSION_IDLE_MINUTES
# without a request (kehu.accounts.sessions.IdleTimeoutMiddleware).
SESSION_COOKIE_AGE = env_int("KEHU_SESSION_DAYS", 14, minimum=1) * 24 * 3600
KEHU_SESSION_IDLE_MINUTES = env_int("KEHU_SESSION_IDLE_MINUTES", 240, minimum=5)
# One switch for production behind TLS: secure cookies, HSTS and the HTTPS redirect
# together (KEHU_SECURE_COOKIES, the older name, still turns it on).
KEHU_HTTPS = env_bool("KEHU_HTTPS", env_bool("KEHU_SECURE_COOKIES", False))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = KEHU_HTTPS
SECURE_HSTS_SECONDS = env_int("KEHU_HSTS_SECONDS", 31536000, minimum=0) if KEHU_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KEHU_HSTS_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("KEHU_HSTS_PRELOAD", True)
# Behind KEHU_PROXY_COUNT reverse proxies, the outermost one says whether the client came
# over TLS (it must set, not append, X-Forwarded-Proto).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if KEHU_PROXY_COUNT else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Default region for phone numbers written without a country code.
KEHU_PHONE_REGION = env_str("KEHU_PHONE_REGION", "CN")
KEHU_PAGE_SIZE = env_int("KEHU_PAGE_SIZE", 50)
# Files attached to communications: size limit in bytes and allowed extensions.
KEHU_ATTACHMENT_MAX_BYTES = env_int("KEHU_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
KEHU_ATTACHMENT_TYPES = env_list("KEHU_ATTACHMENT_TYPES", [
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
    "txt", "csv", "zip",
])
# Uploads are counted while they stream in: the first handler stops the request as soon as
# one file passes KEHU_ATTACHMENT_MAX_BYTES (kehu/core/uploads.py); bodies other than files
# stay under Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB). Both answer 413.
FILE_UPLOAD_HANDLERS = [
    "kehu.core.uploads.AttachmentLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Background jobs (kehu/jobs): the broker, worker threads, the lease after which a silent
# worker's job is taken over, the first retry's delay (×4 per attempt), and how long
# finished jobs and their files are kept.
_ON_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
KEHU_JOBS = {
    "BROKER": env_str("KEHU_JOB_BROKER", "postgres" if _ON_POSTGRES else "sqlite"),
    "QUEUE_FILE": Path(env_str("KEHU_JOB_QUEUE_FILE", str(DATA_DIR / "queue.sqlite3"))),
    "THREADS": env_int("KEHU_WORKER_THREADS", 2, minimum=1),
    "LEASE_SECONDS": env_int("KEHU_JOB_LEASE_SECONDS", 120, minimum=2),
    "RETRY_SECONDS": env_int("KEHU_JOB_RETRY_SECONDS", 10, minimum=0),
    "RETENTION_DAYS": env_int("KEHU_JOB_RETENTION_DAYS", 90, minimum=1),
}

# Classification: a customer's rules re-run this many seconds after a write touched them
# (writes within the same window share one job); 0 leaves it to the nightly run.
KEHU_CLASSIFY_DELAY_SECONDS = env_int("KEHU_CLASSIFY_DELAY_SECONDS", 5, minimum=0)
# Data quality: a customer's completeness and problems are recomputed this many seconds
# after a write touched it (one job per window); 0 leaves it to the nightly run.
KEHU_QUALITY_DELAY_SECONDS = env_int("KEHU_QUALITY_DELAY_SECONDS", 5, minimum=0)

# E-mail: copies of notifications, sent by the job runner (never inside a web request). Off
# unless an SMTP server is configured: KEHU_EMAIL_URL (smtp://user:pass@host:587?tls=1,
# smtps://user:pass@host for SSL, smtp://host:1025) or KEHU_EMAIL_HOST / _PORT / _USER /
# _PASSWORD / _USE_TLS / _USE_SSL / _TIMEOUT; the sender is KEHU_EMAIL_FROM. Without a
# server Django's mail goes nowhere.
_EMAIL = env_email("KEHU_EMAIL") or {}
KEHU_EMAIL_ENABLED = bool(_EMAIL)
EMAIL_BACKEND = ("django.core.mail.backends.smtp.EmailBackend" if KEHU_EMAIL_ENABLED
                 else "django.core.mail.backends.dummy.EmailBackend")
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _EMAIL.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _EMAIL.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _EMAIL.get("EMAIL_TIMEOUT", 30)  # a hung server must not hold a worker for ever
DEFAULT_FROM_EMAIL = env_str("KEHU_EMAIL_FROM", f"Kehu <{EMAIL_HOST_USER}>" if "@" in EMAIL_HOST_USER
                             else "Kehu <kehu@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The site's own address (https://crm.example.com), for absolute links in e-mails; empty: paths.
KEHU_BASE_URL = env_base_url("KEHU_BASE_URL")

# Nightly backups (kehu/backups): where they go and how many stay (newest per day / per week).
KEHU_BACKUP_DIR = Path(env_str("KEHU_BACKUP_DIR", str(DATA_DIR / "backups")))
KEHU_BACKUP_KEEP_DAILY = env_int("KEHU_BACKUP_KEEP_DAILY", 7, minimum=1)
KEHU_BACKUP_KEEP_WEEKLY = env_int("KEHU_BACKUP_KEEP_WEEKLY", 4, minimum=0)

# The audit trail (kehu/audit): its HMAC key — KEHU_AUDIT_KEY, or a file holding it
# (KEHU_AUDIT_KEY_FILE); without either a development key is generated under the data
# directory and `kehu check --deploy` warns. Entries older than KEHU_AUDIT_RETENTION_DAYS are
# deleted nightly; below 183 days (the Cybersecurity Law's six months) the checks refuse to start.
KEHU_AUDIT_KEY = env_str("KEHU_AUDIT_KEY")
KEHU_AUDIT_KEY_FILE = env_str("KEHU_AUDIT_KEY_FILE")
# Field encryption at rest (kehu/core/crypto.py): data keys from KEHU_ENCRYPTION_KEYS (base64,
# the first encrypts) with KEHU_BLIND_INDEX_KEY, else the key file KEHU_KEY_FILE (written with
# mode 0600 on first use when missing). ID numbers are always encrypted; KEHU_ENCRYPT_FIELDS
# adds phones, emails and/or wechat (customers' and contacts'); after changing it, run
# `kehu keys rotate` to bring the stored values and their indexes in line.
KEHU_ENCRYPTION_KEYS = env_str("KEHU_ENCRYPTION_KEYS")
KEHU_BLIND_INDEX_KEY = env_str("KEHU_BLIND_INDEX_KEY")
KEHU_KEY_FILE = Path(env_str("KEHU_KEY_FILE", str(DATA_DIR / "keys")))
KEHU_ENCRYPT_FIELDS = env_choices("KEHU_ENCRYPT_FIELDS", ["phones", "emails", "wechat"])
KEHU_AUDIT_RETENTION_DAYS = env_int("KEHU_AUDIT_RETENTION_DAYS", 365, minimum=1)
# Customers with no order, communication or change for this many days are anonymised by
# the nightly job privacy.retention (PIPL art. 19: kept no longer than the purpose needs).
# 0 (the default) leaves it off: how long is a business decision, not ours.
KEHU_PRIVACY_RETENTION_DAYS = env_int("KEHU_PRIVACY_RETENTION_DAYS", 0, minimum=0)
# Where the seal job appends the chain's head, outside the database (audit/anchors.py).
KEHU_AUDIT_ANCHOR_FILE = env_str("KEHU_AUDIT_ANCHOR_FILE")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KEHU_LOG_LEVEL", "WARNING")},
}
