"""Saves a full-page PNG of every dashboard page, so anyone can look at the product without
running it. A test run writes them to the ignored var/screenshots/; `python3 dev.py
screenshots` refreshes the committed screenshots/."""

import pytest

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

from .conftest import SCREENSHOTS
from django.utils import timezone

OUT = SCREENSHOTS
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


@pytest.mark.django_db(transaction=True)
def test_screenshots(live_server, new_context):
    OUT.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    org, backend, invitation_token = build_demo_world()
    saved = []

    def shot(page, name, path=None):
        if path is not None:
            response = page.goto(base + path)
            assert response.status < 500, (path, response.status)
        page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
        saved.append(name)

    anonymous = new_context().new_page()
    shot(anonymous, "sign-in", "/accounts/login/")
    shot(anonymous, "sign-up", "/accounts/signup/")
    shot(anonymous, "password-reset", "/accounts/password-reset/")
    shot(anonymous, "invitation", f"/invitations/{invitation_token}/")
    shot(anonymous, "invitation-invalid", "/invitations/ghi_no-such-token/")
    shot(anonymous, "sign-up-for-invitation", f"/accounts/signup/?next=/invitations/{invitation_token}/")

    admin = new_context().new_page()
    sign_in(admin, base, "ada@acme.test")
    settings_url = "/orgs/acme/settings"
    shot(admin, "organizations", "/?switch=1")
    shot(admin, "organization-new", "/orgs/new/")
    shot(admin, "members", f"{settings_url}/members/")
    admin.click("details.org-switcher > summary")
    shot(admin, "organization-switcher")
    shot(admin, "invitations", f"{settings_url}/invitations/")
    shot(admin, "teams", f"{settings_url}/teams/")
    shot(admin, "team", f"{settings_url}/teams/{backend.pk}/")
    shot(admin, "databases", f"{settings_url}/databases/")
    shot(admin, "database", f"{settings_url}/databases/production/")
    admin.fill("#id_name", "new-service")
    admin.click("button:has-text('Create password')")
    shot(admin, "database-password-created")
    shot(admin, "service-tokens", f"{settings_url}/service-tokens/")
    admin.fill("#id_name", "github-actions")
    admin.click("button:has-text('Create token')")
    shot(admin, "service-token-created")
    shot(admin, "audit-log", f"{settings_url}/audit-log/")
    shot(admin, "plan", f"{settings_url}/plan/")
    shot(admin, "password-change", "/accounts/password-change/")
    shot(admin, "not-found", "/orgs/someone-else/settings/members/")

    member = new_context().new_page()
    sign_in(member, base, "ken@acme.test")
    shot(member, "members-as-member", f"{settings_url}/members/")
    shot(member, "audit-log-forbidden", f"{settings_url}/audit-log/")

    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    sign_in(phone, base, "ada@acme.test")
    shot(phone, "members-mobile", f"{settings_url}/members/")

    for name in saved:
        assert (OUT / f"{name}.png").stat().st_size > 5_000, name
