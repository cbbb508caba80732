"""Settings › Authentication's enforcement card and the same in the API (E2, E12, E13):
the SSO session lifetime, single logout, and who has signed in through the IdP."""
from datetime import timedelta

import pytest
from django.utils import timezone

from config.errors import ServiceError
from orgs.models import AuditEvent, Membership
from orgs.services import membership_add
from sso.events import SSOEvents
from sso.models import SESSION_LIFETIME_MAX, SESSION_LIFETIME_MIN, SSOConnection, SSOIdentity
from sso.selectors import enforcement_summary
from sso.services import sso_configure, sso_enable, sso_login
from tests.conftest import make_user

pytestmark = pytest.mark.django_db
AUTH_PAGE = "/orgs/acme/settings/authentication/"
LIFETIME = AUTH_PAGE + "session-lifetime/"
API = "/api/v1/organizations/acme/sso"


def _lifetime(org) -> timedelta:
    return SSOConnection.objects.get(org=org).session_lifetime


def _configured_events(org):
    return AuditEvent.objects.filter(org=org, event=SSOEvents.CONFIGURED).order_by("pk")


def _sign_in_through_idp(org, email):
    return sso_login(org=org, name_id=email, attributes={"email": [email]})


def _add_members(org, emails, role=Membership.Role.MEMBER):
    for email in emails:
        membership_add(org=org, user=make_user(email, password=None), role=role, actor=None)


def _enable_leaving_the_removals_pending(org, admin_user):
    """Enable without running the removal job (on_commit never fires inside the test's transaction)."""
    sso_enable(org=org, actor=admin_user)
    return SSOConnection.objects.get(org=org)


# The service ------------------------------------------------------------------


@pytest.mark.parametrize("lifetime", [SESSION_LIFETIME_MIN - timedelta(seconds=1), timedelta(0),
                                      SESSION_LIFETIME_MAX + timedelta(seconds=1), timedelta(days=-1), 24])
def test_lifetime_outside_bounds_is_refused(org, admin_user, connection, lifetime):
    before = _configured_events(org).count()
    with pytest.raises(ServiceError) as refused:
        sso_configure(org=org, actor=admin_user, session_lifetime=lifetime)
    assert refused.value.code == "invalid_session_lifetime"
    assert _lifetime(org) == timedelta(hours=24)
    assert _configured_events(org).count() == before


@pytest.mark.parametrize("lifetime", [SESSION_LIFETIME_MIN, SESSION_LIFETIME_MAX])
def test_lifetime_bounds_are_accepted(org, admin_user, connection, lifetime):
    sso_configure(org=org, actor=admin_user, session_lifetime=lifetime)
    assert _lifetime(org) == lifetime


def test_lifetime_change_is_audited_old_to_new_once(org, admin_user, connection):
    sso_configure(org=org, actor=admin_user, session_lifetime=timedelta(hours=8))
    event = _configured_events(org).last()
    assert event.actor == admin_user
    assert (event.old["session_lifetime_seconds"], event.new["session_lifetime_seconds"]) == (86_400, 28_800)
    sso_configure(org=org, actor=admin_user, session_lifetime=timedelta(hours=8))  # nothing changes
    assert _configured_events(org).last() == event


# The selector -----------------------------------------------------------------


def test_summary_counts_who_signed_in_how(org, admin_user, member, connection):
    _add_members(org, ["bea@acme.test"], role=Membership.Role.ADMIN)  # an admin still on a password
    connection = _enable_leaving_the_removals_pending(org, admin_user)
    assert connection.removal_status == SSOConnection.RemovalStatus.RUNNING  # max (member) is still to be removed
    _sign_in_through_idp(org, admin_user.email)  # Ada: from now on SSO-only (E2)
    _sign_in_through_idp(org, "jit@acme.test")  # just-in-time member (E3)
    _add_members(org, ["new@acme.test"])  # added by an operator, no IdP sign-in yet
    # A link with no sign-in yet does not count as signed in.
    SSOIdentity.objects.create(org=org, user=Membership.objects.get(org=org, user__email="new@acme.test").user,
                               name_id="new@acme.test")

    summary = enforcement_summary(org=org)

    assert summary == {"signed_in_through_idp": 2, "admins_on_password": 1, "awaiting_first_sso_sign_in": 1,
                       "single_logout": False, "session_lifetime_hours": 24}


def test_summary_counts_only_this_organizations_idp(org, admin_user, connection, other_org, outsider):
    _enable_leaving_the_removals_pending(org, admin_user)
    membership_add(org=org, user=outsider, role=Membership.Role.MEMBER, actor=None)
    SSOIdentity.objects.create(org=other_org, user=outsider, name_id=outsider.email, first_sso_login_at=timezone.now())
    summary = enforcement_summary(org=org)
    assert (summary["signed_in_through_idp"], summary["awaiting_first_sso_sign_in"]) == (0, 1)


def test_summary_reports_single_logout_and_lifetime(org, admin_user, connection):
    sso_configure(org=org, actor=admin_user, idp_slo_url="https://idp.test/slo", session_lifetime=timedelta(days=3))
    summary = enforcement_summary(org=org)
    assert summary["single_logout"] is True and summary["session_lifetime_hours"] == 72


@pytest.mark.parametrize("size", [2, 20])
def test_summary_costs_one_query_whatever_the_size(org, admin_user, member, connection, size,
                                                   django_assert_num_queries):
    _add_members(org, [f"early{i}@acme.test" for i in range(size)])
    connection = _enable_leaving_the_removals_pending(org, admin_user)
    _add_members(org, [f"late{i}@acme.test" for i in range(size)])
    for i in range(size // 2):
        _sign_in_through_idp(org, f"jit{i}@acme.test")
    with django_assert_num_queries(1):
        summary = enforcement_summary(org=org, connection=connection)
    with django_assert_num_queries(2):
        assert enforcement_summary(org=org) == summary
    assert summary["signed_in_through_idp"] == size // 2
    assert summary["awaiting_first_sso_sign_in"] == size
    assert summary["admins_on_password"] == 1


# The dashboard ----------------------------------------------------------------


def test_page_shows_lifetime_counts_and_single_logout(admin_client, org, admin_user, member, connection):
    _enable_leaving_the_removals_pending(org, admin_user)
    _sign_in_through_idp(org, "jit@acme.test")
    _add_members(org, ["new@acme.test", "newer@acme.test"])

    page = admin_client.get(AUTH_PAGE).content.decode()

    assert "SSO session lifetime:</strong> 24 hours" in page
    assert 'name="session_lifetime_hours"' in page and 'value="24"' in page
    assert 'data-testid="count-signed-in">1<' in page
    assert 'data-testid="count-admins-on-password">1 ' in page
    assert 'data-testid="count-awaiting">2<' in page
    assert "Add the IdP's single logout URL to turn it on" in page
    assert 'id="sp-sls" class="mono secret-value" readonly value="http://testserver/sso/acme/sls/"' in page


def test_page_with_single_logout_shows_the_sls_url_to_copy(admin_client, org, admin_user, connection):
    sso_configure(org=org, actor=admin_user, idp_slo_url="https://idp.test/slo")
    page = admin_client.get(AUTH_PAGE).content.decode()
    assert "Signing out of Gatehouse also signs out at the IdP" in page
    assert 'id="slo-sls" class="mono secret-value" readonly value="http://testserver/sso/acme/sls/"' in page
    assert 'data-copy="#slo-sls"' in page
    assert 'data-testid="sso-counts"' not in page  # counts once SSO is enabled


def test_page_without_sso_configured_has_no_sessions_card(admin_client, org):
    page = admin_client.get(AUTH_PAGE).content.decode()
    assert 'data-testid="sso-sessions"' not in page


def test_admin_changes_the_lifetime(admin_client, org, admin_user, connection):
    response = admin_client.post(LIFETIME, {"session_lifetime_hours": "720"})
    assert response.status_code == 302
    assert _lifetime(org) == timedelta(days=30)
    assert _configured_events(org).last().new["session_lifetime_seconds"] == 30 * 86_400
    assert "SSO session lifetime:</strong> 720 hours" in admin_client.get(AUTH_PAGE).content.decode()


def test_admin_changes_the_lifetime_while_enabled(admin_client, org, admin_user, enabled):
    response = admin_client.post(LIFETIME, {"session_lifetime_hours": "1"})
    assert response.status_code == 302
    assert _lifetime(org) == timedelta(hours=1)


@pytest.mark.parametrize("hours", ["0", "721", "abc", "", "1.5", "99999999999999999999999"])
def test_bad_lifetime_is_refused_with_a_message(admin_client, org, connection, hours):
    response = admin_client.post(LIFETIME, {"session_lifetime_hours": hours})
    assert response.status_code == 400
    assert "whole hours, 1 to 720" in response.content.decode()
    assert _lifetime(org) == timedelta(hours=24)


def test_member_cannot_change_the_lifetime(member_client, org, member, connection):
    page = member_client.get(AUTH_PAGE).content.decode()
    assert "SSO session lifetime:</strong> 24 hours" in page
    assert 'name="session_lifetime_hours"' not in page
    response = member_client.post(LIFETIME, {"session_lifetime_hours": "2"})
    assert response.status_code == 403
    assert _lifetime(org) == timedelta(hours=24)


# The API ----------------------------------------------------------------------


def test_api_state_has_lifetime_single_logout_and_sls_url(admin_client, org, connection):
    data = admin_client.get(API).json()
    assert data["session_lifetime_hours"] == 24
    assert data["single_logout"] is False
    assert data["sls_url"] == "http://testserver/sso/acme/sls/"
    assert data["enforcement"] is None  # counts once SSO is enabled


def test_api_state_before_configuring(admin_client, org):
    data = admin_client.get(API).json()
    assert (data["session_lifetime_hours"], data["single_logout"], data["enforcement"]) == (None, False, None)


def test_api_state_has_the_counts_once_enabled(admin_client, org, admin_user, member, connection):
    _enable_leaving_the_removals_pending(org, admin_user)
    _sign_in_through_idp(org, "jit@acme.test")
    _add_members(org, ["new@acme.test"])
    data = admin_client.get(API).json()
    assert data["enforcement"] == {"signed_in_through_idp": 1, "admins_on_password": 1,
                                   "awaiting_first_sso_sign_in": 1}


def test_api_put_changes_the_lifetime(admin_client, org, admin_user, connection):
    response = admin_client.put(API, {"session_lifetime_hours": 12, "idp_slo_url": "https://idp.test/slo"},
                                content_type="application/json")
    assert response.status_code == 200, response.json()
    assert (response.json()["session_lifetime_hours"], response.json()["single_logout"]) == (12, True)
    assert _lifetime(org) == timedelta(hours=12)
    event = _configured_events(org).last()
    assert (event.old["session_lifetime_seconds"], event.new["session_lifetime_seconds"]) == (86_400, 43_200)


@pytest.mark.parametrize("hours", [0, 721, -5, 1.5, "a day", None, True, 10**30])
def test_api_put_bad_lifetime_is_400(admin_client, org, connection, hours):
    response = admin_client.put(API, {"session_lifetime_hours": hours}, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "code" in response.json()
    assert _lifetime(org) == timedelta(hours=24)


def test_api_member_cannot_change_the_lifetime(member_client, org, member, connection):
    response = member_client.put(API, {"session_lifetime_hours": 2}, content_type="application/json")
    assert response.status_code == 403
    assert _lifetime(org) == timedelta(hours=24)


def test_api_schema_describes_the_new_fields(client):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    state = schema["SSOState"]["properties"]
    assert {"session_lifetime_hours", "single_logout", "sls_url", "enforcement"} <= set(state)
    assert set(schema["Enforcement"]["properties"]) == {"signed_in_through_idp", "admins_on_password",
                                                       "awaiting_first_sso_sign_in"}
    lifetime = schema["SSOConfigureRequest"]["properties"]["session_lifetime_hours"]
    assert (lifetime["minimum"], lifetime["maximum"]) == (1, 720)


def test_an_administrator_made_after_the_enable_awaits_the_idp_not_a_password(org, admin_user, connection):
    """E2's count is the administrators the enable kept; one added since must use the IdP."""
    sso_enable(org=org, actor=admin_user)
    membership_add(org=org, user=make_user("late-admin@acme.test"), role=Membership.Role.ADMIN, actor=None)
    summary = enforcement_summary(org=org)
    assert summary["admins_on_password"] == 1  # ada, kept by the enable
    assert summary["awaiting_first_sso_sign_in"] == 1  # the late administrator
