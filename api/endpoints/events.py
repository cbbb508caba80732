"""The events API (§5, issue 14 item 2): an organization's events in order, from any cursor,
for a consumer that catches up or replays. The same events, in the same JSON, as webhooks
deliver. Administrators only. Rule ids: docs/rules.md."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from orgs import events

from ..errors import InvalidQuery
from ..views import OrgScopedAPIView, error_responses

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
# The schema's EventTypeEnum. Every app registered its types in its ready(), before URLs load.
EVENT_TYPES = list(events.carried_types())


def event_types_table() -> str:
    """The carried event types as a Markdown table, for the API reference."""
    rows = "\n".join(f"| `{name}` | {text} |" for name, text in events.carried_types().items())
    return f"| type | what happened |\n| --- | --- |\n{rows}"


EVENT_FORMAT = (
    "Each event: `id` (stable, `evt_…`, also sent as `Gatehouse-Event-Id`), `type`, `sequence` (its place in the "
    "organization's order), `occurred_at`, `organization` and `data`: `actor` (an email, `system` or `directory`), "
    "`target` (`type`, `id`, `label`), `before` and `after` (the state changed; null when there was none).\n\n"
    "Event types:\n\n"
)


class EventTargetSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField()
    label = serializers.CharField()


class EventDataSerializer(serializers.Serializer):
    actor = serializers.CharField()
    target = EventTargetSerializer()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Stable public id, `evt_…`.")
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    sequence = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    organization = serializers.CharField()
    data = EventDataSerializer()


class EventPageSerializer(serializers.Serializer):
    data = EventSerializer(many=True)
    next = serializers.CharField(help_text="The cursor to pass as `after` next time (the last event's sequence, "
                                           "or `after` itself when there was none).")
    has_more = serializers.BooleanField()


def _cursor(request, name: str, default: int, *, low: int, high: int | None = None) -> int:
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidQuery(name, f"`{name}` must be a whole number.")
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise InvalidQuery(name, f"`{name}` must be between {low} and {high}." if high else
                           f"`{name}` must be at least {low}.")
    return value


class EventListView(OrgScopedAPIView):
    admin_only_reads = True

    @extend_schema(
        tags=["events"], summary="List events after a cursor",
        description="Administrators only. The organization's events in order, after the cursor `after` (0, or "
                    "absent: from the first). Pass the answer's `next` as `after` to read on; an event is never "
                    "skipped, even one whose change committed late (events are numbered after commit).\n\n"
                    + EVENT_FORMAT + event_types_table(),
        parameters=[
            OpenApiParameter("after", int, description="A cursor: the `next` of a previous answer, or 0."),
            OpenApiParameter("limit", int, description=f"At most this many events (1–{MAX_LIMIT}, default "
                                                       f"{DEFAULT_LIMIT})."),
        ],
        responses={200: EventPageSerializer, **error_responses(400, 403, 404)},
    )
    def get(self, request, org_slug):
        after = _cursor(request, "after", 0, low=0)
        limit = _cursor(request, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        events.sequence(self.org.pk)  # what committed since the last on-commit sequencing
        found = list(events.events_after(org=self.org, after=after, limit=limit + 1))
        page = found[:limit]
        return Response({
            "data": [events.payload(event, org_slug=self.org.slug) for event in page],
            "next": str(page[-1].seq if page else after),
            "has_more": len(found) > limit,
        })
