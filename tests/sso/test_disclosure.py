"""Disclose nothing new (issue 10 item 5), SAML side: the SP metadata and the login URL
confirm no slug, and a test login tells an organization nothing about addresses that are
not its members. (/sso/ discovery: tests/sso/test_start.py; the API's lists of the caller's
organizations: tests/api/test_organizations.py.)"""
import re

import pytest
from lxml import etree

from orgs.models import AuditEvent
from sso.events import SSOEvents
from sso.models import SPKey, SSOIdentity
from orgs.services import membership_add
from sso.services import sso_configure, sso_enable, sso_login
from tests.conftest import make_user

from .conftest import post_acs
from .test_test_connection import start_test

pytestmark = pytest.mark.django_db

MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def _key_descriptors(content: bytes) -> int:
    return len(etree.fromstring(content).findall(f".//{{{MD}}}KeyDescriptor"))


def test_metadata_answers_alike_for_an_unknown_slug_and_an_organization_without_sso(client, org):
    known, unknown = client.get("/sso/acme/metadata/"), client.get("/sso/zzzz/metadata/")
    assert known.status_code == unknown.status_code == 200
    assert known["Content-Type"] == unknown["Content-Type"] == "application/samlmetadata+xml"
    # validUntil is "now + 2 days" at each request's second: the two may straddle one.
    def same(content):
        return re.sub(rb'validUntil="[^"]*"', b"", content)

    assert same(known.content.replace(b"/sso/acme/", b"/sso/zzzz/")) == same(unknown.content)
    assert b"validUntil=" in known.content
    assert _key_descriptors(known.content) == 0
    # Nothing made or written for a request nobody authenticated.
    assert not SPKey.objects.exists() and not AuditEvent.objects.filter(event=SSOEvents.SP_KEY_CREATED).exists()


def test_metadata_carries_the_signing_certificate_once_sso_is_configured(client, org, connection):
    assert _key_descriptors(client.get("/sso/acme/metadata/").content) == 1
    assert SPKey.objects.filter(org=org).count() == 1


def test_metadata_of_a_slug_no_organization_could_have_is_404(client):
    assert client.get("/sso/" + "a" * 200 + "/metadata/").status_code == 404


def test_the_login_url_answers_alike_for_an_unknown_slug_and_an_organization_without_sso(client, org, connection):
    known, unknown = client.get("/sso/acme/login/"), client.get("/sso/zzzz/login/")
    assert known.status_code == unknown.status_code == 404
    assert known.content == unknown.content and b"not enabled for this organization" in known.content


@pytest.mark.parametrize("path", ["acs", "sls"])
def test_the_acs_and_sls_answer_alike_for_an_unknown_slug_and_an_organization_without_sso(client, org, path):
    before = AuditEvent.objects.filter(org=org).count()
    for method in ("get", "post") if path == "sls" else ("post",):
        known = getattr(client, method)(f"/sso/acme/{path}/", {"SAMLResponse": "x", "SAMLRequest": "x"})
        unknown = getattr(client, method)(f"/sso/zzzz/{path}/", {"SAMLResponse": "x", "SAMLRequest": "x"})
        assert known.status_code == unknown.status_code == 404
        assert known.content == unknown.content and b"Acme" not in known.content
    assert AuditEvent.objects.filter(org=org).count() == before


def _diagnosis(admin_client, idp, email) -> list[str]:
    request_id, relay = start_test(admin_client)
    response = post_acs(admin_client, idp.encoded(org_slug="acme", name_id=email, in_response_to=request_id), relay)
    assert response.status_code == 200, response.content[:300]
    page = response.content.decode().replace(email, "EMAIL")
    return re.findall(r"EMAIL[^<]*", page)


def test_test_login_says_the_same_for_no_account_not_a_member_and_linked_elsewhere(
        admin_client, enabled, org, idp, outsider, other_org, django_capture_on_commit_callbacks):
    # An account linked to another organization's SSO: that is the other organization's to know.
    linked = make_user("linked@other.test")
    membership_add(org=other_org, user=linked, actor=None)
    other = sso_configure(org=other_org, actor=outsider, idp_entity_id=idp.entity_id + "other",
                          idp_sso_url="https://idp.test/sso", certificates=[idp.cert_pem])
    other_org.plan = org.plan
    other_org.save(update_fields=["plan"])
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=other_org, actor=outsider)
    other.refresh_from_db()
    sso_login(org=other_org, name_id=linked.email, attributes={}, connection=other)
    assert SSOIdentity.objects.filter(org=other_org, user=linked).exists()

    answers = [_diagnosis(admin_client, idp, email)
               for email in ("nobody@nowhere.test", outsider.email, linked.email)]
    assert answers[0] == answers[1] == answers[2]
    assert any("is not a member of Acme; a real sign-in would add it just in time if allowed" in line
               for line in answers[0])
    assert not any("linked to another organization" in line for line in answers[2])
