"""Settings of the bare SP: a minimal, correct Django + python3-saml service provider,
the baseline bench/side_by_side.py measures Gatehouse's sign-in against. A project of
its own (settings, urls, one views module); it imports nothing of Gatehouse.

One SP for one IdP, configured from the environment:

    SECRET_KEY          50+ characters
    DATABASE_URL        postgres://user@host:port/name (sessions and users live there)
    REDIS_URL           redis://host:port/db (the replay cache of assertion IDs)
    CONN_MAX_AGE        seconds a database connection is kept (60, as Gatehouse's default)
    BASE_URL            where it is served, e.g. http://127.0.0.1:8001 (no path): the SAML
                        URLs are built from it, never from the request's Host header
    SAML_SLUG           the <slug> of /sso/<slug>/login/ and /sso/<slug>/acs/ (any other: 404)
    SAML_IDP_ENTITY_ID, SAML_IDP_SSO_URL, SAML_IDP_CERT_FILE (PEM)   the IdP

Migrate and serve from bench/ (so `bare_sp` is importable and Gatehouse is not):

    cd bench && python -m django migrate --settings bare_sp.settings
    cd bench && gunicorn bare_sp.wsgi:application
"""
import os
from pathlib import Path
from urllib.parse import urlsplit

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
BASE_URL = os.environ["BASE_URL"].rstrip("/")

SAML_SLUG = os.environ["SAML_SLUG"]
SAML_IDP_ENTITY_ID = os.environ["SAML_IDP_ENTITY_ID"]
SAML_IDP_SSO_URL = os.environ["SAML_IDP_SSO_URL"]
SAML_IDP_CERT = Path(os.environ["SAML_IDP_CERT_FILE"]).read_text()

INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"]
# Django's startproject middleware, without messages (no app uses them).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bare_sp.urls"
WSGI_APPLICATION = "bare_sp.wsgi.application"

_database = urlsplit(os.environ["DATABASE_URL"])
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql", "NAME": _database.path.lstrip("/"),
    "USER": _database.username or "", "PASSWORD": _database.password or "",
    "HOST": _database.hostname or "", "PORT": _database.port or "",
    # Persistent connections, as production deployments set them (Django's default opens one per request).
    "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "60")), "CONN_HEALTH_CHECKS": True,
}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"],
                      "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}}}

# Django's database sessions. The pending AuthnRequest ID lives in the session, so the
# IdP's cross-site POST must carry the session cookie: SameSite=None, which browsers
# accept only with Secure (https). On plain http the cookie stays Lax, and a browser then
# completes only IdP-initiated sign-ins (an SP-initiated response is refused, never let in).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = BASE_URL.startswith("https://")
SESSION_COOKIE_SAMESITE = "None" if SESSION_COOKIE_SECURE else "Lax"
SESSION_COOKIE_HTTPONLY = True

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
