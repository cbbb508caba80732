"""Issue 12's group rules in Chromium against the live server: an administrator opens Group
rules from the Authentication page, fills a rule (group Engineering → administrator, the
Database Administrator grant, the team Platform), sees the preview name the member who would
gain them, saves, and finds the rule listed and the member's page saying why.

The member's groups are those the IdP sent at an earlier sign-in (SSOIdentity.idp_groups). A
sign-in through the test IdP carrying the group is left to the SAML side of issue 12, whose
test IdP gains the groups field."""
import pytest
from django.utils import timezone

from accounts.models import User
from orgs.models import Membership, Plan
from orgs.services import membership_add, organization_create
from sso import test_idp
from sso.models import SSOIdentity
from sso.services import sso_configure
from teams.models import TeamMember
from teams.services import team_create

from .conftest import shot

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


@pytest.mark.django_db(transaction=True)
def test_configure_a_group_rule_see_its_preview_and_save_it(acme, live_server, new_context):
    org, erin = acme
    base = live_server.url
    page = new_context().new_page()
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", "ada@acme.test")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()

    page.goto(f"{base}/orgs/{SLUG}/settings/authentication/")
    page.locator("[data-testid=group-rules-link] a").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().endswith("Group rules")
    page.fill("#rule-group", "engineering")
    page.select_option("#rule-role", "admin")
    page.check("#rule-database-admin")
    page.select_option("#rule-team", label="Platform")
    page.click("[data-testid=group-rule-form] button:has-text('Preview')")
    page.wait_for_load_state()

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
