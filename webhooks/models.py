"""Webhook endpoints of an organization and the log of their deliveries.

An endpoint reads the organization's numbered events (orgs.models.OrgEvent) from its
cursor (`delivered_seq`): it is sent event n+1 only once event n succeeded (or is not
of a type it chose), so a failing endpoint holds its place and loses nothing.
Rule ids: docs/rules.md."""
from django.db import models
from django.utils import timezone

from orgs.models import Organization, OrgEvent, TimestampedModel


class WebhookEndpoint(TimestampedModel):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"  # by an administrator
        DISABLED = "disabled", "Disabled"  # after failing for WEBHOOK_DISABLE_AFTER (3 days)

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)  # chosen from orgs.events.carried_types()
    # The signing secret, kept as it is (it must be read to sign each delivery); shown once,
    # at creation or rotation, never again.
    secret = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    # The last event sequence number this endpoint is done with (delivered, or not its type).
    delivered_seq = models.BigIntegerField(default=0)
    # The retry of the event at the cursor: how many attempts failed, when to try again,
    # since when the endpoint has been failing (None while it succeeds).
    failed_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # One worker at a time delivers for an endpoint: it holds the lease, renewed per event;
    # a worker killed mid-delivery lets it lapse and the next one resumes from the cursor.
    leased_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "id"], name="webhooks_endpoint_org")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One attempt to POST one event to one endpoint: append-only."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
                                 db_index=False)
    # DO_NOTHING: events go only with their organization, which takes these rows too (one
    # DELETE per table, orgs.models.OrgEvent.audit says why).
    event = models.ForeignKey(OrgEvent, on_delete=models.DO_NOTHING, related_name="+")
    attempt = models.PositiveIntegerField()  # 1 for the first try of this event at this endpoint
    redelivery = models.BooleanField(default=False)  # asked for by an administrator
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no HTTP answer
    succeeded = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "-id"], name="webhooks_delivery_endpoint")]
