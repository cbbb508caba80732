"""/sso/ ("Sign in with SSO"): from an email in a verified domain or an organization slug to
that organization's login. Any other email gets one answer, whoever it belongs to: type your
organization (issue 10 item 5). A sign-in started here comes back into that organization."""
import re

import pytest
from django.utils import timezone

from orgs.models import Plan
from orgs.services import membership_add, organization_create
from sso.selectors import sso_org_for_email
from sso.services import domain_add, sso_configure, sso_enable, sso_login
from tests.conftest import make_user

from .conftest import post_acs, start_login, verify_domain_now

pytestmark = pytest.mark.django_db

ASK_ORGANIZATION = b"Enter your organization's name as it appears in its URL"


def _start(client, identifier, **extra):
    return client.post("/sso/", {"identifier": identifier, **extra})


def _enable_second_org(slug, admin, idp, capture):
    org = organization_create(slug=slug, name=slug.title(), creator=admin, plan=Plan.ENTERPRISE)
    sso_configure(org=org, actor=admin, idp_entity_id=idp.entity_id + slug, idp_sso_url="https://idp.test/sso",
                  certificates=[idp.cert_pem])
    with capture(execute=True):
        sso_enable(org=org, actor=admin)
    return org


def _answer(client, email) -> tuple[int, bytes]:
    """The page /sso/ answers for `email`, without its per-request CSRF token."""
    response = _start(client, email)
    return response.status_code, re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)


def test_emails_outside_a_verified_domain_all_get_the_same_answer(
        client, org, member, enabled, admin_user, member_user, outsider, other_org, idp):
    # An administrator before their first SSO sign-in, a member the enable removed, an account
    # an IdP has linked, an account elsewhere, an address nobody has: one page, naming nothing.
    linked = make_user("lin@acme.test")
    membership_add(org=org, user=linked, actor=None)
    sso_login(org=org, name_id=linked.email, attributes={}, connection=enabled)
    answers = {_answer(client, email) for email in
               (admin_user.email, member_user.email, linked.email, outsider.email, "nobody@nowhere.test")}
    assert len(answers) == 1
    ((status, body),) = answers
    assert status == 200 and ASK_ORGANIZATION in body and b"acme" not in body.lower()
    for email in (admin_user.email, member_user.email, linked.email):
        assert sso_org_for_email(email) is None


@pytest.mark.parametrize("who", ["administrator", "removed member"])
def test_administrators_and_removed_members_type_their_slug(client, org, member, enabled, admin_user,
                                                            member_user, who):
    # E2, E3: the email step asks for the organization; its slug leads to its IdP.
    email = admin_user.email if who == "administrator" else member_user.email
    assert _start(client, email.upper()).status_code == 200
    response = _start(client, "ACME")
    assert response.status_code == 302 and response["Location"] == "/sso/acme/login/?next=/orgs/acme/"


def test_a_verified_domain_finds_the_organization(client, org, enabled, admin_user):
    domain = domain_add(org=org, actor=admin_user, domain="acme-corp.test")
    assert sso_org_for_email("new@acme-corp.test") is None  # not verified yet
    domain.verified_at = timezone.now()
    domain.save(update_fields=["verified_at"])
    assert sso_org_for_email("new@acme-corp.test") == org
    assert _start(client, "New@Acme-Corp.test")["Location"] == "/sso/acme/login/?next=/orgs/acme/"


def test_a_verified_domain_of_an_organization_without_sso_is_not_offered(client, org, connection):
    verify_domain_now(org, "acme-corp.test")
    assert sso_org_for_email("new@acme-corp.test") is None
    assert _start(client, "new@acme-corp.test").status_code == 200  # the same "type your organization" step


def test_a_slug_and_next_are_kept_and_next_stays_on_this_site(client, org, enabled):
    response = _start(client, "ACME", next="/orgs/acme/settings/members/")
    assert response["Location"] == "/sso/acme/login/?next=/orgs/acme/settings/members/"
    response = _start(client, "acme", next="//evil.example/")
    assert response["Location"] == "/sso/acme/login/?next=/orgs/acme/"


def test_an_organization_without_sso_enabled_is_not_offered(client, org, connection):
    assert _start(client, "acme").status_code == 404


def test_an_unknown_slug_and_a_slug_without_sso_get_the_same_answer(client, org, connection):
    answers = {(r.status_code, b"found no organization with single sign-on" in r.content)
               for r in (_start(client, "acme"), _start(client, "no-such-org"))}
    assert answers == {(404, True)}


def test_two_sso_organizations_are_reached_by_slug(client, org, enabled, admin_user, idp,
                                                   django_capture_on_commit_callbacks):
    _enable_second_org("beta", admin_user, idp, django_capture_on_commit_callbacks)
    assert _start(client, admin_user.email).status_code == 200
    assert _start(client, "beta")["Location"] == "/sso/beta/login/?next=/orgs/beta/"


def test_a_member_who_signs_in_from_sso_start_lands_in_the_organization(client, org, member, enabled, idp,
                                                                        member_user):
    # E3: the removed member types the slug, signs in at the IdP, and is in Acme, not on the list.
    start = _start(client, "acme")
    assert start["Location"] == "/sso/acme/login/?next=/orgs/acme/"
    request_id, relay_state = start_login(client, next_url="/orgs/acme/")
    response = post_acs(client, idp.encoded(org_slug="acme", name_id=member_user.email, in_response_to=request_id),
                        relay_state)
    assert response.status_code == 302 and response["Location"] == "/orgs/acme/"
    assert client.get(response["Location"], follow=True).request["PATH_INFO"] == "/orgs/acme/settings/members/"
