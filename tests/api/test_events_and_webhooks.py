"""The events API and the webhook endpoints of the JSON API (§5, issue 14 item 2): the
cursor (after, limit, next), another organization's events invisible, members refused;
endpoints registered, changed, paused, rotated, their deliveries listed and redelivered;
URLs refused as config.outbound refuses them."""
import socket

import pytest

from orgs.models import Membership
from orgs.services import membership_change_role
from teams.services import team_create
from webhooks import delivery
from webhooks.models import WebhookEndpoint

from ..webhooks.conftest import Receiver, allow_loopback
from .conftest import assert_error, org_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings, monkeypatch):
    """A webhook receiver on 127.0.0.1 (tests/webhooks/conftest.py)."""
    allow_loopback(settings, monkeypatch)
    started = Receiver()
    yield started
    started.stop()


def events_url(org, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return org_url(org, "/events") + (f"?{query}" if query else "")


def test_the_cursor_reads_every_event_once_in_order(admin_api, org, admin_user):
    for name in ("a", "b", "c", "d", "e"):
        team_create(org=org, name=name, actor=admin_user)  # numbered by the API itself: no on-commit task ran
    seen, after = [], 0
    while True:
        page = admin_api.get(events_url(org, after=after, limit=2)).json()
        seen += page["data"]
        after = int(page["next"])
        if not page["has_more"]:
            break
    assert [e["sequence"] for e in seen] == list(range(1, len(seen) + 1))
    assert [e["data"]["target"]["label"] for e in seen if e["type"] == "team.created"] == list("abcde")
    assert len({e["id"] for e in seen}) == len(seen)
    # Caught up: the same cursor answers nothing, and `next` stays.
    tail = admin_api.get(events_url(org, after=after)).json()
    assert tail == {"data": [], "next": str(after), "has_more": False}
    # Replay from any point.
    replay = admin_api.get(events_url(org, after=2, limit=1)).json()
    assert [e["sequence"] for e in replay["data"]] == [3] and replay["next"] == "3" and replay["has_more"]


def test_an_event_carries_before_and_after(admin_api, org, admin_user, member):
    membership_change_role(org=org, membership=member, role=Membership.Role.ADMIN, actor=admin_user)
    event = admin_api.get(events_url(org)).json()["data"][-1]
    assert event["type"] == "member.role_changed" and event["id"].startswith("evt_")
    assert event["organization"] == "acme" and event["occurred_at"].endswith("Z")
    assert event["data"] == {"actor": "ada@acme.test",
                             "target": {"type": "membership", "id": str(member.pk), "label": "max@acme.test"},
                             "before": {"role": "member"}, "after": {"role": "admin"}}


def test_another_organizations_events_are_invisible(admin_api, outsider_api, org, other_org, admin_user, outsider):
    team_create(org=other_org, name="theirs", actor=outsider)
    mine = admin_api.get(events_url(org, limit=1000)).json()["data"]
    assert all(e["organization"] == "acme" for e in mine) and "theirs" not in str(mine)
    assert_error(admin_api.get(events_url(other_org)), 404)
    theirs = outsider_api.get(events_url(other_org)).json()["data"]
    assert [e["sequence"] for e in theirs] == list(range(1, len(theirs) + 1))  # their own numbers


def test_members_are_refused(member_api, org):
    assert_error(member_api.get(events_url(org)), 403)
    assert_error(member_api.get(org_url(org, "/webhooks")), 403)
    assert_error(member_api.post(org_url(org, "/webhooks"), {"url": "https://hooks.example.com/x",
                                                             "event_types": ["member.added"]}), 403)


@pytest.mark.parametrize("params", [{"after": "-1"}, {"after": "x"}, {"limit": "0"}, {"limit": "1001"},
                                    {"after": "9" * 30}])
def test_bad_cursors_are_400(admin_api, org, params):
    assert_error(admin_api.get(events_url(org, **params)), 400)


def test_the_event_types_are_documented_in_the_schema(anon_api):
    schema = anon_api.get("/api/v1/openapi.json").json()
    events_get = schema["paths"]["/api/v1/organizations/{org_slug}/events"]["get"]["description"]
    create = schema["paths"]["/api/v1/organizations/{org_slug}/webhooks"]["post"]["description"]
    for name in ("member.added", "member.role_changed", "team.member_added", "directory.group_members_changed",
                 "sso.enabled", "sso.login_rejected"):
        assert f"`{name}`" in events_get and f"`{name}`" in create
    assert "Gatehouse-Signature" in create


# Webhook endpoints ------------------------------------------------------------------


@pytest.fixture
def created(admin_api, org, receiver):
    response = admin_api.post(org_url(org, "/webhooks"), {"url": receiver.url, "description": "SIEM",
                                                          "event_types": ["team.created", "member.role_changed"]})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_webhook_is_registered_with_its_secret_shown_once(admin_api, org, created):
    assert created["secret"].startswith("whsec_") and created["state"] == "active"
    assert created["event_types"] == ["member.role_changed", "team.created"]
    detail = admin_api.get(org_url(org, f"/webhooks/{created['id']}")).json()
    assert "secret" not in detail and detail["url"] == created["url"]
    listed = admin_api.get(org_url(org, "/webhooks")).json()["results"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]


def test_pause_resume_rotate_and_delete(admin_api, org, admin_user, created, receiver):
    url = org_url(org, f"/webhooks/{created['id']}")
    assert admin_api.patch(url, {"state": "paused"}).json()["state"] == "paused"
    team_create(org=org, name="while paused", actor=admin_user)
    admin_api.get(events_url(org))  # numbers it
    assert delivery.deliver(created["id"]) == 0 and receiver.requests == []
    assert admin_api.patch(url, {"state": "active", "description": "SIEM 2"}).json()["state"] == "active"
    assert delivery.deliver(created["id"]) == 1 and receiver.types == ["team.created"]
    rotated = admin_api.post(url + "/rotate-secret", {}).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert WebhookEndpoint.objects.get(pk=created["id"]).secret == rotated["secret"]
    assert admin_api.delete(url).status_code == 204
    assert_error(admin_api.get(url), 404)


def test_the_delivery_log_and_redeliver(admin_api, org, admin_user, created, receiver,
                                        django_capture_on_commit_callbacks):
    team_create(org=org, name="ops", actor=admin_user)
    admin_api.get(events_url(org))
    delivery.deliver(created["id"])
    log = admin_api.get(org_url(org, f"/webhooks/{created['id']}/deliveries")).json()["results"]
    assert [(d["event_type"], d["attempt"], d["status_code"], d["succeeded"]) for d in log] == [
        ("team.created", 1, 200, True)]
    assert log[0]["event_id"].startswith("evt_") and log[0]["latency_ms"] >= 0
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(org_url(org, f"/webhooks/{created['id']}/deliveries/{log[0]['id']}/redeliver"), {})
    assert response.status_code == 202
    assert receiver.event_ids == [log[0]["event_id"]] * 2
    log = admin_api.get(org_url(org, f"/webhooks/{created['id']}/deliveries")).json()["results"]
    assert (log[0]["redelivery"], log[0]["attempt"]) == (True, 2)
    assert_error(admin_api.post(org_url(org, f"/webhooks/{created['id']}/deliveries/999999/redeliver"), {}), 404)


def test_another_organizations_webhooks_are_404(outsider_api, other_org, org, created):
    assert_error(outsider_api.get(org_url(org, f"/webhooks/{created['id']}")), 404)
    outsider_admin_url = org_url(other_org, f"/webhooks/{created['id']}")
    for response in (outsider_api.get(outsider_admin_url), outsider_api.delete(outsider_admin_url),
                     outsider_api.get(outsider_admin_url + "/deliveries"),
                     outsider_api.post(outsider_admin_url + "/rotate-secret", {})):
        assert_error(response, 404)
    assert WebhookEndpoint.objects.filter(pk=created["id"]).exists()


class _Resolver:
    def __init__(self, address):
        self.address = address

    def __call__(self, host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.address, port))]


@pytest.mark.parametrize("address", ["10.0.0.1", "127.0.0.1", "169.254.169.254", "192.168.1.2"])
def test_a_private_address_is_refused(admin_api, org, monkeypatch, address):
    monkeypatch.setattr(socket, "getaddrinfo", _Resolver(address))
    response = admin_api.post(org_url(org, "/webhooks"), {"url": "https://hooks.example.com/x",
                                                          "event_types": ["member.added"]})
    assert_error(response, 400, "invalid_url")
    assert "private or reserved address" in response.json()["message"]
    assert not WebhookEndpoint.objects.exists()


def test_http_is_refused_in_production(admin_api, org, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _Resolver("93.184.215.14"))
    response = admin_api.post(org_url(org, "/webhooks"), {"url": "http://hooks.example.com/x",
                                                          "event_types": ["member.added"]})
    assert_error(response, 400, "invalid_url")
    assert response.json()["message"] == "The URL must start with https://."


def test_a_public_https_url_is_accepted_and_checked_again_on_change(admin_api, org, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _Resolver("93.184.215.14"))
    created = admin_api.post(org_url(org, "/webhooks"), {"url": "https://hooks.example.com/x",
                                                         "event_types": ["member.added"]})
    assert created.status_code == 201
    monkeypatch.setattr(socket, "getaddrinfo", _Resolver("10.1.2.3"))
    changed = admin_api.patch(org_url(org, f"/webhooks/{created.json()['id']}"), {"url": "https://internal.test/"})
    assert_error(changed, 400, "invalid_url")


def test_unknown_event_types_are_refused(admin_api, org):
    response = admin_api.post(org_url(org, "/webhooks"), {"url": "https://hooks.example.com/x",
                                                          "event_types": ["database.created"]})
    assert_error(response, 400)
