"""Access logs never carry a secret (issue 10 item 4): the paths whose segments are secrets
(orgs/urls.py invitations, sso/urls.py link, accounts/urls.py reset, claim, verify-email,
setuplinks/urls.py)
are masked in gunicorn's access log and in Django's request log."""
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from config.log_masking import AccessLogger, SecretPathFilter, mask_secrets

SECRET = "hN3kq_Zp8sXw2Lr-0aB9cD7eF6gH5iJ4kL3mN2oP1qR"


@pytest.mark.parametrize(("path", "masked"), [
    (f"/invitations/{SECRET}/", "/invitations/…/"),
    (f"/sso/link/{SECRET}/", "/sso/link/…/"),
    (f"/accounts/reset/MTI/{SECRET}/", "/accounts/reset/…/…/"),
    (f"/accounts/claim/{SECRET}/?next=/x/", "/accounts/claim/…/?next=/x/"),
    (f"/accounts/verify-email/{SECRET}", "/accounts/verify-email/…"),
    ("/orgs/acme/settings/invitations/12/revoke/", "/orgs/acme/settings/invitations/12/revoke/"),
    ("/accounts/reset/done/", "/accounts/reset/…/"),
    ("/sso/acme/login/?next=/orgs/acme/", "/sso/acme/login/?next=/orgs/acme/"),
    (f"/setup/ghsetup_{SECRET}/", "/setup/…/"),
    (f"/setup/ghsetup_{SECRET}/idp/metadata/", "/setup/…/idp/metadata/"),
    (f'"POST /setup/ghsetup_{SECRET}/test/ HTTP/1.1"', '"POST /setup/…/test/ HTTP/1.1"'),
    (f"https://gatehouse.example.com/setup/ghsetup_{SECRET}/", "https://gatehouse.example.com/setup/…/"),
    ("/orgs/acme/settings/authentication/setup-links/3/revoke/",
     "/orgs/acme/settings/authentication/setup-links/3/revoke/"),
])
def test_secret_segments_are_masked_and_other_paths_kept(path, masked):
    assert mask_secrets(path) == masked


def test_the_access_log_line_carries_no_secret(caplog):
    config = Config()
    config.set("accesslog", "-")
    logger = AccessLogger(config)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/invitations/{SECRET}/", "PATH_INFO": f"/invitations/{SECRET}/",
               "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9",
               "HTTP_REFERER": f"https://gatehouse.example.com/accounts/claim/{SECRET}/",
               "HTTP_USER_AGENT": "Mozilla/5.0", "HTTP_COOKIE": "sessionid=abc"}
    response = SimpleNamespace(status="302 Found", sent=0,
                               headers=[("Location", f"/accounts/verify-email/{SECRET}/")])
    request = SimpleNamespace(headers=[("COOKIE", "sessionid=abc"), ("AUTHORIZATION", f"Bearer {SECRET}")])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    assert not [key for key, value in atoms.items() if SECRET in str(value)]
    assert atoms["r"] == "GET /invitations/…/ HTTP/1.1" and atoms["U"] == "/invitations/…/"
    assert atoms["f"] == "https://gatehouse.example.com/accounts/claim/…/"
    assert atoms["{authorization}i"] == "-" and atoms["{cookie}i"] == "-"
    # The whole line, as gunicorn writes it with its default format.
    logger.access_log.addHandler(caplog.handler)
    try:
        logger.access(response, request, environ, timedelta(milliseconds=3))
    finally:
        logger.access_log.removeHandler(caplog.handler)
    line = caplog.records[-1].getMessage()
    assert "/invitations/…/" in line and SECRET not in line


def test_django_request_log_masks_the_path():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "%s: %s",
                               ("Not Found", f"/invitations/{SECRET}/"), None)
    assert SecretPathFilter().filter(record) and record.getMessage() == "Not Found: /invitations/…/"
