"""IdP signing-certificate rotation (two active at once), its limits, and the expiry
warning on the Authentication page. Responses are real ones signed by signxml
(tests/sso/idp.py) with one key or the other."""
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from django.test import Client

from config.errors import Conflict, ServiceError
from orgs.models import AuditEvent
from sso.events import SSOEvents
from sso.models import MAX_ACTIVE_CERTIFICATES, SSOCertificate
from sso.services import parse_certificate, sso_certificate_add, sso_certificate_remove

from .conftest import assert_rejected, post_acs, start_login
from .idp import keypair

pytestmark = pytest.mark.django_db

PAGE = "/orgs/acme/settings/authentication/"
NEW_KEY = "rotation-next"  # the IdP's next signing key, in tests/sso/idp.py's key cache


def _cert_pem(name: str) -> str:
    # Called exactly as TestIdP.sign(key_name=…) calls it: keypair() is lru-cached by its arguments.
    return keypair(name)[1]


def _login(idp, org, key_name=None, email="rotating@acme.test"):
    """A fresh browser signing in with a response signed by `key_name` (None: the IdP's first key)."""
    client = Client()
    request_id, relay = start_login(client)
    response = post_acs(client, idp.encoded(org_slug=org.slug, name_id=email, in_response_to=request_id,
                                            key_name=key_name), relay)
    return client, response


def _fingerprints(connection):
    return sorted(connection.certificates.values_list("sha256_fingerprint", flat=True))


@pytest.fixture
def two_certificates(enabled, org, admin_user):
    sso_certificate_add(org=org, actor=admin_user, pem=_cert_pem(NEW_KEY))
    assert enabled.certificates.count() == 2
    return enabled


# Two active certificates -----------------------------------------------------


@pytest.mark.parametrize("key_name", [None, NEW_KEY], ids=["old-key", "new-key"])
def test_response_signed_by_either_active_certificate_is_accepted(two_certificates, idp, org, key_name):
    client, response = _login(idp, org, key_name=key_name)
    assert response.status_code == 302, response.content[:500]
    assert "_auth_user_id" in client.session
    assert not AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN_REJECTED).exists()


def test_a_key_that_is_not_configured_is_refused_before_rotation(enabled, idp, org):
    client, response = _login(idp, org, key_name=NEW_KEY)
    assert_rejected(client, response, org, "invalid_signature")


def test_adding_a_certificate_is_audited(enabled, org, admin_user):
    added = sso_certificate_add(org=org, actor=admin_user, pem=_cert_pem(NEW_KEY))
    event = AuditEvent.objects.get(org=org, event=SSOEvents.CERTIFICATE_ADDED)
    assert event.new["fingerprint"] == added.sha256_fingerprint
    # The same certificate again is a no-op.
    assert sso_certificate_add(org=org, actor=admin_user, pem=_cert_pem(NEW_KEY)) == added
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.CERTIFICATE_ADDED).count() == 1


def test_a_third_active_certificate_is_refused_and_nothing_changes(two_certificates, org, admin_user):
    assert MAX_ACTIVE_CERTIFICATES == 2
    before = _fingerprints(two_certificates)
    events = AuditEvent.objects.filter(org=org).count()
    with pytest.raises(Conflict) as caught:
        sso_certificate_add(org=org, actor=admin_user, pem=_cert_pem("rotation-third"))
    assert caught.value.code == "too_many_certificates"
    assert "remove the old one first" in caught.value.message
    assert _fingerprints(two_certificates) == before
    assert AuditEvent.objects.filter(org=org).count() == events


def test_a_third_certificate_through_the_page_is_a_409_with_the_reason(two_certificates, org, admin_client):
    before = _fingerprints(two_certificates)
    response = admin_client.post(PAGE + "certificates/add/", {"certificate": _cert_pem("rotation-third")})
    assert response.status_code == 409
    assert "Two certificates are already active; remove the old one first." in response.content.decode()
    assert _fingerprints(two_certificates) == before
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.CERTIFICATE_ADDED).count() == 1  # the fixture's


def test_removing_the_last_certificate_is_refused(enabled, org, admin_user, admin_client):
    only = enabled.certificates.get()
    with pytest.raises(Conflict) as caught:
        sso_certificate_remove(org=org, actor=admin_user, certificate_id=only.pk)
    assert caught.value.code == "last_certificate"
    response = admin_client.post(f"{PAGE}certificates/{only.pk}/remove/")
    assert response.status_code == 409
    assert "The last signing certificate cannot be removed" in response.content.decode()
    assert SSOCertificate.objects.filter(pk=only.pk).exists()
    assert not AuditEvent.objects.filter(org=org, event=SSOEvents.CERTIFICATE_REMOVED).exists()


def test_removing_one_of_two_then_its_key_is_refused(two_certificates, idp, org, admin_client):
    old = two_certificates.certificates.get(sha256_fingerprint=parse_certificate(idp.cert_pem)["sha256_fingerprint"])
    response = admin_client.post(f"{PAGE}certificates/{old.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not SSOCertificate.objects.filter(pk=old.pk).exists()
    assert two_certificates.certificates.count() == 1
    event = AuditEvent.objects.get(org=org, event=SSOEvents.CERTIFICATE_REMOVED)
    assert event.old == {"fingerprint": old.sha256_fingerprint}

    client, response = _login(idp, org)  # signed by the removed key
    rejected = assert_rejected(client, response, org, "invalid_signature")
    assert rejected.event == SSOEvents.LOGIN_REJECTED
    assert b"We could not sign you in with single sign-on." in response.content

    client, response = _login(idp, org, key_name=NEW_KEY)  # the remaining key still works
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_another_orgs_certificate_cannot_be_removed(two_certificates, org, other_org, outsider, admin_user):
    from sso.services import sso_configure

    sso_configure(org=other_org, actor=outsider, idp_entity_id="https://idp.other/",
                  idp_sso_url="https://idp.other/sso", certificates=[_cert_pem("other-org-a"), _cert_pem("other-org-b")])
    theirs = SSOCertificate.objects.filter(org=other_org).first()
    assert sso_certificate_remove(org=org, actor=admin_user, certificate_id=theirs.pk) is False
    assert SSOCertificate.objects.filter(pk=theirs.pk).exists()
    assert two_certificates.certificates.count() == 2


# Expiry on the Authentication page ---------------------------------------------


def _short_lived_cert(days: int) -> str:
    """A self-signed certificate valid for `days` more days (only its expiry matters here)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"short-lived {days}d")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=30))
            .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256()))
    return cert.public_bytes(Encoding.PEM).decode()


def _certificate_rows(page: str) -> list[str]:
    return [row.split("</tr>")[0] for row in page.split('data-testid="certificate"')[1:]]


def test_page_shows_expiry_and_warns_within_30_days(enabled, org, admin_user, admin_client):
    pem = _short_lived_cert(days=10)
    added = sso_certificate_add(org=org, actor=admin_user, pem=pem)
    page = admin_client.get(PAGE).content.decode()
    rows = _certificate_rows(page)
    assert len(rows) == 2
    soon = next(row for row in rows if "short-lived 10d" in row)
    assert f"{added.not_after:%Y-%m-%d}" in soon
    assert 'data-testid="cert-expiry-warning"' in soon
    assert "Expires in less than 30 days" in soon
    # The long-lived certificate shows its date without a warning.
    other = next(row for row in rows if "short-lived" not in row)
    assert f"{enabled.certificates.exclude(pk=added.pk).get().not_after:%Y-%m-%d}" in other
    assert "cert-expiry-warning" not in other


def test_page_has_no_warning_for_certificates_valid_beyond_30_days(enabled, org, admin_user, admin_client):
    added = sso_certificate_add(org=org, actor=admin_user, pem=_short_lived_cert(days=45))
    page = admin_client.get(PAGE).content.decode()
    assert f"{added.not_after:%Y-%m-%d}" in page
    assert "cert-expiry-warning" not in page
    assert "Expires in less than 30 days" not in page


def test_members_see_the_expiry_warning_too(connection, org, admin_user, member, member_client):
    sso_certificate_add(org=org, actor=admin_user, pem=_short_lived_cert(days=5))
    page = member_client.get(PAGE)
    assert page.status_code == 200
    assert 'data-testid="cert-expiry-warning"' in page.content.decode()


def test_an_expired_certificate_cannot_be_added(connection, org, admin_user):
    with pytest.raises(ServiceError) as caught:
        sso_certificate_add(org=org, actor=admin_user, pem=_short_lived_cert(days=-1))
    assert caught.value.code == "certificate_expired"
    assert connection.certificates.count() == 1
