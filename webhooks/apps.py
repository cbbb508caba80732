"""The webhooks app: endpoints, their deliveries, the dashboard page. Rule ids: docs/rules.md."""
from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from orgs.events import events_sequenced

        from .receivers import deliver_new_events

        events_sequenced.connect(deliver_new_events, dispatch_uid="webhooks.deliver_new_events")
