"""Single logout (SPEC E13) in Chromium, against the live server and the built-in test IdP on
another site (127.0.0.1, see test_sso_flow.two_sites): sign in through the IdP, sign out of
Gatehouse, see the test IdP's logout page, and come back to Gatehouse signed out. The
Gatehouse session is gone from the database before the browser reaches the IdP.

Takes no screenshots: it leaves the tree as it found it."""
import re

import pytest
from django.contrib.sessions.models import Session

from accounts.models import User
from sso import test_idp
from sso.models import SSOSession
from sso.services import sso_configure

from .test_sso_flow import (  # noqa: F401 — two_sites and queued_removals are fixtures
    SLUG, build_world, enable_sso_against_test_idp, queued_removals, sign_out, through_idp, two_sites)


@pytest.mark.django_db(transaction=True)
def test_sign_out_ends_the_session_here_and_at_the_test_idp(two_sites, new_context, eager_celery, queued_removals,
                                                           monkeypatch):
    sp, idp = two_sites
    monkeypatch.setattr(test_idp, "slo_url", lambda: f"{idp}/sso/test-idp/slo/")
    org = build_world()
    ada = User.objects.get(email="ada@acme.test")
    enable_sso_against_test_idp(org, ada)
    sso_configure(org=org, actor=ada, idp_slo_url=test_idp.slo_url())

    context = new_context()
    page = context.new_page()
    page.goto(f"{sp}/sso/{SLUG}/login/")
    through_idp(page, sp, idp, "ada@acme.test")
    assert page.locator("details.account-menu > summary").inner_text().strip() == "ada@acme.test"
    session_key = {c["name"]: c["value"] for c in context.cookies(sp)}["sessionid"]
    assert Session.objects.filter(session_key=session_key).exists()
    assert SSOSession.objects.filter(session_key=session_key, org=org).exists()

    # Sign out: Gatehouse ends its session, then the browser is at the IdP with a signed LogoutRequest.
    sign_out(page)
    page.wait_for_url(re.compile(re.escape(idp) + r"/sso/test-idp/slo/\?"))
    assert "Signed out at the test IdP" in page.inner_text("[data-testid=test-idp-logout]")
    assert "ada@acme.test" in page.inner_text("[data-testid=test-idp-logout]")
    assert not Session.objects.filter(session_key=session_key).exists()
    assert not SSOSession.objects.filter(session_key=session_key).exists()

    # The IdP's signed LogoutResponse brings the browser back: accepted (same browser), signed out.
    page.click("[data-testid=return-to-sp]")
    page.wait_for_url(re.compile(re.escape(f"{sp}/sso/{SLUG}/sls/") + r"\?"))
    assert "You are signed out" in page.inner_text("[data-testid=signed-out]")
    assert page.locator("[data-testid=idp-logout-failed]").count() == 0

    # Nothing of the old session opens the organization: its pages ask for a sign-in.
    page.goto(f"{sp}/orgs/{SLUG}/settings/members/")
    assert page.url.startswith(f"{sp}/accounts/login/"), page.url
