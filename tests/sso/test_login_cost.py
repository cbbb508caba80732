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
