"""Configuring SSO from the IdP's metadata URL (issue 10 item 2), in the API and the
dashboard: the server fetches only for an organization whose plan includes SSO, at most
OUTBOUND_FETCHES_PER_ORG times a window per organization (past it 429 with Retry-After;
without the shared cache 503), and through config.outbound — replaced here by `fetches`,
the one seam for callers (tests/config/test_outbound.py tests the network side)."""
import html

import pytest

from config import outbound
from orgs.services import organization_set_plan
from sso.metadata import MetadataFetchError, fetch_metadata
from sso.models import SSOConnection

pytestmark = pytest.mark.django_db
URL = "https://idp.test/metadata"
PAGE = "/orgs/acme/settings/authentication/"
CONFIGURE_URL = PAGE + "idp/metadata-url/"
PLAN_REFUSAL = "Single sign-on is not included in Acme's Scaler plan."


class Fetches(list):
    """Every outbound fetch asked for, as (url, keyword arguments); answers `self.answer`."""

    answer: outbound.Response | Exception

    def __call__(self, url, **kwargs):
        self.append((url, kwargs))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def fetches(monkeypatch, idp) -> Fetches:
    recorder = Fetches()
    recorder.answer = outbound.Response(status=200, headers={}, body=idp.metadata_xml().encode())
    monkeypatch.setattr(outbound, "fetch", recorder)
    return recorder


@pytest.fixture
def limit(settings):
    settings.OUTBOUND_FETCHES_PER_ORG = 3
    settings.OUTBOUND_FETCH_WINDOW_SECONDS = 600


def put_url(client, org_slug="acme"):
    return client.put(f"/api/v1/organizations/{org_slug}/sso", {"metadata_url": URL},
                      content_type="application/json")


def without_sso_in_plan(org):
    organization_set_plan(org=org, plan="scaler", sso_addon=False, actor=None)
    org.refresh_from_db()


def test_the_idp_is_configured_from_the_fetched_metadata(admin_client, org, fetches):
    response = put_url(admin_client)
    assert response.status_code == 200, response.json()
    assert response.json()["idp_sso_url"] == "https://idp.test/sso"
    assert fetches == [(URL, {"headers": {"Accept": "application/samlmetadata+xml, application/xml;q=0.9, */*;q=0.1"},
                              "deadline": 5, "max_bytes": 1024 * 1024})]


@pytest.mark.parametrize("answer, message", [
    (outbound.Response(status=404, headers={}, body=b"not here"), "The metadata URL answered HTTP 404."),
    (outbound.Response(status=200, headers={}, body=b"\xff\xfe<x/>"), "The metadata is not UTF-8 text."),
    (outbound.OutboundError("idp.test did not answer within 5 seconds."), "idp.test did not answer within 5 seconds."),
])
def test_a_failed_fetch_is_a_400_that_says_why(admin_client, org, fetches, answer, message):
    fetches.answer = answer
    response = put_url(admin_client)
    assert response.status_code == 400
    assert response.json() == {"code": "metadata_fetch_failed", "message": message}
    assert not SSOConnection.objects.filter(org=org).exists()


def test_fetch_metadata_refuses_private_addresses_and_http_without_the_seam():
    """The real config.outbound behind sso.metadata: refused before any connection."""
    for url in ("https://127.0.0.1/m", "https://10.0.0.1/m", "https://[::1]/m", "https://[::ffff:10.0.0.1]/m",
                "http://example.com/m", "ftp://x/", "https://user:pw@example.com/"):
        with pytest.raises(MetadataFetchError):
            fetch_metadata(url)


# Only on plans that include SSO ------------------------------------------------------------


def test_api_fetches_nothing_without_sso_in_the_plan(admin_client, org, fetches, idp):
    without_sso_in_plan(org)
    response = put_url(admin_client)
    assert response.status_code == 403
    assert response.json()["code"] == "sso_unavailable"
    assert response.json()["message"].startswith(PLAN_REFUSAL)
    assert fetches == [] and not SSOConnection.objects.filter(org=org).exists()
    # The rest of the configuration needs no plan: an organization may prepare before upgrading.
    pasted = admin_client.put("/api/v1/organizations/acme/sso", {"metadata_xml": idp.metadata_xml()},
                              content_type="application/json")
    assert pasted.status_code == 200 and fetches == []


def test_dashboard_fetches_nothing_without_sso_in_the_plan(admin_client, org, fetches):
    assert f'action="{CONFIGURE_URL}"' in admin_client.get(PAGE).content.decode()  # the form, while SSO is in the plan
    without_sso_in_plan(org)
    page = admin_client.get(PAGE).content.decode()
    assert 'data-testid="metadata-url-plan"' in page and f'action="{CONFIGURE_URL}"' not in page
    response = admin_client.post(CONFIGURE_URL, {"metadata_url": URL})
    assert response.status_code == 403
    assert PLAN_REFUSAL in html.unescape(response.content.decode())
    assert fetches == [] and not SSOConnection.objects.filter(org=org).exists()


def test_with_the_sso_add_on_the_fetch_is_allowed(admin_client, org, fetches):
    organization_set_plan(org=org, plan="scaler", sso_addon=True, actor=None)
    assert put_url(admin_client).status_code == 200 and len(fetches) == 1


# At most OUTBOUND_FETCHES_PER_ORG a window, per organization ---------------------------------


def test_api_answers_429_with_retry_after_past_the_organizations_limit(admin_client, org, other_org, outsider,
                                                                       outsider_client, fetches, limit):
    for _ in range(3):
        assert put_url(admin_client).status_code == 200
    refused = put_url(admin_client)
    assert refused.status_code == 429
    assert refused.json() == {"code": "rate_limited", "message": refused.json()["message"]}
    assert refused.json()["message"].startswith("Acme has reached its limit of 3 fetches from other servers every "
                                                "10 minutes. Try again in ")
    assert 1 <= int(refused["Retry-After"]) <= 600
    assert len(fetches) == 3
    # Another organization has its own count.
    organization_set_plan(org=other_org, plan="enterprise", sso_addon=False, actor=None)
    assert put_url(outsider_client, "other").status_code == 200 and len(fetches) == 4


def test_dashboard_shows_the_limit_with_retry_after(admin_client, org, fetches, limit, settings):
    settings.OUTBOUND_FETCHES_PER_ORG = 1
    assert admin_client.post(CONFIGURE_URL, {"metadata_url": URL}).status_code == 302
    refused = admin_client.post(CONFIGURE_URL, {"metadata_url": URL})
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 600
    assert "Acme has reached its limit of 1 fetch from other servers every 10 minutes." in html.unescape(
        refused.content.decode())
    assert len(fetches) == 1


def test_without_the_shared_cache_no_fetch_is_made(admin_client, org, fetches, redis_cache):
    """Fails closed (orgs.limits says why): 503 with Retry-After, nothing fetched."""
    assert put_url(admin_client).status_code == 200
    redis_cache.kill()
    response = put_url(admin_client)
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response.json()["code"] == "unavailable"
    assert response.json()["message"] == ("Fetching from other servers is briefly unavailable. "
                                          "Try again in a few seconds.")
    assert len(fetches) == 1
