"""Webhook endpoints of the JSON API (§5, issue 14 item 2): register, change, pause or
resume, delete, rotate the signing secret, read the delivery log and redeliver.
Administrators only. Rule ids: docs/rules.md."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from webhooks import selectors, services
from webhooks.delivery import SIGNATURE_HEADER
from webhooks.models import WebhookEndpoint

from ..serializers import EmptySerializer, StrictSerializer
from ..views import OrgScopedAPIView, error_responses
from .events import EVENT_FORMAT, EVENT_TYPES, event_types_table

TAGS = ["webhooks"]
STATE_CHANGES = [WebhookEndpoint.State.ACTIVE, WebhookEndpoint.State.PAUSED]  # the schema's WebhookStateChangeEnum
SIGNING = (
    f"Each delivery is a POST of one event (JSON, as the events API lists it) with the headers `Gatehouse-Event-Id`, "
    f"`Gatehouse-Event-Type` and `{SIGNATURE_HEADER}: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the "
    "endpoint's secret>`. An endpoint receives its events in order: the next only once it answered 2xx to the one "
    "before. A failure is retried after 15 s, doubling up to one hour apart; after 3 days of failures the endpoint "
    "is disabled and the administrators are emailed. Delivery is at least once: drop repeats by event id.\n\n"
)


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    description = serializers.CharField(allow_blank=True)
    event_types = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=WebhookEndpoint.State.choices,
                                    help_text="`disabled`: after 3 days of failures; resume with state `active`.")
    delivered_seq = serializers.IntegerField(help_text="The sequence of the last event it is done with.")
    failed_attempts = serializers.IntegerField(help_text="Failures of the event it is waiting on.")
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    failing_since = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="The signing secret. Shown once: store it now.")


class WebhookWriteSerializer(StrictSerializer):
    url = serializers.CharField(max_length=2048, help_text="https://, a public address; no redirects followed.")
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES),
                                        min_length=1, max_length=100)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookUpdateSerializer(StrictSerializer):
    url = serializers.CharField(max_length=2048, required=False)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES),
                                        min_length=1, max_length=100, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    state = serializers.ChoiceField(choices=STATE_CHANGES, required=False,
                                    help_text="`paused` stops deliveries (events wait in order); `active` resumes, "
                                              "also after a disable.")


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.CharField(source="event.public_id")
    event_type = serializers.CharField(source="event.type")
    event_sequence = serializers.IntegerField(source="event.seq")
    attempt = serializers.IntegerField()
    redelivery = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True, help_text="Null: no HTTP answer (see `error`).")
    succeeded = serializers.BooleanField()
    latency_ms = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class _WebhookView(OrgScopedAPIView):
    admin_only_reads = True

    def endpoint_or_404(self, webhook_id) -> WebhookEndpoint:
        return self.get_or_404(selectors.webhook_get(org=self.org, endpoint_id=webhook_id), "No such webhook.")


class WebhookListView(_WebhookView):
    @extend_schema(tags=TAGS, summary="List webhook endpoints", description="Administrators only.",
                   responses={200: WebhookSerializer(many=True), **error_responses(403, 404)})
    def get(self, request, org_slug):
        return self.page(selectors.webhook_list(org=self.org), WebhookSerializer)

    @extend_schema(
        tags=TAGS, summary="Register a webhook endpoint",
        description="Administrators only. The answer holds the signing secret, shown this once. The endpoint "
                    "receives the chosen events that happen from now on.\n\n" + SIGNING + EVENT_FORMAT
                    + event_types_table(),
        request=WebhookWriteSerializer,
        responses={201: WebhookCreatedSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request, org_slug):
        data = self.validated(WebhookWriteSerializer)
        endpoint, secret = services.webhook_create(org=self.org, actor=self.actor, url=data["url"],
                                                   event_types=data["event_types"],
                                                   description=data.get("description", ""))
        body = WebhookSerializer(endpoint).data
        return Response({**body, "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookDetailView(_WebhookView):
    @extend_schema(tags=TAGS, summary="One webhook endpoint", description="Administrators only.",
                   responses={200: WebhookSerializer, **error_responses(403, 404)})
    def get(self, request, org_slug, webhook_id):
        return Response(WebhookSerializer(self.endpoint_or_404(webhook_id)).data)

    @extend_schema(tags=TAGS, summary="Change, pause or resume a webhook endpoint",
                   description="Administrators only. Fields left out stay as they are.",
                   request=WebhookUpdateSerializer,
                   responses={200: WebhookSerializer, **error_responses(400, 403, 404, 413)})
    def patch(self, request, org_slug, webhook_id):
        data = self.validated(WebhookUpdateSerializer)
        endpoint = self.endpoint_or_404(webhook_id)
        services.webhook_update(org=self.org, actor=self.actor, endpoint_id=endpoint.pk, url=data.get("url"),
                                event_types=data.get("event_types"), description=data.get("description"),
                                state=data.get("state"))
        return Response(WebhookSerializer(self.endpoint_or_404(webhook_id)).data)

    @extend_schema(tags=TAGS, summary="Delete a webhook endpoint", description="Administrators only.",
                   responses={204: None, **error_responses(403, 404)})
    def delete(self, request, org_slug, webhook_id):
        services.webhook_delete(org=self.org, actor=self.actor, endpoint_id=self.endpoint_or_404(webhook_id).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(_WebhookView):
    @extend_schema(tags=TAGS, summary="Rotate a webhook endpoint's signing secret",
                   description="Administrators only. The new secret signs from the next delivery on; the old one "
                               "stops at once. Shown this once.",
                   request=EmptySerializer,
                   responses={200: WebhookCreatedSerializer, **error_responses(403, 404)})
    def post(self, request, org_slug, webhook_id):
        self.validated(EmptySerializer)
        endpoint, secret = services.webhook_rotate_secret(org=self.org, actor=self.actor,
                                                          endpoint_id=self.endpoint_or_404(webhook_id).pk)
        return Response({**WebhookSerializer(endpoint).data, "secret": secret})


class WebhookDeliveryListView(_WebhookView):
    @extend_schema(tags=TAGS, summary="A webhook endpoint's delivery log",
                   description="Administrators only. Every attempt, newest first.",
                   responses={200: DeliverySerializer(many=True), **error_responses(403, 404)})
    def get(self, request, org_slug, webhook_id):
        endpoint = self.endpoint_or_404(webhook_id)
        return self.page(selectors.delivery_list(org=self.org, endpoint=endpoint), DeliverySerializer)


class WebhookRedeliverView(_WebhookView):
    @extend_schema(tags=TAGS, summary="Redeliver an event",
                   description="Administrators only. An event the endpoint already received is sent again now "
                               "(logged as a redelivery); the event it is waiting on is tried again now, in order. "
                               "409 `endpoint_inactive` for that one while the endpoint is paused or disabled.",
                   request=EmptySerializer,
                   responses={202: None, **error_responses(403, 404, 409)})
    def post(self, request, org_slug, webhook_id, delivery_id):
        self.validated(EmptySerializer)
        endpoint = self.endpoint_or_404(webhook_id)
        services.webhook_redeliver(org=self.org, actor=self.actor, endpoint_id=endpoint.pk, delivery_id=delivery_id)
        return Response(status=status.HTTP_202_ACCEPTED)
