"""A page of members costs the same number of queries whatever the size of the organization."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from orgs.models import Membership
from teams.models import Team, TeamMember

from .conftest import bearer_client, org_url

pytestmark = pytest.mark.django_db


def _grow(org, n: int, start: int) -> None:
    users = User.objects.bulk_create([User(email=f"user{i:05}@bulk.test", password="!") for i in range(start, start + n)])
    memberships = Membership.objects.bulk_create([Membership(org=org, user=u) for u in users])
    team = Team.objects.get_or_create(org=org, name="Everyone")[0]
    TeamMember.objects.bulk_create([TeamMember(org=org, team=team, membership=m) for m in memberships])


def _queries(api, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) > 0
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["session", "token"])
def test_members_page_query_count_does_not_grow(org, admin_client, admin_token, who):
    from .conftest import JSONClient

    api = JSONClient(admin_client) if who == "session" else bearer_client(admin_token[1])
    _grow(org, 10, 0)
    api.get(org_url(org, "/members"))  # warm-up (session row, last_used_at update)
    small = [_queries(api, org_url(org, "/members")), _queries(api, org_url(org, "/members") + "?offset=5&limit=200")]
    _grow(org, 990, 10)
    assert Membership.objects.filter(org=org).count() == 1001
    large = [_queries(api, org_url(org, "/members")), _queries(api, org_url(org, "/members") + "?offset=500&limit=200")]
    assert small == large
    # auth (session + user, or token) + org/role + count + page ids + rows + teams: a handful, not one per row.
    assert large[0] <= 7


def test_members_page_returns_teams_for_every_row(org, admin_client):
    from .conftest import JSONClient

    _grow(org, 60, 0)
    rows = JSONClient(admin_client).get(org_url(org, "/members"), {"limit": 200}).json()["results"]
    assert len(rows) == 61
    assert all(r["teams"] == ["Everyone"] for r in rows if r["user"]["email"].endswith("@bulk.test"))


@pytest.mark.parametrize("suffix", ["/teams", "/databases", "/service-tokens", "/invitations", "/audit-events"])
def test_other_lists_query_count_does_not_grow(org, admin_client, admin_user, suffix):
    from orgs.services import database_create, invitation_create, service_token_create
    from teams.services import team_create

    from .conftest import JSONClient

    def add(i):
        team_create(org=org, name=f"t{i}", actor=admin_user)
        database_create(org=org, name=f"db{i}", actor=admin_user)
        service_token_create(org=org, name=f"tok{i}", actor=admin_user)
        invitation_create(org=org, email=f"i{i}@x.test", actor=admin_user)

    api = JSONClient(admin_client)
    add(0)
    api.get(org_url(org, suffix))
    small = _queries(api, org_url(org, suffix))
    for i in range(1, 25):
        add(i)
    assert _queries(api, org_url(org, suffix)) == small


def test_members_pages_cover_everyone_once_in_a_stable_order(org, admin_client):
    from .conftest import JSONClient

    _grow(org, 120, 0)
    api, seen, url = JSONClient(admin_client), [], org_url(org, "/members") + "?limit=50"
    while url:
        body = api.get(url).json()
        seen += [row["user"]["id"] for row in body["results"]]
        url = body["next"]
    assert seen == sorted(Membership.objects.filter(org=org).values_list("user_id", flat=True))


def test_sso_enforcement_adds_no_query(org, admin_user, member):
    """E12's check runs on every request to an organization: it reads the session and
    values the membership lookup already holds. The members page and the API page cost
    the same with SSO enforced (an IdP-made session) as without (a password session)."""
    from django.test import Client

    from sso.services import sso_configure, sso_enable
    from tests.conftest import client_for, sso_client_for
    from tests.sso.idp import TestIdP

    from .conftest import JSONClient

    _grow(org, 30, 0)
    pages = ("/orgs/acme/settings/members/", org_url(org, "/members"))

    def counts(client: Client) -> list[int]:
        found = []
        for url in pages:
            client.get(url)  # warm-up
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            found.append(len(ctx.captured_queries))
        return found

    plain = counts(client_for(admin_user))
    sso_configure(org=org, actor=admin_user, idp_entity_id="https://idp.test/m", idp_sso_url="https://idp.test/sso",
                  certificates=[TestIdP().cert_pem])
    sso_enable(org=org, actor=admin_user)
    enforced = counts(sso_client_for(admin_user, org))
    assert enforced == plain
    assert JSONClient(client_for(member.user)).get(org_url(org, "/members")).status_code == 404  # E1


def test_members_pages_from_the_end_equal_those_from_the_start_and_count_nothing(org, admin_client):
    """The unfiltered list's total is the organization's MemberCount; pages in the second
    half are read from the end of the index. Every offset gives the ORM's own slice."""
    from orgs.selectors import member_list

    from .conftest import JSONClient

    _grow(org, 20, 0)
    api = JSONClient(admin_client)
    expected = [m.pk for m in member_list(org=org).order_by("user_id")]
    for offset in range(0, 23):
        for limit in (1, 6, 21):
            with CaptureQueriesContext(connection) as ctx:
                body = api.get(org_url(org, "/members") + f"?offset={offset}&limit={limit}").json()
            assert body["count"] == 21
            assert [row["id"] for row in body["results"]] == expected[offset:offset + limit], (offset, limit)
            assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
