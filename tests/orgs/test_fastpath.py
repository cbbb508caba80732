"""orgs/fastpath.py against its specification, orgs.selectors.memberships_of: the same
memberships, each with its organization, in the same order, on SQLite and on PostgreSQL
(tests/fastpath.py compares every field of every instance returned, and what was written:
nothing). The cases: none, several organizations (their order is by name), and a member
an SSO enable is removing (the access policy leaves them out) next to an administrator it
keeps."""
import pytest
from django.utils import timezone

from orgs import fastpath, selectors
from orgs.models import Membership, Plan
from orgs.services import membership_add, organization_create
from sso.models import SSOConnection
from tests.fastpath import run

pytestmark = pytest.mark.django_db


def listed(path):
    def memberships(**inputs):
        return [(membership, membership.org) for membership in path(**inputs)]

    memberships.__qualname__ = path.__qualname__
    return memberships


@pytest.mark.parametrize("case", ["none", "several", "being removed"])
def test_memberships_of_returns_what_the_orm_does(org, admin_user, member_user, outsider, case):
    user = outsider
    if case != "none":
        user = member_user
        membership_add(org=org, user=member_user, role=Membership.Role.MEMBER, actor=None)
        for slug, name in (("zeta", "Zeta"), ("beta", "Beta")):
            organization_create(slug=slug, name=name, creator=member_user, plan=Plan.ENTERPRISE)
    if case == "being removed":
        # Enabled after the membership was made: E1 removes it, and access ends at once.
        SSOConnection.objects.create(org=org, state=SSOConnection.State.ENABLED, enabled_at=timezone.now())
    orm = run(listed(lambda user: list(selectors.memberships_of(user))), user=user)
    fast = run(listed(fastpath.memberships_of), user=user)
    assert fast == orm and fast.written == {}
    assert len(fast.statements) == 1
    slugs = [membership.org.slug for membership in fastpath.memberships_of(user)]
    assert slugs == {"none": [], "several": ["acme", "beta", "zeta"], "being removed": ["beta", "zeta"]}[case]
