"""Delivering an organization's events to a webhook endpoint: in order, signed, retried
with exponential backoff, every attempt logged (WebhookDelivery).

- **In order, nothing lost.** An endpoint has a cursor (`delivered_seq`): `deliver` sends
  the next numbered event of a type the endpoint chose, and moves the cursor past it only
  once the endpoint answered 2xx, in the transaction that logs the attempt (successes are
  recorded FLUSH_EVERY at a time or every FLUSH_SECONDS, and before anything else). A
  worker that dies between a POST and that commit leaves the cursor where it was, so
  those events are sent again: delivery is at least once, and `Gatehouse-Event-Id` lets a
  receiver drop a repeat.
- **One worker per endpoint.** `deliver` first takes the endpoint's lease (a conditional
  UPDATE, renewed with each event); a second worker finds it taken and returns. A killed
  worker's lease lapses after LEASE and Celery beat (`tasks.deliver_due`) queues the
  endpoint again.
- **Retries.** A failed event (no answer within the deadline, a refused address, any
  status but 2xx) is retried after WEBHOOK_RETRY_FIRST_SECONDS, doubling each time, at
  most WEBHOOK_RETRY_MAX_SECONDS apart (`backoff`); meanwhile the endpoint waits, with
  every later event behind it. Failing for WEBHOOK_DISABLE_AFTER_SECONDS (3 days) disables
  the endpoint and emails the organization's administrators; resuming it goes on from the
  event that failed.
- **Signed.** `Gatehouse-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
  (README, Webhooks, has a verification snippet).

Every POST goes through config.outbound.fetch: public addresses only, a deadline, no
redirects, https outside DEBUG.
"""
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from config import outbound
from orgs import events
from orgs.models import Organization, OrgEvent, OrgEventSequence

from .models import WebhookDelivery, WebhookEndpoint

SIGNATURE_HEADER = "Gatehouse-Signature"
EVENT_ID_HEADER = "Gatehouse-Event-Id"
EVENT_TYPE_HEADER = "Gatehouse-Event-Type"
# What an endpoint may answer: read and dropped, so only a cap.
MAX_ANSWER_BYTES = 64 * 1024
BATCH = 200
# Successes are recorded (logged, the cursor moved) this many at a time, or after this long:
# a worker killed meanwhile sends those again, never skips them.
FLUSH_EVERY = 100
FLUSH_SECONDS = 1.0
Active = WebhookEndpoint.State.ACTIVE


def lease() -> timedelta:
    """Long enough for one POST and its bookkeeping, renewed with each event."""
    return timedelta(seconds=settings.WEBHOOK_DEADLINE_SECONDS * 2 + 30)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Gatehouse-Signature` header's value."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def body_of(event: OrgEvent, org_slug: str) -> bytes:
    return json.dumps(events.payload(event, org_slug=org_slug), separators=(",", ":")).encode()


def backoff(failed_attempts: int) -> timedelta:
    """How long after its `failed_attempts`-th failure an event is tried again."""
    seconds = settings.WEBHOOK_RETRY_FIRST_SECONDS * 2 ** min(max(failed_attempts, 1) - 1, 30)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    latency_ms: int
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(endpoint: WebhookEndpoint, event: OrgEvent, org_slug: str) -> Attempt:
    """One signed POST of `event` to `endpoint`."""
    body = body_of(event, org_slug)
    headers = {"Content-Type": "application/json", EVENT_ID_HEADER: event.public_id, EVENT_TYPE_HEADER: event.type,
               SIGNATURE_HEADER: sign(endpoint.secret, int(time.time()), body)}
    started = time.monotonic()
    try:
        response = outbound.fetch(endpoint.url, method="POST", headers=headers, body=body,
                                  deadline=settings.WEBHOOK_DEADLINE_SECONDS, max_bytes=MAX_ANSWER_BYTES)
    except outbound.OutboundError as exc:
        return Attempt(None, _since(started), str(exc)[:300])
    status = response.status
    return Attempt(status, _since(started), "" if 200 <= status < 300 else f"The endpoint answered HTTP {status}.")


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _claim(endpoint_id: int) -> WebhookEndpoint | None:
    """The endpoint, if it is active, due and no other worker holds it; leased to this one."""
    now = timezone.now()
    taken = (WebhookEndpoint.objects.filter(pk=endpoint_id, state=Active)
             .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
             .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
             .update(leased_until=now + lease()))
    return WebhookEndpoint.objects.filter(pk=endpoint_id).first() if taken else None


def deliver(endpoint_id: int) -> int:
    """Send the endpoint's due events in order until none is left, one fails, or
    WEBHOOK_DRAIN_SECONDS passed; returns how many succeeded."""
    endpoint = _claim(endpoint_id)
    if endpoint is None:
        return 0
    try:
        return _drain(endpoint)
    finally:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(leased_until=None)


def _drain(endpoint: WebhookEndpoint) -> int:
    org_slug = Organization.objects.filter(pk=endpoint.org_id).values_list("slug", flat=True).first()
    delivered, done = 0, []
    ends_at = time.monotonic() + settings.WEBHOOK_DRAIN_SECONDS
    flushed_at = time.monotonic()
    while time.monotonic() < ends_at:
        newest = events.last_seq(endpoint.org_id)
        batch = list(events.events_after(org=endpoint.org_id, after=endpoint.delivered_seq, upto=newest,
                                         limit=BATCH, types=endpoint.event_types))
        for event in batch:
            attempt = post(endpoint, event, org_slug)
            if not attempt.succeeded:
                if _record_done(endpoint, done):
                    _record_failure(endpoint, event, attempt)
                return delivered
            done.append(_logged(endpoint, event, attempt, endpoint.failed_attempts + 1))
            endpoint.failed_attempts = 0
            delivered += 1
            if time.monotonic() >= ends_at:
                _record_done(endpoint, done)
                return delivered
            if len(done) >= FLUSH_EVERY or time.monotonic() - flushed_at >= FLUSH_SECONDS:
                if not _record_done(endpoint, done):
                    return delivered  # paused, disabled or deleted meanwhile
                done, flushed_at = [], time.monotonic()
        if len(batch) < BATCH:
            # Everything up to `newest` is done: what was not of its types too.
            _record_done(endpoint, done, newest=newest)
            return delivered
        # The next batch reads after the cursor: it must have passed this whole batch.
        if not _record_done(endpoint, done):
            return delivered
        done, flushed_at = [], time.monotonic()
    return delivered


def _logged(endpoint: WebhookEndpoint, event: OrgEvent, attempt: Attempt, number: int, *,
            redelivery: bool = False) -> WebhookDelivery:
    """The (unsaved) delivery log row of `attempt`, the `number`-th of `event` at `endpoint`."""
    return WebhookDelivery(org_id=endpoint.org_id, endpoint=endpoint, event=event, attempt=number,
                           redelivery=redelivery, status_code=attempt.status_code, succeeded=attempt.succeeded,
                           latency_ms=attempt.latency_ms, error=attempt.error, created_at=timezone.now())


@transaction.atomic
def _record_done(endpoint: WebhookEndpoint, done: list[WebhookDelivery], *, newest: int | None = None) -> bool:
    """Log the successful deliveries `done` and move the cursor past them (and up to
    `newest`), in one transaction; False when the endpoint is no longer active."""
    seq = max([endpoint.delivered_seq, newest or 0, *(delivery.event.seq for delivery in done)])
    if seq == endpoint.delivered_seq and not done:
        return True
    WebhookDelivery.objects.bulk_create(done)
    endpoint.delivered_seq = seq
    return bool(WebhookEndpoint.objects.filter(pk=endpoint.pk, state=Active).update(
        delivered_seq=seq, failed_attempts=0, next_attempt_at=None, failing_since=None,
        leased_until=timezone.now() + lease()))


@transaction.atomic
def _record_failure(endpoint: WebhookEndpoint, event: OrgEvent, attempt: Attempt) -> None:
    """Log the failed attempt and set the retry, or disable the endpoint after 3 days of failures."""
    logged = _logged(endpoint, event, attempt, endpoint.failed_attempts + 1)
    logged.save()
    now = logged.created_at
    endpoint.failed_attempts += 1
    failing_since = endpoint.failing_since or now
    if now - failing_since >= timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS):
        from .services import webhook_disable_failing

        webhook_disable_failing(endpoint_id=endpoint.pk, failing_since=failing_since, last_error=attempt.error)
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk, state=Active).update(
        failed_attempts=endpoint.failed_attempts, failing_since=failing_since,
        next_attempt_at=now + backoff(endpoint.failed_attempts))


def redeliver_now(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivered event again, out of the endpoint's order (an administrator's
    "Redeliver"), and log it. An event the endpoint has not passed yet is left to the
    ordered path instead (services.webhook_redeliver)."""
    endpoint, event = delivery.endpoint, delivery.event
    org_slug = Organization.objects.filter(pk=endpoint.org_id).values_list("slug", flat=True).first()
    attempt = post(endpoint, event, org_slug)
    done = WebhookDelivery.objects.filter(endpoint=endpoint, event=event).count()
    logged = _logged(endpoint, event, attempt, done + 1, redelivery=True)
    logged.save()
    return logged


def due_endpoint_ids() -> list[int]:
    """Active endpoints behind their organization's events, not waiting for a retry, not
    held by a live worker: what Celery beat queues."""
    now = timezone.now()
    newest = OrgEventSequence.objects.filter(org_id=OuterRef("org_id")).values("last_seq")[:1]
    return list(
        WebhookEndpoint.objects.filter(state=Active)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .annotate(newest=Subquery(newest)).filter(delivered_seq__lt=F("newest"))
        .values_list("pk", flat=True))

