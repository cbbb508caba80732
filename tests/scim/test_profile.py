"""Profile follows the IdP over SCIM (issue 12): names on every create/replace/patch,
audited only on change; an email change reaches the account only in a domain this
organization verified and not held by another account, else it waits on the directory
user and the Directory Sync page shows it as needing attention."""
import pytest
from django.utils import timezone

from accounts.models import User
from orgs.models import AuditEvent
from scim.idp import EMAIL_HELD_BY_ANOTHER_ACCOUNT, EMAIL_NOT_IN_VERIFIED_DOMAIN
from scim.models import DirectoryUser
from sso.events import SSOEvents
from sso.models import VerifiedDomain

from .conftest import patch_body, provision, user_body

pytestmark = pytest.mark.django_db
PAGE = "/orgs/acme/settings/directory-sync/"


def verify_domain(org, domain="acme.test"):
    VerifiedDomain.objects.create(org=org, domain=domain, txt_token="t", verified_at=timezone.now())


def profile_events(org):
    return AuditEvent.objects.filter(org=org, event=SSOEvents.PROFILE_UPDATED)


def test_names_follow_on_patch_and_put_audited_only_on_change(scim, org):
    user_id = provision(scim, "n@acme.test")
    account = User.objects.get(email="n@acme.test")
    assert (account.first_name, account.last_name) == ("Given", "Family")
    assert not profile_events(org).exists()
    patch = patch_body({"op": "replace", "path": "name.givenName", "value": "Grace"})
    assert scim.patch(f"Users/{user_id}", patch).status_code == 200
    account.refresh_from_db()
    assert account.first_name == "Grace"
    event = profile_events(org).get()
    assert event.actor_label == "directory" and event.old == {"first_name": "Given"} and event.new == {
        "first_name": "Grace"}
    scim.patch(f"Users/{user_id}", patch)  # the same word again: nothing changes, nothing is written
    assert profile_events(org).count() == 1
    body = user_body("n@acme.test")
    body["name"] = {"givenName": "Grace", "familyName": "Hopper"}
    assert scim.put(f"Users/{user_id}", body).status_code == 200
    account.refresh_from_db()
    assert account.last_name == "Hopper" and profile_events(org).count() == 2


def test_names_of_an_existing_member_follow_when_pushed(scim, org, member):
    provision(scim, member.user.email)  # a member who agreed to this organization
    member.user.refresh_from_db()
    assert (member.user.first_name, member.user.last_name) == ("Given", "Family")


def test_an_account_attached_without_its_owners_agreement_keeps_its_names(scim, org, outsider):
    user_id = provision(scim, outsider.email)
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "name.givenName", "value": "Mallory"}))
    outsider.refresh_from_db()
    assert outsider.first_name == "Olga" and not profile_events(org).exists()


def test_email_change_in_a_verified_domain_reaches_the_account(scim, org):
    verify_domain(org)
    user_id = provision(scim, "old@acme.test")
    account = User.objects.get(email="old@acme.test")
    response = scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "userName",
                                                          "value": "new@acme.test"}))
    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.email == "new@acme.test"
    assert DirectoryUser.objects.get(pk=user_id).email_change_pending == ""
    assert profile_events(org).get().new == {"email": "new@acme.test"}


def test_email_change_outside_a_verified_domain_waits_and_is_shown(scim, org, admin_client):
    user_id = provision(scim, "keep@acme.test")
    account = User.objects.get(email="keep@acme.test")
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "userName", "value": "moved@elsewhere.test"}))
    account.refresh_from_db()
    assert account.email == "keep@acme.test"  # never silently changed …
    directory_user = DirectoryUser.objects.get(pk=user_id)
    assert directory_user.email_change_pending == "moved@elsewhere.test"  # … never silently ignored
    assert directory_user.email_change_reason == EMAIL_NOT_IN_VERIFIED_DOMAIN
    assert AuditEvent.objects.filter(org=org, event="directory.email_change_pending").count() == 1
    page = admin_client.get(PAGE).content.decode()
    assert "Needs attention" in page and "moved@elsewhere.test" in page and EMAIL_NOT_IN_VERIFIED_DOMAIN in page
    # The IdP sends the account's address again: resolved, no longer listed.
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "userName", "value": "keep@acme.test"}))
    assert DirectoryUser.objects.get(pk=user_id).email_change_pending == ""
    assert "Needs attention" not in admin_client.get(PAGE).content.decode()


def test_email_change_to_an_address_another_account_holds_is_no_takeover(scim, org, member, admin_client):
    verify_domain(org)
    user_id = provision(scim, "mine@acme.test")
    response = scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "userName",
                                                          "value": member.user.email}))
    assert response.status_code == 200, response.content
    directory_user = DirectoryUser.objects.select_related("user").get(pk=user_id)
    assert directory_user.user.email == "mine@acme.test" and directory_user.user_id != member.user_id
    assert directory_user.email_change_pending == member.user.email
    assert directory_user.email_change_reason == EMAIL_HELD_BY_ANOTHER_ACCOUNT
    member.user.refresh_from_db()
    assert member.user.email == "max@acme.test" and member.user.first_name == "Max"
    assert member.user.email in admin_client.get(PAGE).content.decode()


def test_a_waiting_email_change_goes_through_when_its_domain_is_verified(scim, org, admin_user):
    from sso.services import domain_add, domain_verify

    user_id = provision(scim, "wait@acme.test")
    other_id = provision(scim, "other@acme.test")
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "userName", "value": "wait@newco.test"}))
    scim.patch(f"Users/{other_id}", patch_body({"op": "replace", "path": "userName", "value": "taken@newco.test"}))
    User.objects.create_user("taken@newco.test", None)
    record = domain_add(org=org, actor=admin_user, domain="newco.test")
    domain_verify(org=org, actor=admin_user, domain_id=record.pk, resolver=lambda d: [record.txt_record])
    waited = DirectoryUser.objects.select_related("user").get(pk=user_id)
    assert waited.user.email == "wait@newco.test" and waited.email_change_pending == ""
    assert AuditEvent.objects.filter(org=org, event="directory.email_change_resolved").count() == 1
    # The other address is held by another account: it waits still, now for that reason.
    other = DirectoryUser.objects.select_related("user").get(pk=other_id)
    assert other.user.email == "other@acme.test"
    assert (other.email_change_pending, other.email_change_reason) == ("taken@newco.test", EMAIL_HELD_BY_ANOTHER_ACCOUNT)
