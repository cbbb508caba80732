"""Saves a full-page PNG of every dashboard page, so anyone can look at the product without
running it, and checks each page shows what it must: its heading, its status, and the rows
the demo world put there. A test run writes them to the ignored var/screenshots/;
`python3 dev.py screenshots` refreshes the committed screenshots/."""
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from orgs.models import Membership, Plan
from orgs.services import (
    database_create,
    database_password_create,
    database_password_revoke,
    invitation_create,
    membership_add,
    membership_remove,
    membership_set_database_admin,
    organization_create,
    service_token_create,
)
from teams.services import team_create, team_member_add

from .conftest import shot as save_screenshot

PASSWORD = "a long enough passphrase 42"
PEOPLE = [("grace@acme.test", "Grace", "Hopper"), ("linus@acme.test", "Linus", "Torvalds"),
          ("margaret@acme.test", "Margaret", "Hamilton"), ("ken@acme.test", "Ken", "Thompson"),
          ("barbara@acme.test", "Barbara", "Liskov"), ("dennis@acme.test", "Dennis", "Ritchie"),
          ("frances@acme.test", "Frances", "Allen"), ("edsger@acme.test", "Edsger", "Dijkstra")]


def build_demo_world():
    ada = User.objects.create_user("ada@acme.test", PASSWORD, first_name="Ada", last_name="Lovelace",
                                   email_verified_at=timezone.now())
    org = organization_create(slug="acme", name="Acme Corp", creator=ada, plan=Plan.SCALER_PRO, sso_addon=True)
    organization_create(slug="side-project", name="Side Project", creator=ada)
    members = {}
    for i, (email, first, last) in enumerate(PEOPLE):
        user = User.objects.create_user(email, PASSWORD, first_name=first, last_name=last,
                                        email_verified_at=timezone.now())
        members[email] = membership_add(org=org, user=user, role="admin" if i == 0 else "member", actor=ada)
    membership_set_database_admin(org=org, membership=members["linus@acme.test"], value=True, actor=ada)
    Membership.objects.filter(pk=members["frances@acme.test"].pk).update(directory_managed=True)
    backend = team_create(org=org, name="Backend", actor=ada)
    frontend = team_create(org=org, name="Frontend", actor=ada)
    okta = team_create(org=org, name="Okta: Engineering", actor=None, directory_managed=True, external_id="00g1")
    for email in ["linus@acme.test", "ken@acme.test", "dennis@acme.test"]:
        team_member_add(org=org, team=backend, membership=members[email], actor=ada)
    for email in ["margaret@acme.test", "barbara@acme.test"]:
        team_member_add(org=org, team=frontend, membership=members[email], actor=ada)
    team_member_add(org=org, team=okta, membership=members["frances@acme.test"], actor=None, by_directory=True)
    main = database_create(org=org, name="production", actor=ada)
    database_create(org=org, name="analytics", actor=members["linus@acme.test"].user)
    database_password_create(org=org, database=main, name="web-app", access="read_write", actor=ada)
    database_password_create(org=org, database=main, name="reporting", access="read_only",
                             actor=members["edsger@acme.test"].user)
    old, _ = database_password_create(org=org, database=main, name="legacy-import", access="read_write", actor=ada)
    database_password_revoke(org=org, password=old, actor=ada)
    service_token_create(org=org, name="terraform", actor=ada)
    service_token_create(org=org, name="edsger-ci", actor=members["edsger@acme.test"].user)
    membership_remove(org=org, membership=members["edsger@acme.test"], actor=ada)
    invitation_create(org=org, email="alan@acme.test", role="member", actor=ada)
    invitation_create(org=org, email="katherine@acme.test", role="admin", actor=ada)
    _, token = invitation_create(org=org, email="hedy@acme.test", role="member", actor=ada)
    return org, backend, token


def sign_in(page, base, email):
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()


def row(key, value):
    """The table row of a member, an invitation, a team or a credential (its data-* attribute)."""
    return f"tr[data-{key}='{value}']"


@pytest.mark.django_db(transaction=True)
def test_screenshots(live_server, new_context):
    base = live_server.url
    _, backend, invitation_token = build_demo_world()

    def shot(page, name, path=None, *, heading, status=200, submit=None, shows=(), hides=()):
        """Open `path` (or press the `submit` button), check the answer's status, the page's
        one h1, each `shows` (CSS selector, text): a visible element containing that text, and
        each `hides` selector: nothing on the page; then save the picture."""
        response = None
        if path is not None:
            response = page.goto(base + path)
        elif submit is not None:
            with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
                page.click(f"button:has-text('{submit}')")
            response = posted.value
            page.wait_for_load_state()
        if response is not None:
            assert response.status == status, (name, response.status)
        expect(page.locator("h1")).to_have_text(heading)
        for selector, text in shows:
            expect(page.locator(selector)).to_be_visible()
            expect(page.locator(selector)).to_contain_text(text)
        for selector in hides:
            expect(page.locator(selector)).to_have_count(0)
        assert save_screenshot(page, name).stat().st_size > 5_000, name

    anonymous = new_context().new_page()
    shot(anonymous, "sign-in", "/accounts/login/", heading="Sign in to Gatehouse")
    shot(anonymous, "sign-up", "/accounts/signup/", heading="Create an account")
    shot(anonymous, "password-reset", "/accounts/password-reset/", heading="Reset your password")
    shot(anonymous, "invitation", f"/invitations/{invitation_token}/", heading="Join Acme Corp",
         shows=[("main", "Ada Lovelace invited hedy@acme.test to join Acme Corp on Gatehouse as Organization Member")])
    shot(anonymous, "invitation-invalid", "/invitations/ghi_no-such-token/", status=404,
         heading="This invitation can't be used",
         shows=[("[data-code='invitation_invalid']", "This invitation link is not valid.")])
    shot(anonymous, "sign-up-for-invitation", f"/accounts/signup/?next=/invitations/{invitation_token}/",
         heading="Create an account",
         shows=[("main", "To accept the invitation to Acme Corp, create an account for hedy@acme.test.")])

    admin = new_context().new_page()
    sign_in(admin, base, "ada@acme.test")
    settings_url = "/orgs/acme/settings"
    shot(admin, "organizations", "/?switch=1", heading="Your organizations",
         shows=[(".org-list", "Acme Corp"), (".org-list", "Side Project")])
    shot(admin, "organization-new", "/orgs/new/", heading="Create an organization")
    members = [(row("member", "grace@acme.test"), "Grace Hopper"),
               (row("member", "linus@acme.test"), "Backend"),  # his team
               (row("member", "frances@acme.test"), "Directory")]  # managed by the directory
    shot(admin, "members", f"{settings_url}/members/", heading="Members",
         shows=members + [(row("member", "ada@acme.test"), "You")],
         hides=[row("member", "edsger@acme.test")])  # removed
    admin.click("details.org-switcher > summary")
    shot(admin, "organization-switcher", heading="Members",
         shows=[("details.org-switcher .menu-body", "Side Project")])
    shot(admin, "invitations", f"{settings_url}/invitations/", heading="Invitations",
         shows=[(row("invitation", "katherine@acme.test"), "Organization Administrator"),
                (row("invitation", "hedy@acme.test"), "ada@acme.test")])
    shot(admin, "teams", f"{settings_url}/teams/", heading="Teams",
         shows=[(row("team", "Backend") + " td:nth-child(2)", "3"), (row("team", "Okta: Engineering"), "Directory")])
    shot(admin, "team", f"{settings_url}/teams/{backend.pk}/", heading="Teams / Backend",
         shows=[(row("member", email), name) for email, name in
                [("linus@acme.test", "Linus Torvalds"), ("ken@acme.test", "Ken Thompson"),
                 ("dennis@acme.test", "Dennis Ritchie")]],
         hides=[row("member", "grace@acme.test")])
    shot(admin, "databases", f"{settings_url}/databases/", heading="Databases",
         shows=[("main tbody", "production"), ("main tbody", "analytics")])
    shot(admin, "database", f"{settings_url}/databases/production/", heading="Databases / production",
         shows=[(row("credential", "web-app"), "Active"), (row("credential", "legacy-import"), "Revoked")])
    admin.fill("#id_name", "new-service")
    shot(admin, "database-password-created", submit="Create password", heading="Databases / production",
         shows=[(".secret-box", "New password new-service"), (".secret-box", "it is shown only once"),
                (row("credential", "new-service"), "Active")])
    expect(admin.locator("[data-testid=secret]")).to_have_value(re.compile(r"^ghp_\S{40,}$"))
    shot(admin, "service-tokens", f"{settings_url}/service-tokens/", heading="Service tokens",
         shows=[(row("credential", "terraform"), "Active"), (row("credential", "edsger-ci"), "Active")],
         hides=[".secret-box"])  # shown once, never again
    admin.fill("#id_name", "github-actions")
    shot(admin, "service-token-created", submit="Create token", heading="Service tokens",
         shows=[(".secret-box", "New service token github-actions"), (".secret-box", "it is shown only once")])
    expect(admin.locator("[data-testid=secret]")).to_have_value(re.compile(r"^ghst_\S{40,}$"))
    shot(admin, "audit-log", f"{settings_url}/audit-log/", heading="Audit log",
         shows=[("table.audit tbody tr:first-child", "service_token.created"),  # newest first
                ("table.audit tbody tr:first-child", "github-actions"),
                ("table.audit tbody tr:has-text('member.removed')", "edsger@acme.test"),
                (".exports a[href$='/audit-log/export/?format=csv']", "Export CSV"),
                ("footer.site-footer a[href='/api/v1/docs/']", "API reference")])
    shot(admin, "plan", f"{settings_url}/plan/", heading="Plan", shows=[("[data-testid=plan]", "Scaler Pro")])
    shot(admin, "password-change", "/accounts/password-change/", heading="Change password")
    shot(admin, "not-found", "/orgs/someone-else/settings/members/", status=404, heading="Not found")

    member = new_context().new_page()
    sign_in(member, base, "ken@acme.test")
    shot(member, "members-as-member", f"{settings_url}/members/", heading="Members",
         shows=members + [("main", "Only administrators can change members.")],
         hides=["main button:has-text('Remove')", ".sidebar-nav a:has-text('Audit log')"])
    shot(member, "audit-log-forbidden", f"{settings_url}/audit-log/", status=403, heading="Not allowed",
         shows=[("main", "Only organization administrators can do this.")])

    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    sign_in(phone, base, "ada@acme.test")
    shot(phone, "members-mobile", f"{settings_url}/members/", heading="Members", shows=members)
