"""Who an organization's IdP or directory may tie an account to (SPEC E14, §7): verified
before tied, unclaimed accounts for addresses the organization did not verify, a
verified domain outranking a squatter, a domain verified by one organization only.
Through the ACS (responses signed by signxml) and SCIM."""
import pytest
from django.core import mail

from accounts.models import User
from orgs.models import AuditEvent, Membership
from orgs.services import organization_create
from scim.models import DirectoryUser
from sso.events import SSOEvents
from sso.models import PendingLink, SSOIdentity
from sso.services import domain_add, domain_verify, sso_configure, sso_enable
from tests.conftest import make_user
from tests.scim.conftest import directory_for, provision

from .conftest import post_acs, start_login, verify_domain_now

pytestmark = pytest.mark.django_db
VICTIM = "vera@corp.test"


@pytest.fixture
def squatter(db, idp):
    """An organization with SSO enabled and no verified domain (the hostile one)."""
    owner = make_user("boss@squat.test")
    org = organization_create(slug="squat", name="Squat Ltd", creator=owner, plan="enterprise")
    sso_configure(org=org, actor=owner, idp_entity_id=idp.entity_id, idp_sso_url="https://idp.test/sso",
                  certificates=[idp.cert_pem])
    sso_enable(org=org, actor=owner)
    return org


@pytest.fixture
def employer(org, enabled, admin_user):
    """acme, SSO enabled, and corp.test verified by it: the address's real organization."""
    verify_domain_now(org, "corp.test")
    return org


def _sign_in(client, idp, email, org_slug="acme"):
    request_id, relay = start_login(client, org_slug=org_slug)
    return post_acs(client, idp.encoded(org_slug=org_slug, name_id=email, in_response_to=request_id), relay,
                    org_slug=org_slug)


# Accounts an IdP or directory creates ----------------------------------------------


def test_jit_in_an_unverified_domain_creates_an_unclaimed_account(client, squatter, idp):
    assert _sign_in(client, idp, VICTIM, "squat").status_code == 302
    account = User.objects.get(email=VICTIM)
    assert not account.claimed and account.email_verified_at is None and not account.has_usable_password()
    assert Membership.objects.filter(org=squatter, user=account).exists()  # usable through this IdP


def test_jit_in_a_verified_domain_creates_a_claimed_verified_account(client, employer, idp):
    assert _sign_in(client, idp, VICTIM).status_code == 302
    account = User.objects.get(email=VICTIM)
    assert account.claimed and account.email_verified_at is not None


@pytest.mark.parametrize("verified", [False, True])
def test_scim_creates_claimed_accounts_only_in_a_verified_domain(org, enabled, admin_user, verified):
    if verified:
        verify_domain_now(org, "corp.test")
    provision(directory_for(org, admin_user), VICTIM)
    account = User.objects.get(email=VICTIM)
    assert account.claimed is verified
    assert (account.email_verified_at is not None) is verified
    assert DirectoryUser.objects.get(org=org, user=account).created_account


# A verified domain outranks a squatter ---------------------------------------------------


def test_the_verified_organization_takes_an_unclaimed_account_from_the_squatter(client, squatter, employer, idp):
    from django.test import Client

    assert _sign_in(Client(), idp, VICTIM, "squat").status_code == 302
    account = User.objects.get(email=VICTIM)
    squat_session = Client()
    assert _sign_in(squat_session, idp, VICTIM, "squat").status_code == 302
    # The employer verified corp.test: its IdP wins and the squatter's ties end.
    assert _sign_in(client, idp, VICTIM).status_code == 302
    account.refresh_from_db()
    assert account.claimed and account.email_verified_at is not None
    assert not Membership.objects.filter(org=squatter, user=account).exists()
    assert SSOIdentity.objects.get(user=account).org == employer
    assert Membership.objects.filter(org=employer, user=account).exists()
    assert AuditEvent.objects.filter(org=squatter, event=SSOEvents.IDENTITY_RELEASED).exists()
    assert squat_session.get("/orgs/squat/settings/members/").status_code in (302, 404)  # its sessions ended
    # The squatter's IdP cannot take it back (E9: the address signs in through acme now).
    assert _sign_in(Client(), idp, VICTIM, "squat").status_code == 403
    assert not Membership.objects.filter(org=squatter, user=account).exists()


def test_the_verified_organization_releases_a_claimed_accounts_link_to_the_squatter(
        client, squatter, employer, idp, django_capture_on_commit_callbacks):
    from django.test import Client

    account = make_user(VICTIM)  # a real, verified account; its owner joined the squatter once
    from orgs.services import membership_add

    membership_add(org=squatter, user=account, role=Membership.Role.MEMBER, actor=None)
    assert _sign_in(Client(), idp, VICTIM, "squat").status_code == 302
    assert SSOIdentity.objects.get(user=account).org == squatter
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert _sign_in(client, idp, VICTIM).status_code == 302
    assert SSOIdentity.objects.get(user=account).org == employer
    assert Membership.objects.filter(org=squatter, user=account).exists()  # the owner's own membership stays
    for org in (squatter, employer):
        released = AuditEvent.objects.get(org=org, event=SSOEvents.IDENTITY_RELEASED)
        assert released.old["organization"] == "squat" and released.new == {"verified_by": "acme"}
    assert [m.to for m in mail.outbox] == [[VICTIM]] and "Squat Ltd" in mail.outbox[0].body
    # E9: the squatter's IdP cannot take it back.
    assert _sign_in(Client(), idp, VICTIM, "squat").status_code == 403


def test_a_domain_is_verified_by_one_organization_only(org, other_org, admin_user, outsider):
    from config.errors import Conflict

    verify_domain_now(org, "corp.test")
    record = domain_add(org=other_org, actor=outsider, domain="corp.test")
    with pytest.raises(Conflict) as refused:
        domain_verify(org=other_org, actor=outsider, domain_id=record.pk,
                      resolver=lambda name: [record.txt_record])
    assert refused.value.code == "domain_taken"
    record.refresh_from_db()
    assert record.verified_at is None


# Verified before tied --------------------------------------------------------------------


def test_an_idp_does_not_sign_in_an_unverified_account_without_its_owner(client, org, enabled, idp, admin_user):
    from orgs.services import membership_add

    account = make_user("new@acme.test", email_verified_at=None)
    membership_add(org=org, user=account, role=Membership.Role.MEMBER, actor=None)  # a tie, but no proof
    response = _sign_in(client, idp, account.email)
    assert response.status_code == 202  # "check your email"
    assert "_auth_user_id" not in client.session
    link = PendingLink.objects.get(org=org, user=account)
    from orgs.models import hash_secret
    from sso.services import sso_link_confirm

    PendingLink.objects.filter(pk=link.pk).update(token_hash=hash_secret("t0ken"))
    assert sso_link_confirm(token="t0ken").status == "signed_in"
    account.refresh_from_db()
    assert account.email_verified_at is not None
    assert SSOIdentity.objects.get(user=account).org == org


def test_a_directory_does_not_attach_an_unverified_or_foreign_unclaimed_account(client, squatter, org, enabled,
                                                                                 admin_user, idp):
    from django.test import Client

    unverified = make_user("new@acme.test", email_verified_at=None)
    assert _sign_in(Client(), idp, VICTIM, "squat").status_code == 302  # squat's unclaimed account
    scim = directory_for(org, admin_user)
    for email in (unverified.email, VICTIM):
        user_id = provision(scim, email)
        directory_user = DirectoryUser.objects.get(pk=user_id)
        assert directory_user.user_id is None and directory_user.membership_id is None
    assert not Membership.objects.filter(org=org, user__email__in=[unverified.email, VICTIM]).exists()
    assert Membership.objects.filter(org=squatter, user__email=VICTIM).exists()


# The pre-hijack, end to end ------------------------------------------------------


def test_pre_hijack_the_owner_claims_and_their_employer_signs_them_in(squatter, employer, idp,
                                                                       django_capture_on_commit_callbacks):
    """A squatter's IdP asserts an address of another company before its owner has an
    account. The owner's sign-up claims it (not "already exists"), the squatter's ties
    end, the owner signs in with their own password, and the employer, which verified
    the domain, signs them in through its IdP."""
    import re

    from django.test import Client

    assert _sign_in(Client(), idp, VICTIM, "squat").status_code == 302
    squatted = User.objects.get(email=VICTIM)
    assert not squatted.claimed
    owner = Client()
    with django_capture_on_commit_callbacks(execute=True):
        mail.outbox.clear()
        response = owner.post("/accounts/signup/", {"email": VICTIM, "first_name": "Vera", "last_name": "Owner",
                                                    "password": "vera's own passphrase 7"})
    assert response.status_code in (200, 302) and b"already exists" not in response.content
    (message,) = mail.outbox
    claim = re.search(r"http://testserver(/accounts/claim/\S+)", message.body).group(1)
    set_password = owner.post(claim)
    assert set_password.status_code == 302
    squatted.refresh_from_db()
    assert squatted.claimed and squatted.email_verified_at is not None
    assert not Membership.objects.filter(user=squatted).exists()
    assert not SSOIdentity.objects.filter(user=squatted).exists()
    form = owner.get(set_password["Location"], follow=True)
    assert form.status_code == 200
    done = owner.post(form.redirect_chain[-1][0] if form.redirect_chain else set_password["Location"],
                      {"new_password1": "vera's own passphrase 7", "new_password2": "vera's own passphrase 7"})
    assert done.status_code == 302
    assert Client().post("/accounts/login/", {"username": VICTIM,
                                              "password": "vera's own passphrase 7"}).status_code == 302
    # The squatter's IdP meets a claimed account it has no tie to: only the owner's emailed consent links it.
    assert _sign_in(Client(), idp, VICTIM, "squat").status_code == 202
    assert not Membership.objects.filter(org=squatter, user=squatted).exists()
    # Her employer verified corp.test: its IdP signs her in.
    assert _sign_in(Client(), idp, VICTIM).status_code == 302
    assert SSOIdentity.objects.get(user=squatted).org == employer


def test_a_squatters_unverified_sign_up_loses_its_password_when_the_owner_proves_the_address(employer, idp):
    """P4: someone signed up with the victim's address (never verified) and made an
    organization with it. When the address's owner proves it — here through their
    employer's verified domain — the sign-up's password, sessions and ties end."""
    from django.test import Client

    from tests.conftest import client_for

    squatter_account = make_user(VICTIM, password="squatter's passphrase 1", email_verified_at=None)
    organization_create(slug="mine", name="Mine", creator=squatter_account)
    squatter_session = client_for(squatter_account)
    assert squatter_session.get("/orgs/mine/settings/members/").status_code == 200
    assert _sign_in(Client(), idp, VICTIM).status_code == 302
    account = User.objects.get(email=VICTIM)
    assert account.claimed and account.email_verified_at is not None
    assert not account.has_usable_password()
    assert not Membership.objects.filter(org__slug="mine", user=account).exists()
    assert squatter_session.get("/orgs/mine/settings/members/").status_code == 302  # signed out
    assert Client().post("/accounts/login/", {"username": VICTIM,
                                              "password": "squatter's passphrase 1"}).status_code == 200
    assert SSOIdentity.objects.get(user=account).org == employer
