"""A returning SSO sign-in costs a fixed, small number of queries (bench/acs.py measures its speed)."""
import pytest

from orgs.models import AuditEvent
from sso.models import SSOIdentity
from sso.services import sso_login

pytestmark = pytest.mark.django_db


def test_returning_sso_login_is_cheap_and_complete(org, member, enabled, member_user, django_assert_max_num_queries):
    first = sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email]})
    assert first.status == "signed_in"
    identity = SSOIdentity.objects.get(user=member_user)
    before = identity.last_sso_login_at
    # connection, link, link UPDATE, membership, audit event; plus the savepoint pair of the test transaction
    with django_assert_max_num_queries(7):
        again = sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email],
                                                                           "firstName": ["Linus"]})
    assert again.status == "signed_in" and again.user == member_user
    identity.refresh_from_db()
    assert identity.last_sso_login_at > before and identity.first_sso_login_at is not None
    assert AuditEvent.objects.filter(org=org, event="sso.login", actor=member_user).count() == 2


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
