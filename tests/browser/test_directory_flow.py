"""Issue 4's browser scenario, in Chromium against the live server: an administrator of an
organization with SSO enabled turns Directory Sync on (confirming that teams are cleared), copies
the SCIM token from the page, a SCIM client (plain urllib) provisions users and a group, and the
Members and Teams pages show them as directory-managed, without edit controls; a forced manual
edit is refused."""
import json
import urllib.error
import urllib.request

import pytest

from accounts.models import User
from orgs.models import Membership, Plan
from orgs.services import organization_create
from sso import test_idp
from sso.services import sso_configure, sso_enable
from teams.models import Team, TeamMember
from teams.services import team_create

from .conftest import shot
from django.utils import timezone

PASSWORD = "a long enough passphrase 42"
SLUG = "acme"
SCIM_JSON = "application/scim+json"


def scim(base, token, method, path, body=None):
    """One SCIM request as an IdP makes it: (status, parsed JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}/scim/v2/{SLUG}/{path}", data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Accept": SCIM_JSON, "Content-Type": SCIM_JSON})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    return status, (json.loads(raw) if raw else None)


def scim_user(email, given, family, external_id):
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
            "externalId": external_id, "name": {"givenName": given, "familyName": family},
            "emails": [{"value": email, "type": "work", "primary": True}], "active": True}


@pytest.fixture
def sso_org(settings, live_server, tmp_path):
    """Acme (enterprise) with SSO enabled against the built-in test IdP, one administrator, and a
    hand-made team that enabling Directory Sync will clear."""
    settings.BASE_URL = live_server.url
    settings.SAML_TEST_IDP_DIR = tmp_path / "test_idp"
    ada = User.objects.create_user("ada@acme.test", PASSWORD, first_name="Ada", last_name="Lovelace",
                                   email_verified_at=timezone.now())
    org = organization_create(slug=SLUG, name="Acme Corp", creator=ada, plan=Plan.ENTERPRISE)
    _, cert_pem = test_idp.keypair()
    sso_configure(org=org, actor=ada, idp_entity_id=test_idp.entity_id(), idp_sso_url=test_idp.sso_url(),
                  certificates=[cert_pem], attribute_preset="okta")
    sso_enable(org=org, actor=ada)
    team_create(org=org, name="Hand-made", actor=ada)
    return org


def sign_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()


def csrf_token(page) -> str:
    return page.locator("input[name=csrfmiddlewaretoken]").first.input_value()


@pytest.mark.django_db(transaction=True)
def test_enable_directory_sync_copy_token_provision_and_pages_refuse_edits(sso_org, live_server, new_context):
    base = live_server.url
    org = sso_org
    context = new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    admin = context.new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    sign_in(admin, base, "ada@acme.test")

    # Directory Sync page: off, and says that enabling clears the existing team.
    admin.goto(f"{base}/orgs/{SLUG}/settings/directory-sync/")
    status = admin.inner_text("[data-testid=directory-status]")
    assert "Off" in status and "deletes this organization's existing teams (1)" in status
    shot(admin, "directory-sync-off")

    # The confirmation is required (the browser will not submit without it)…
    admin.click("button:has-text('Enable directory sync')")
    assert admin.locator("input[name=confirm]:invalid").count() == 1
    assert admin.url == f"{base}/orgs/{SLUG}/settings/directory-sync/"
    # …given, directory sync is on and the token is shown once.
    admin.check("input[name=confirm]")
    admin.click("button:has-text('Enable directory sync')")
    admin.wait_for_selector("[data-testid=secret]")
    assert "Enabled" in admin.inner_text("[data-testid=directory-status]")
    assert admin.input_value("#scim-base-url") == f"{base}/scim/v2/{SLUG}/"
    assert not Team.objects.filter(org=org).exists()  # DS5
    shot(admin, "directory-sync-enabled-token")

    # The administrator copies the token with the page's Copy button.
    token = admin.input_value("[data-testid=secret]")
    admin.click(".secret-box button[data-copy]")
    admin.wait_for_selector(".secret-box button.copied")
    assert admin.evaluate("navigator.clipboard.readText()") == token
    assert len(token) >= 32

    # A dashboard session does not authenticate SCIM; the token does.
    assert admin.request.get(f"{base}/scim/v2/{SLUG}/Users").status == 401
    assert scim(base, token, "GET", "ServiceProviderConfig")[0] == 200

    # The SCIM client provisions two users and a group of both, as an IdP does (look up, then create).
    ids = {}
    for email, given, family, ext in [("grace@acme.test", "Grace", "Hopper", "00u1"),
                                      ("linus@acme.test", "Linus", "Torvalds", "00u2")]:
        found, body = scim(base, token, "GET", f'Users?filter=userName%20eq%20%22{email}%22')
        assert found == 200 and body["totalResults"] == 0
        created, body = scim(base, token, "POST", "Users", scim_user(email, given, family, ext))
        assert created == 201, body
        ids[email] = body["id"]
    created, group = scim(base, token, "POST", "Groups", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Engineering",
        "externalId": "00g1", "members": [{"value": ids["grace@acme.test"]}, {"value": ids["linus@acme.test"]}]})
    assert created == 201, group

    # Members: both are listed with the Directory badge and no controls to change them.
    admin.goto(f"{base}/orgs/{SLUG}/settings/members/")
    for email in ("grace@acme.test", "linus@acme.test"):
        row = admin.locator(f"tr[data-member='{email}']")
        assert row.locator(".badge-directory").inner_text() == "Directory"
        assert "Read-only" in row.inner_text() and "Engineering" in row.inner_text()
        assert row.locator("form, select, button").count() == 0
    shot(admin, "directory-members")

    # Teams: the group is a directory team; no delete button, no add/rename/remove on its page.
    admin.goto(f"{base}/orgs/{SLUG}/settings/teams/")
    row = admin.locator("tr[data-team='Engineering']")
    assert row.locator(".badge-directory").count() == 1 and "2" in row.inner_text()
    assert row.locator("form, button").count() == 0
    assert admin.locator("tr[data-team='Hand-made']").count() == 0
    shot(admin, "directory-teams")
    admin.click("tr[data-team='Engineering'] >> a")
    admin.wait_for_selector("h1 .badge-directory")
    assert admin.locator("main form").count() == 0
    assert admin.locator("tr[data-member='grace@acme.test']").count() == 1
    shot(admin, "directory-team")
    team = Team.objects.get(org=org, name="Engineering")
    assert team.directory_managed

    # Forced manual edits (the POSTs the hidden forms would make) are refused, nothing changes. The
    # Database Administrator grant is left out on purpose: the page hides it for directory rows, yet
    # the directory does not manage it and orgs.services accepts it; which side is right is open.
    grace = Membership.objects.get(org=org, user__email="grace@acme.test")
    assert grace.directory_managed and grace.role == Membership.Role.MEMBER
    token_field = csrf_token(admin)
    settings_url = f"{base}/orgs/{SLUG}/settings"
    attempts = [
        (f"{settings_url}/members/{grace.pk}/role/", {"role": "admin"}),
        (f"{settings_url}/members/{grace.pk}/remove/", {}),
        (f"{settings_url}/teams/{team.pk}/rename/", {"name": "Renamed by hand"}),
        (f"{settings_url}/teams/{team.pk}/members/{grace.pk}/remove/", {}),
        (f"{settings_url}/teams/{team.pk}/delete/", {}),
    ]
    for url, form in attempts:
        response = admin.request.post(url, form={"csrfmiddlewaretoken": token_field, **form}, max_redirects=0)
        assert response.status == 403, (url, response.status)
        assert "directory" in response.text().lower(), url
    grace.refresh_from_db()
    assert grace.role == Membership.Role.MEMBER and not grace.is_database_admin
    team.refresh_from_db()
    assert team.name == "Engineering"
    assert TeamMember.objects.filter(team=team).count() == 2

    # The Directory page lists the requests it received, for troubleshooting.
    admin.goto(f"{base}/orgs/{SLUG}/settings/directory-sync/")
    log = admin.inner_text("[data-testid=scim-requests]")
    assert "POST" in log and "/Users" in log and "/Groups" in log and "201" in log
    assert token not in admin.content()  # shown once only
    shot(admin, "directory-sync-requests")


@pytest.mark.django_db(transaction=True)
def test_directory_sync_is_enabled_from_the_authentication_page(sso_org, live_server, new_context):
    """DS2: "Enable directory sync" on Settings › Authentication; the token is shown once, then a link."""
    base = live_server.url
    admin = new_context().new_page()
    sign_in(admin, base, "ada@acme.test")
    admin.goto(f"{base}/orgs/{SLUG}/settings/authentication/")
    card = admin.locator("[data-testid=directory-sync]")
    card.locator("input[name=confirm]").check()
    card.locator("button:has-text('Enable directory sync')").click()
    admin.wait_for_selector("[data-testid=secret]")
    assert admin.url.endswith(f"/orgs/{SLUG}/settings/directory-sync/")
    assert admin.input_value("[data-testid=secret]").startswith("ghscim_")
    admin.goto(f"{base}/orgs/{SLUG}/settings/authentication/")
    assert "Enabled" in card.inner_text()
    assert card.locator(f"a[href$='/orgs/{SLUG}/settings/directory-sync/']").count() == 1
