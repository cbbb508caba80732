"""CSRF on every dashboard form, the audit log page and its filters, and the operator's Django admin."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from orgs.models import AuditEvent, Invitation, Membership, Organization
from orgs.services import database_create


def csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="accounts.backends.EmailBackend")
    return client


@pytest.mark.django_db
def test_every_form_post_without_csrf_token_is_403(admin_user, acme):
    client = csrf_client(admin_user)
    m, t = acme.member.pk, acme.team.pk
    posts = [
        ("/orgs/new/", {"name": "X", "slug": "xcsrf"}),
        (f"/orgs/acme/settings/members/{m}/role/", {"role": "admin"}),
        (f"/orgs/acme/settings/members/{m}/database-admin/", {"value": "1"}),
        (f"/orgs/acme/settings/members/{m}/remove/", {}),
        ("/orgs/acme/settings/members/leave/", {}),
        ("/orgs/acme/settings/invitations/", {"email": "csrf@example.com", "role": "member"}),
        (f"/orgs/acme/settings/invitations/{acme.invitation.pk}/revoke/", {}),
        (f"/orgs/acme/settings/invitations/{acme.invitation.pk}/resend/", {}),
        ("/orgs/acme/settings/teams/", {"name": "CSRF"}),
        (f"/orgs/acme/settings/teams/{t}/", {"membership": m}),
        (f"/orgs/acme/settings/teams/{t}/rename/", {"name": "CSRF"}),
        (f"/orgs/acme/settings/teams/{t}/delete/", {}),
        (f"/orgs/acme/settings/teams/{t}/members/{m}/remove/", {}),
        ("/orgs/acme/settings/databases/", {"name": "csrf"}),
        ("/orgs/acme/settings/databases/acme-main/", {"name": "csrf", "access": "read_only"}),
        ("/orgs/acme/settings/databases/acme-main/delete/", {}),
        (f"/orgs/acme/settings/databases/acme-main/passwords/{acme.password.pk}/revoke/", {}),
        ("/orgs/acme/settings/service-tokens/", {"name": "csrf"}),
        (f"/orgs/acme/settings/service-tokens/{acme.token.pk}/revoke/", {}),
        ("/accounts/logout/", {}),
    ]
    before = AuditEvent.objects.count()
    for path, data in posts:
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert "security token (CSRF)" in response.content.decode()
    assert AuditEvent.objects.count() == before
    assert Membership.objects.filter(org=acme.org).count() == 2


@pytest.mark.django_db
def test_invitation_accept_needs_csrf_too(admin_user, org):
    from orgs.services import invitation_create
    from tests.conftest import make_user

    _, token = invitation_create(org=org, email="csrf-invitee@example.com", actor=admin_user)
    client = csrf_client(make_user("csrf-invitee@example.com"))
    assert client.post(f"/invitations/{token}/").status_code == 403
    assert Invitation.objects.get(org=org).status == "pending"
    # With the token from the page it works.
    client.get(f"/invitations/{token}/")
    response = client.post(f"/invitations/{token}/", {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302


@pytest.mark.django_db
def test_audit_log_filters(admin_client, org, admin_user, member):
    database_create(org=org, name="filtered", actor=admin_user)
    old = AuditEvent.objects.filter(org=org, event="org.created").get()
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    url = "/orgs/acme/settings/audit-log/"
    body = admin_client.get(url, {"event": "database.created"}).content.decode()
    assert "filtered" in body and "member.added" not in body.split("<tbody>")[1]
    body = admin_client.get(url, {"event": "member."}).content.decode().split("<tbody>")[1]
    assert "member.added" in body and "database.created" not in body
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    body = admin_client.get(url, {"since": since}).content.decode().split("<tbody>")[1]
    assert "org.created" not in body and "database.created" in body
    until = (timezone.now() - timedelta(days=10)).date().isoformat()
    body = admin_client.get(url, {"until": until}).content.decode().split("<tbody>")[1]
    assert "org.created" in body and "database.created" not in body
    body = admin_client.get(url, {"actor": "ADA@acme.test"}).content.decode().split("<tbody>")[1]
    assert "database.created" in body
    body = admin_client.get(url, {"actor": "nobody@acme.test"}).content.decode()
    assert "No events match." in body


@pytest.mark.django_db
def test_audit_log_filter_offers_sso_and_directory_events(admin_client, org, admin_user):
    from orgs.audit import audit_record

    audit_record(org=org, actor=None, actor_label="identity provider", event="sso.login_rejected",
                 new={"reason": "replayed"})
    url = "/orgs/acme/settings/audit-log/"
    page = admin_client.get(url).content.decode()
    for choice in ('value="sso."', 'value="sso.login_rejected"', 'value="directory."',
                   'value="directory.user_created"', 'value="member.removed"'):
        assert choice in page
    body = admin_client.get(url, {"event": "sso."}).content.decode().split("<tbody>")[1]
    assert "sso.login_rejected" in body and "org.created" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"since": "yesterday"}, {"event": "'; drop table"},
                                    {"since": "2024-05-02", "until": "2024-05-01"}])
def test_bad_audit_filters_are_400(admin_client, org, params):
    response = admin_client.get("/orgs/acme/settings/audit-log/", params)
    assert response.status_code == 400
    assert "error" in response.content.decode()


@pytest.mark.django_db
def test_audit_log_is_paginated(admin_client, org, admin_user, settings):
    settings.PAGE_SIZE = 3
    for i in range(5):
        database_create(org=org, name=f"db{i}", actor=admin_user)
    body = admin_client.get("/orgs/acme/settings/audit-log/", {"event": "database.created", "page": 2}).content.decode()
    assert "Page 2 of 2" in body and "event=database.created" in body


@pytest.fixture
def staff_client(db):
    from tests.conftest import client_for, make_user

    return client_for(make_user("operator@gatehouse.test", is_staff=True, is_superuser=True))


@pytest.mark.django_db
def test_admin_plan_change_goes_through_the_service(staff_client, other_org):
    url = f"/admin/orgs/organization/{other_org.pk}/change/"
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(url, {"plan": "scaler", "sso_addon": "on"})
    assert response.status_code == 302
    other_org.refresh_from_db()
    assert other_org.plan == "scaler" and other_org.sso_addon and other_org.sso_available
    event = AuditEvent.objects.get(org=other_org, event="org.plan_changed")
    assert event.actor_label == "operator@gatehouse.test"
    assert event.old == {"plan": "hobby", "sso_addon": False} and event.new == {"plan": "scaler", "sso_addon": True}
    # Name and slug are not edited here.
    staff_client.post(url, {"plan": "scaler", "sso_addon": "on", "slug": "hijack", "name": "Hijack"})
    assert Organization.objects.filter(slug="other", name="Other Inc").exists()


@pytest.mark.django_db
def test_admin_audit_events_are_read_only(staff_client, org):
    event = AuditEvent.objects.filter(org=org).first()
    assert staff_client.get("/admin/orgs/auditevent/").status_code == 200
    assert staff_client.get("/admin/orgs/auditevent/add/").status_code == 403
    assert staff_client.post(f"/admin/orgs/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    response = staff_client.post(f"/admin/orgs/auditevent/{event.pk}/change/", {"event": "forged"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.event != "forged"
    for url in ["/admin/orgs/membership/", "/admin/orgs/invitation/", "/admin/teams/team/",
                "/admin/orgs/servicetoken/", "/admin/orgs/databasepassword/"]:
        assert staff_client.get(url).status_code == 200, url
