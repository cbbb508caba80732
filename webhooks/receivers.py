"""What webhooks does when something happens in orgs (connected in WebhooksConfig.ready). Rule ids: docs/rules.md."""
from config.enqueue import RESUME, enqueue_on_commit

from .models import WebhookEndpoint


def deliver_new_events(sender=None, *, org_id: int, **kwargs) -> None:
    """`orgs.events.events_sequenced`, after commit: queue the organization's active endpoints."""
    from .tasks import deliver_endpoint

    for endpoint_id in WebhookEndpoint.objects.filter(org_id=org_id, state=WebhookEndpoint.State.ACTIVE) \
            .values_list("pk", flat=True):
        enqueue_on_commit(deliver_endpoint, if_unqueued=RESUME, args=(endpoint_id,))
