"""Every endpoint, every kind of caller: anonymous → 401, outsider (session or token of another
organization) → 404, member → what the role allows; a refused request changes nothing."""
import pytest

from orgs.models import AuditEvent
from orgs.services import service_token_create

from .conftest import JSONClient, assert_error, bearer_client, org_url

pytestmark = pytest.mark.django_db

# (method, path template, body, member may?) — member may: True = allowed for a plain member.
ENDPOINTS = [
    ("get", "", None, True),
    ("get", "/members", None, True),
    ("get", "/members/{admin_membership}", None, True),
    ("patch", "/members/{admin_membership}", {"is_database_admin": True}, False),
    ("delete", "/members/{admin_membership}", None, False),
    ("get", "/invitations", None, True),
    ("post", "/invitations", {"email": "new@x.test"}, False),
    ("get", "/invitations/{invitation}", None, True),
    ("delete", "/invitations/{invitation}", None, False),
    ("post", "/invitations/{invitation}/resend", None, False),
    ("get", "/teams", None, True),
    ("post", "/teams", {"name": "New team"}, False),
    ("get", "/teams/{team}", None, True),
    ("patch", "/teams/{team}", {"name": "Renamed"}, False),
    ("delete", "/teams/{team}", None, False),
    ("get", "/teams/{team}/members", None, True),
    ("post", "/teams/{team}/members", {"membership_id": "{member}"}, False),
    ("delete", "/teams/{team}/members/{admin_membership}", None, False),
    ("get", "/databases", None, True),
    ("post", "/databases", {"name": "newdb"}, True),
    ("get", "/databases/main", None, True),
    ("delete", "/databases/main", None, False),
    ("get", "/databases/main/passwords", None, True),
    ("post", "/databases/main/passwords", {"name": "new"}, True),
    ("get", "/databases/main/passwords/{password}", None, True),
    ("delete", "/databases/main/passwords/{password}", None, False),
    ("get", "/service-tokens", None, True),
    ("post", "/service-tokens", {"name": "new"}, True),
    ("get", "/service-tokens/{token}", None, True),
    ("delete", "/service-tokens/{token}", None, False),
    ("get", "/audit-events", None, False),
]


@pytest.fixture
def world(acme_objects):
    return acme_objects


def _call(api: JSONClient, org, world, method, template, body):
    path = org_url(org, template.format(**world))
    if body is not None:
        body = {k: (int(v.format(**world)) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
    if method in ("get", "delete"):
        return getattr(api, method)(path)
    return getattr(api, method)(path, body)


def _snapshot(org):
    return AuditEvent.objects.filter(org=org).count()


@pytest.mark.parametrize("method,template,body,member_may", ENDPOINTS)
def test_anonymous_gets_401(anon_api, org, world, method, template, body, member_may):
    before = _snapshot(org)
    assert_error(_call(anon_api, org, world, method, template, body), 401)
    assert _snapshot(org) == before


@pytest.mark.parametrize("method,template,body,member_may", ENDPOINTS)
def test_outsider_session_gets_404(outsider_api, org, world, method, template, body, member_may):
    before = _snapshot(org)
    assert_error(_call(outsider_api, org, world, method, template, body), 404, "not_found")
    assert _snapshot(org) == before


@pytest.mark.parametrize("method,template,body,member_may", ENDPOINTS)
def test_other_orgs_admin_token_gets_404(other_org, outsider, org, world, method, template, body, member_may):
    _, secret = service_token_create(org=other_org, name="theirs", actor=outsider)
    before = _snapshot(org)
    assert_error(_call(bearer_client(secret), org, world, method, template, body), 404, "not_found")
    assert _snapshot(org) == before


@pytest.mark.parametrize("who", ["session", "token"])
@pytest.mark.parametrize("method,template,body,member_may", ENDPOINTS)
def test_member_role(member_client, member_user, org, world, who, method, template, body, member_may):
    if who == "session":
        api = JSONClient(member_client)
    else:
        _, secret = service_token_create(org=org, name="member tok", actor=member_user)
        api = bearer_client(secret)
    before = _snapshot(org)
    response = _call(api, org, world, method, template, body)
    if member_may:
        assert response.status_code in (200, 201), response.content
    else:
        assert_error(response, 403, "permission_denied")
        assert _snapshot(org) == before


@pytest.mark.parametrize("method,template,body,member_may", ENDPOINTS)
def test_admin_may_do_everything(admin_client, org, world, method, template, body, member_may):
    response = _call(JSONClient(admin_client), org, world, method, template, body)
    if (method, template) == ("delete", "/members/{admin_membership}"):
        assert_error(response, 409, "last_admin")  # the only administrator cannot leave
    else:
        assert response.status_code in (200, 201, 204), response.content
