import base64
import functools
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from orgs.models import AuditEvent
from sso import saml
from sso.events import SSOEvents
from sso.services import sso_configure, sso_enable

from .idp import TestIdP


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.BASE_URL = "http://testserver"


# Every SAML verdict of these tests, both ways. sso.saml validates with compiled copies
# of python3-saml's XSD schema and XPath expressions (SsoConfig.ready() installs them):
# each validation below also runs with the library's stock handling, and both must give
# the same answer: the same value, or the same refusal with the same code and reason.
SAML_VERDICTS = ("validate_response", "validate_logout", "parse_idp_metadata")


def _outcome(function, compiled: bool, args, kwargs):
    saml.use_schema_cache(compiled)
    try:
        return function(*args, **kwargs), None
    except Exception as exc:  # noqa: BLE001 — compared, then raised again
        return None, exc
    finally:
        saml.use_schema_cache(True)


def _described(error):
    return None if error is None else (type(error), getattr(error, "code", None), str(error))


def _stock_and_compiled(function):
    @functools.wraps(function)
    def compared(*args, **kwargs):
        stock, stock_error = _outcome(function, False, args, kwargs)
        value, error = _outcome(function, True, args, kwargs)  # the production path: its answer is returned
        assert (stock, _described(stock_error)) == (value, _described(error)), (
            f"{function.__name__}: python3-saml's stock handling and the compiled copies disagree")
        if error is not None:
            raise error
        return value

    return compared


@pytest.fixture(autouse=True)
def _stock_and_compiled_agree(monkeypatch):
    for name in SAML_VERDICTS:
        monkeypatch.setattr(saml, name, _stock_and_compiled(getattr(saml, name)))


@pytest.fixture
def idp():
    return TestIdP()


@pytest.fixture
def connection(org, admin_user, idp):
    return sso_configure(org=org, actor=admin_user, idp_entity_id=idp.entity_id,
                         idp_sso_url="https://idp.test/sso", certificates=[idp.cert_pem],
                         attribute_preset="okta")


@pytest.fixture
def enabled(connection, org, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    connection.refresh_from_db()
    return connection


def start_login(client, org_slug="acme", next_url=None):
    """GET the SP login; returns (request_id, relay_state)."""
    url = f"/sso/{org_slug}/login/" + (f"?next={next_url}" if next_url else "")
    response = client.get(url)
    assert response.status_code == 302, response.content
    query = parse_qs(urlsplit(response["Location"]).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    request_id = etree.fromstring(xml).get("ID")
    return request_id, query["RelayState"][0]


def post_acs(client, saml_response, relay_state="", org_slug="acme"):
    data = {"SAMLResponse": saml_response}
    if relay_state is not None:
        data["RelayState"] = relay_state
    return client.post(f"/sso/{org_slug}/acs/", data)


def rejections(org):
    return list(AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN_REJECTED).order_by("pk"))


def assert_rejected(client, response, org, code=None, status=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    if status:
        assert response.status_code == status
    assert "_auth_user_id" not in client.session
    events = rejections(org)
    assert events, "a rejected response must leave an audit event"
    if code:
        assert events[-1].new["code"] == code, events[-1].new
    return events[-1]


def verify_domain_now(org, domain: str):
    """`org` verified `domain` (DNS TXT, as domain_verify records it), without DNS."""
    from django.utils import timezone

    from sso.models import VerifiedDomain

    return VerifiedDomain.objects.create(org=org, domain=domain, txt_token="t", verified_at=timezone.now())
