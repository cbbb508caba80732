"""The administrator's side of setup links: Settings › Authentication › Setup links and the
JSON API (/api/v1/organizations/<org>/setup-links). Administrators only; another
organization's links are invisible; the URL is shown once."""
import re
from datetime import timedelta

import pytest

from orgs.models import AuditEvent, hash_secret
from setuplinks.events import SetupLinkEvents
from setuplinks.models import SetupLink
from tests.api.conftest import assert_error, org_url

from .conftest import make_link

pytestmark = pytest.mark.django_db
PAGE = "/orgs/acme/settings/authentication/setup-links/"
LINK_URL = re.compile(r"http://testserver/setup/(ghsetup_[A-Za-z0-9_-]{43})/")


def test_the_authentication_page_leads_administrators_to_setup_links(admin_client, member_client, member):
    assert PAGE in admin_client.get("/orgs/acme/settings/authentication/").content.decode()
    assert PAGE not in member_client.get("/orgs/acme/settings/authentication/").content.decode()


def test_an_administrator_creates_a_link_sees_its_url_once_and_it_is_listed(admin_client, org, admin_user):
    response = admin_client.post(PAGE + "create/", {"note": "Jane, Acme IT", "lifetime_hours": "48",
                                                    "allow_directory_sync": "1"})
    assert response.status_code == 200
    [secret] = LINK_URL.findall(response.content.decode())
    link = SetupLink.objects.get(org=org)
    assert link.secret_hash == hash_secret(secret) and link.allow_directory_sync and link.created_by == admin_user
    assert link.expires_at - link.created_at == timedelta(hours=48)
    listed = admin_client.get(PAGE).content.decode()
    assert secret not in listed
    assert "Jane, Acme IT" in listed and "ada@acme.test" in listed and "never" in listed and "Allowed" in listed


@pytest.mark.parametrize("hours", ["0", "721", "-1", "abc", "", "99999999999999999999"])
def test_the_form_refuses_a_lifetime_outside_one_hour_to_thirty_days(admin_client, org, hours):
    response = admin_client.post(PAGE + "create/", {"lifetime_hours": hours})
    assert response.status_code == 400
    assert not SetupLink.objects.exists()


def test_revoking_from_the_page_ends_the_link_at_once(admin_client, org, admin_user, client):
    link, page = make_link(org, admin_user)
    assert client.get(page).status_code == 200
    response = admin_client.post(PAGE + f"{link.pk}/revoke/")
    assert response.status_code == 302
    assert client.get(page).status_code == 404
    assert "Revoked" in admin_client.get(PAGE).content.decode()
    assert AuditEvent.objects.filter(org=org, event=SetupLinkEvents.REVOKED, actor=admin_user).count() == 1


def test_members_and_outsiders_cannot_use_the_page(member_client, member, outsider_client, org, admin_user):
    link, page = make_link(org, admin_user)
    assert member_client.get(PAGE).status_code == 403
    assert member_client.post(PAGE + "create/", {"lifetime_hours": "2"}).status_code == 403
    assert member_client.post(PAGE + f"{link.pk}/revoke/").status_code == 403
    assert outsider_client.get(PAGE).status_code == 404
    assert outsider_client.post(PAGE + f"{link.pk}/revoke/").status_code == 404
    assert SetupLink.objects.get().revoked_at is None


def test_another_organizations_link_is_not_found(admin_client, other_org, outsider):
    other_org.plan = "enterprise"
    other_org.save()
    link, _ = make_link(other_org, outsider)
    assert admin_client.post(PAGE + f"{link.pk}/revoke/").status_code == 404
    assert "Jane" not in admin_client.get(PAGE).content.decode()
    assert SetupLink.objects.get().revoked_at is None


def test_a_plan_without_sso_offers_no_link(admin_client, org):
    org.plan = "hobby"
    org.save()
    assert "setup-link-plan" in admin_client.get(PAGE).content.decode()
    assert admin_client.post(PAGE + "create/", {"lifetime_hours": "2"}).status_code == 403
    assert not SetupLink.objects.exists()


# The API ------------------------------------------------------------------------------


def test_the_api_creates_lists_reads_and_revokes(admin_api, org, client):
    created = admin_api.post(org_url(org, "/setup-links"), {"lifetime_hours": 2, "note": "Jane",
                                                            "allow_directory_sync": True})
    assert created.status_code == 201, created.content
    body = created.json()
    secret = LINK_URL.fullmatch(body["url"]).group(1)
    assert body["state"] == "active" and body["note"] == "Jane" and body["allow_directory_sync"] is True
    assert body["created_by"] == "ada@acme.test"
    listed = admin_api.get(org_url(org, "/setup-links")).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert "url" not in listed["results"][0] and secret not in str(listed)
    one = admin_api.get(org_url(org, f"/setup-links/{body['id']}")).json()
    assert one["id"] == body["id"] and "url" not in one
    assert client.get(f"/setup/{secret}/").status_code == 200
    revoked = admin_api.delete(org_url(org, f"/setup-links/{body['id']}"))
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert client.get(f"/setup/{secret}/").status_code == 404


@pytest.mark.parametrize("body,code", [
    ({"lifetime_hours": 0}, "invalid_lifetime"),
    ({"lifetime_hours": 721}, "invalid_lifetime"),
    ({"lifetime_hours": -3}, None),
    ({"lifetime_hours": 10**12}, None),
    ({"lifetime_hours": "soon"}, None),
    ({}, None),
    ({"lifetime_hours": 2, "note": "x" * 201}, "invalid_note"),
    ({"lifetime_hours": 2, "note": "x" * 10_000}, None),
    ({"lifetime_hours": 2, "secret": "mine"}, "unknown_field"),
    ({"lifetime_hours": 2, "allow_directory_sync": "perhaps"}, None),
])
def test_the_api_refuses_bad_input(admin_api, org, body, code):
    assert_error(admin_api.post(org_url(org, "/setup-links"), body), 400, code)
    assert not SetupLink.objects.exists()


def test_the_api_is_for_administrators_of_the_organization_only(member_api, outsider_api, org, admin_user,
                                                                 anon_api):
    link, _ = make_link(org, admin_user)
    assert_error(member_api.get(org_url(org, "/setup-links")), 403)
    assert_error(member_api.post(org_url(org, "/setup-links"), {"lifetime_hours": 2}), 403)
    assert_error(member_api.delete(org_url(org, f"/setup-links/{link.pk}")), 403)
    assert_error(outsider_api.get(org_url(org, "/setup-links")), 404)
    assert_error(outsider_api.delete(org_url(org, f"/setup-links/{link.pk}")), 404)
    assert_error(anon_api.get(org_url(org, "/setup-links")), 401)
    assert SetupLink.objects.get().revoked_at is None


def test_the_api_does_not_reach_another_organizations_links(admin_api, org, other_org, outsider):
    other_org.plan = "enterprise"
    other_org.save()
    link, _ = make_link(other_org, outsider)
    assert_error(admin_api.get(org_url(org, f"/setup-links/{link.pk}")), 404)
    assert_error(admin_api.delete(org_url(org, f"/setup-links/{link.pk}")), 404)
    assert admin_api.get(org_url(org, "/setup-links")).json()["results"] == []
    assert SetupLink.objects.get().revoked_at is None


def test_a_plan_without_sso_is_refused_by_the_api(admin_api, org):
    org.plan = "hobby"
    org.save()
    assert_error(admin_api.post(org_url(org, "/setup-links"), {"lifetime_hours": 2}), 403, "sso_unavailable")
