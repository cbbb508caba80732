"""Issue 14 item 1 in Chromium against the live server: an administrator creates a setup link
(Directory Sync allowed); the customer's IdP administrator opens it in a fresh browser with
no account and no session, pastes the test IdP's metadata, adds a domain, runs "Test the
connection" through the IdP (another site: 127.0.0.1) and reads the diagnosis; Directory
Sync waits for single sign-on, which only the administrator enables; then the link turns it
on and shows the token once.

The two sites are set up as in test_sso_flow.py: Gatehouse on localhost, the test IdP's
sign-in page on 127.0.0.1, DEBUG on (an http:// IdP URL is accepted)."""
import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from accounts.models import User
from orgs.models import AuditEvent, Plan
from orgs.services import organization_create
from scim.models import DirectoryToken
from setuplinks.models import SetupLink
from sso import test_idp
from sso.models import SSOConnection

from . import test_sso_flow
from .conftest import shot
from .test_sso_flow import sign_in_with_password

two_sites = test_sso_flow.two_sites  # the fixture: Gatehouse on localhost, the test IdP on 127.0.0.1

SLUG = "acme"


@pytest.mark.django_db(transaction=True)
def test_an_idp_administrator_finishes_the_setup_from_a_link(two_sites, new_context, eager_celery):
    sp, idp = two_sites
    ada = User.objects.create_user("ada@acme.test", "a long enough passphrase 42", first_name="Ada",
                                   last_name="Lovelace", email_verified_at=timezone.now())
    org = organization_create(slug=SLUG, name="Acme Corp", creator=ada, plan=Plan.ENTERPRISE)

    # The administrator makes a link from Settings › Authentication › Setup links.
    admin = new_context().new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    sign_in_with_password(admin, sp, "ada@acme.test")
    admin.goto(f"{sp}/orgs/{SLUG}/settings/authentication/")
    admin.click("[data-testid=setup-links-link] a")
    admin.wait_for_url(f"{sp}/orgs/{SLUG}/settings/authentication/setup-links/")
    admin.fill("#setup-note", "Jane Doe, Acme IT")
    admin.fill("#setup-lifetime", "72")
    admin.check("#setup-directory-sync")
    admin.click("button:has-text('Create link')")
    admin.wait_for_load_state()
    link_url = admin.input_value("[data-testid=secret]")
    assert re.fullmatch(re.escape(sp) + r"/setup/ghsetup_[A-Za-z0-9_-]{43}/", link_url)
    row = admin.locator("[data-testid=setup-links] tbody tr").first.inner_text()
    assert "Jane Doe, Acme IT" in row and "ada@acme.test" in row and "Allowed" in row and "Active" in row
    shot(admin, "setup-link-created")
    assert link_url not in admin.goto(f"{sp}/orgs/{SLUG}/settings/authentication/setup-links/").text()

    # The IdP administrator: a fresh browser, no account.
    context = new_context()
    page = context.new_page()
    assert page.goto(link_url).status == 200
    assert "Set up single sign-on for Acme Corp" in page.inner_text("h1")
    assert page.input_value("#sp-acs") == f"{sp}/sso/{SLUG}/acs/"
    assert page.input_value("#sp-entity-id") == f"{sp}/sso/{SLUG}/metadata/"
    assert "Not configured" in page.inner_text("[data-testid=setup-sso-state]")
    assert page.locator("a[href^='/orgs/']").count() == 0 and "Sign in" not in page.inner_text("header")
    shot(page, "setup-link-page")

    # Pastes the test IdP's metadata.
    page.click("summary:has-text('From metadata XML')")
    page.fill("#metadata-xml", test_idp.metadata_xml())
    page.locator("[data-testid=idp-metadata-xml] select[name=attribute_preset]").select_option("okta")
    page.click("button:has-text('Save from metadata')")
    page.wait_for_selector("text=Identity provider configured from its metadata.")
    assert "Configured" in page.inner_text("[data-testid=setup-sso-state]")
    assert page.inner_text("[data-testid=setup-idp-entity-id]") == test_idp.entity_id()

    # Adds a domain: the TXT record to publish is shown.
    page.fill("#domain", "acme.test")
    page.click("button:has-text('Add domain')")
    page.wait_for_selector("[data-domain='acme.test']")
    assert "gatehouse-verification=" in page.inner_text("[data-domain='acme.test']")

    # Tests the connection through the IdP; the IdP's site is told nothing of the link.
    with page.expect_request(lambda request: "/sso/test-idp/sso/" in request.url) as to_idp:
        page.click("button:has-text('Test the connection')")
    assert "referer" not in to_idp.value.headers
    page.wait_for_url(re.compile(re.escape(idp) + r"/sso/test-idp/sso/\?"))
    page.click("button[data-email='ada@acme.test']")
    page.wait_for_url(f"{sp}/sso/{SLUG}/acs/")
    page.wait_for_selector("text=Test sign-in succeeded")
    assert "ada@acme.test" in page.inner_text("main") and "setup page you were given" in page.inner_text("main")
    shot(page, "setup-link-test-result")
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "sessionid"]  # nobody signed in

    # Back on the link's page: the last test, and Directory Sync waiting for SSO (DS1).
    page.goto(link_url)
    assert "Succeeded" in page.inner_text("[data-testid=setup-last-test]")
    assert "needs single sign-on enabled first" in page.inner_text("[data-testid=setup-directory-sync]")
    assert page.locator("button:has-text('Enable SSO')").count() == 0

    # Enabling SSO stays with the administrator, who sees the preview.
    admin.goto(f"{sp}/orgs/{SLUG}/settings/authentication/")
    admin.check("[data-testid=sso-preview] input[name=confirm]")
    admin.click("button:has-text('Enable SSO')")
    admin.wait_for_selector("text=Single sign-on is enabled.")

    # The link turns Directory Sync on and sees the token once.
    page.goto(link_url)
    page.check("[data-testid=setup-directory-sync] input[name=confirm]")
    page.click("button:has-text('Enable directory sync')")
    page.wait_for_selector("[data-testid=secret]")
    token = page.input_value("[data-testid=secret]")
    assert token.startswith("ghscim_") and DirectoryToken.objects.filter(org=org, revoked_at__isnull=True).count() == 1
    assert f"{sp}/scim/v2/{SLUG}/" in page.content()
    shot(page, "setup-link-directory-sync-token")
    page.goto(link_url)
    assert token not in page.content() and "Enabled" in page.inner_text("[data-testid=setup-directory-sync]")
    shot(page, "setup-link-done")
    assert not [cookie for cookie in context.cookies() if cookie["name"] == "sessionid"]

    # Every action through the link is audited with the link as the actor.
    link = SetupLink.objects.get(org=org)
    by_link = set(AuditEvent.objects.filter(org=org, actor__isnull=True, actor_label=link.label)
                  .values_list("event", flat=True))
    assert {"sso.configured", "sso.domain_added", "sso.test_login", "directory.enabled"} <= by_link
    assert SSOConnection.objects.get(org=org).enabled_by == ada

    # Revoked, it opens nothing.
    admin.goto(f"{sp}/orgs/{SLUG}/settings/authentication/setup-links/")
    admin.click("[data-testid=setup-links] button:has-text('Revoke')")
    admin.wait_for_selector("text=is revoked")
    assert page.goto(link_url).status == 404
    assert urlsplit(page.url).path.startswith("/setup/")
