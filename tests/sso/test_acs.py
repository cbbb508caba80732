"""The ACS against real signed responses (signxml): valid logins and every forgery of SPEC §7."""
import base64
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from accounts.models import User
from orgs.models import AuditEvent, Membership
from sso import saml
from sso.events import SSOEvents
from sso.models import SSOIdentity

from .conftest import assert_rejected, post_acs, start_login
from .idp import DS, SAML, TestIdP

pytestmark = pytest.mark.django_db


# Every verdict here is also reached with python3-saml's own schema and XPath handling
# (tests/sso/conftest.py runs each validation both ways and compares).


def test_python3_saml_is_patched_by_the_app_registry_not_by_importing_sso_saml():
    """Importing sso.saml leaves python3-saml as it is; SsoConfig.ready() puts the compiled
    XSD schema and XPath expressions in place, once."""
    script = textwrap.dedent("""
        from onelogin.saml2.xml_utils import OneLogin_Saml2_XML as XML
        stock = XML.query, XML.validate_xml
        import sso.saml
        assert (XML.query, XML.validate_xml) == stock, "importing sso.saml patched python3-saml"
        import django
        django.setup()
        assert XML.query is sso.saml._query_with_compiled_xpath, XML.query
        assert XML.validate_xml is sso.saml._validate_xml_with_cached_schema, XML.validate_xml
    """)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    # …and in this process too, which Django set up: the tests compare against the compiled copies.
    assert saml.OneLogin_Saml2_XML.query is saml._query_with_compiled_xpath


def test_sp_initiated_login_signs_in_and_redirects_to_next(client, enabled, idp, org, member_user):
    request_id, relay = start_login(client, next_url="/orgs/acme/settings/members/")
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="new.person@acme.test",
                                            in_response_to=request_id), relay)
    assert response.status_code == 302
    assert response["Location"] == "/orgs/acme/settings/members/"
    user = User.objects.get(email="new.person@acme.test")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert not user.has_usable_password()
    assert Membership.objects.get(org=org, user=user).role == "member"
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN, target_label=user.email).exists()


def test_session_key_rotates_at_login(client, enabled, idp):
    client.get("/sso/")
    request_id, relay = start_login(client)
    before = client.session.session_key
    post_acs(client, idp.encoded(org_slug="acme", name_id="rot@acme.test", in_response_to=request_id), relay)
    assert client.session.session_key != before


def test_idp_initiated_login_when_allowed(client, enabled, idp, org, admin_user):
    from sso.services import sso_configure

    sso_configure(org=org, actor=admin_user, allow_idp_initiated=True)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="tile@acme.test"), "/orgs/acme/")
    assert response.status_code == 302 and response["Location"] == "/orgs/acme/"
    assert "_auth_user_id" in client.session


def test_unsolicited_refused_when_not_allowed(client, enabled, idp, org):
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="tile@acme.test"), "")
    assert_rejected(client, response, org, "unsolicited_not_allowed")


def test_replay_refused(client, enabled, idp, org, admin_user):
    from sso.services import sso_configure

    sso_configure(org=org, actor=admin_user, allow_idp_initiated=True)
    body = idp.encoded(org_slug="acme", name_id="replay@acme.test")
    assert post_acs(client, body).status_code == 302
    other = type(client)()
    assert_rejected(other, post_acs(other, body), org, "replay")


def test_relay_state_is_single_use(client, enabled, idp, org):
    request_id, relay = start_login(client)
    assert post_acs(client, idp.encoded(org_slug="acme", name_id="a@acme.test", in_response_to=request_id),
                    relay).status_code == 302
    client.logout()
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="a@acme.test", in_response_to=request_id),
                        relay)
    assert_rejected(client, response, org, "unknown_in_response_to")


def _sp(client, idp, org, **kwargs):
    request_id, relay = start_login(client)
    kwargs.setdefault("name_id", "x@acme.test")
    kwargs.setdefault("in_response_to", request_id)
    return post_acs(client, idp.encoded(org_slug="acme", **kwargs), relay)


def test_expired_refused(client, enabled, idp, org):
    past = datetime.now(timezone.utc) - timedelta(hours=2)
    response = _sp(client, idp, org, not_before=past - timedelta(minutes=5), not_on_or_after=past)
    assert_rejected(client, response, org)


def test_not_yet_valid_refused(client, enabled, idp, org):
    future = datetime.now(timezone.utc) + timedelta(hours=2)
    response = _sp(client, idp, org, not_before=future, not_on_or_after=future + timedelta(minutes=5))
    assert_rejected(client, response, org, "not_yet_valid")


def test_wrong_audience_refused(client, enabled, idp, org):
    assert_rejected(client, _sp(client, idp, org, audience="http://testserver/sso/other/metadata/"), org,
                    "wrong_audience")


def test_missing_audience_refused(client, enabled, idp, org):
    assert_rejected(client, _sp(client, idp, org, include_audience=False), org, "audience_missing")


def test_wrong_destination_refused(client, enabled, idp, org):
    assert_rejected(client, _sp(client, idp, org, destination="http://testserver/sso/other/acs/"), org,
                    "wrong_destination")


def test_destination_that_is_a_prefix_refused(client, enabled, idp, org):
    assert_rejected(client, _sp(client, idp, org, destination="http://testserver/sso/acme/"), org,
                    "wrong_destination")


def test_recipient_must_match_exactly(client, enabled, idp, org):
    assert_rejected(client, _sp(client, idp, org, recipient="http://testserver/sso/acme/acs/extra"), org,
                    "wrong_recipient")


def test_unknown_in_response_to_refused(client, enabled, idp, org):
    request_id, relay = start_login(client)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="x@acme.test", in_response_to="_forged"),
                        relay)
    assert_rejected(client, response, org, "wrong_in_response_to")
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="x@acme.test", in_response_to="_forged"), "")
    assert_rejected(client, response, org, "unknown_in_response_to")


def test_unsigned_assertion_refused(client, enabled, idp, org):
    assert_rejected(client, _sp(client, idp, org, sign_assertion=False), org, "assertion_unsigned")


def test_signature_stripped_refused(client, enabled, idp, org):
    def strip(response, assertion):
        assertion.remove(assertion.find(f"{{{DS}}}Signature"))

    assert_rejected(client, _sp(client, idp, org, wrap=strip), org, "assertion_unsigned")


def test_signed_by_another_orgs_key_refused(client, enabled, idp, org):
    assert_rejected(client, _sp(client, idp, org, key_name="other-org-idp"), org, "invalid_signature")


def test_sha1_refused(client, enabled, idp, org):
    assert_rejected(client, _sp(client, idp, org, sha1=True), org, "sha1")


def test_tampered_nameid_after_signing_refused(client, enabled, idp, org):
    def tamper(response, assertion):
        assertion.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = "ada@acme.test"

    assert_rejected(client, _sp(client, idp, org, wrap=tamper), org, "invalid_signature")


# XML signature wrapping ------------------------------------------------------


def _evil_copy(assertion, name_id="ada@acme.test", new_id=None):
    import copy

    evil = copy.deepcopy(assertion)
    sig = evil.find(f"{{{DS}}}Signature")
    if sig is not None:
        evil.remove(sig)
    evil.find(f"{{{SAML}}}Subject/{{{SAML}}}NameID").text = name_id
    if new_id:
        evil.set("ID", new_id)
    return evil


def test_xsw_second_unsigned_assertion_before_signed_refused(client, enabled, idp, org):
    def wrap(response, assertion):
        response.insert(list(response).index(assertion), _evil_copy(assertion, new_id="_evil"))

    assert_rejected(client, _sp(client, idp, org, wrap=wrap), org, "xsw_assertion_count")


def test_xsw_evil_assertion_with_same_id_refused(client, enabled, idp, org):
    def wrap(response, assertion):
        response.append(_evil_copy(assertion))

    assert_rejected(client, _sp(client, idp, org, wrap=wrap), org, "xsw_duplicate_id")


def test_xsw_signed_assertion_hidden_in_extensions_refused(client, enabled, idp, org):
    def wrap(response, assertion):
        response.remove(assertion)
        ext = etree.SubElement(response, "{urn:oasis:names:tc:SAML:2.0:protocol}Extensions")
        ext.append(assertion)
        response.insert(2, ext)
        response.append(_evil_copy(assertion, new_id="_evil2"))

    assert_rejected(client, _sp(client, idp, org, wrap=wrap), org)


def test_xsw_signed_assertion_inside_evil_assertion_refused(client, enabled, idp, org):
    def wrap(response, assertion):
        evil = _evil_copy(assertion, new_id="_evil3")
        response.remove(assertion)
        evil.find(f"{{{SAML}}}Subject").append(assertion)
        response.append(evil)

    assert_rejected(client, _sp(client, idp, org, wrap=wrap), org)


def test_comment_injected_nameid_refused(client, enabled, idp, org):
    body = idp.response(org_slug="acme", name_id="ada@acme.test.evil.test")
    # Signed over the text with a comment spliced in: exc-c14n drops comments, so
    # the signature still verifies, and a naive reader sees only "ada@acme.test".
    request_id, relay = start_login(client)
    body = idp.response(org_slug="acme", name_id="ada@acme.test.evil.test", in_response_to=request_id)
    body = body.replace(b"ada@acme.test.evil.test</saml:NameID>", b"ada@acme.test<!---->.evil.test</saml:NameID>")
    response = post_acs(client, base64.b64encode(body).decode(), relay)
    assert_rejected(client, response, org, "name_id_comment")


def test_dtd_entity_payload_refused(client, enabled, idp, org):
    request_id, relay = start_login(client)
    body = idp.response(org_slug="acme", name_id="x@acme.test", in_response_to=request_id)
    body = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + body
    response = post_acs(client, base64.b64encode(body).decode(), relay)
    assert_rejected(client, response, org, "dtd")


def test_billion_laughs_refused(client, enabled, org):
    body = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>')
    assert_rejected(client, post_acs(client, base64.b64encode(body).decode()), org, "dtd")


def test_non_base64_refused(client, enabled, org):
    assert_rejected(client, post_acs(client, "this is *not* base64!!"), org, "not_base64")


def test_missing_response_refused(client, enabled, org):
    assert_rejected(client, client.post("/sso/acme/acs/", {}), org, "missing_response")


def test_oversized_refused(client, enabled, org):
    huge = base64.b64encode(b"<x>" + b"a" * (400 * 1024) + b"</x>").decode()
    assert_rejected(client, post_acs(client, huge), org, "too_large")


def test_garbage_xml_refused(client, enabled, org):
    assert_rejected(client, post_acs(client, base64.b64encode(b"<not-closed").decode()), org, "malformed_xml")


@pytest.mark.parametrize("relay_state", ["//evil.test", "/\\evil.test", "javascript:alert(1)",
                                         "http://testserver\\@evil.test", "https://evil.test/"])
def test_relay_state_open_redirect_refused(client, enabled, idp, org, admin_user, relay_state):
    from sso.services import sso_configure

    sso_configure(org=org, actor=admin_user, allow_idp_initiated=True)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="r@acme.test"), relay_state)
    assert_rejected(client, response, org, "unsafe_relay_state")


@pytest.mark.parametrize("next_url", ["//evil.test", "/\\evil.test", "javascript:alert(1)",
                                      "http://testserver\\@evil.test"])
def test_login_next_open_redirect_falls_back_home(client, enabled, idp, next_url):
    from urllib.parse import quote

    request_id, relay = start_login(client, next_url=quote(next_url, safe=""))
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="n@acme.test", in_response_to=request_id),
                        relay)
    assert response.status_code == 302 and response["Location"] == "/"


def test_other_org_response_cannot_log_into_this_org(client, enabled, idp, org, other_org, outsider):
    """Settings come from the org in the URL: a response addressed to another org fails here."""
    from sso.services import sso_configure

    sso_configure(org=org, actor=None, allow_idp_initiated=True)
    body = idp.encoded(org_slug="other", name_id="x@acme.test")
    assert_rejected(client, post_acs(client, body), org, "wrong_destination")


def test_unknown_org_acs_is_404(client, db):
    assert client.post("/sso/nope/acs/", {"SAMLResponse": "x"}).status_code == 404


def test_acs_get_not_allowed(client, enabled):
    assert client.get("/sso/acme/acs/").status_code == 405


def test_state_bound_to_browser_cookie_on_https(client, enabled, idp, org, settings):
    settings.BASE_URL = "https://testserver"
    request_id, relay = start_login(client)
    thief = type(client)()
    body = idp.encoded(org_slug="acme", base_url="https://testserver", name_id="c@acme.test",
                       in_response_to=request_id)
    response = thief.post("/sso/acme/acs/", {"SAMLResponse": body, "RelayState": relay}, secure=True)
    assert_rejected(thief, response, org, "unknown_in_response_to")
    cookie = client.cookies["gh_sso_state"]
    assert cookie["samesite"] == "None" and cookie["secure"]


def test_metadata_served(client, org):
    response = client.get("/sso/acme/metadata/")
    assert response.status_code == 200
    assert b"http://testserver/sso/acme/acs/" in response.content
    assert b'entityID="http://testserver/sso/acme/metadata/"' in response.content
    # Any slug's metadata is served, so it confirms no slug (tests/sso/test_disclosure.py).
    assert b'entityID="http://testserver/sso/nope/metadata/"' in client.get("/sso/nope/metadata/").content
