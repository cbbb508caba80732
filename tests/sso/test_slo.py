"""Single logout at /sso/<org>/sls/ (SPEC E13, §3, §7), both directions and both bindings,
against messages built and signed by the independent test IdP (tests/sso/idp.py: lxml,
signxml, `cryptography`), never by python3-saml."""
import base64
from datetime import datetime, timedelta, timezone
from urllib.parse import quote_plus, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from lxml import etree

from orgs.models import AuditEvent
from sso.events import SSOEvents
from sso.models import SPKey, SSOSession
from sso.services import sso_configure

from .conftest import post_acs, start_login
from .idp import DS, SAML, SAMLP, SUCCESS, TestIdP, deflate, split_redirect, verify_query

pytestmark = pytest.mark.django_db

SLS = "/sso/acme/sls/"
SLS_URL = "http://testserver/sso/acme/sls/"
IDP_SLO = "https://idp.test/slo"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
ALICE, BOB = "alice@acme.test", "bob@acme.test"


@pytest.fixture
def slo(enabled, org, admin_user):
    """Acme enforces SSO and its IdP has a single logout URL."""
    return sso_configure(org=org, actor=admin_user, idp_slo_url=IDP_SLO)


def sign_in(idp, email, client=None) -> Client:
    """A browser signed in through Acme's IdP (the ACS), as a real sign-in leaves it."""
    client = client or Client()
    request_id, relay = start_login(client)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id=email, in_response_to=request_id), relay)
    assert response.status_code == 302, response.content[:500]
    return client


def alive(client) -> bool:
    """Is this browser's Gatehouse session still in the database?"""
    key = client.cookies["sessionid"].value
    return Session.objects.filter(session_key=key).exists()


def sp_certificate(client) -> str:
    """The SP signing certificate as an IdP reads it from the SP metadata."""
    metadata = etree.fromstring(client.get("/sso/acme/metadata/").content)
    (body,) = metadata.xpath("//md:KeyDescriptor[@use='signing']//ds:X509Certificate/text()",
                             namespaces={"md": MD, "ds": DS})
    lines = [body.strip()[i:i + 64] for i in range(0, len(body.strip()), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def logouts(org):
    return list(AuditEvent.objects.filter(org=org, event=SSOEvents.LOGOUT).order_by("pk"))


def refusals(org):
    return list(AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN_REJECTED).order_by("pk"))


def send(client, idp, root, *, binding, kind="SAMLRequest", org_slug="acme", relay_state=None, **signing):
    """Deliver a logout message to the SLS in `binding` ("redirect" or "post")."""
    if binding == "redirect":
        query = idp.redirect_query(kind, root, relay_state=relay_state, **signing)
        return client.get(f"/sso/{org_slug}/sls/?{query}")
    return client.post(f"/sso/{org_slug}/sls/", idp.post_body(root, kind=kind, relay_state=relay_state, **signing))


def request_for(idp, binding, **kwargs):
    return idp.logout_request(org_slug=kwargs.pop("org_slug", "acme"), placeholder=binding == "post", **kwargs)


# Metadata and the SP key -----------------------------------------------------------


def test_metadata_carries_the_sp_signing_certificate_and_both_sls_bindings(client, org, connection):
    first = client.get("/sso/acme/metadata/")
    assert first.status_code == 200
    root = etree.fromstring(first.content)
    services = {(s.get("Binding"), s.get("Location")) for s in root.iter(f"{{{MD}}}SingleLogoutService")}
    assert services == {("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", SLS_URL),
                        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", SLS_URL)}
    key = SPKey.objects.get(org=org)
    assert sp_certificate(client).split() == key.certificate_pem.split()
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(key.certificate_pem.encode())
    assert certificate.public_key().key_size == 2048
    assert certificate.signature_hash_algorithm.name == "sha256"
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc > timedelta(days=3600)
    # Made once: the second request reads it, and the audit log says when it was made.
    assert client.get("/sso/acme/metadata/").content == first.content
    assert SPKey.objects.filter(org=org).count() == 1
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.SP_KEY_CREATED).count() == 1


def test_each_organization_has_its_own_sp_key(client, org, connection, other_org, outsider, idp):
    from sso.services import sso_configure

    sso_configure(org=other_org, actor=outsider, idp_entity_id=idp.entity_id + "other",
                  idp_sso_url="https://idp.test/sso", certificates=[idp.cert_pem])
    client.get("/sso/acme/metadata/")
    client.get("/sso/other/metadata/")
    acme, other = SPKey.objects.get(org=org), SPKey.objects.get(org=other_org)
    assert acme.certificate_pem != other.certificate_pem


# SP-initiated -------------------------------------------------------------------


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_sp_initiated_round_trip(slo, idp, org, binding):
    browser = sign_in(idp, ALICE)
    row = SSOSession.objects.get(org=org, name_id=ALICE)
    assert alive(browser)

    response = browser.post("/accounts/logout/")
    # Signed out here first: the session and its single-logout index row are gone…
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=row.session_key).exists()
    assert not SSOSession.objects.filter(pk=row.pk).exists()
    assert "_auth_user_id" not in browser.session
    # …then sent to the IdP with a LogoutRequest signed by the SP key of the metadata.
    location = response["Location"]
    assert location.startswith(IDP_SLO + "?")
    sent = split_redirect(location, "SAMLRequest")
    assert sent["values"]["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    verify_query(sent["signed"], sent["signature"], sp_certificate(Client()))
    request = sent["root"]
    assert request.tag == f"{{{SAMLP}}}LogoutRequest"
    assert request.get("Destination") == IDP_SLO
    assert request.findtext(f"{{{SAML}}}Issuer") == "http://testserver/sso/acme/metadata/"
    assert request.findtext(f"{{{SAML}}}NameID") == ALICE
    assert request.findtext(f"{{{SAMLP}}}SessionIndex") == row.session_index
    relay_state = sent["values"]["RelayState"]

    # The IdP answers; accepted once, in this browser.
    answer = idp.logout_response(org_slug="acme", in_response_to=request.get("ID"), placeholder=binding == "post")
    done = send(browser, idp, answer, binding=binding, kind="SAMLResponse", relay_state=relay_state)
    assert done.status_code == 200, done.content[:500]
    assert b"You are signed out" in done.content
    assert b"idp-logout-failed" not in done.content
    again = send(browser, idp, answer, binding=binding, kind="SAMLResponse", relay_state=relay_state)
    assert again.status_code == 403
    assert refusals(org)[-1].new["code"] == "replay"
    # A fresh response to the same request finds its state used.
    fresh = idp.logout_response(org_slug="acme", in_response_to=request.get("ID"), placeholder=binding == "post")
    assert send(browser, idp, fresh, binding=binding, kind="SAMLResponse", relay_state=relay_state).status_code == 403
    assert refusals(org)[-1].new["code"] == "unknown_in_response_to"


def _signed_out_with_idp(idp, org):
    browser = sign_in(idp, ALICE)
    sent = split_redirect(browser.post("/accounts/logout/")["Location"], "SAMLRequest")
    return browser, sent["root"].get("ID"), sent["values"]["RelayState"]


def test_idp_that_could_not_end_its_session_is_said_so(slo, idp, org):
    browser, request_id, relay_state = _signed_out_with_idp(idp, org)
    answer = idp.logout_response(org_slug="acme", in_response_to=request_id, placeholder=False,
                                 status="urn:oasis:names:tc:SAML:2.0:status:Responder")
    page = send(browser, idp, answer, binding="redirect", kind="SAMLResponse", relay_state=relay_state)
    assert page.status_code == 200
    assert b"idp-logout-failed" in page.content and b"Responder" in page.content
    assert "_auth_user_id" not in browser.session


def test_logout_response_in_another_browser_or_for_another_request_is_refused(slo, idp, org):
    browser, request_id, relay_state = _signed_out_with_idp(idp, org)
    stranger = Client()
    stranger.cookies["gh_sso_state"] = "another-browser"
    answer = idp.logout_response(org_slug="acme", in_response_to=request_id, placeholder=False)
    assert send(stranger, idp, answer, binding="redirect", kind="SAMLResponse",
                relay_state=relay_state).status_code == 403
    assert refusals(org)[-1].new["code"] == "unknown_in_response_to"
    unknown = idp.logout_response(org_slug="acme", in_response_to="_never_sent", placeholder=False)
    assert send(browser, idp, unknown, binding="redirect", kind="SAMLResponse",
                relay_state=relay_state).status_code == 403
    assert refusals(org)[-1].new["code"] == "unknown_in_response_to"
    # Neither used up the state: a real answer still works (each message ID is used once, though).
    answer = idp.logout_response(org_slug="acme", in_response_to=request_id, placeholder=False)
    assert send(browser, idp, answer, binding="redirect", kind="SAMLResponse",
                relay_state=relay_state).status_code == 200


def test_password_session_signs_out_as_before(slo, admin_client, admin_user):
    response = admin_client.post("/accounts/logout/")
    assert response.status_code == 302 and not response["Location"].startswith(IDP_SLO)
    assert "_auth_user_id" not in admin_client.session


def test_without_an_idp_logout_url_sign_out_is_local(enabled, idp, org):
    browser = sign_in(idp, ALICE)
    key = browser.session.session_key
    response = browser.post("/accounts/logout/")
    assert response.status_code == 302 and "idp.test" not in response["Location"]
    assert not Session.objects.filter(session_key=key).exists()
    assert not SSOSession.objects.filter(session_key=key).exists()


# IdP-initiated ------------------------------------------------------------------


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_idp_initiated_ends_exactly_that_users_sessions_and_answers_signed(slo, idp, org, binding):
    alice_1, alice_2, bob = sign_in(idp, ALICE), sign_in(idp, ALICE), sign_in(idp, BOB)
    request = request_for(idp, binding, name_id=ALICE)
    response = send(Client(), idp, request, binding=binding, relay_state="idp-state 1/2")

    assert not alive(alice_1) and not alive(alice_2) and alive(bob)
    assert set(SSOSession.objects.filter(org=org).values_list("name_id", flat=True)) == {BOB}
    (event,) = logouts(org)
    assert event.new["sessions_ended"] == 2 and event.new["name_id"] == ALICE
    assert event.target_label == ALICE

    assert response.status_code == 302
    assert response["Location"].startswith(IDP_SLO + "?")
    answer = split_redirect(response["Location"], "SAMLResponse")
    verify_query(answer["signed"], answer["signature"], sp_certificate(Client()))
    assert answer["values"]["RelayState"] == "idp-state 1/2"
    root = answer["root"]
    assert root.tag == f"{{{SAMLP}}}LogoutResponse"
    assert root.get("InResponseTo") == request.get("ID")
    assert root.get("Destination") == IDP_SLO
    assert root.findtext(f"{{{SAML}}}Issuer") == "http://testserver/sso/acme/metadata/"
    assert root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode").get("Value") == SUCCESS


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_session_index_limits_the_logout_to_that_session(slo, idp, org, binding):
    first, second = sign_in(idp, ALICE), sign_in(idp, ALICE)
    index = SSOSession.objects.get(session_key=first.session.session_key).session_index
    response = send(Client(), idp, request_for(idp, binding, name_id=ALICE, session_indexes=[index]),
                    binding=binding)
    assert response.status_code == 302
    assert not alive(first) and alive(second)
    assert logouts(org)[-1].new["sessions_ended"] == 1


def test_logout_request_for_a_name_id_without_sessions_still_answers_success(slo, idp, org):
    response = send(Client(), idp, request_for(idp, "redirect", name_id="nobody@acme.test"), binding="redirect")
    answer = split_redirect(response["Location"], "SAMLResponse")
    assert answer["root"].find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode").get("Value") == SUCCESS
    assert logouts(org)[-1].new["sessions_ended"] == 0


def test_without_an_idp_logout_url_the_idp_request_ends_sessions_and_shows_a_page(enabled, idp, org):
    browser = sign_in(idp, ALICE)
    response = send(browser, idp, request_for(idp, "post", name_id=ALICE), binding="post")
    assert response.status_code == 200 and b"signed you out" in response.content
    assert not alive(browser)


def test_the_browser_of_a_front_channel_logout_is_signed_out_too(slo, idp, org):
    browser = sign_in(idp, ALICE)
    send(browser, idp, request_for(idp, "redirect", name_id=ALICE), binding="redirect")
    assert browser.get("/orgs/acme/settings/members/").status_code == 302  # to the sign-in page
    assert "_auth_user_id" not in browser.session


# Refusals: a 4xx, nothing ended, the reason in the audit log, never a 500 ---------------

NOW = datetime.now(timezone.utc)


def _other_org_sharing_the_idp(other_org, outsider):
    """Another organization whose connection has the SAME IdP entity ID but its own key."""
    other_idp = TestIdP(key_name="other-idp")
    sso_configure(org=other_org, actor=outsider, idp_entity_id=other_idp.entity_id,
                  idp_sso_url="https://idp.test/sso", idp_slo_url=IDP_SLO, certificates=[other_idp.cert_pem])
    return other_idp


REFUSALS = {
    # name: (bindings, build(idp) → (root, signing kwargs), code)
    "unsigned": (("redirect", "post"), lambda idp, b: (request_for(idp, b, name_id=ALICE), {"sign": False}),
                 "unsigned"),
    "signed by another key": (("redirect", "post"),
                              lambda idp, b: (request_for(idp, b, name_id=ALICE), {"key_name": "attacker"}),
                              "invalid_signature"),
    "wrong destination": (("redirect", "post"), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, destination="http://testserver/sso/other/sls/"), {}), "wrong_destination"),
    "destination with a suffix": (("redirect", "post"), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, destination=SLS_URL + "x"), {}), "wrong_destination"),
    "destination with a prefix": (("redirect",), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, destination="https://evil.test/" + SLS_URL), {}), "wrong_destination"),
    "destination cut short": (("redirect",), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, destination=SLS_URL[:-1]), {}), "wrong_destination"),
    "missing destination": (("redirect", "post"), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, destination=False), {}), "wrong_destination"),
    "wrong issuer": (("redirect", "post"), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, issuer="https://evil.test/idp"), {}), "wrong_issuer"),
    "missing issuer": (("redirect",), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, issuer=False), {}), "wrong_issuer"),
    "issued too long ago": (("redirect", "post"), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, issue_instant=NOW - timedelta(minutes=30)), {}), "expired"),
    "issued in the future": (("redirect",), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, issue_instant=NOW + timedelta(minutes=30)), {}), "not_yet_valid"),
    "NotOnOrAfter passed": (("redirect",), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, not_on_or_after=NOW - timedelta(minutes=10)), {}), "expired"),
    "SHA-1": (("redirect", "post"), lambda idp, b: (request_for(idp, b, name_id=ALICE), {"sha1": True}), "sha1"),
    "unknown SigAlg": (("redirect",), lambda idp, b: (
        request_for(idp, b, name_id=ALICE), {"sig_alg": "http://www.w3.org/2000/09/xmldsig#dsa-sha256"}),
        "signature_algorithm"),
    "NameID with a comment": (("redirect", "post"), lambda idp, b: (
        request_for(idp, b, name_id=ALICE, name_id_comment=True), {}), "name_id_comment"),
}


@pytest.mark.parametrize("binding,name", [(b, n) for n, (bs, _, _) in REFUSALS.items() for b in bs])
def test_forged_logout_requests_are_refused_and_end_nothing(slo, idp, org, binding, name):
    browser = sign_in(idp, ALICE)
    _, build, code = REFUSALS[name]
    root, signing = build(idp, binding)
    response = send(Client(), idp, root, binding=binding, **signing)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert alive(browser) and SSOSession.objects.filter(org=org, name_id=ALICE).exists()
    assert not logouts(org)
    assert refusals(org)[-1].new["code"] == code, refusals(org)[-1].new
    assert b"alice" not in response.content  # the page is generic; the reason is in the audit log


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_replayed_logout_request_is_refused(slo, idp, org, binding):
    request = request_for(idp, binding, name_id=ALICE)
    assert send(Client(), idp, request, binding=binding).status_code == 302
    browser = sign_in(idp, ALICE)  # signs in again; the same request must not end this session
    replay = request_for(idp, binding, name_id=ALICE, message_id=request.get("ID"))
    response = send(Client(), idp, replay, binding=binding)
    assert response.status_code == 403 and alive(browser)
    assert refusals(org)[-1].new["code"] == "replay"


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_another_organizations_certificate_is_refused_even_with_the_same_idp_entity_id(
        slo, idp, org, other_org, outsider, binding):
    other_idp = _other_org_sharing_the_idp(other_org, outsider)
    browser = sign_in(idp, ALICE)
    # Signed by the other organization's IdP key, addressed to Acme: Acme's settings come from its URL.
    response = send(Client(), other_idp, request_for(other_idp, binding, name_id=ALICE), binding=binding)
    assert response.status_code == 400 and alive(browser)
    assert refusals(org)[-1].new["code"] == "invalid_signature"
    # Signed by Acme's IdP, sent to the other organization's SLS: wrong Destination and certificate there.
    response = send(Client(), idp, request_for(idp, binding, name_id=ALICE), binding=binding, org_slug="other")
    assert response.status_code == 400 and alive(browser)
    assert refusals(other_org)[-1].new["code"] == "wrong_destination"
    response = send(Client(), idp, request_for(idp, binding, name_id=ALICE, org_slug="other"), binding=binding,
                    org_slug="other")
    assert response.status_code == 400 and alive(browser)
    assert refusals(other_org)[-1].new["code"] == "invalid_signature"


def _refused(response, org, code, status=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status:
        assert response.status_code == status
    assert refusals(org)[-1].new["code"] == code, refusals(org)[-1].new
    assert not logouts(org)


def test_tampered_query_string_is_refused(slo, idp, org):
    browser = sign_in(idp, ALICE)
    query = idp.redirect_query("SAMLRequest", request_for(idp, "redirect", name_id=ALICE), relay_state="a")
    tampered = query.replace("RelayState=a", "RelayState=b")
    _refused(Client().get(f"{SLS}?{tampered}"), org, "invalid_signature")
    # Re-encoding a value gives the same decoded value but other octets than the ones signed: refused.
    query = idp.redirect_query("SAMLRequest", request_for(idp, "redirect", name_id=ALICE), relay_state="x y")
    _refused(Client().get(f"{SLS}?{query.replace('RelayState=x+y', 'RelayState=x%20y')}"), org,
             "invalid_signature")
    assert alive(browser)
    # The order of the URL's parameters is not the signed order (the binding fixes that one).
    parts = dict(part.split("=", 1) for part in query.split("&"))
    reordered = "&".join(f"{k}={parts[k]}" for k in ("Signature", "RelayState", "SigAlg", "SAMLRequest"))
    assert Client().get(f"{SLS}?{reordered}").status_code == 302
    assert not alive(browser)


def test_duplicated_parameters_are_refused(slo, idp, org):
    sign_in(idp, ALICE)
    query = idp.redirect_query("SAMLRequest", request_for(idp, "redirect", name_id=ALICE))
    other = idp.redirect_query("SAMLRequest", request_for(idp, "redirect", name_id=BOB), sign=False)
    _refused(Client().get(f"{SLS}?{query}&{other}"), org, "duplicate_parameter")


def test_signature_wrapping_is_refused(slo, idp, org):
    browser = sign_in(idp, ALICE)
    # A genuinely signed LogoutRequest for someone else, wrapped (in a schema-valid extension)
    # inside an unsigned one for Alice.
    signed = idp.sign(request_for(idp, "post", name_id="nobody@acme.test"))
    outer = request_for(idp, "post", name_id=ALICE)
    outer.remove(outer.find(f"{{{DS}}}Signature"))
    extensions = etree.Element(f"{{{SAMLP}}}Extensions")
    etree.SubElement(extensions, "{urn:evil}Wrap").append(signed)
    outer.find(f"{{{SAML}}}Issuer").addnext(extensions)
    body = {"SAMLRequest": base64.b64encode(etree.tostring(outer)).decode()}
    _refused(Client().post(SLS, body), org, "xsw_signature_position")

    # The signed request's ID given to the outer one as well: duplicate IDs.
    outer.set("ID", signed.get("ID"))
    response = Client().post(SLS, {"SAMLRequest": base64.b64encode(etree.tostring(outer)).decode()})
    _refused(response, org, "xsw_duplicate_id")

    # A signature that names another element than the root.
    root = request_for(idp, "post", name_id=ALICE)
    signed = idp.sign(root)
    signed.find(f".//{{{DS}}}Reference").set("URI", "#elsewhere")
    _refused(Client().post(SLS, {"SAMLRequest": base64.b64encode(etree.tostring(signed)).decode()}), org,
             "xsw_reference_mismatch")
    assert alive(browser)


def test_dtd_is_refused(slo, idp, org):
    sign_in(idp, ALICE)
    xml = etree.tostring(request_for(idp, "redirect", name_id=ALICE))
    doctyped = b'<!DOCTYPE x [<!ENTITY a "alice@acme.test">]>' + xml
    _refused(Client().get(f"{SLS}?{idp.redirect_query('SAMLRequest', doctyped)}"), org, "dtd")
    _refused(Client().post(SLS, {"SAMLRequest": base64.b64encode(doctyped).decode()}), org, "dtd")


def test_deflate_bomb_is_a_clean_413(slo, idp, org):
    bomb = base64.b64encode(deflate(b"<" + b"a" * 8_000_000)).decode()
    response = Client().get(f"{SLS}?SAMLRequest={quote_plus(bomb)}")
    _refused(response, org, "too_large", status=413)


@pytest.mark.parametrize("query", ["SAMLRequest=%%%not-base64", "SAMLRequest=aGVsbG8", "SAMLRequest=",
                                   "RelayState=only", "", "SAMLRequest=x&SAMLResponse=y"])
def test_garbage_queries_are_refused_cleanly(slo, org, query):
    response = Client().get(f"{SLS}?{query}")
    assert 400 <= response.status_code < 500
    assert refusals(org)


def test_non_base64_and_oversized_posts_are_refused(slo, org):
    _refused(Client().post(SLS, {"SAMLRequest": "!!not base64!!"}), org, "not_base64")
    _refused(Client().post(SLS, {"SAMLRequest": "A" * 200_000}), org, "too_large", status=413)
    _refused(Client().get(f"{SLS}?SAMLRequest={'A' * 20_000}"), org, "too_large", status=413)


def test_a_logout_response_where_a_request_is_expected_is_refused(slo, idp, org):
    answer = idp.logout_response(org_slug="acme", in_response_to="_x", placeholder=False)
    query = idp.redirect_query("SAMLRequest", answer)
    _refused(Client().get(f"{SLS}?{query}"), org, "wrong_message")


def test_unknown_organization_is_404_and_one_without_sso_writes_nothing(client, idp, org, other_org):
    query = idp.redirect_query("SAMLRequest", request_for(idp, "redirect", name_id=ALICE))
    assert client.get(f"/sso/nope/sls/?{query}").status_code == 404
    before = AuditEvent.objects.count()
    assert client.get(f"/sso/other/sls/?{query}").status_code == 404
    assert client.post("/sso/other/sls/", {"SAMLRequest": "garbage"}).status_code == 404
    assert AuditEvent.objects.count() == before


def test_the_sls_takes_only_get_and_post_and_needs_no_csrf_token(slo, idp):
    client = Client(enforce_csrf_checks=True)
    assert client.put(SLS).status_code == 405
    browser = sign_in(idp, ALICE)
    response = client.post(SLS, idp.post_body(request_for(idp, "post", name_id=ALICE)))
    assert response.status_code == 302 and not alive(browser)


def test_validation_settings_come_from_the_url_not_the_issuer(slo, idp, org, other_org, outsider):
    """Two organizations share the IdP entity ID; each verifies with its own certificate only."""
    other_idp = _other_org_sharing_the_idp(other_org, outsider)
    assert other_idp.entity_id == idp.entity_id
    browser = sign_in(idp, ALICE)
    ok = send(Client(), idp, request_for(idp, "redirect", name_id=ALICE), binding="redirect")
    assert ok.status_code == 302 and not alive(browser)


# The built-in test IdP (demo) ------------------------------------------------------


def test_demo_single_logout_through_the_built_in_test_idp(settings, tmp_path, org, admin_user, member,
                                                         django_capture_on_commit_callbacks):
    import io
    import re
    from html import unescape

    from sso import test_idp
    from demo.sso import configure_test_idp
    from sso.models import SSOConnection
    from sso.saml import parse_idp_metadata
    from sso.services import sso_enable

    settings.SAML_TEST_IDP, settings.SAML_TEST_IDP_DIR = True, tmp_path
    assert parse_idp_metadata(test_idp.metadata_xml())["idp_slo_url"] == "http://testserver/sso/test-idp/slo/"
    configure_test_idp(org=org, admins=[admin_user], members=[member.user], stdout=io.StringIO())
    assert SSOConnection.objects.get(org=org).idp_slo_url == test_idp.slo_url()
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)

    browser = Client()
    idp_page = urlsplit(browser.get("/sso/acme/login/")["Location"])
    form = browser.get(f"{idp_page.path}?{idp_page.query}").content.decode()
    fields = {name: unescape(re.search(rf'name="{name}" value="([^"]*)"', form).group(1))
              for name in ("SAMLRequest", "RelayState")}
    posted = browser.post("/sso/test-idp/sso/", {**fields, "email": ALICE}).content.decode()
    body = re.search(r'name="SAMLResponse" value="([^"]+)"', posted).group(1)
    relay = unescape(re.search(r'name="RelayState" value="([^"]*)"', posted).group(1))
    assert browser.post("/sso/acme/acs/", {"SAMLResponse": body, "RelayState": relay}).status_code == 302
    key = browser.session.session_key

    to_idp = urlsplit(browser.post("/accounts/logout/")["Location"])
    assert to_idp.path == "/sso/test-idp/slo/" and not Session.objects.filter(session_key=key).exists()
    page = browser.get(f"{to_idp.path}?{to_idp.query}")
    assert page.status_code == 200 and b"Signed out at the test IdP" in page.content and ALICE.encode() in page.content
    back = unescape(re.search(r'href="([^"]+)" data-testid="return-to-sp"', page.content.decode()).group(1))
    assert back.startswith(SLS_URL + "?SAMLResponse=")
    done = browser.get(back[len("http://testserver"):])
    assert done.status_code == 200 and b"You are signed out" in done.content
    # The test IdP refuses a LogoutRequest whose query string was changed after signing.
    tampered = to_idp.query.replace("RelayState=", "RelayState=x")
    assert browser.get(f"{to_idp.path}?{tampered}").status_code == 400
