"""Celery tasks of the webhooks app: they take ids, re-fetch, and return quietly when the row is gone.

Rule ids: docs/rules.md."""
from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.core.mail import send_mail

from config.enqueue import RESUME, enqueue_on_commit
from orgs import events
from orgs.models import Membership

from . import delivery
from .models import WebhookDelivery, WebhookEndpoint


@shared_task(acks_late=True)
def deliver_endpoint(endpoint_id: int) -> int:
    """Deliver the endpoint's due events in order (webhooks.delivery.deliver). Queued twice,
    the second finds the endpoint leased and returns."""
    return delivery.deliver(endpoint_id)


@shared_task
def deliver_due() -> int:
    """Celery beat, every WEBHOOK_DUE_EVERY_SECONDS: number the events whose on-commit
    message was lost (broker down), then queue every endpoint that is behind and due —
    retries whose time came, endpoints whose worker was killed (its lease lapsed)."""
    for org_id in events.orgs_with_unsequenced_events():
        events.sequence(org_id)
    due = delivery.due_endpoint_ids()
    for endpoint_id in due:
        enqueue_on_commit(deliver_endpoint, if_unqueued=RESUME, args=(endpoint_id,))
    return len(due)


@worker_ready.connect
def _deliver_due_on_worker_start(sender=None, **kwargs):
    deliver_due.delay()


@shared_task
def redeliver(delivery_id: int) -> bool:
    found = WebhookDelivery.objects.select_related("endpoint", "event__audit").filter(pk=delivery_id).first()
    if found is None:
        return False
    return delivery.redeliver_now(found).succeeded


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_disabled_email(endpoint_id: int) -> int:
    """Tell the organization's administrators that an endpoint was disabled for failing."""
    endpoint = WebhookEndpoint.objects.select_related("org").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.state != WebhookEndpoint.State.DISABLED:
        return 0
    org = endpoint.org
    admins = list(Membership.objects.filter(org=org, role=Membership.Role.ADMIN, user__is_active=True)
                  .order_by("user__email").values_list("user__email", flat=True))
    if not admins:
        return 0
    send_mail(
        subject=f"A webhook endpoint of {org.name} was disabled",
        message=(
            f"Gatehouse could not deliver events to this webhook endpoint of {org.name} since "
            f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC, so it was disabled:\n\n  {endpoint.url}\n\n"
            "No event is lost: they wait, in order, from the first one that failed. Fix the endpoint, then "
            f"resume it on {settings.BASE_URL}/orgs/{org.slug}/settings/webhooks/{endpoint.pk}/ (or through the "
            "API) to receive them.\n"
        ),
        from_email=None,
        recipient_list=admins,
    )
    return len(admins)
