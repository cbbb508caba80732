"""The per-organization counters (orgs.MemberCount, scim.DirectoryUserCount) that give
exact totals without a COUNT: kept by the database whatever path writes (the check after
every test is tests/conftest.py's), and the unfiltered SCIM page that reads them."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from orgs.models import MemberCount, Membership
from orgs.services import membership_add
from scim.models import DirectoryUser, DirectoryUserCount

from ..conftest import counts_kept
from .conftest import patch_body, user_body

pytestmark = pytest.mark.django_db


def _make_users(scim, n, prefix="c"):
    ids = []
    for i in range(n):
        response = scim.post("Users", user_body(f"{prefix}{i}@acme.test"))
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


def _statements(scim, **params) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert scim.get("Users", **params).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_the_check_after_each_test_sees_a_forgotten_counter(org, member):
    assert counts_kept() == []
    MemberCount.objects.filter(org=org).update(members=7)
    assert counts_kept() and "MemberCount" in counts_kept()[0]
    MemberCount.objects.filter(org=org).update(members=2)
    assert counts_kept() == []


def test_every_kind_of_write_keeps_the_counters(scim, sso_org, admin_user):
    """Service, fast path, PATCH deactivation, DELETE, set-based INSERT and DELETE, a
    cascade from an account's deletion, a moved row."""
    ids = _make_users(scim, 4)
    assert DirectoryUserCount.objects.get(org=sso_org).users == 4
    assert scim.send("PATCH", f"Users/{ids[0]}", patch_body({"op": "replace", "value": {"active": False}})
                     ).status_code == 200
    assert scim.send("DELETE", f"Users/{ids[1]}").status_code == 204
    assert counts_kept() == [] and DirectoryUserCount.objects.get(org=sso_org).users == 3
    users = User.objects.bulk_create([User(email=f"bulk{i}@acme.test", password="!") for i in range(5)])
    Membership.objects.bulk_create([Membership(org=sso_org, user=u) for u in users])
    assert counts_kept() == []
    Membership.objects.filter(user__in=users[:2]).delete()
    User.objects.get(email="c2@acme.test").delete()  # its membership and directory user go by cascade
    assert counts_kept() == []
    membership_add(org=sso_org, user=users[4], actor=admin_user)  # already a member: nothing changes
    assert counts_kept() == []
    assert MemberCount.objects.get(org=sso_org).members == Membership.objects.filter(org=sso_org).count()


def test_an_unfiltered_page_counts_nothing_and_costs_the_same_at_any_size(scim):
    _make_users(scim, 3)
    small = [_statements(scim, startIndex=1, count=2), _statements(scim, startIndex=3, count=2)]
    _make_users(scim, 30, prefix="more")
    large = [_statements(scim, startIndex=1, count=2), _statements(scim, startIndex=30, count=2)]
    assert [len(s) for s in small] == [len(s) for s in large]
    assert not [s for page in small + large for s in page if "COUNT(" in s.upper()]
    # Filtered: still exact, counted.
    assert scim.get("Users", filter='userName sw "more"').json()["totalResults"] == 30


def test_pages_read_from_the_end_equal_those_read_from_the_start(scim, other_scim):
    ids = _make_users(scim, 11)
    other_scim.post("Users", user_body("elsewhere@other.test"))
    ordered = [str(pk) for pk in DirectoryUser.objects.filter(org=scim.org).order_by("pk").values_list("pk", flat=True)]
    assert ordered == ids
    for start in range(1, 14):
        for count in (1, 4, 5, 11, 12):
            page = scim.get("Users", startIndex=start, count=count).json()
            assert page["totalResults"] == 11
            assert [r["id"] for r in page["Resources"]] == ids[start - 1:start - 1 + count], (start, count)
