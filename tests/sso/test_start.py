"""/sso/ ("Sign in with SSO"): from an email or an organization slug to that organization's login."""
import pytest

from orgs.models import Plan
from orgs.services import membership_add, organization_create
from sso.selectors import sso_org_for_email
from sso.services import domain_add, sso_configure, sso_enable
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _start(client, identifier):
    return client.post("/sso/", {"identifier": identifier})


def _enable_second_org(slug, admin, idp, capture):
    org = organization_create(slug=slug, name=slug.title(), creator=admin, plan=Plan.ENTERPRISE)
    sso_configure(org=org, actor=admin, idp_entity_id=idp.entity_id + slug, idp_sso_url="https://idp.test/sso",
                  certificates=[idp.cert_pem])
    with capture(execute=True):
        sso_enable(org=org, actor=admin)
    return org


def test_an_administrator_is_found_by_email_before_their_first_sso_sign_in(client, org, enabled, admin_user):
    assert sso_org_for_email(admin_user.email) == org
    response = _start(client, admin_user.email.upper())
    assert response.status_code == 302 and response["Location"] == "/sso/acme/login/"


def test_a_member_removed_by_the_enable_is_found_by_email(client, org, member, enabled, member_user):
    assert sso_org_for_email(member_user.email) == org  # removed, so found through the removal record
    assert _start(client, member_user.email)["Location"] == "/sso/acme/login/"


def test_a_slug_and_next_are_kept_and_next_stays_on_this_site(client, org, enabled):
    response = client.post("/sso/", {"identifier": "ACME", "next": "/orgs/acme/settings/members/"})
    assert response["Location"] == "/sso/acme/login/?next=/orgs/acme/settings/members/"
    response = client.post("/sso/", {"identifier": "acme", "next": "//evil.example/"})
    assert response["Location"] == "/sso/acme/login/"


def test_an_organization_without_sso_enabled_is_not_offered(client, org, connection, admin_user):
    assert sso_org_for_email(admin_user.email) is None
    assert _start(client, admin_user.email).status_code == 404
    assert _start(client, "acme").status_code == 404


def test_unknown_email_and_slug_get_the_same_answer(client, org, enabled):
    for identifier in ("nobody@nowhere.test", "no-such-org"):
        response = _start(client, identifier)
        assert response.status_code == 404 and b"found no organization with single sign-on" in response.content


def test_two_sso_organizations_ask_for_the_organization(client, org, enabled, admin_user, idp,
                                                        django_capture_on_commit_callbacks):
    _enable_second_org("beta", admin_user, idp, django_capture_on_commit_callbacks)
    assert sso_org_for_email(admin_user.email) is None
    assert _start(client, admin_user.email).status_code == 404
    assert _start(client, "beta")["Location"] == "/sso/beta/login/"


def test_a_verified_domain_finds_accounts_that_are_not_members(client, org, enabled, admin_user):
    from django.utils import timezone

    domain = domain_add(org=org, actor=admin_user, domain="acme-corp.test")
    assert sso_org_for_email("new@acme-corp.test") is None  # not verified yet
    domain.verified_at = timezone.now()
    domain.save(update_fields=["verified_at"])
    assert sso_org_for_email("new@acme-corp.test") == org


def test_membership_elsewhere_without_sso_does_not_count(client, org, enabled, outsider, other_org):
    # olga is an admin of "other" (no SSO) and nothing of acme: no organization is offered.
    assert sso_org_for_email(outsider.email) is None
    membership_add(org=org, user=make_user("late@acme.test"), actor=None)  # joined after the enable
    assert sso_org_for_email("late@acme.test") == org
