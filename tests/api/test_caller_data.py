"""api.serializers.caller_data, the hand-made body of `GET /api/v1/user`, is exactly what
its schema, CallerSerializer, makes of the same caller: a session with organizations
(one on a plan without SSO), none, a service token, a token whose creator was deleted."""
import json

import pytest
from rest_framework.renderers import JSONRenderer

from api.serializers import CallerSerializer, caller_data
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
