"""The audit log page's "Export CSV" / "Export NDJSON": links that carry the filter shown,
a download of exactly what that filter selects (every page of it), administrators only,
a bad filter shown on the page as the form's error (400) with nothing recorded."""
import csv
import datetime
import html
import io
import json
import re

import pytest
from django.test import Client

from orgs.models import AuditEvent
from orgs.services import database_create
from teams.services import team_create

pytestmark = pytest.mark.django_db
PAGE = "/orgs/acme/settings/audit-log/"
EXPORT = "/orgs/acme/settings/audit-log/export/"


@pytest.fixture
def events(org, admin_user, member, other_org, outsider, settings):
    settings.PAGE_SIZE = 2  # the export is every page, not the one shown
    team_create(org=org, name="Core", actor=admin_user)
    team_create(org=org, name="=cmd|' /C calc'!A0", actor=admin_user)
    database_create(org=org, name="main", actor=None)
    team_create(org=other_org, name="Other secret team", actor=outsider)


def _links(page) -> dict[str, str]:
    return {label: html.unescape(href) for href, label in
            re.findall(r'<a class="button small" href="([^"]+)" download>Export (\w+)</a>', page.content.decode())}


def _exports(org):
    return AuditEvent.objects.filter(org=org, event="audit.exported")


def test_the_links_carry_the_filter_shown_and_not_the_page_number(admin_client, org, events):
    today = datetime.date.today().isoformat()
    page = admin_client.get(PAGE, {"event": "team.", "since": today, "page": "2"})
    links = _links(page)
    assert set(links) == {"CSV", "NDJSON"}
    for fmt, href in links.items():
        path, _, query = href.partition("?")
        assert path == EXPORT
        assert sorted(query.split("&")) == sorted([f"format={fmt.lower()}", "event=team.", f"since={today}"])
    assert _links(admin_client.get(PAGE))["CSV"] == EXPORT + "?format=csv"


def test_the_download_is_every_event_the_filter_selects(admin_client, org, events, admin_user):
    response = admin_client.get(EXPORT, {"format": "csv", "event": "team."})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="acme-audit-log-\d{4}-\d\d-\d\d\.csv"', response["Content-Disposition"])
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    expected = AuditEvent.objects.filter(org=org, event__startswith="team.").order_by("-created_at", "-pk")
    assert [int(row["id"]) for row in rows] == list(expected.values_list("pk", flat=True)) and len(rows) == 2
    # A team named like a formula is text in a spreadsheet.
    assert [row["target_label"] for row in rows] == ["'=cmd|' /C calc'!A0", "Core"]
    (record,) = _exports(org)
    assert record.actor == admin_user and record.new == {"format": "csv", "filters": {"event": "team."}}


def test_dates_are_the_pages_whole_utc_days(admin_client, org, events):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    AuditEvent.objects.filter(org=org, target_label="Core").update(
        created_at=datetime.datetime.combine(today - datetime.timedelta(days=2), datetime.time(23, 59, 59),
                                             tzinfo=datetime.timezone.utc))
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    response = admin_client.get(EXPORT, {"format": "ndjson", "since": yesterday, "until": today.isoformat()})
    labels = [json.loads(line)["target_label"] for line in b"".join(response.streaming_content).splitlines()]
    assert "Core" not in labels and "main" in labels
    until_before = admin_client.get(EXPORT, {"format": "ndjson", "until": yesterday})
    labels = [json.loads(line)["target_label"] for line in b"".join(until_before.streaming_content).splitlines()]
    assert labels == ["Core"]


@pytest.mark.parametrize("params,message", [
    ({"format": "csv", "since": "2025-02-01", "until": "2025-01-01"}, "on or before"),
    ({"format": "csv", "since": "not a date"}, "Enter a valid date"),
    ({"format": "csv", "event": "no.such"}, "Select a valid choice"),
    ({"format": "xlsx"}, "Export format"),
    ({}, "Export format"),
])
def test_a_bad_filter_is_the_forms_error_and_records_nothing(admin_client, org, events, params, message):
    response = admin_client.get(EXPORT, params)
    assert response.status_code == 400 and not response.streaming
    assert message in response.content.decode()
    assert 'action="/orgs/acme/settings/audit-log/"' in response.content.decode()  # the form filters the page again
    assert not _exports(org).exists()


def test_only_an_organizations_administrators_export(member_client, outsider_client, admin_client, org, events):
    assert member_client.get(EXPORT, {"format": "csv"}).status_code == 403
    assert outsider_client.get(EXPORT, {"format": "csv"}).status_code == 404
    anonymous = Client().get(EXPORT, {"format": "csv"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert admin_client.post(EXPORT, {"format": "csv"}).status_code == 405
    assert not _exports(org).exists()
    assert "Export CSV" not in member_client.get("/orgs/acme/settings/members/").content.decode()
