"""The audit log taken out: CSV for a spreadsheet, NDJSON for a SIEM or a script.

Both surfaces (the dashboard's audit log page and the API) filter with their own
list's filter and hand the resulting audit_event_list arguments to `export_response`,
which records the export (its own transaction, committed before the first byte) and
streams the rows in keyset batches (orgs.selectors.audit_event_batches): memory stays
flat and each batch is one indexed query, whether the log holds a hundred events or a
million.

Columns, in both formats, named as the API's list names them: id, created_at (ISO 8601,
UTC, "Z"), actor_id (empty for the system or an IdP), actor (the email, or "system"),
event, target_type, target_id, target_label, old, new (JSON) and ip_address.

CSV cells are made safe to open in a spreadsheet (formula injection, CWE-1236): a cell
that starts with = + - @, a tab or a carriage return gets a leading apostrophe, so
Excel, LibreOffice and Google Sheets show it as text instead of evaluating it; an
email such as `=HYPERLINK(…)@evil.test` or a team named `+cmd` stays inert. That changes
the text of those cells; NDJSON carries every value exactly as recorded.
"""
import csv
import io
from dataclasses import dataclass
from datetime import timezone as dt_timezone
from json.encoder import encode_basestring
from typing import Callable, Iterable, Iterator

from django.conf import settings
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Organization
from .selectors import audit_event_batches, audit_event_list
from .services import audit_export_record

COLUMNS = ("id", "created_at", "actor_id", "actor", "event", "target_type", "target_id", "target_label", "old",
           "new", "ip_address")
# What each batch query reads; ends with the keyset (created_at, id). `old` and `new` are read
# as the database's JSON text and written as they are: decoding and encoding them again was
# half the time of an export.
_FIELDS = ("actor_id", "actor_label", "event", "target_type", "target_id", "target_label",
           Cast("old", TextField()), Cast("new", TextField()), "ip_address", "created_at", "id")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """`text` as a spreadsheet shows it literally: a leading apostrophe before a formula's first character."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _time(value) -> str:
    text = value.astimezone(dt_timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _csv_rows(rows) -> Iterator[tuple]:
    safe = spreadsheet_safe
    for actor_id, actor, event, target_type, target_id, target_label, old, new, ip, created_at, pk in rows:
        yield (pk, _time(created_at), "" if actor_id is None else actor_id, safe(actor), safe(event),
               safe(target_type), safe(target_id), safe(target_label), safe(old or ""), safe(new or ""), ip or "")


def csv_chunks(batches: Iterable[list]) -> Iterator[bytes]:
    """A header line, then one chunk per batch (RFC 4180: CRLF, quotes where needed), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for rows in batches:
        writer.writerows(_csv_rows(rows))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # no rows: the header alone
        yield buffer.getvalue().encode()


def _ndjson_lines(rows) -> Iterator[str]:
    """Each row as one JSON object, built directly: the JSON columns are already JSON text,
    every string goes through the json module's own string encoder (UTF-8, not \\u-escaped)."""
    string = encode_basestring
    for actor_id, actor, event, target_type, target_id, target_label, old, new, ip, created_at, pk in rows:
        yield (f'{{"id":{int(pk)},"created_at":"{_time(created_at)}",'
               f'"actor_id":{"null" if actor_id is None else int(actor_id)},"actor":{string(actor)},'
               f'"event":{string(event)},"target_type":{string(target_type)},"target_id":{string(target_id)},'
               f'"target_label":{string(target_label)},"old":{old or "null"},"new":{new or "null"},'
               f'"ip_address":{"null" if ip is None else string(ip)}}}\n')


def ndjson_chunks(batches: Iterable[list]) -> Iterator[bytes]:
    """One JSON object per line (old and new as JSON values, not strings), one chunk per batch."""
    for rows in batches:
        yield "".join(_ndjson_lines(rows)).encode()


@dataclass(frozen=True)
class Format:
    content_type: str
    encode: Callable[[Iterable[list]], Iterator[bytes]]


FORMATS = {
    "csv": Format("text/csv; charset=utf-8", csv_chunks),
    "ndjson": Format("application/x-ndjson", ndjson_chunks),
}


def export_filename(org: Organization, fmt: str) -> str:
    return f"{org.slug}-audit-log-{timezone.now():%Y-%m-%d}.{fmt}"


def export_rows(*, org: Organization, filters: dict, fmt: str, batch_size: int | None = None) -> Iterator[bytes]:
    """The export's bytes, lazily: no query runs until the first chunk is asked for."""
    batches = audit_event_batches(audit_event_list(org=org, **filters), fields=_FIELDS,
                                  size=batch_size or settings.AUDIT_EXPORT_BATCH_SIZE)
    return FORMATS[fmt].encode(batches)


def export_response(*, org: Organization, actor, fmt: str, filters: dict, token=None,
                    method: str = "GET") -> StreamingHttpResponse:
    """Record the export, then stream it. `filters` are audit_event_list's arguments,
    already validated by the caller's form or query parser; `fmt` a key of FORMATS;
    `token` the API's service token, if the caller used one. A HEAD (`method`) gets the
    headers only — its body is never read, so no row leaves and none is recorded."""
    if method != "HEAD":
        audit_export_record(org=org, actor=actor, fmt=fmt, filters=filters, token=token)
    response = StreamingHttpResponse(export_rows(org=org, filters=filters, fmt=fmt),
                                     content_type=FORMATS[fmt].content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(org, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response
