"""The API reference in Chromium, offline: from the footer's link, /api/v1/docs/ renders
the operations of the schema with Swagger UI's JavaScript while every request to
another origin is refused (so none is needed), and no script error is logged."""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import shot


@pytest.mark.django_db(transaction=True)
def test_the_api_reference_renders_offline_from_the_footer(live_server, new_context):
    base = live_server.url
    origin = urlsplit(base).netloc
    context = new_context()
    elsewhere = []

    def same_origin_only(route):
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", same_origin_only)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(base + "/accounts/login/")
    page.click("footer >> text=API reference")
    page.wait_for_url(re.compile(r"/api/v1/docs/$"))

    expect(page.locator(".information-container .title")).to_contain_text("Gatehouse API")
    export = page.locator(".opblock-summary-path", has_text="/api/v1/organizations/{org_slug}/audit-events/export")
    expect(export).to_be_visible()
    expect(page.locator(".opblock-summary-description", has_text="Export audit events (CSV or NDJSON)")).to_be_visible()
    assert page.locator(".opblock").count() > 30  # every operation, not a few
    # An operation opens with its parameters, read from the schema.
    export.click()
    expect(page.locator(".parameters-container")).to_contain_text("ndjson")
    assert shot(page, "api-docs").stat().st_size > 20_000
    assert elsewhere == [] and errors == [], (elsewhere, errors)
