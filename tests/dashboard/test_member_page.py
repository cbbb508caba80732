"""A member's own page (issue 12 item 4, "What the IdP sends, visible"): role, grant and
teams, the attributes the IdP last sent (SAML) and the directory's resource (SCIM), so an
administrator can see why a role or grant is what it is."""
import pytest
from django.utils import timezone

from scim.models import DirectoryUser
from sso.group_rules import group_rule_create
from sso.models import SSOIdentity
from sso.services import sso_configure

from ..sso.idp import TestIdP

pytestmark = pytest.mark.django_db


def url(membership) -> str:
    return f"/orgs/acme/settings/members/{membership.pk}/"


@pytest.fixture
def signed_in(org, member):
    """The member signed in through the IdP, which sent these attributes."""
    return SSOIdentity.objects.create(
        org=org, user=member.user, name_id="max@acme.test", last_sso_login_at=timezone.now(),
        idp_attributes={"email": ["max@acme.test"], "planetscale_role": ["member"], "groups": ["Engineering", "Oncall"]},
        idp_groups=["Engineering", "Oncall"])


def test_the_idp_attributes_and_groups_are_shown(admin_client, member, signed_in, acme):
    body = admin_client.get(url(member)).content.decode()
    assert "planetscale_role" in body and "Oncall" in body and "What the identity provider sent" in body
    assert signed_in.last_sso_login_at.strftime("%Y-%m-%d %H:%M") in body
    assert "Acme Core" in body  # the member's team
    assert "max@acme.test" in body


def test_the_directory_user_is_shown_with_a_pending_email_change(admin_client, org, member):
    DirectoryUser.objects.create(
        org=org, user=member.user, membership=member, user_name="max@acme.test", email="max@acme.test",
        raw={"userName": "max@acme.test", "title": "Engineer", "password": "hunter2"},
        email_change_pending="max@elsewhere.test", email_change_reason="not in a domain Acme verified")
    body = admin_client.get(url(member)).content.decode()
    assert "From the directory (SCIM)" in body and "Engineer" in body
    assert "hunter2" not in body and "password&quot;" not in body and 'password"' not in body
    assert "title&quot;" in body  # the resource is there, its keys quoted
    assert "Needs attention" in body and "max@elsewhere.test" in body and "not in a domain Acme verified" in body


def test_a_rule_made_grant_and_team_say_so(admin_client, org, admin_user, member, signed_in):
    from teams.services import team_create

    sso_configure(org=org, actor=admin_user, idp_entity_id="https://idp.test/", idp_sso_url="https://idp.test/sso",
                  certificates=[TestIdP().cert_pem])
    team = team_create(org=org, name="Platform", actor=admin_user)
    group_rule_create(org=org, actor=admin_user, group_name="Oncall", database_admin=True, team_id=team.pk)
    body = admin_client.get(url(member)).content.decode()
    assert "granted by a group rule" in body and "(group rule)" in body


def test_a_member_may_view_and_another_organization_may_not(member_client, outsider_client, member, signed_in,
                                                            admin_membership, other_org):
    assert member_client.get(url(admin_membership)).status_code == 200
    assert "planetscale_role" in member_client.get(url(member)).content.decode()
    assert outsider_client.get(url(member)).status_code == 404
    other_membership = other_org.memberships.get()
    assert member_client.get(f"/orgs/acme/settings/members/{other_membership.pk}/").status_code == 404
    assert member_client.get("/orgs/acme/settings/members/999999/").status_code == 404


def test_each_row_of_the_members_list_links_to_its_page(admin_client, member, admin_membership):
    body = admin_client.get("/orgs/acme/settings/members/").content.decode()
    assert f'href="/orgs/acme/settings/members/{member.pk}/"' in body
    assert f'href="/orgs/acme/settings/members/{admin_membership.pk}/"' in body


def test_without_any_idp_the_page_says_so(admin_client, admin_membership):
    body = admin_client.get(url(admin_membership)).content.decode()
    assert "has not signed in through this organization's identity provider" in body
    assert "From the directory" not in body
