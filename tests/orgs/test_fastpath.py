"""orgs/fastpath.py against its specification, orgs.selectors.memberships_of: the same
memberships, each with its organization, in the same order, on SQLite and on PostgreSQL
(tests/fastpath.py compares every field of every instance returned, and what was written:
nothing). The cases: none, several organizations (their order is by name), and a member
an SSO enable is removing (the access policy leaves them out) next to an administrator it
keeps. And service_token_by_hash against its twin: a live token, one whose creator's
account was deleted (no creator), a revoked one, an unknown hash."""
import pytest
from django.utils import timezone

from orgs import fastpath, selectors
from orgs.models import Membership, Plan, hash_secret
from orgs.services import membership_add, organization_create, service_token_create, service_token_revoke
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


@pytest.mark.parametrize("case", ["live", "creator deleted", "revoked", "unknown"])
def test_service_token_by_hash_returns_what_the_orm_does(org, admin_user, member_user, case):
    membership_add(org=org, user=member_user, role=Membership.Role.ADMIN, actor=admin_user)
    token, secret = service_token_create(org=org, name="ci", actor=member_user)
    if case == "creator deleted":
        member_user.delete()
    elif case == "revoked":
        service_token_revoke(org=org, token=token, actor=admin_user)
    digest = hash_secret("unknown" if case == "unknown" else secret)
    orm = run(lambda digest: [(t, t.org, t.created_by) for t in fastpath.service_token_by_hash_orm(digest)],
              digest=digest)
    fast = run(lambda digest: [(t, t.org, t.created_by) for t in filter(None, [fastpath.service_token_by_hash(digest)])],
               digest=digest)
    assert fast == orm and fast.written == {}
    assert len(fast.statements) == 1
    assert len(fast.returned) == (1 if case in ("live", "creator deleted") else 0)
