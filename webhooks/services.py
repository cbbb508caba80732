"""Every change to an organization's webhook endpoints, each audited in its transaction.

The signing secret is made here, returned once by `webhook_create` and
`webhook_rotate_secret` for the caller to show, and kept as it is (delivery signs with
it). Rule ids: docs/rules.md."""
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config import outbound
from config.enqueue import RESUME, RUN_HERE, enqueue_on_commit
from config.errors import Conflict, NotFound, ServiceError
from orgs import events
from orgs.audit import audit_record, register_events
from orgs.models import Organization, new_secret

from .models import WebhookDelivery, WebhookEndpoint

State = WebhookEndpoint.State


@register_events
class WebhookEvents:
    CREATED = "webhook.created"
    UPDATED = "webhook.updated"
    PAUSED = "webhook.paused"
    RESUMED = "webhook.resumed"
    DISABLED = "webhook.disabled"
    DELETED = "webhook.deleted"
    SECRET_ROTATED = "webhook.secret_rotated"
    REDELIVERED = "webhook.redelivered"


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    try:
        outbound.check_url(url)
    except outbound.OutboundError as exc:
        raise ServiceError(exc.args[0], code="invalid_url") from None
    return url


def _clean_types(event_types) -> list[str]:
    carried = events.carried_types()
    chosen = sorted(set(event_types or []))
    unknown = [name for name in chosen if name not in carried]
    if unknown:
        raise ServiceError(f"Unknown event types: {', '.join(unknown[:5])}.", code="invalid_event_type")
    if not chosen:
        raise ServiceError("Choose at least one event type.", code="invalid_event_type")
    return chosen


def _locked(org: Organization, endpoint_id) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().filter(org=org, pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def _audit(org, actor, event, endpoint, *, old=None, new=None):
    audit_record(org=org, actor=actor, event=event, target=endpoint, target_label=endpoint.url[:254], old=old,
                 new=new)


def _queue_delivery(endpoint: WebhookEndpoint) -> None:
    from .tasks import deliver_endpoint

    enqueue_on_commit(deliver_endpoint, if_unqueued=RESUME, args=(endpoint.pk,))


@transaction.atomic
def webhook_create(*, org: Organization, actor: User | None, url: str, event_types,
                   description: str = "") -> tuple[WebhookEndpoint, str]:
    """A new active endpoint that receives the organization's events from now on; returns
    it and its signing secret (shown once)."""
    url, event_types = _clean_url(url), _clean_types(event_types)
    if WebhookEndpoint.objects.filter(org=org).count() >= settings.WEBHOOK_ENDPOINTS_PER_ORG:
        raise Conflict(f"An organization has at most {settings.WEBHOOK_ENDPOINTS_PER_ORG} webhook endpoints.",
                       code="too_many_endpoints")
    events.sequence(org.pk)  # what happened before now is numbered, and not this endpoint's
    secret = new_secret("whsec")
    endpoint = WebhookEndpoint.objects.create(org=org, url=url, description=(description or "").strip()[:200],
                                              event_types=event_types, secret=secret,
                                              delivered_seq=events.last_seq(org.pk))
    _audit(org, actor, WebhookEvents.CREATED, endpoint, new={"url": url, "event_types": event_types})
    return endpoint, secret


@transaction.atomic
def webhook_update(*, org: Organization, actor: User | None, endpoint_id, url: str | None = None,
                   event_types=None, description: str | None = None, state: str | None = None) -> WebhookEndpoint:
    """Change what is given (None: unchanged); `state` "paused" or "active" pauses or
    resumes it (webhook_pause, webhook_resume), all in one transaction."""
    endpoint = _locked(org, endpoint_id)
    old = {"url": endpoint.url, "event_types": endpoint.event_types, "description": endpoint.description}
    if url is not None:
        endpoint.url = _clean_url(url)
    if event_types is not None:
        endpoint.event_types = _clean_types(event_types)
    if description is not None:
        endpoint.description = description.strip()[:200]
    new = {"url": endpoint.url, "event_types": endpoint.event_types, "description": endpoint.description}
    if new != old:
        endpoint.save(update_fields=["url", "event_types", "description", "updated_at"])
        _audit(org, actor, WebhookEvents.UPDATED, endpoint, old=old, new=new)
    if state == State.PAUSED:
        return webhook_pause(org=org, actor=actor, endpoint_id=endpoint.pk)
    if state == State.ACTIVE:
        return webhook_resume(org=org, actor=actor, endpoint_id=endpoint.pk)
    return endpoint


@transaction.atomic
def webhook_pause(*, org: Organization, actor: User | None, endpoint_id) -> WebhookEndpoint:
    """Stop delivering; events keep accumulating behind the cursor for `webhook_resume`."""
    endpoint = _locked(org, endpoint_id)
    if endpoint.state == State.PAUSED:
        return endpoint
    old = {"state": endpoint.state}
    endpoint.state = State.PAUSED
    endpoint.save(update_fields=["state", "updated_at"])
    _audit(org, actor, WebhookEvents.PAUSED, endpoint, old=old, new={"state": endpoint.state})
    return endpoint


@transaction.atomic
def webhook_resume(*, org: Organization, actor: User | None, endpoint_id) -> WebhookEndpoint:
    """Deliver again (after a pause, or a disable for failing), from the first event not
    delivered, at once."""
    endpoint = _locked(org, endpoint_id)
    if endpoint.state == State.ACTIVE:
        return endpoint
    old = {"state": endpoint.state}
    endpoint.state = State.ACTIVE
    endpoint.failed_attempts, endpoint.next_attempt_at, endpoint.failing_since = 0, None, None
    endpoint.disabled_at = None
    endpoint.save(update_fields=["state", "failed_attempts", "next_attempt_at", "failing_since", "disabled_at",
                                 "updated_at"])
    _audit(org, actor, WebhookEvents.RESUMED, endpoint, old=old, new={"state": endpoint.state})
    _queue_delivery(endpoint)
    return endpoint


@transaction.atomic
def webhook_delete(*, org: Organization, actor: User | None, endpoint_id) -> None:
    endpoint = _locked(org, endpoint_id)
    _audit(org, actor, WebhookEvents.DELETED, endpoint, old={"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def webhook_rotate_secret(*, org: Organization, actor: User | None, endpoint_id) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, used from the next delivery on; the old one stops at once."""
    endpoint = _locked(org, endpoint_id)
    endpoint.secret = new_secret("whsec")
    endpoint.save(update_fields=["secret", "updated_at"])
    _audit(org, actor, WebhookEvents.SECRET_ROTATED, endpoint)
    return endpoint, endpoint.secret


@transaction.atomic
def webhook_redeliver(*, org: Organization, actor: User | None, endpoint_id, delivery_id) -> None:
    """An administrator's "Redeliver" of a logged delivery. An event the endpoint already
    passed is sent again once, out of order (it was delivered); one it has not passed yet
    (the failing event at its cursor) is tried again now, in order, without waiting for
    its backoff."""
    endpoint = _locked(org, endpoint_id)
    delivery = WebhookDelivery.objects.select_related("event").filter(org=org, endpoint=endpoint,
                                                                      pk=delivery_id).first()
    if delivery is None:
        raise NotFound("No such delivery.")
    _audit(org, actor, WebhookEvents.REDELIVERED, endpoint, new={"event": delivery.event.public_id})
    if delivery.event.seq > endpoint.delivered_seq:
        if endpoint.state != State.ACTIVE:
            raise Conflict("Resume the endpoint first: its events wait for it in order.", code="endpoint_inactive")
        endpoint.next_attempt_at = None
        endpoint.save(update_fields=["next_attempt_at", "updated_at"])
        _queue_delivery(endpoint)
        return
    from .tasks import redeliver

    enqueue_on_commit(redeliver, if_unqueued=RUN_HERE, args=(delivery.pk,))


@transaction.atomic
def webhook_disable_failing(*, endpoint_id: int, failing_since, last_error: str) -> bool:
    """The system's disable of an endpoint that has failed since `failing_since` (3 days,
    WEBHOOK_DISABLE_AFTER_SECONDS); its administrators are emailed. Returns False when it
    was no longer active."""
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("org").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.state != State.ACTIVE:
        return False
    now = timezone.now()
    endpoint.state, endpoint.disabled_at = State.DISABLED, now
    endpoint.failing_since, endpoint.next_attempt_at = failing_since, None
    endpoint.save(update_fields=["state", "disabled_at", "failing_since", "next_attempt_at", "updated_at"])
    _audit(endpoint.org, None, WebhookEvents.DISABLED, endpoint, old={"state": State.ACTIVE},
           new={"state": State.DISABLED, "failing_since": failing_since.isoformat(), "last_error": last_error})
    from .tasks import send_disabled_email

    enqueue_on_commit(send_disabled_email, if_unqueued=RUN_HERE, args=(endpoint.pk,))
    return True
