"""Bounded SSO session (SPEC E13) in Chromium, against the live server and the built-in test IdP on
another site (127.0.0.1, see test_sso_flow.two_sites): a member signs in through the IdP, opens an
organization page, their SSO session expires, and the page takes them through the IdP and back to
it; a form sent after the expiry is not applied ("Nothing was changed") and its page's sign-in link
also comes back to that page.

The lifetime is measured with `sso.sessions._now`; the live server is a thread of this process, so
moving that clock here moves it for the server too (the test checks it is a thread).

Takes no screenshots: it leaves the tree as it found it."""
import re
import threading
import time

import pytest
from django.utils import timezone

from accounts.models import User
from orgs.models import DatabasePassword, Membership
from sso import sessions as sso_sessions
from sso.models import SSOConnection

from .test_sso_flow import (  # noqa: F401 — two_sites and queued_removals are fixtures
    SLUG, build_world, enable_sso_against_test_idp, queued_removals, through_idp, two_sites)

MEMBER = "linus@acme.test"


@pytest.fixture
def server_clock(live_server, monkeypatch):
    """Move the clock the live server measures SSO sessions by; returns `advance(seconds)`."""
    assert isinstance(live_server.thread, threading.Thread) and live_server.thread.is_alive()
    offset = [0.0]
    monkeypatch.setattr(sso_sessions, "_now", lambda: time.time() + offset[0])

    def advance(seconds: float) -> None:
        offset[0] += seconds

    return advance


def signed_in_as(page) -> str:
    return page.locator("details.account-menu > summary").inner_text().strip()


@pytest.mark.django_db(transaction=True)
def test_expired_sso_session_goes_through_the_idp_back_to_the_same_page(
        two_sites, new_context, eager_celery, queued_removals, server_clock):
    sp, idp = two_sites
    org = build_world()
    User.objects.filter(email_verified_at=None).update(email_verified_at=timezone.now())  # E14: IdP may link them
    enable_sso_against_test_idp(org, User.objects.get(email="ada@acme.test"))
    lifetime = SSOConnection.objects.get(org=org).session_lifetime
    database_page = f"{sp}/orgs/{SLUG}/settings/databases/production/"

    # A member (removed by the enable, back through the IdP: JIT) signs in and opens a database's page.
    page = new_context().new_page()
    page.goto(f"{sp}/sso/{SLUG}/login/")
    through_idp(page, sp, idp, MEMBER)
    assert signed_in_as(page) == MEMBER
    assert Membership.objects.get(org=org, user__email=MEMBER).role == Membership.Role.MEMBER
    assert page.goto(database_page).status == 200
    assert page.locator("tr[data-credential='linus-app']").count() == 1

    # Just inside the lifetime the page still opens as it is.
    server_clock(lifetime.total_seconds() - 60)
    assert page.reload().status == 200
    assert page.url == database_page

    # Past it, reloading the page goes to the IdP; signing in there comes back to the same page.
    server_clock(120)
    page.reload()
    page.wait_for_url(re.compile(re.escape(idp) + r"/sso/test-idp/sso/\?"))
    through_idp(page, sp, idp, MEMBER)
    assert page.url == database_page
    assert signed_in_as(page) == MEMBER
    assert page.locator("tr[data-credential='linus-app']").count() == 1
    assert "Create a password" in page.inner_text("main")

    # The session expires again while a form is open: sending it changes nothing, and says so.
    server_clock(lifetime.total_seconds() + 60)
    page.fill("#id_name", "after-expiry")
    page.click("button:has-text('Create password')")
    page.wait_for_load_state()
    refused = page.inner_text("main")
    assert "Sign in with single sign-on" in refused and "Nothing was changed" in refused
    assert "single sign-on session for Acme Corp has ended" in refused
    assert not DatabasePassword.objects.filter(name="after-expiry").exists()

    # Its "Sign in with SSO" goes through the IdP back to the page the form was on, where it now works.
    page.click("main a:has-text('Sign in with SSO')")
    through_idp(page, sp, idp, MEMBER)
    assert page.url == database_page
    page.fill("#id_name", "after-expiry")
    page.click("button:has-text('Create password')")
    page.wait_for_selector("tr[data-credential='after-expiry']")
    created = DatabasePassword.objects.get(name="after-expiry")
    assert created.created_by.email == MEMBER and created.database.name == "production"
