"""Settings › Webhooks (issue 14 item 2): administrators add an endpoint with its event types
(the secret shown once), read its delivery log, redeliver, pause, resume, rotate, delete;
members are refused, other organizations see nothing; every action needs the CSRF token."""
import re

import pytest
from django.test import Client

from orgs.models import AuditEvent
from teams.services import team_create
from webhooks import delivery
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_create

from ..conftest import client_for
from .conftest import numbered

pytestmark = pytest.mark.django_db
PAGE = "/orgs/acme/settings/webhooks/"


@pytest.fixture
def endpoint(org, admin_user, receiver):
    return webhook_create(org=org, actor=admin_user, url=receiver.url, event_types=["team.created"])[0]


def test_the_nav_links_the_page_for_administrators_only(admin_client, member_client, member):
    assert b'href="/orgs/acme/settings/webhooks/"' in admin_client.get("/orgs/acme/settings/members/").content
    assert b"/settings/webhooks/" not in member_client.get("/orgs/acme/settings/members/").content


def test_members_are_refused_and_outsiders_see_nothing(member_client, outsider_client, member, endpoint):
    for url in (PAGE, f"{PAGE}{endpoint.pk}/"):
        assert member_client.get(url).status_code == 403
        assert outsider_client.get(url).status_code == 404
    assert member_client.post(f"{PAGE}{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_another_organizations_endpoint_is_404(org, outsider, other_org, receiver, admin_client):
    theirs, _ = webhook_create(org=other_org, actor=outsider, url=receiver.url, event_types=["team.created"])
    assert admin_client.get(f"{PAGE}{theirs.pk}/").status_code == 404
    assert admin_client.post(f"{PAGE}{theirs.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()


def test_an_endpoint_is_added_with_its_event_types_and_the_secret_shown_once(admin_client, org, receiver):
    page = admin_client.get(PAGE)
    assert page.status_code == 200 and b'value="sso.login_rejected"' in page.content
    response = admin_client.post(f"{PAGE}add/", {"url": receiver.url, "description": "SIEM",
                                                 "event_types": ["member.added", "team.created"]})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get(org=org)
    assert endpoint.event_types == ["member.added", "team.created"] and endpoint.description == "SIEM"
    assert endpoint.secret.encode() in response.content and b"shown only once" in response.content
    again = admin_client.get(PAGE)
    assert endpoint.secret.encode() not in again.content and receiver.url.encode() in again.content
    assert AuditEvent.objects.filter(org=org, event="webhook.created").count() == 1


@pytest.mark.parametrize("data,message", [
    ({"url": "https://10.0.0.1/hook", "event_types": ["member.added"]}, b"private or reserved address"),
    ({"url": "https://127.0.0.1/hook", "event_types": ["member.added"]}, b"private or reserved address"),
    ({"url": "https://hooks.example.com/x"}, b"This field is required"),
    ({"url": "https://hooks.example.com/x", "event_types": ["database.created"]}, b"Select a valid choice"),
])
def test_refused_endpoints_are_400_with_the_reason(admin_client, org, data, message):
    response = admin_client.post(f"{PAGE}add/", data)
    assert response.status_code == 400 and message in response.content
    assert not WebhookEndpoint.objects.exists()


def test_http_is_refused_outside_debug(admin_client, org, settings):
    settings.DEBUG = False
    response = admin_client.post(f"{PAGE}add/", {"url": "http://hooks.example.com/x", "event_types": ["member.added"]})
    assert response.status_code == 400 and b"The URL must start with https://." in response.content


def test_the_delivery_log_redeliver_pause_resume_rotate_delete(admin_client, org, admin_user, endpoint, receiver,
                                                              django_capture_on_commit_callbacks):
    team_create(org=org, name="ops", actor=admin_user)
    numbered(org)
    delivery.deliver(endpoint.pk)
    page = admin_client.get(f"{PAGE}{endpoint.pk}/")
    logged = WebhookDelivery.objects.get(endpoint=endpoint)
    assert page.status_code == 200 and logged.event.public_id.encode() in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{PAGE}{endpoint.pk}/deliveries/{logged.pk}/redeliver/")
    assert response.status_code == 302 and len(receiver.requests) == 2
    assert admin_client.post(f"{PAGE}{endpoint.pk}/deliveries/999999/redeliver/").status_code == 404
    assert admin_client.post(f"{PAGE}{endpoint.pk}/pause/").status_code == 302
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).state == "paused"
    assert b"Resume" in admin_client.get(f"{PAGE}{endpoint.pk}/").content
    assert admin_client.post(f"{PAGE}{endpoint.pk}/resume/").status_code == 302
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).state == "active"
    rotated = admin_client.post(f"{PAGE}{endpoint.pk}/rotate-secret/")
    secret = WebhookEndpoint.objects.get(pk=endpoint.pk).secret
    assert secret != endpoint.secret and secret.encode() in rotated.content
    edited = admin_client.post(f"{PAGE}{endpoint.pk}/edit/", {"url": receiver.url, "description": "renamed",
                                                              "event_types": ["team.renamed"]})
    assert edited.status_code == 302
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).event_types == ["team.renamed"]
    assert admin_client.post(f"{PAGE}{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


ACTIONS = ["add/", "{pk}/edit/", "{pk}/pause/", "{pk}/resume/", "{pk}/rotate-secret/", "{pk}/delete/",
           "{pk}/deliveries/{delivery}/redeliver/"]


def test_every_action_is_listed():
    from webhooks.dashboard_urls import urlpatterns

    routes = {re.sub(r"<int:(\w+)>", lambda m: {"endpoint_id": "{pk}", "delivery_id": "{delivery}"}[m[1]],
                     str(p.pattern)) for p in urlpatterns}
    assert set(ACTIONS) == routes - {"", "{pk}/"}


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_needs_the_csrf_token(org, admin_user, endpoint, action):
    team_create(org=org, name="ops", actor=admin_user)
    numbered(org)
    delivery.deliver(endpoint.pk)
    url = PAGE + action.format(pk=endpoint.pk, delivery=WebhookDelivery.objects.get().pk)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user, backend="accounts.backends.EmailBackend")
    before = (AuditEvent.objects.count(), list(WebhookEndpoint.objects.values()))
    data = {"url": "https://hooks.example.com/", "event_types": ["member.added"]}
    assert client.post(url, data).status_code == 403
    assert (AuditEvent.objects.count(), list(WebhookEndpoint.objects.values())) == before
    page = client_for(admin_user).get(PAGE if action == "add/" else f"{PAGE}{endpoint.pk}/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content)
    assert token is not None  # the page's forms carry it
