"""Gatehouse settings: one module, every deployment-specific value read from the environment.

The embedded default (no environment at all) is SQLite, tasks run in-process,
local-memory cache and console email: what the README quickstart runs.
Production sets DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY, EMAIL_BACKEND,
ALLOWED_HOSTS and BASE_URL; outside DEBUG the process refuses to start without a real
SECRET_KEY and an explicit EMAIL_BACKEND (see _refuse_insecure_defaults).

Rule ids: docs/rules.md.
"""
import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env") if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
DEVELOPMENT_SECRET_KEY = "insecure-development-key-change-me-in-production-0123456789"
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])

# Absolute URLs (emails, SAML SP entity ID and ACS, SCIM base) are built from
# this, never from the Host or X-Forwarded-* headers of a request.
BASE_URL = env.str("BASE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "config.admin.GatehouseAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI for /api/v1/docs/, served from our static files
    "axes",
    "accounts",
    "orgs",
    "teams",
    "api",
    "sso",
    "scim",
    "setuplinks",
    "webhooks",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # PostgreSQL or the SSO login state unreachable: 503 in each surface's format.
    "config.faults.FaultMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "orgs.middleware.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "orgs.context_processors.current_organization",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and a statement run DB_PREPARE_THRESHOLD times on a
    # connection prepared (planned once): the same SQL then costs a third of the time.
    # Set DB_PREPARE_THRESHOLD= (empty) behind a transaction-pooling PgBouncer < 1.21.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=int(env.str("DB_PREPARE_THRESHOLD", default="5") or 0) or None,
        # An unreachable or stalled server (a host that is gone, a restart half way) costs a
        # request this long before its 503, instead of the operating system's minutes.
        connect_timeout=env.int("DB_CONNECT_TIMEOUT_SECONDS", default=3))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Every Redis client (cache, Celery broker, SCIM request log) gives up after this long on a
# frozen or unreachable Redis, instead of redis-py's 5 s: a request then costs at most this
# per call, and the web processes keep serving what does not need Redis.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.5)
REDIS_CLIENT_OPTIONS = {"socket_timeout": REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": REDIS_CLIENT_OPTIONS}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = dict(REDIS_CLIENT_OPTIONS)
    CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
    CELERY_REDIS_SOCKET_TIMEOUT = CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_TIMEOUT_SECONDS
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gatehouse"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# A message that Redis cannot take is tried twice more, then config.enqueue decides
# (resume later, or run here): a request waits at most about 3 × REDIS_TIMEOUT_SECONDS.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
# Celery beat (`celery -A config beat`, one process per deployment) queues the jobs whose
# work is recorded in the database but whose message was lost (broker down when queued,
# worker killed): the SSO enable job and the removal emails.
SSO_RESUME_EVERY_SECONDS = env.int("SSO_RESUME_EVERY_SECONDS", default=60)
# Webhooks (webhooks.delivery): deliveries due — retries whose time came, events whose
# message was lost, endpoints whose worker died — are queued every WEBHOOK_DUE_EVERY_SECONDS.
WEBHOOK_DUE_EVERY_SECONDS = env.int("WEBHOOK_DUE_EVERY_SECONDS", default=15)
CELERY_BEAT_SCHEDULE = {"resume-sso-jobs": {"task": "sso.tasks.resume_sso_jobs",
                                            "schedule": float(SSO_RESUME_EVERY_SECONDS)},
                        "deliver-due-webhooks": {"task": "webhooks.tasks.deliver_due",
                                                 "schedule": float(WEBHOOK_DUE_EVERY_SECONDS)}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="gatehouse")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailBackend",
    "accounts.backends.IdentityProviderBackend",  # sessions started by SSO (never a password)
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "orgs:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sign-in rate limit (django-axes): per account and per IP address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
# Locked out: an account from one client address (the pair: an attacker elsewhere cannot
# lock a user out everywhere, issue 10), and a client address across accounts (stuffing).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HANDLER = env.str("AXES_HANDLER", default="axes.handlers.database.AxesDatabaseHandler")
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_VERBOSE = False

# Django's database sessions, with a new session written by one INSERT (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Served over https (BASE_URL says so): browsers are told to come back only over https
# (HSTS, a year by default; HSTS_SECONDS=0 turns it off), and plain http is redirected
# (not /healthz, which load balancers and docker-compose probe over http inside).
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=365 * 24 * 3600) if SESSION_COOKIE_SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading commits the whole domain to https in browsers for months; the operator decides
# (HSTS_PRELOAD=true, then hstspreload.org), so check --deploy does not ask for it.
SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SESSION_COOKIE_SECURE)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Behind PROXY_COUNT trusted proxies that terminate TLS, the last one's X-Forwarded-Proto
# says whether the browser used https. With no proxy the header is anyone's to forge: ignored.
if AXES_IPWARE_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Requests larger than this are refused (413/400) before a view sees them.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Gatehouse <no-reply@gatehouse.localhost>")


def _refuse_insecure_defaults() -> None:
    """Outside DEBUG, refuse to start (gunicorn, Celery and manage.py all import this module)
    with what is only fit for development: a secret key anyone can read here or guess, or
    emails (invitation and password-reset links) printed to the server's log because nobody
    chose an email backend. EMAIL_BACKEND set explicitly, even to the console, is a choice."""
    from django.core.exceptions import ImproperlyConfigured

    problems = []
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        problems.append("SECRET_KEY is the development default or shorter than 50 characters: set a long random "
                        "value, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(50))'")
    if "EMAIL_BACKEND" not in os.environ:
        problems.append("EMAIL_BACKEND is not set, so emails (with their sign-in links) would be printed to the "
                        "log: set it, e.g. django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST")
    if problems:
        raise ImproperlyConfigured("Refusing to start outside DEBUG: " + "; ".join(problems)
                                   + ". For local development set DEBUG=true (python3 dev.py run does).")


if not DEBUG:
    _refuse_insecure_defaults()

INVITATION_TTL_DAYS = 7
# Links mailed to an account's address (E14): verify it, or claim an unclaimed account. They
# work once and for this many days; one is sent per account and purpose at most this often.
EMAIL_LINK_TTL_DAYS = env.int("EMAIL_LINK_TTL_DAYS", default=3)
EMAIL_LINK_RESEND_SECONDS = env.int("EMAIL_LINK_RESEND_SECONDS", default=60)
# The SSO enable job removes non-admin members this many per transaction (E1).
SSO_REMOVAL_BATCH_SIZE = env.int("SSO_REMOVAL_BATCH_SIZE", default=1000)

# Refused ACS posts (§7): an organization's audit log records at most this many a window
# per client address, and this many a window in all; past either the poster gets 429 and the
# window's one sso.login_rejected "rejections_rate_limited" note is all that is written.
SSO_REJECTIONS_PER_CLIENT = env.int("SSO_REJECTIONS_PER_CLIENT", default=10)
SSO_REJECTIONS_PER_ORG = env.int("SSO_REJECTIONS_PER_ORG", default=100)
SSO_REJECTIONS_WINDOW_SECONDS = env.int("SSO_REJECTIONS_WINDOW_SECONDS", default=60)

# Outbound fetches (config.outbound; today an IdP's metadata URL): an organization starts at
# most this many per window, however asked; past it the API answers 429 with Retry-After.
OUTBOUND_FETCHES_PER_ORG = env.int("OUTBOUND_FETCHES_PER_ORG", default=10)
OUTBOUND_FETCH_WINDOW_SECONDS = env.int("OUTBOUND_FETCH_WINDOW_SECONDS", default=600)

# Setup links (setuplinks.limits): requests to a link's pages one client address may make per
# window, counted before the secret is looked up; past it 429 with Retry-After.
SETUP_LINK_REQUESTS_PER_CLIENT = env.int("SETUP_LINK_REQUESTS_PER_CLIENT", default=60)
SETUP_LINK_WINDOW_SECONDS = env.int("SETUP_LINK_WINDOW_SECONDS", default=60)
# Webhook delivery (webhooks.delivery): each POST ends within WEBHOOK_DEADLINE_SECONDS; a failed
# event is retried after WEBHOOK_RETRY_FIRST_SECONDS, doubling each time up to
# WEBHOOK_RETRY_MAX_SECONDS; an endpoint failing for WEBHOOK_DISABLE_AFTER_SECONDS (3 days) is
# disabled and the organization's administrators are emailed. One delivery task keeps going
# for at most WEBHOOK_DRAIN_SECONDS, then leaves the rest to the next (beat queues it).
WEBHOOK_DEADLINE_SECONDS = env.float("WEBHOOK_DEADLINE_SECONDS", default=5.0)
WEBHOOK_RETRY_FIRST_SECONDS = env.int("WEBHOOK_RETRY_FIRST_SECONDS", default=15)
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3600)
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=3 * 24 * 3600)
WEBHOOK_DRAIN_SECONDS = env.int("WEBHOOK_DRAIN_SECONDS", default=60)
WEBHOOK_ENDPOINTS_PER_ORG = env.int("WEBHOOK_ENDPOINTS_PER_ORG", default=10)

# The built-in SAML test identity provider (/sso/test-idp/), for `demo` and development only.
SAML_TEST_IDP = env.bool("SAML_TEST_IDP", default=False)
PAGE_SIZE = 50
# Audit log exports (orgs/audit_export.py) read this many rows per query, streamed as they come.
AUDIT_EXPORT_BATCH_SIZE = env.int("AUDIT_EXPORT_BATCH_SIZE", default=2000)

# Directory Sync (SCIM): at most SCIM_RATE_LIMIT requests per token in any SCIM_RATE_WINDOW_SECONDS
# (a moving window, scim/limits.py; 0 turns it off), body cap, largest page.
SCIM_RATE_LIMIT = env.int("SCIM_RATE_LIMIT", default=6000)
SCIM_RATE_WINDOW_SECONDS = env.int("SCIM_RATE_WINDOW_SECONDS", default=60)
SCIM_MAX_BODY_BYTES = env.int("SCIM_MAX_BODY_BYTES", default=2 * 1024 * 1024)
SCIM_MAX_RESULTS = 200

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ServiceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gatehouse API",
    "DESCRIPTION": (
        "Organizations, members, teams, credentials, SSO and Directory Sync.\n\n"
        "**Authentication.** `Authorization: Bearer <service token>`, or the dashboard session (unsafe methods "
        "need the `X-CSRFToken` header). A service token acts for its own organization only (any other "
        "organization's URL answers 404) with the role its creator had when it was created, and keeps working "
        "after its creator is demoted or leaves; revoke it to end its access. A session acts with the user's "
        "current role. Reads need membership; changes need the `admin` role unless an endpoint says otherwise.\n\n"
        "**Errors** are JSON: `{\"code\": \"<stable code>\", \"message\": \"…\", \"details\": {field: [messages]}}`.\n\n"
        "**Lists** are paginated with `limit` (default 50, at most 200) and `offset`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/v1/docs/ (Swagger UI) loads nothing from a CDN: its files come with
    # drf-spectacular-sidecar and are served as ours are (whitenoise after collectstatic).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge fetched from validator.swagger.io; an opened operation keeps its place in the URL.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets of fields named "role": the membership's and a group rule's.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "orgs.models.Membership.Role",
        "GroupRuleRoleEnum": "sso.models.GroupRule.Role",
        "SetupLinkStateEnum": "setuplinks.models.SetupLink.State",
        "EventTypeEnum": "api.endpoints.events.EVENT_TYPES",
        "WebhookStateEnum": "webhooks.models.WebhookEndpoint.State",
        "WebhookStateChangeEnum": "api.endpoints.webhooks.STATE_CHANGES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Django logs a refused request's path (a 404 on /invitations/<token>/): secrets masked.
    "filters": {"mask_secrets": {"()": "config.log_masking.SecretPathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_secrets"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
