"""Webhook delivery against a real receiver on 127.0.0.1 (issue 14 item 2): signed as the
README documents (checked here with hmac directly, not with our code), in order per
endpoint, retried with a bounded exponential backoff, nothing lost when a delivery dies
mid-way, disabled after 3 days of failures with an email to the administrators."""
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from orgs.models import AuditEvent, Membership
from orgs.services import membership_change_role, membership_set_database_admin
from teams.services import team_create, team_rename
from webhooks import delivery
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_create, webhook_redeliver, webhook_resume

from .conftest import numbered

ALL = ["member.role_changed", "member.database_admin_changed", "team.created", "team.renamed"]


@pytest.fixture
def endpoint(org, admin_user, receiver):
    endpoint, secret = webhook_create(org=org, actor=admin_user, url=receiver.url, event_types=ALL)
    endpoint.shown_secret = secret
    return endpoint


def three_events(org, admin_user, member):
    membership_change_role(org=org, membership=member, role=Membership.Role.ADMIN, actor=admin_user)
    team = team_create(org=org, name="Ops", actor=admin_user)
    team_rename(org=org, team=team, name="Platform", actor=admin_user)
    numbered(org)


def due_now(endpoint):
    """The clock moved past the endpoint's retry time."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """The README's verification, written again from the documented format."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return abs(now - int(parts["t"])) <= tolerance and hmac.compare_digest(expected, parts["v1"])


def test_a_delivery_is_signed_as_documented(org, admin_user, member, endpoint, receiver):
    membership_change_role(org=org, membership=member, role=Membership.Role.ADMIN, actor=admin_user)
    numbered(org)
    assert delivery.deliver(endpoint.pk) == 1
    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    now = int(timezone.now().timestamp())
    assert verify(endpoint.shown_secret, headers["Gatehouse-Signature"], body, now=now)
    assert not verify("whsec_other", headers["Gatehouse-Signature"], body, now=now)
    assert not verify(endpoint.shown_secret, headers["Gatehouse-Signature"], body + b" ", now=now)
    payload = json.loads(body)
    assert headers["Gatehouse-Event-Id"] == payload["id"] and payload["id"].startswith("evt_")
    assert headers["Gatehouse-Event-Type"] == payload["type"] == "member.role_changed"
    assert headers["Content-Type"] == "application/json"
    assert payload["sequence"] == endpoint.delivered_seq + 1 and payload["organization"] == "acme"
    assert payload["data"] == {"actor": "ada@acme.test",
                               "target": {"type": "membership", "id": str(member.pk), "label": "max@acme.test"},
                               "before": {"role": "member"}, "after": {"role": "admin"}}
    [logged] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert (logged.attempt, logged.status_code, logged.succeeded, logged.error) == (1, 200, True, "")


def test_a_failing_receiver_holds_the_order_and_backs_off_until_it_recovers(org, admin_user, member, endpoint,
                                                                           receiver):
    three_events(org, admin_user, member)
    base = endpoint.delivered_seq  # what happened before the endpoint was made
    receiver.script = [500, 503]
    started = timezone.now()
    assert delivery.deliver(endpoint.pk) == 0
    endpoint.refresh_from_db()
    assert endpoint.failed_attempts == 1 and endpoint.delivered_seq == base
    assert timedelta(seconds=14) < endpoint.next_attempt_at - started <= timedelta(seconds=16)
    assert delivery.deliver(endpoint.pk) == 0 and len(receiver.requests) == 1  # not due yet: nothing sent
    due_now(endpoint)
    assert delivery.deliver(endpoint.pk) == 0
    endpoint.refresh_from_db()
    assert endpoint.failed_attempts == 2 and endpoint.next_attempt_at - timezone.now() > timedelta(seconds=28)
    due_now(endpoint)
    assert delivery.deliver(endpoint.pk) == 3
    # Event 1 three times (two failures), then 2 and 3: never 2 before 1 succeeded.
    assert receiver.types == ["member.role_changed"] * 3 + ["team.created", "team.renamed"]
    log = [(seq - base, *rest) for seq, *rest in WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
           .values_list("event__seq", "attempt", "status_code", "succeeded")]
    assert log == [(1, 1, 500, False), (1, 2, 503, False), (1, 3, 200, True), (2, 1, 200, True), (3, 1, 200, True)]
    endpoint.refresh_from_db()
    assert (endpoint.delivered_seq - base, endpoint.failed_attempts, endpoint.failing_since) == (3, 0, None)


def test_the_backoff_doubles_and_is_bounded(settings):
    assert [delivery.backoff(n).total_seconds() for n in range(1, 11)] == [
        15, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert delivery.backoff(10_000).total_seconds() == settings.WEBHOOK_RETRY_MAX_SECONDS


def test_an_unreachable_endpoint_is_logged_with_the_reason(org, admin_user, member, loopback):
    endpoint, _ = webhook_create(org=org, actor=admin_user, url="http://127.0.0.1:9/closed", event_types=ALL)
    three_events(org, admin_user, member)
    assert delivery.deliver(endpoint.pk) == 0
    [logged] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert logged.status_code is None and "refused the connection" in logged.error


def test_no_event_is_lost_when_a_delivery_dies_mid_way(org, admin_user, member, endpoint, receiver, monkeypatch):
    """The worker dies right after POSTing event 2, before anything is recorded: the cursor
    has not passed an event that was not recorded, so the next delivery sends from there
    again, in order (at least once; the event id tells a repeat), and loses nothing."""
    three_events(org, admin_user, member)
    real_post, second = delivery.post, endpoint.delivered_seq + 2

    def killed_after_the_second(endpoint, event, org_slug):
        attempt = real_post(endpoint, event, org_slug)
        if event.seq == second:
            raise SystemExit("worker killed")
        return attempt

    monkeypatch.setattr(delivery, "post", killed_after_the_second)
    with pytest.raises(SystemExit):
        delivery.deliver(endpoint.pk)
    cursor = WebhookEndpoint.objects.get(pk=endpoint.pk).delivered_seq
    assert endpoint.delivered_seq <= cursor < second
    monkeypatch.setattr(delivery, "post", real_post)
    assert delivery.deliver(endpoint.pk) == endpoint.delivered_seq + 3 - cursor
    assert receiver.types == ["member.role_changed", "team.created", "member.role_changed", "team.created",
                              "team.renamed"]
    assert len(set(receiver.event_ids)) == 3
    # Recorded once each: the log shows what reached the cursor.
    assert WebhookDelivery.objects.filter(endpoint=endpoint, succeeded=True).count() == 3


def test_a_backlog_of_several_batches_is_sent_once_each_in_order(org, admin_user, receiver, monkeypatch):
    """Batches of 3 events read after the cursor, successes recorded every 2 or at once:
    whatever the two cut, each event is sent once."""
    endpoint, _ = webhook_create(org=org, actor=admin_user, url=receiver.url, event_types=["team.created"])
    for i in range(10):
        team_create(org=org, name=f"t{i}", actor=admin_user)
    numbered(org)
    monkeypatch.setattr(delivery, "BATCH", 3)
    for flush_every, flush_seconds in ((2, 60.0), (100, 0.0)):
        monkeypatch.setattr(delivery, "FLUSH_EVERY", flush_every)
        monkeypatch.setattr(delivery, "FLUSH_SECONDS", flush_seconds)
        receiver.requests.clear()
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(delivered_seq=endpoint.delivered_seq)
        assert delivery.deliver(endpoint.pk) == 10
        labels = [json.loads(r["body"])["data"]["target"]["label"] for r in receiver.requests]
        assert labels == [f"t{i}" for i in range(10)]


def test_successes_are_recorded_before_a_failure(org, admin_user, member, endpoint, receiver):
    three_events(org, admin_user, member)
    receiver.script = [200, 200, 500]
    assert delivery.deliver(endpoint.pk) == 2
    endpoint_now = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert endpoint_now.delivered_seq == endpoint.delivered_seq + 2 and endpoint_now.failed_attempts == 1
    assert list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
                .values_list("succeeded", flat=True)) == [True, True, False]


def test_a_killed_workers_lease_lapses_and_the_next_resumes(org, admin_user, member, endpoint, receiver):
    three_events(org, admin_user, member)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(leased_until=timezone.now() + timedelta(seconds=30))
    assert delivery.deliver(endpoint.pk) == 0 and receiver.requests == []  # another worker holds it
    assert delivery.due_endpoint_ids() == []
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert delivery.due_endpoint_ids() == [endpoint.pk]  # Celery beat queues it again
    assert delivery.deliver(endpoint.pk) == 3
    assert delivery.due_endpoint_ids() == []


def test_only_the_chosen_types_are_sent_and_the_cursor_passes_the_others(org, admin_user, member, receiver):
    endpoint, _ = webhook_create(org=org, actor=admin_user, url=receiver.url, event_types=["team.renamed"])
    base = endpoint.delivered_seq
    three_events(org, admin_user, member)
    assert delivery.deliver(endpoint.pk) == 1
    assert receiver.types == ["team.renamed"]
    endpoint.refresh_from_db()
    assert endpoint.delivered_seq == base + 3


def test_an_endpoint_receives_what_happened_after_it_was_made(org, admin_user, member, receiver):
    membership_set_database_admin(org=org, membership=member, value=True, actor=admin_user)
    endpoint, _ = webhook_create(org=org, actor=admin_user, url=receiver.url, event_types=ALL)
    three_events(org, admin_user, member)
    assert delivery.deliver(endpoint.pk) == 3
    assert "member.database_admin_changed" not in receiver.types


def test_an_endpoint_failing_for_3_days_is_disabled_and_the_administrators_emailed(
        org, admin_user, member, endpoint, receiver, django_capture_on_commit_callbacks):
    three_events(org, admin_user, member)
    base = endpoint.delivered_seq
    receiver.then = 500
    delivery.deliver(endpoint.pk)
    # The clock moves on: the endpoint has been failing for 3 days when it is next due.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3, seconds=1), next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.deliver(endpoint.pk) == 0
    endpoint.refresh_from_db()
    assert endpoint.state == WebhookEndpoint.State.DISABLED and endpoint.disabled_at is not None
    assert AuditEvent.objects.filter(org=org, event="webhook.disabled", actor=None).count() == 1
    [email] = mail.outbox
    assert email.to == ["ada@acme.test", "max@acme.test"]  # both administrators now
    assert receiver.url in email.body and "disabled" in email.subject
    # Nothing is sent while it is disabled; resumed, it goes on from the event that failed.
    due_now(endpoint)
    assert delivery.deliver(endpoint.pk) == 0 and delivery.due_endpoint_ids() == []
    receiver.then = 200
    with django_capture_on_commit_callbacks(execute=True):
        webhook_resume(org=org, actor=admin_user, endpoint_id=endpoint.pk)
    assert receiver.types[-3:] == ["member.role_changed", "team.created", "team.renamed"]
    endpoint.refresh_from_db()
    assert (endpoint.state, endpoint.delivered_seq) == (WebhookEndpoint.State.ACTIVE, base + 3)


def test_one_day_of_failures_keeps_the_endpoint(org, admin_user, member, endpoint, receiver):
    three_events(org, admin_user, member)
    receiver.then = 500
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=1))
    delivery.deliver(endpoint.pk)
    endpoint.refresh_from_db()
    assert endpoint.state == WebhookEndpoint.State.ACTIVE and mail.outbox == []


def test_redeliver_sends_a_delivered_event_again_and_logs_it(org, admin_user, member, endpoint, receiver,
                                                            django_capture_on_commit_callbacks):
    three_events(org, admin_user, member)
    delivery.deliver(endpoint.pk)
    first = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        webhook_redeliver(org=org, actor=admin_user, endpoint_id=endpoint.pk, delivery_id=first.pk)
    assert receiver.event_ids[-1] == receiver.event_ids[0]
    again = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-pk").first()
    assert (again.redelivery, again.attempt, again.succeeded, again.event_id) == (True, 2, True, first.event_id)


def test_redeliver_of_the_failing_event_tries_it_now_in_order(org, admin_user, member, endpoint, receiver,
                                                              django_capture_on_commit_callbacks):
    three_events(org, admin_user, member)
    receiver.script = [500]
    delivery.deliver(endpoint.pk)
    failed = WebhookDelivery.objects.get(endpoint=endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_redeliver(org=org, actor=admin_user, endpoint_id=endpoint.pk, delivery_id=failed.pk)
    assert receiver.types == ["member.role_changed"] * 2 + ["team.created", "team.renamed"]
