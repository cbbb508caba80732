"""Every dashboard page: renders for the right people, 403 for members on administrators' pages,
404 for outsiders, and another organization's objects are neither reachable nor listed."""
import pytest
from django.test import Client

PAGES = [
    "/orgs/acme/settings/members/",
    "/orgs/acme/settings/invitations/",
    "/orgs/acme/settings/teams/",
    "/orgs/acme/settings/databases/",
    "/orgs/acme/settings/service-tokens/",
    "/orgs/acme/settings/plan/",
]
ADMIN_ONLY_PAGES = ["/orgs/acme/settings/audit-log/"]


def detail_pages(acme):
    return [f"/orgs/acme/settings/teams/{acme.team.pk}/", f"/orgs/acme/settings/databases/{acme.database.name}/"]


@pytest.mark.django_db
def test_every_page_renders_for_an_admin(admin_client, acme):
    for path in PAGES + ADMIN_ONLY_PAGES + detail_pages(acme):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert "Acme" in body and 'href="/orgs/acme/settings/authentication/"' in body, path


@pytest.mark.django_db
def test_member_pages_render_for_a_member_and_admin_pages_are_403(member_client, acme):
    for path in PAGES + detail_pages(acme):
        assert member_client.get(path).status_code == 200, path
    for path in ADMIN_ONLY_PAGES:
        response = member_client.get(path)
        assert response.status_code == 403
        assert "Only organization administrators" in response.content.decode()
    # The sidebar does not offer the audit log to members.
    assert "/settings/audit-log/" not in member_client.get(PAGES[0]).content.decode()


@pytest.mark.django_db
def test_outsider_gets_404_on_every_page_and_object(outsider_client, acme, other):
    for path in PAGES + ADMIN_ONLY_PAGES + detail_pages(acme):
        assert outsider_client.get(path).status_code == 404, path
    assert outsider_client.get("/orgs/acme/").status_code == 404
    assert outsider_client.get("/orgs/nonexistent/settings/members/").status_code == 404


@pytest.mark.django_db
def test_anonymous_is_sent_to_sign_in(client, acme):
    response = client.get("/orgs/acme/settings/members/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/orgs/acme/settings/members/")


@pytest.mark.django_db
def test_other_orgs_objects_are_404_by_url(admin_client, acme, other):
    gets = [
        f"/orgs/acme/settings/teams/{other.team.pk}/",
        f"/orgs/acme/settings/databases/{other.database.name}/",
        f"/orgs/other/settings/teams/{other.team.pk}/",
    ]
    for path in gets:
        assert admin_client.get(path).status_code == 404, path
    posts = [
        f"/orgs/acme/settings/members/{other.membership.pk}/role/",
        f"/orgs/acme/settings/members/{other.membership.pk}/database-admin/",
        f"/orgs/acme/settings/members/{other.membership.pk}/remove/",
        f"/orgs/acme/settings/invitations/{other.invitation.pk}/revoke/",
        f"/orgs/acme/settings/invitations/{other.invitation.pk}/resend/",
        f"/orgs/acme/settings/teams/{other.team.pk}/rename/",
        f"/orgs/acme/settings/teams/{other.team.pk}/delete/",
        f"/orgs/acme/settings/teams/{acme.team.pk}/members/{other.membership.pk}/remove/",
        f"/orgs/acme/settings/databases/{other.database.name}/delete/",
        f"/orgs/acme/settings/databases/{acme.database.name}/passwords/{other.password.pk}/revoke/",
        f"/orgs/acme/settings/service-tokens/{other.token.pk}/revoke/",
    ]
    for path in posts:
        response = admin_client.post(path, {"role": "admin", "value": "1", "name": "Hijacked"})
        assert response.status_code == 404, path
    other.token.refresh_from_db()
    other.password.refresh_from_db()
    other.invitation.refresh_from_db()
    other.membership.refresh_from_db()
    assert other.token.is_active and other.password.is_active
    assert other.invitation.status == "pending"
    assert other.membership.role == "admin" and not other.membership.is_database_admin
    assert other.team.__class__.objects.get(pk=other.team.pk).name == "Other Team"


@pytest.mark.django_db
def test_other_orgs_objects_are_absent_from_lists(admin_client, acme, other):
    listing = {
        "/orgs/acme/settings/members/": ("max@acme.test", "olga@other.test"),
        "/orgs/acme/settings/invitations/": ("newbie@acme.test", "stranger@other.test"),
        "/orgs/acme/settings/teams/": ("Acme Core", "Other Team"),
        "/orgs/acme/settings/databases/": ("acme-main", "other-secret-db"),
        f"/orgs/acme/settings/databases/{acme.database.name}/": ("acme-app", "other-pw"),
        "/orgs/acme/settings/service-tokens/": ("acme-deploy", "other-token"),
        "/orgs/acme/settings/audit-log/": ("acme-main", "other-secret-db"),
    }
    for path, (mine, theirs) in listing.items():
        body = admin_client.get(path).content.decode()
        assert mine in body, path
        assert theirs not in body, path


@pytest.mark.django_db
def test_org_switcher_lists_only_my_organizations(admin_client, acme, other, admin_user):
    from orgs.services import organization_create

    organization_create(slug="second", name="Second Org", creator=admin_user)
    body = admin_client.get("/orgs/acme/settings/members/").content.decode()
    assert 'href="/orgs/second/settings/members/"' in body
    assert "/orgs/other/" not in body


@pytest.mark.django_db
def test_home_redirects_into_the_last_organization(admin_client, acme):
    admin_client.get("/orgs/acme/settings/plan/")
    response = admin_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/orgs/acme/settings/members/"
    assert admin_client.get("/?switch=1").status_code == 200


@pytest.mark.django_db
def test_create_organization_and_bad_slug(admin_client):
    from orgs.models import Organization

    response = admin_client.post("/orgs/new/", {"name": "Bad", "slug": "Not a slug!"})
    assert response.status_code == 400
    response = admin_client.post("/orgs/new/", {"name": "Reserved", "slug": "admin"})
    assert response.status_code == 400 and "reserved" in response.content.decode()
    assert not Organization.objects.filter(name__in=["Bad", "Reserved"]).exists()
    response = admin_client.post("/orgs/new/", {"name": "Fresh", "slug": "fresh"})
    assert response.status_code == 302 and response["Location"] == "/orgs/fresh/settings/members/"


@pytest.mark.django_db
def test_plan_page_explains_how_sso_becomes_available(admin_client, org, other, outsider):
    body = admin_client.get("/orgs/acme/settings/plan/").content.decode()
    assert "Enterprise" in body and "Available" in body
    other_client = Client()
    other_client.force_login(outsider, backend="accounts.backends.EmailBackend")
    body = other_client.get("/orgs/other/settings/plan/").content.decode()
    assert "Not available" in body
    assert "only by Gatehouse staff" in body and "SSO add-on" in body


@pytest.mark.django_db
def test_sign_out_is_a_post(admin_client):
    assert admin_client.get("/accounts/logout/").status_code == 405
    response = admin_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert admin_client.get("/orgs/acme/settings/members/").status_code == 302
