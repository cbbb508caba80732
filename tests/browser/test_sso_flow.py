"""Issue 3's browser scenario, in Chromium with real cookie rules against the live server.

The service provider (Gatehouse) is served as http://localhost:<port> and the built-in test IdP's
sign-in page as http://127.0.0.1:<port>: two different sites for the browser, so the IdP's
auto-submitted POST to the ACS is a cross-site top-level POST, which carries no `SameSite=Lax`
cookie (the session and CSRF cookies). The test checks that this is really so and that the login
state — kept server-side under the single-use RelayState by sso/state.py — survives it.

The test IdP builds every URL from settings.BASE_URL; the only thing changed here is the host of
its sign-in page (`sso.test_idp.sso_url`), as an IdP hosted elsewhere would advertise it in its
metadata. DEBUG is on, as under `python dev.py run` (the test IdP's home), which lets the
administrator save an `http://` IdP URL.
"""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from django.core import mail
from django.utils import timezone

from accounts.models import User
from orgs.models import Membership, Plan
from orgs.services import database_create, database_password_create, membership_add, \
    membership_set_database_admin, organization_create
from sso import test_idp
from sso.models import SSOConnection
from teams.models import TeamMember
from teams.services import team_create, team_member_add

from .conftest import shot

PASSWORD = "a long enough passphrase 42"
SLUG = "acme"


@pytest.fixture
def two_sites(settings, live_server, monkeypatch, tmp_path):
    """(SP base URL on localhost, IdP base URL on 127.0.0.1), same live server."""
    sp = live_server.url
    assert urlsplit(sp).hostname == "localhost", sp
    idp = sp.replace("://localhost:", "://127.0.0.1:")
    settings.BASE_URL = sp
    settings.SAML_TEST_IDP = True
    settings.SAML_TEST_IDP_DIR = tmp_path / "test_idp"  # a fresh IdP key, not the developer's var/
    settings.DEBUG = True
    if "127.0.0.1" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    monkeypatch.setattr(test_idp, "sso_url", lambda: f"{idp}/sso/test-idp/sso/")
    return sp, idp


@pytest.fixture
def queued_removals(monkeypatch):
    """Stand in for the Celery broker of the enable job, so the test can play the worker batch by
    batch and watch the page follow; every other task (the removal emails) runs eagerly."""
    from sso.tasks import remove_non_admins

    queued = []
    # sso_enable queues it through config.enqueue, which calls apply_async.
    monkeypatch.setattr(remove_non_admins, "apply_async", lambda args=(), kwargs=None, **options: queued.append(*args))
    return queued


def build_world():
    ada = User.objects.create_user("ada@acme.test", PASSWORD, first_name="Ada", last_name="Lovelace",
                                   email_verified_at=timezone.now())
    org = organization_create(slug=SLUG, name="Acme Corp", creator=ada, plan=Plan.ENTERPRISE)
    linus = User.objects.create_user("linus@acme.test", PASSWORD, first_name="Linus", last_name="Torvalds",
                                     email_verified_at=timezone.now())
    ken = User.objects.create_user("ken@acme.test", PASSWORD, first_name="Ken", last_name="Thompson",
                                   email_verified_at=timezone.now())
    linus_m = membership_add(org=org, user=linus, role=Membership.Role.MEMBER, actor=ada)
    membership_add(org=org, user=ken, role=Membership.Role.MEMBER, actor=ada)
    membership_set_database_admin(org=org, membership=linus_m, value=True, actor=ada)
    backend = team_create(org=org, name="Backend", actor=ada)
    team_member_add(org=org, team=backend, membership=linus_m, actor=ada)
    database = database_create(org=org, name="production", actor=ada)
    database_password_create(org=org, database=database, name="linus-app", access="read_write", actor=linus)
    return org


def sign_in_with_password(page, base, email):
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()


def sign_out(page):
    page.click("details.account-menu > summary")
    page.click("button.menu-item:has-text('Sign out')")
    page.wait_for_load_state()


def is_acs_post(request):
    return request.method == "POST" and urlsplit(request.url).path == f"/sso/{SLUG}/acs/"


def through_idp(page, sp, idp, email, *, screenshot=None):
    """On the test IdP's page (another site), pick `email`; returns the ACS POST as the browser sent it."""
    page.wait_for_url(re.compile(re.escape(idp) + r"/sso/test-idp/sso/\?"))
    assert page.locator("[data-testid=test-idp]").is_visible()
    if screenshot:
        shot(page, screenshot)
    with page.expect_request(is_acs_post) as posted:
        page.click(f"button[data-email='{email}']")
    page.wait_for_url(re.compile(re.escape(sp) + "/"))
    page.wait_for_load_state()
    return posted.value


def cookie_names(header: str | None) -> set:
    return {part.split("=", 1)[0].strip() for part in (header or "").split(";") if "=" in part}


@pytest.mark.django_db(transaction=True)
def test_admin_enables_sso_and_signs_in_through_the_idp_removed_member_rejoins(
        two_sites, new_context, eager_celery, queued_removals, tmp_path):
    sp, idp = two_sites
    org = build_world()
    mail.outbox.clear()

    # A member signed in with a password before SSO was enabled: their session stops reaching the org.
    linus = new_context().new_page()
    sign_in_with_password(linus, sp, "linus@acme.test")
    assert linus.goto(f"{sp}/orgs/{SLUG}/settings/members/").status == 200

    # The administrator signs in with a password and opens Settings › Authentication.
    admin_context = new_context()
    admin = admin_context.new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    sign_in_with_password(admin, sp, "ada@acme.test")
    admin.goto(f"{sp}/orgs/{SLUG}/settings/members/")
    admin.click("nav.sidebar-nav >> text=Authentication")
    admin.wait_for_url(f"{sp}/orgs/{SLUG}/settings/authentication/")
    assert "Not configured" in admin.inner_text("[data-testid=sso-state]")
    assert admin.input_value("#sp-acs") == f"{sp}/sso/{SLUG}/acs/"
    assert admin.input_value("#sp-entity-id") == f"{sp}/sso/{SLUG}/metadata/"
    shot(admin, "sso-authentication-not-configured")

    # …downloads the IdP's metadata from the IdP's own site (Chromium saves
    # application/samlmetadata+xml as a file) and uploads it on the page.
    idp_tab = admin_context.new_page()
    with idp_tab.expect_download() as download:
        with pytest.raises(PlaywrightError, match="Download is starting"):
            idp_tab.goto(f"{idp}/sso/test-idp/metadata/")
    metadata_file = tmp_path / "idp-metadata.xml"
    download.value.save_as(metadata_file)
    idp_tab.close()
    assert f'Location="{idp}/sso/test-idp/sso/"' in metadata_file.read_text()
    admin.click("summary:has-text('From metadata XML')")
    admin.set_input_files("#metadata-file", str(metadata_file))
    admin.click("button:has-text('Save from metadata')")
    admin.wait_for_selector("text=Identity provider configured from its metadata.")
    assert "Configured" in admin.inner_text("[data-testid=sso-state]")
    assert admin.locator("[data-testid=certificate]").count() == 1

    # The preview says who will be removed and what stays.
    preview = admin.inner_text("[data-testid=sso-preview]")
    assert "removes 2 non-admin members" in preview
    assert "ken@acme.test" in preview and "linus@acme.test" in preview
    assert "(1 now)" in preview  # Database Administrator grants that go
    assert "keeps the administrators: ada@acme.test" in preview
    assert "keeps 1 database password" in preview
    shot(admin, "sso-authentication-configured-preview")

    # Enable; the job is queued and the page follows its progress (it refreshes itself while running).
    admin.check("[data-testid=sso-preview] input[name=confirm]")
    admin.click("button:has-text('Enable SSO')")
    admin.wait_for_selector("text=Single sign-on is enabled.")
    assert queued_removals == [org.pk]
    progress = admin.locator("[data-testid=sso-progress]")
    assert "0 of 2 (0%)" in progress.inner_text() and "Removing members" in progress.inner_text()
    assert admin.locator("meta[http-equiv=refresh]").count() == 1
    shot(admin, "sso-enabled-progress-running")

    from sso.services import sso_removal_run_batch
    from sso.tasks import remove_non_admins

    admin.wait_for_load_state("networkidle")
    assert sso_removal_run_batch(org=org, batch_size=1) == 1  # the worker's first batch
    admin.wait_for_function("document.querySelector('[data-testid=sso-progress]').innerText.includes('1 of 2')",
                            timeout=10_000)
    admin.wait_for_load_state("networkidle")
    assert remove_non_admins(org.pk) == 1  # …and the rest
    admin.wait_for_function("document.querySelector('[data-testid=sso-progress]').innerText.includes('Done')",
                            timeout=10_000)
    assert "2 of 2 (100%)" in progress.inner_text()
    assert admin.locator("meta[http-equiv=refresh]").count() == 0  # stops refreshing when done
    shot(admin, "sso-enabled-progress-done")
    assert SSOConnection.objects.get(org=org).removal_status == SSOConnection.RemovalStatus.DONE

    # The removed member's old session no longer reaches the organization; they were told how to rejoin.
    assert linus.goto(f"{sp}/orgs/{SLUG}/settings/members/").status == 404
    (notice,) = [m for m in mail.outbox if m.to == ["linus@acme.test"]]
    rejoin = re.search(r"https?://\S+/sso/\S+/login/", notice.body).group(0)
    assert rejoin == f"{sp}/sso/{SLUG}/login/"

    # The administrator signs out, and signs in through the IdP from /sso/: their email (in no
    # verified domain) gets the step that asks for the organization, and its slug leads to its IdP.
    sign_out(admin)
    admin.goto(sp + "/accounts/login/")
    admin.click("text=Sign in with SSO")
    admin.wait_for_url(sp + "/sso/")
    shot(admin, "sso-start")
    start_sso_with(admin, "ada@acme.test")
    jar = {c["name"]: c for c in admin_context.cookies(sp)}
    assert "csrftoken" in jar and jar["csrftoken"]["sameSite"] == "Lax"
    acs_post = through_idp(admin, sp, idp, "ada@acme.test", screenshot="sso-test-idp")

    # Chromium treated the ACS POST as cross-site: the Lax CSRF cookie it holds for the SP was not sent…
    # (gh_sso_state, set without a SameSite attribute on http, is sent: Chromium's "Lax+POST" grace for
    # cookies younger than two minutes. The removed member below signs in without it.)
    sent = cookie_names(acs_post.all_headers().get("cookie"))
    assert "csrftoken" not in sent and "sessionid" not in sent, sent
    # (Origin is "null": a cross-origin POST under the page's `Referrer-Policy: same-origin`.)
    assert acs_post.header_value("origin") in ("null", idp)
    # …and the login still completed: the administrator lands in the dashboard, signed in.
    response = acs_post.response()
    assert response.status == 302, response.status
    assert urlsplit(admin.url).hostname == "localhost"
    assert admin.locator("details.account-menu > summary").inner_text().strip() == "ada@acme.test"
    admin.goto(f"{sp}/orgs/{SLUG}/settings/members/")
    assert admin.locator("tr[data-member='ada@acme.test']").count() == 1
    shot(admin, "sso-signed-in-members")

    # The RelayState and the assertion were single-use: the same POST from another browser is refused.
    form = acs_post.post_data_json
    assert set(form) == {"SAMLResponse", "RelayState"} and form["RelayState"]
    replay = new_context().request.post(f"{sp}/sso/{SLUG}/acs/", form=form, max_redirects=0)
    assert replay.status in (400, 403), replay.status

    # E2: from now on the administrator's password is refused, with a pointer to SSO.
    sign_out(admin)
    sign_in_with_password(admin, sp, "ada@acme.test")
    assert "/accounts/login/" in admin.url
    assert "requires single sign-on" in admin.inner_text("main")
    assert admin.locator("main a:has-text('Sign in with SSO')").count() >= 1
    shot(admin, "sso-password-refused")
    admin.click("main a:has-text('Sign in with SSO') >> nth=0")
    admin.wait_for_url(re.compile(re.escape(idp) + r"/sso/test-idp/sso/\?"))
    # Linked now, the account is still not named by /sso/: the same two steps.
    admin.goto(sp + "/sso/")
    start_sso_with(admin, "ada@acme.test")
    through_idp(admin, sp, idp, "ada@acme.test")
    assert admin.locator("details.account-menu > summary").inner_text().strip() == "ada@acme.test"

    # E3, E5, E6: the removed member follows the emailed link, signs in through the IdP,
    # and is back as a member — without the DBA grant and without teams.
    # They take their time at the IdP: past Chromium's two-minute grace the browser-binding cookie is
    # no longer sent on the cross-site POST (cleared here to the same effect); on plain-http development
    # the single-use RelayState alone carries the login (sso/state.py), so it still works.
    linus.goto(rejoin)
    linus.context.clear_cookies(name="gh_sso_state")
    acs_post = through_idp(linus, sp, idp, "linus@acme.test")
    assert not cookie_names(acs_post.all_headers().get("cookie")) & {"gh_sso_state", "sessionid", "csrftoken"}
    assert acs_post.response().status == 302
    membership = Membership.objects.get(org=org, user__email="linus@acme.test")
    assert membership.role == Membership.Role.MEMBER
    assert membership.is_database_admin is False
    assert not TeamMember.objects.filter(membership__org=org, membership__user__email="linus@acme.test").exists()
    page = linus.goto(f"{sp}/orgs/{SLUG}/settings/members/")
    assert page.status == 200
    row = linus.inner_text("tr[data-member='linus@acme.test']")
    assert "Member" in row and "No" in row and "Backend" not in row
    shot(linus, "sso-rejoined-member")


def enable_sso_against_test_idp(org, admin):
    from sso.services import sso_configure, sso_enable, sso_removal_run

    _, cert_pem = test_idp.keypair()
    sso_configure(org=org, actor=admin, idp_entity_id=test_idp.entity_id(), idp_sso_url=test_idp.sso_url(),
                  certificates=[cert_pem], attribute_preset="okta")
    sso_enable(org=org, actor=admin)
    sso_removal_run(org=org)


@pytest.mark.django_db(transaction=True)
def start_sso_with(page, email: str, slug: str = SLUG) -> None:
    """/sso/ with an email outside a verified domain: the page asks for the organization
    (the same for every such email, issue 10), whose slug goes on to its IdP."""
    page.fill("#identifier", email)
    page.click("button:has-text('Continue')")
    page.wait_for_load_state()
    assert "Enter your organization's name" in page.inner_text("main"), page.url
    page.fill("#identifier", slug)
    page.click("button:has-text('Continue')")


def test_sso_start_asks_for_the_organization_then_leads_to_its_idp(
        two_sites, new_context, eager_celery, queued_removals):
    sp, idp = two_sites
    org = build_world()
    enable_sso_against_test_idp(org, User.objects.get(email="ada@acme.test"))
    page = new_context().new_page()
    for email in ("ada@acme.test", "linus@acme.test"):  # an administrator; a member the enable removed
        page.goto(sp + "/sso/")
        start_sso_with(page, email)
        page.wait_for_load_state()
        assert page.url.startswith(f"{idp}/sso/test-idp/sso/"), (email, page.url)
