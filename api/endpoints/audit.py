"""The audit log, for administrators: the list, and its export (CSV or NDJSON, streamed),
both filtered by `audit_filters`."""
from datetime import datetime, timezone as dt_timezone

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation

from orgs import selectors
from orgs.audit_export import COLUMNS, FORMATS, export_response

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


def audit_filters(request) -> dict:
    """The list's query parameters as audit_event_list arguments; a bad one is a 400 (InvalidQuery)."""
    since = _datetime_param(request, "since")
    until = _datetime_param(request, "until")
    if since and until and since >= until:
        raise InvalidQuery("until", "`until` must be later than `since`.")
    return {"event": _text_param(request, "event"), "since": since, "until": until,
            "actor": _text_param(request, "actor")}


FILTER_PARAMETERS = [
    OpenApiParameter("event", str, description="An event type (`member.removed`), or a prefix ending "
                     "with a dot (`member.`)."),
    OpenApiParameter("since", OpenApiTypes.DATETIME, description="Events at or after this time (ISO 8601; "
                     "UTC when no offset is given)."),
    OpenApiParameter("until", OpenApiTypes.DATETIME, description="Events before this time (ISO 8601)."),
    OpenApiParameter("actor", str, description="The actor's email (or `system`)."),
]


class AuditEventListView(OrgScopedAPIView):
    admin_only_reads = True

    @extend_schema(
        tags=["audit"], summary="List audit events",
        description="Administrators only. Newest first.",
        parameters=FILTER_PARAMETERS,
        responses={200: AuditEventSerializer(many=True), **error_responses(400, 403, 404)},
    )
    def get(self, request, org_slug):
        return self.page(selectors.audit_event_list(org=self.org, **audit_filters(request)), AuditEventSerializer)


class ErrorsAsJSON(BaseContentNegotiation):
    """The export's body is chosen by its `format` parameter, not by negotiation: DRF's
    own would take `format` for its renderer override (a 404 for `csv`) and answer 406 to
    an Accept header it cannot meet. Errors are JSON, whatever the client asked for."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


_EXPORT_DESCRIPTION = (
    "Administrators only. Every event the same filters select in the list, newest first, as one file "
    "streamed in batches (any size, constant memory): `format=csv` (a header line, then RFC 4180 rows; "
    "cells starting with `=`, `+`, `-`, `@`, a tab or a carriage return are prefixed with `'` so that "
    "a spreadsheet shows them as text) or `format=ndjson` (one JSON object per line, values exactly as "
    "recorded). Columns: " + ", ".join(f"`{name}`" for name in COLUMNS) + " — the list's fields; "
    "`created_at` in UTC, `old` and `new` JSON (a JSON string in a CSV cell). The file is named "
    "`<organization>-audit-log-<date>.<format>`. The export is itself recorded (`audit.exported`, with its "
    "format and filters) before the first row is sent."
)


class AuditEventExportView(OrgScopedAPIView):
    admin_only_reads = True
    content_negotiation_class = ErrorsAsJSON

    @extend_schema(
        tags=["audit"], summary="Export audit events (CSV or NDJSON)", description=_EXPORT_DESCRIPTION,
        parameters=[OpenApiParameter("format", str, enum=list(FORMATS), required=True,
                                     description="`csv` or `ndjson`."), *FILTER_PARAMETERS],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The events as CSV."),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR,
                                                           description="The events, one JSON object per line."),
            **error_responses(400, 403, 404),
        },
    )
    def get(self, request, org_slug):
        filters = audit_filters(request)
        fmt = request.query_params.get("format")
        if fmt not in FORMATS:
            raise InvalidQuery("format", "`format` must be `csv` or `ndjson`.")
        return export_response(org=self.org, actor=self.actor, fmt=fmt, filters=filters, token=self.token,
                               method=request.method)
