"""One subject per account (SPEC E15): the first IdP sign-in binds the account, in that
organization, to the IdP's subject; another subject naming it is refused until an
administrator unlinks the old one. Responses signed by signxml (tests/sso/idp.py)."""
import pytest

from orgs.models import AuditEvent, Membership
from sso.events import SSOEvents
from sso.models import SSOIdentity, SSOSession
from sso.services import sso_configure
from tests.conftest import sso_client_for

from .conftest import post_acs, start_login

pytestmark = pytest.mark.django_db
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier"
MEMBERS = "/orgs/acme/settings/members/"


def _sign_in(client, idp, name_id, email, name_id_format=PERSISTENT, **attributes):
    request_id, relay = start_login(client)
    return post_acs(client, idp.encoded(org_slug="acme", name_id=name_id, in_response_to=request_id,
                                        name_id_format=name_id_format,
                                        attributes={"email": email, "firstName": "Pat", **attributes}), relay)


@pytest.fixture
def pat(client, org, enabled, idp):
    assert _sign_in(client, idp, "00u-pat-A", "pat@acme.test").status_code == 302
    identity = SSOIdentity.objects.get(org=org, user__email="pat@acme.test")
    assert (identity.name_id, identity.name_id_format) == ("00u-pat-A", PERSISTENT)
    return identity.user


def test_another_subject_naming_a_bound_account_is_refused(client, org, pat, idp):
    """The re-link leak: NameID B whose email attribute names an account bound to A."""
    from django.test import Client

    other = Client()
    response = _sign_in(other, idp, "00u-mallory-B", "pat@acme.test")
    assert response.status_code == 403
    assert b"must unlink the previous identity" in response.content
    assert "_auth_user_id" not in other.session
    assert SSOIdentity.objects.get(user=pat).name_id == "00u-pat-A"
    conflict = AuditEvent.objects.get(org=org, event=SSOEvents.IDENTITY_CONFLICT)
    assert conflict.old == {"subject": "00u-pat-A"} and conflict.new == {"subject": "00u-mallory-B"}
    assert conflict.target_label == "pat@acme.test"
    # The bound subject still signs in.
    assert _sign_in(Client(), idp, "00u-pat-A", "pat@acme.test").status_code == 302


def test_unlink_then_the_next_subject_binds(client, org, pat, idp, admin_user):
    from django.test import Client

    membership = Membership.objects.get(org=org, user=pat)
    assert SSOSession.objects.filter(org=org, user=pat).count() == 1
    admin = sso_client_for(admin_user, org)
    page = admin.get(MEMBERS).content.decode()
    assert "00u-pat-A" in page and f"/identities/{membership.pk}/unlink/" in page
    response = admin.post(f"/orgs/acme/settings/authentication/identities/{membership.pk}/unlink/", {"page": "1"})
    assert response.status_code == 302 and response["Location"] == MEMBERS + "?page=1"
    unbound = SSOIdentity.objects.get(user=pat)
    assert unbound.name_id == "" and unbound.first_sso_login_at is not None  # E2 stays over for pat
    assert "00u-pat-A" not in admin.get(MEMBERS).content.decode()
    unlinked = AuditEvent.objects.get(org=org, event=SSOEvents.IDENTITY_UNLINKED)
    assert unlinked.actor == admin_user and unlinked.old["subject"] == "00u-pat-A"
    # Their sessions from this IdP ended with the link.
    assert not SSOSession.objects.filter(user=pat).exists()
    assert client.get(MEMBERS).status_code == 302
    # The IdP re-created the user: the new subject binds now.
    assert _sign_in(Client(), idp, "00u-pat-C", "pat@acme.test").status_code == 302
    assert SSOIdentity.objects.get(user=pat).name_id == "00u-pat-C"
    # Unlinking twice is harmless.
    admin.post(f"/orgs/acme/settings/authentication/identities/{membership.pk}/unlink/")
    admin.post(f"/orgs/acme/settings/authentication/identities/{membership.pk}/unlink/")
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.IDENTITY_UNLINKED).count() == 2


def test_unlinking_an_administrator_does_not_give_their_password_back(org, enabled, idp, admin_user):
    """E2: from the first IdP sign-in on, an administrator signs in only through the IdP;
    unlinking the subject (to let the IdP bind a new one) does not undo that."""
    from django.test import Client

    from sso.services import sso_identity_unlink
    from tests.conftest import PASSWORD, client_for, make_user

    assert _sign_in(Client(), idp, "00u-ada", admin_user.email).status_code == 302
    assert client_for(admin_user).get(MEMBERS).status_code == 302  # E2 is over for her
    other_admin = make_user("bo@acme.test")
    assert sso_identity_unlink(org=org, actor=other_admin, membership=Membership.objects.get(user=admin_user))
    assert client_for(admin_user).get(MEMBERS).status_code == 302
    assert Client().post("/accounts/login/", {"username": admin_user.email, "password": PASSWORD}).status_code == 200


def test_only_administrators_unlink_and_only_in_their_organization(org, pat, other_org, outsider):
    membership = Membership.objects.get(org=org, user=pat)
    member_session = sso_client_for(pat, org)
    assert b"Unlink identity" not in member_session.get(MEMBERS).content
    assert member_session.post(
        f"/orgs/acme/settings/authentication/identities/{membership.pk}/unlink/").status_code == 403
    from tests.conftest import client_for

    assert client_for(outsider).post(
        f"/orgs/other/settings/authentication/identities/{membership.pk}/unlink/").status_code == 404
    assert SSOIdentity.objects.filter(user=pat).exists()


def test_a_transient_name_id_is_refused_without_a_subject_attribute(client, org, enabled, idp):
    response = _sign_in(client, idp, "_t1f2e3", "tia@acme.test", name_id_format=TRANSIENT)
    assert response.status_code == 403 and b"transient NameID" in response.content
    assert not SSOIdentity.objects.filter(org=org).exists()
    assert not Membership.objects.filter(org=org, user__email="tia@acme.test").exists()


def test_a_subject_attribute_binds_across_transient_name_ids(client, org, enabled, idp, admin_user):
    from django.test import Client

    sso_configure(org=org, actor=admin_user, subject_attribute=OBJECT_ID)
    assert _sign_in(client, idp, "_t1", "tia@acme.test", name_id_format=TRANSIENT,
                    **{OBJECT_ID: "oid-1111"}).status_code == 302
    identity = SSOIdentity.objects.get(org=org, user__email="tia@acme.test")
    assert identity.name_id == "oid-1111"
    assert _sign_in(Client(), idp, "_t2", "tia@acme.test", name_id_format=TRANSIENT,
                    **{OBJECT_ID: "oid-1111"}).status_code == 302
    assert SSOIdentity.objects.filter(org=org).count() == 1
    # Another object ID naming the same account is another subject.
    assert _sign_in(Client(), idp, "_t3", "tia@acme.test", name_id_format=TRANSIENT,
                    **{OBJECT_ID: "oid-2222"}).status_code == 403
    # And a response without the attribute is refused.
    missing = _sign_in(Client(), idp, "_t4", "tia@acme.test", name_id_format=TRANSIENT)
    assert missing.status_code == 403 and OBJECT_ID.encode() in missing.content


def test_the_subject_attribute_is_configured_through_the_api_and_audited(org, enabled, admin_user):
    from tests.api.conftest import JSONClient

    api = JSONClient(sso_client_for(admin_user, org))
    response = api.put("/api/v1/organizations/acme/sso", {"subject_attribute": OBJECT_ID})
    assert response.status_code == 200, response.content
    assert response.json()["subject_attribute"] == OBJECT_ID
    configured = AuditEvent.objects.filter(org=org, event=SSOEvents.CONFIGURED).order_by("-pk").first()
    assert configured.new["subject_attribute"] == OBJECT_ID and configured.old["subject_attribute"] == ""
    page = sso_client_for(admin_user, org).get("/orgs/acme/settings/authentication/").content.decode()
    assert OBJECT_ID in page


def test_an_overlong_name_id_is_refused_cleanly(client, org, enabled, idp):
    response = _sign_in(client, idp, "x" * 600, "long@acme.test")
    assert response.status_code == 403
    assert not SSOIdentity.objects.filter(org=org).exists()


def test_a_conflict_at_link_confirmation_is_recorded_and_nothing_changes(org, pat, idp):
    from orgs.models import hash_secret
    from sso.models import PendingLink
    from sso.services import IdentityConflict, sso_link_confirm

    from datetime import timedelta

    from django.utils import timezone

    # A claimed account (an unclaimed one would be claimed by the confirmation, ending the old link).
    type(pat).objects.filter(pk=pat.pk).update(claimed=True, email_verified_at=timezone.now())
    link = PendingLink.objects.create(org=org, user=pat, token_hash=hash_secret("tok"), name_id="00u-other",
                                      expires_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(IdentityConflict):
        sso_link_confirm(token="tok")
    link.refresh_from_db()
    assert link.used_at is None and SSOIdentity.objects.get(user=pat).name_id == "00u-pat-A"
    conflict = AuditEvent.objects.get(org=org, event=SSOEvents.IDENTITY_CONFLICT)
    assert conflict.new == {"subject": "00u-other"}


def test_link_confirmation_refuses_a_deactivated_account(org, enabled):
    from datetime import timedelta

    from django.utils import timezone

    from orgs.models import hash_secret
    from sso.models import PendingLink
    from sso.services import SSOLoginRefused, sso_link_confirm
    from tests.conftest import make_user

    user = make_user("gone@acme.test", is_active=False)
    PendingLink.objects.create(org=org, user=user, token_hash=hash_secret("tok2"), name_id="gone@acme.test",
                               expires_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(SSOLoginRefused) as refused:
        sso_link_confirm(token="tok2")
    assert refused.value.code == "account_inactive"
    assert not Membership.objects.filter(org=org, user=user).exists()
