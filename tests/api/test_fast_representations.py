"""The hand-made bodies of the hottest reads (api.serializers) are exactly what their
schemas make of the same rows: caller_data (`GET /api/v1/user`) and CallerSerializer for
a session with organizations (one on a plan without SSO), none, a service token, a token
whose creator was deleted; member_data (the members page) and MemberSerializer for
members with and without teams, directory-managed, with names and without."""
import json

import pytest
from rest_framework.renderers import JSONRenderer

from api.serializers import CallerSerializer, MemberSerializer, caller_data, member_data
from orgs import fastpath
from orgs.models import Plan, ServiceToken
from orgs.services import organization_create, service_token_create

pytestmark = pytest.mark.django_db


def organizations_of(user):
    found = []
    for membership in fastpath.memberships_of(user):
        membership.org.role = membership.role
        found.append(membership.org)
    return found


def same(**caller):
    made, specified = caller_data(**caller), CallerSerializer(caller).data
    assert made == specified
    assert JSONRenderer().render(made) == JSONRenderer().render(specified)  # key order and formats too
    return json.loads(JSONRenderer().render(made))


def test_a_session_with_organizations(org, admin_user):
    organization_create(slug="free", name="Free Co", creator=admin_user, plan=Plan.HOBBY)
    body = same(user=admin_user, organizations=organizations_of(admin_user), token=None)
    assert [(o["slug"], o["sso_available"], o["role"]) for o in body["organizations"]] == [
        ("acme", True, "admin"), ("free", False, "admin")]
    assert body["organizations"][0]["created_at"].endswith("Z")


def test_a_session_without_organizations(outsider):
    assert same(user=outsider, organizations=[], token=None)["organizations"] == []


@pytest.mark.parametrize("creator_deleted", [False, True])
def test_a_service_token(org, admin_user, creator_deleted):
    token = service_token_create(org=org, name="ci", actor=admin_user)[0]
    if creator_deleted:
        admin_user.delete()
    token = ServiceToken.objects.select_related("org", "created_by").get(pk=token.pk)
    token.org.role = token.role
    body = same(user=token.created_by, organizations=[token.org], token=token)
    assert body["token"]["organization"] == "acme" and (body["user"] is None) == creator_deleted


def test_a_page_of_members(org, admin_user, member, outsider):
    from orgs.selectors import members_by_account
    from orgs.services import membership_add, membership_mark_directory_managed
    from teams.selectors import teams_by_membership
    from teams.services import team_create, team_member_add

    other = membership_add(org=org, user=outsider, role="member", actor=admin_user)
    membership_mark_directory_managed(org=org, membership=other, value=True, actor=None)
    for name in ("Zeta team", "Alpha team"):
        team_member_add(org=org, team=team_create(org=org, name=name, actor=admin_user), membership=member,
                        actor=admin_user)
    rows = list(members_by_account(org=org)[0:50])
    names = teams_by_membership(org=org, membership_ids=[row.pk for row in rows])
    for row in rows:
        row.team_names = names.get(row.pk, [])
    made, specified = [member_data(row) for row in rows], MemberSerializer(rows, many=True).data
    assert made == specified and JSONRenderer().render(made) == JSONRenderer().render(specified)
    assert [len(body["teams"]) for body in made] == [0, 2, 0] and made[2]["directory_managed"]
