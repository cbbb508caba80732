"""Issue 12's group rules in Chromium against the live server: an administrator opens Group
rules from the Authentication page, fills a rule (group Engineering → administrator, the
Database Administrator grant, the team Platform), sees the preview name the member who would
gain them, saves, and finds the rule listed and the member's page saying why.

The first test starts from groups the IdP sent at an earlier sign-in (SSOIdentity.idp_groups);
the second signs somebody in through the test IdP with the group and sees the rule applied."""
import re

import pytest
from django.utils import timezone

from accounts.models import User
from orgs.models import Membership, Plan
from orgs.services import membership_add, organization_create
from sso import test_idp
from sso.models import SSOIdentity, VerifiedDomain
from sso.services import sso_configure
from teams.models import TeamMember
from teams.services import team_create

from .conftest import shot
from .test_sso_flow import (  # noqa: F401 — two_sites and queued_removals are fixtures
    enable_sso_against_test_idp, queued_removals, sign_in_with_password, through_idp, two_sites)

PASSWORD = "a long enough passphrase 42"
SLUG = "acme"


@pytest.fixture
def acme(settings, live_server, tmp_path):
    settings.BASE_URL = live_server.url
    settings.SAML_TEST_IDP_DIR = tmp_path / "test_idp"
    ada = User.objects.create_user("ada@acme.test", PASSWORD, first_name="Ada", last_name="Lovelace",
                                   email_verified_at=timezone.now())
    org = organization_create(slug=SLUG, name="Acme Corp", creator=ada, plan=Plan.ENTERPRISE)
    _, cert_pem = test_idp.keypair()
    sso_configure(org=org, actor=ada, idp_entity_id=test_idp.entity_id(), idp_sso_url=test_idp.sso_url(),
                  certificates=[cert_pem], attribute_preset="okta")
    team_create(org=org, name="Platform", actor=ada)
    erin = User.objects.create_user("erin@acme.test", None, first_name="Erin", last_name="Engineer",
                                    email_verified_at=timezone.now())
    membership = membership_add(org=org, user=erin, role=Membership.Role.MEMBER, actor=None)
    SSOIdentity.objects.create(org=org, user=erin, name_id="erin@acme.test", last_sso_login_at=timezone.now(),
                               idp_attributes={"email": ["erin@acme.test"], "groups": ["Engineering"]},
                               idp_groups=["Engineering"])
    return org, membership


def preview_rule(page, group: str) -> None:
    """On the Group rules page: `group` → administrator, the grant and the team Platform; Preview."""
    page.fill("#rule-group", group)
    page.select_option("#rule-role", "admin")
    page.check("#rule-database-admin")
    page.select_option("#rule-team", label="Platform")
    page.click("[data-testid=group-rule-form] button:has-text('Preview')")
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_configure_a_group_rule_see_its_preview_and_save_it(acme, live_server, new_context):
    org, erin = acme
    base = live_server.url
    page = new_context().new_page()
    sign_in_with_password(page, base, "ada@acme.test")

    page.goto(f"{base}/orgs/{SLUG}/settings/authentication/")
    page.locator("[data-testid=group-rules-link] a").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().endswith("Group rules")
    preview_rule(page, "engineering")

    preview = page.locator("[data-testid=group-rule-preview]")
    row = preview.locator("[data-preview-member='erin@acme.test']")
    assert "member → admin" in row.inner_text()
    assert "granted" in row.inner_text() and "+ Platform" in row.inner_text()
    shot(page, "group-rule-preview")
    assert Membership.objects.get(pk=erin.pk).role == "member"  # a preview changes nothing

    preview.locator("button:has-text('Save rule')").click()
    page.wait_for_load_state()
    assert page.locator("[data-rule='engineering']").count() == 1
    assert "saved and applied" in page.content()
    erin_now = Membership.objects.get(pk=erin.pk)
    assert (erin_now.role, erin_now.is_database_admin) == ("admin", True)
    assert TeamMember.objects.get(membership=erin_now).by_rule

    page.goto(f"{base}/orgs/{SLUG}/settings/members/")
    page.click("a:has-text('Erin Engineer')")
    page.wait_for_load_state()
    summary = page.locator("[data-testid=member-summary]").inner_text()
    assert "Administrator" in summary and "granted by a group rule" in summary
    assert "Engineering" in page.locator("[data-testid=member-idp-attributes]").inner_text()


@pytest.mark.django_db(transaction=True)
def test_a_sign_in_through_the_test_idp_with_the_group_gets_the_rules_role_and_grant(
        two_sites, new_context, eager_celery, queued_removals):
    """The whole of issue 12's browser scenario: the administrator saves a rule for the group
    Engineering, somebody new signs in through the test IdP sending that group (a person the
    organization's verified domain lets the IdP create, E14), and the administrator finds them as an
    administrator with the Database Administrator grant and the team, on their member page."""
    sp, idp = two_sites
    ada = User.objects.create_user("ada@acme.test", PASSWORD, first_name="Ada", last_name="Lovelace",
                                   email_verified_at=timezone.now())
    org = organization_create(slug=SLUG, name="Acme Corp", creator=ada, plan=Plan.ENTERPRISE)
    team_create(org=org, name="Platform", actor=ada)
    VerifiedDomain.objects.create(org=org, domain="acme.test", txt_token="t", verified_at=timezone.now())
    enable_sso_against_test_idp(org, ada)

    # The administrator (E2: still on their password) saves the rule; nobody has the group yet.
    admin = new_context().new_page()
    sign_in_with_password(admin, sp, "ada@acme.test")
    admin.goto(f"{sp}/orgs/{SLUG}/settings/authentication/group-rules/")
    preview_rule(admin, "Engineering")
    preview = admin.locator("[data-testid=group-rule-preview]")
    assert preview.locator("[data-preview-member]").count() == 0
    preview.locator("button:has-text('Save rule')").click()
    admin.wait_for_load_state()
    assert admin.locator("[data-rule='Engineering']").count() == 1

    # Grace, unknown here, signs in through the IdP, which says she is in Engineering (and, in
    # another case, in a group no rule names).
    grace = new_context().new_page()
    grace.goto(f"{sp}/sso/{SLUG}/login/")
    grace.wait_for_url(re.compile(re.escape(idp) + r"/sso/test-idp/sso/\?"))
    grace.fill("#idp-groups", "engineering, Marketing")
    grace.fill("#idp-email", "grace@acme.test")
    with grace.expect_request(lambda r: r.method == "POST" and r.url.endswith(f"/sso/{SLUG}/acs/")) as posted:
        grace.click("[data-testid=test-idp-any]")
    grace.wait_for_url(re.compile(re.escape(sp) + "/"))
    assert posted.value.response().status == 302
    assert grace.locator("details.account-menu > summary").inner_text().strip() == "grace@acme.test"

    membership = Membership.objects.get(org=org, user__email="grace@acme.test")
    assert (membership.role, membership.is_database_admin, membership.database_admin_by_rule) == ("admin", True, True)
    assert TeamMember.objects.get(membership=membership, team__name="Platform").by_rule

    admin.goto(f"{sp}/orgs/{SLUG}/settings/members/")
    row = admin.locator("tr[data-member='grace@acme.test']").inner_text()
    assert "Admin" in row and "Platform" in row
    admin.goto(f"{sp}/orgs/{SLUG}/settings/members/{membership.pk}/")
    summary = admin.locator("[data-testid=member-summary]").inner_text()
    assert "Administrator" in summary and "granted by a group rule" in summary
    received = admin.locator("[data-testid=member-idp-attributes]").inner_text()
    assert "engineering" in received and "Marketing" in received
    shot(admin, "group-rule-applied-at-sign-in")

    # The IdP's next word without the group takes role, grant and team away again (the last
    # administrator, Ada, is still there, so nothing keeps them).
    grace.context.clear_cookies()
    grace.goto(f"{sp}/sso/{SLUG}/login/")
    grace.wait_for_url(re.compile(re.escape(idp) + r"/sso/test-idp/sso/\?"))
    grace.fill("#idp-groups", "Marketing")
    through_idp(grace, sp, idp, "grace@acme.test")
    membership.refresh_from_db()
    assert (membership.role, membership.is_database_admin) == ("member", False)
    assert not TeamMember.objects.filter(membership=membership).exists()
