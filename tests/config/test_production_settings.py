"""Production-safe by default (issue 10 item 4): outside DEBUG the settings refuse the
development secret key and an email backend nobody chose; https brings HSTS, Secure
cookies and the redirect; check --deploy is clean in the README's production settings."""
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = str(ROOT / "config" / "settings.py")
LONG_KEY = "tests-of-production-settings-" + "0123456789abcdef" * 3
PRODUCTION = {  # what README "Running in production" and docker-compose.yml set
    "SECRET_KEY": LONG_KEY, "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "BASE_URL": "https://gatehouse.example.com", "ALLOWED_HOSTS": "gatehouse.example.com,127.0.0.1",
    "PROXY_COUNT": "1",
}
NAMES = ("DEBUG", "SECRET_KEY", "EMAIL_BACKEND", "BASE_URL", "ALLOWED_HOSTS", "PROXY_COUNT", "HSTS_SECONDS",
         "HSTS_PRELOAD", "SECURE_SSL_REDIRECT")


def load(monkeypatch, **environment) -> dict:
    """config/settings.py evaluated afresh under exactly these variables."""
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(SETTINGS)


@pytest.mark.parametrize("key", [None, "insecure-development-key-change-me-in-production-0123456789", "short-key",
                                 "a" * 60])
def test_outside_debug_a_default_or_weak_secret_key_refuses_to_start(monkeypatch, key):
    environment = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
    if key is not None:
        environment["SECRET_KEY"] = key
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load(monkeypatch, **environment)


def test_outside_debug_an_email_backend_nobody_chose_refuses_to_start(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_BACKEND"):
        load(monkeypatch, SECRET_KEY=LONG_KEY)
    # Chosen explicitly, even the console is the operator's decision.
    console = "django.core.mail.backends.console.EmailBackend"
    assert load(monkeypatch, SECRET_KEY=LONG_KEY, EMAIL_BACKEND=console)["EMAIL_BACKEND"] == console


def test_debug_starts_with_the_development_defaults(monkeypatch):
    loaded = load(monkeypatch, DEBUG="true")
    assert loaded["DEBUG"] and loaded["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert loaded["SECURE_HSTS_SECONDS"] == 0 and not loaded["SESSION_COOKIE_SECURE"]


def test_the_process_itself_refuses_to_start(tmp_path):
    """What gunicorn and manage.py see: the import of the settings fails, nothing is served."""
    environment = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ImproperlyConfigured: Refusing to start outside DEBUG" in result.stderr


def test_https_base_url_brings_hsts_secure_cookies_and_the_redirect(monkeypatch):
    loaded = load(monkeypatch, **PRODUCTION)
    assert loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"]
    assert loaded["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600 and loaded["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert loaded["SECURE_SSL_REDIRECT"] and loaded["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$"]
    assert loaded["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert load(monkeypatch, **PRODUCTION, HSTS_SECONDS="600")["SECURE_HSTS_SECONDS"] == 600


def test_the_forwarded_proto_header_is_trusted_only_behind_a_proxy(monkeypatch):
    loaded = load(monkeypatch, **{**PRODUCTION, "PROXY_COUNT": "0"})
    assert "SECURE_PROXY_SSL_HEADER" not in loaded and loaded["SESSION_COOKIE_SECURE"]


def test_plain_http_sets_no_hsts(monkeypatch):
    loaded = load(monkeypatch, **{**PRODUCTION, "BASE_URL": "http://gatehouse.internal"})
    assert loaded["SECURE_HSTS_SECONDS"] == 0 and not loaded["SESSION_COOKIE_SECURE"]
    assert not loaded["SECURE_SSL_REDIRECT"]


def test_check_deploy_is_clean_in_the_documented_production_settings():
    environment = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings", **PRODUCTION}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
