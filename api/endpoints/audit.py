"""The audit log, for administrators."""
from datetime import datetime, timezone as dt_timezone

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from orgs import selectors

from ..errors import InvalidQuery
from ..serializers import AuditEventSerializer
from ..views import OrgScopedAPIView, error_responses

MAX_FILTER_LENGTH = 254


def _datetime_param(request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = parse_datetime(raw.strip())
    except ValueError:
        value = None
    if value is None:
        raise InvalidQuery(name, f"`{name}` must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z.")
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt_timezone.utc)
    return value


def _text_param(request, name: str) -> str | None:
    raw = (request.query_params.get(name) or "").strip()
    if len(raw) > MAX_FILTER_LENGTH:
        raise InvalidQuery(name, f"`{name}` is too long.")
    return raw or None


class AuditEventListView(OrgScopedAPIView):
    admin_only_reads = True

    @extend_schema(
        tags=["audit"], summary="List audit events",
        description="Administrators only. Newest first.",
        parameters=[
            OpenApiParameter("event", str, description="An event type (`member.removed`), or a prefix ending "
                             "with a dot (`member.`)."),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="Events at or after this time (ISO 8601; "
                             "UTC when no offset is given)."),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Events before this time (ISO 8601)."),
            OpenApiParameter("actor", str, description="The actor's email (or `system`)."),
        ],
        responses={200: AuditEventSerializer(many=True), **error_responses(400, 403, 404)},
    )
    def get(self, request, org_slug):
        since = _datetime_param(request, "since")
        until = _datetime_param(request, "until")
        if since and until and since >= until:
            raise InvalidQuery("until", "`until` must be later than `since`.")
        queryset = selectors.audit_event_list(
            org=self.org, event=_text_param(request, "event"), since=since, until=until,
            actor=_text_param(request, "actor"),
        )
        return self.page(queryset, AuditEventSerializer)
