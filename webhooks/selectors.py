"""Organization-scoped reads of webhook endpoints and their deliveries. Rule ids: docs/rules.md."""
from django.db.models import QuerySet

from orgs.models import Organization

from .models import WebhookDelivery, WebhookEndpoint


def webhook_list(*, org: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(org=org).order_by("pk")


def webhook_get(*, org: Organization, endpoint_id) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(org=org, pk=endpoint_id).first()


def delivery_list(*, org: Organization, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """Newest first, with each event's public id and type."""
    return (WebhookDelivery.objects.filter(org=org, endpoint=endpoint).select_related("event")
            .order_by("-pk"))
