"""A returning SSO sign-in costs a fixed, small number of queries (bench/acs.py measures its speed)."""
import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from orgs.models import AuditEvent, Membership
from sso.models import SSOIdentity
from sso.services import sso_login

pytestmark = pytest.mark.django_db


def test_returning_sso_login_is_cheap_and_complete(org, member, enabled, member_user):
    first = sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email]})
    assert first.status == "signed_in"
    identity = SSOIdentity.objects.get(user=member_user)
    before = identity.last_sso_login_at
    with CaptureQueriesContext(db) as queries:
        again = sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email],
                                                                           "firstName": ["Max"]},
                          connection=enabled)
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    # The link with its account, membership and the organization's group rules (none);
    # then the link's sign-in time and what the IdP sent, last_login and the audit event:
    # one statement on PostgreSQL, three in one transaction elsewhere.
    assert len(statements) == (2 if db.vendor == "postgresql" else 4), statements
    assert again.status == "signed_in" and again.user == member_user
    identity.refresh_from_db()
    assert identity.last_sso_login_at > before and identity.first_sso_login_at is not None
    member_user.refresh_from_db()
    assert member_user.last_login == identity.last_sso_login_at == again.user.last_login
    assert member_user.first_name == "Max"
    assert identity.idp_attributes == {"email": [member_user.email], "firstName": ["Max"]}
    event = AuditEvent.objects.filter(org=org, event="sso.login", actor=member_user).latest("pk")
    assert AuditEvent.objects.filter(org=org, event="sso.login", actor=member_user).count() == 2
    membership = Membership.objects.get(org=org, user=member_user)  # made by the first sign-in (E1, E3)
    assert (event.target_type, event.target_id, event.target_label) == ("membership", str(membership.pk),
                                                                       member_user.email)
    assert event.new == {"name_id": member_user.email, "role": "member"}


def test_login_after_the_service_does_not_write_last_login_again(rf, org, member, enabled, member_user):
    from django.contrib.auth import login
    from django.contrib.sessions.backends.db import SessionStore

    sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email]})
    result = sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email]})
    request = rf.post("/sso/acme/acs/")
    request.session = SessionStore()
    with CaptureQueriesContext(db) as queries:
        login(request, result.user, backend="accounts.backends.IdentityProviderBackend")
    assert not [q for q in queries.captured_queries if "last_login" in q["sql"]]
    # Once: a second sign-in of the same object records its own time.
    written = result.user.last_login
    login(request, result.user, backend="accounts.backends.IdentityProviderBackend")
    assert result.user.last_login > written
    assert type(result.user).objects.get(pk=result.user.pk).last_login == result.user.last_login
    # A sign-in that did not write it (a password sign-in) still records it.
    member_user.refresh_from_db()
    recorded = member_user.last_login
    login(request, member_user, backend="accounts.backends.IdentityProviderBackend")
    member_user.refresh_from_db()
    assert member_user.last_login > recorded


def test_returning_login_fills_in_missing_names(org, enabled):
    """Names the IdP now sends are filled in (and, issue 12, every later change follows:
    tests/sso/test_idp_profile.py)."""
    first = sso_login(org=org, name_id="nn@acme.test", attributes={"email": ["nn@acme.test"]})  # JIT, no names sent
    nameless = first.user
    sso_login(org=org, name_id=nameless.email, attributes={"email": [nameless.email], "firstName": ["Nora"],
                                                            "lastName": ["Nameless"]})
    nameless.refresh_from_db()
    assert (nameless.first_name, nameless.last_name) == ("Nora", "Nameless")
    assert AuditEvent.objects.filter(org=org, event="sso.login", actor=nameless).count() == 2


def test_returning_login_of_a_deactivated_account_is_refused(org, member, enabled, member_user):
    from sso.services import SSOLoginRefused

    sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email]})
    member_user.is_active = False
    member_user.save(update_fields=["is_active"])
    with pytest.raises(SSOLoginRefused) as exc:
        sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email]})
    assert exc.value.code == "account_inactive"


def test_the_access_block_and_its_query_agree(org, connection, admin_user, member, member_user,
                                              django_capture_on_commit_callbacks):
    """While the enable job has not reached a member, the organization is missing from
    their list (switcher, home) exactly when its pages answer 404."""
    from orgs.models import Membership
    from orgs.selectors import membership_for_slug, organizations_of
    from orgs.services import membership_change_role
    from sso.services import sso_enable

    assert list(organizations_of(member_user)) == [org]
    with django_capture_on_commit_callbacks(execute=False):  # the job does not run
        sso_enable(org=org, actor=admin_user)
    assert membership_for_slug(member_user, "acme") is None
    assert list(organizations_of(member_user)) == []
    assert list(organizations_of(admin_user)) == [org] and membership_for_slug(admin_user, "acme")
    # Promoted after the enable: access again, in both.
    membership = Membership.objects.get(org=org, user=member_user)
    membership_change_role(org=org, membership=membership, role="admin", actor=admin_user)
    assert membership_for_slug(member_user, "acme") is not None
    assert list(organizations_of(member_user)) == [org]
    # …and demoted again after the enable: still kept (an administrator's decision).
    membership_change_role(org=org, membership=Membership.objects.get(pk=membership.pk), role="member",
                           actor=admin_user)
    assert membership_for_slug(member_user, "acme") is not None
    assert list(organizations_of(member_user)) == [org]
