"""Settings › Members: changes through the services, the rules shown as messages, constant query count."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from orgs.models import AuditEvent, Membership
from teams.models import TeamMember
from teams.services import team_create, team_member_add

URL = "/orgs/acme/settings/members/"


@pytest.mark.django_db
def test_members_table_shows_role_dba_teams_and_directory_badge(admin_client, org, member, admin_user):
    team = team_create(org=org, name="Backend", actor=admin_user)
    team_member_add(org=org, team=team, membership=member, actor=admin_user)
    Membership.objects.filter(pk=member.pk).update(directory_managed=True, is_database_admin=True)
    body = admin_client.get(URL).content.decode()
    assert "max@acme.test" in body and "Backend" in body
    assert "badge-directory" in body and "Read-only" in body
    # No edit controls on the directory-managed row.
    assert f"/members/{member.pk}/role/" not in body and f"/members/{member.pk}/remove/" not in body


@pytest.mark.django_db
def test_member_sees_the_list_without_controls(member_client, member, admin_membership):
    body = member_client.get(URL).content.decode()
    assert "ada@acme.test" in body
    assert f"/members/{admin_membership.pk}/role/" not in body
    assert "Leave organization" in body


@pytest.mark.django_db
def test_admin_changes_role_and_dba(admin_client, org, member):
    response = admin_client.post(f"{URL}{member.pk}/role/", {"role": "admin"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == "admin"
    response = admin_client.post(f"{URL}{member.pk}/database-admin/", {"value": "1"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_database_admin
    assert AuditEvent.objects.filter(org=org, event="member.role_changed").count() == 1
    assert AuditEvent.objects.filter(org=org, event="member.database_admin_changed").count() == 1
    page = admin_client.get(response["Location"]).content.decode()
    assert "is now a Database Administrator" in page


@pytest.mark.django_db
def test_unknown_role_is_a_400_and_changes_nothing(admin_client, org, member):
    before = AuditEvent.objects.count()
    response = admin_client.post(f"{URL}{member.pk}/role/", {"role": "owner"})
    assert response.status_code == 400
    assert "Choose a role" in response.content.decode()
    response = admin_client.post(f"{URL}{member.pk}/database-admin/", {"value": "maybe"})
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.role == "member" and not member.is_database_admin
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_member_cannot_change_anything(member_client, org, member, admin_membership):
    for path, data in [
        (f"{URL}{admin_membership.pk}/role/", {"role": "member"}),
        (f"{URL}{member.pk}/role/", {"role": "admin"}),
        (f"{URL}{admin_membership.pk}/database-admin/", {"value": "1"}),
        (f"{URL}{admin_membership.pk}/remove/", {}),
    ]:
        assert member_client.post(path, data).status_code == 403, path
    admin_membership.refresh_from_db()
    member.refresh_from_db()
    assert admin_membership.role == "admin" and member.role == "member"
    assert Membership.objects.filter(org=org).count() == 2


@pytest.mark.django_db
def test_service_rules_show_as_messages_not_500(admin_client, org, member, admin_membership):
    # Own role: refused by the service, shown on the page.
    response = admin_client.post(f"{URL}{admin_membership.pk}/role/", {"role": "member"})
    assert response.status_code == 403
    assert "You cannot change your own role" in response.content.decode()
    # Directory-managed: refused with the service's message even if the form is forced.
    Membership.objects.filter(pk=member.pk).update(directory_managed=True)
    response = admin_client.post(f"{URL}{member.pk}/role/", {"role": "admin"})
    assert response.status_code == 403
    assert "managed by your identity provider" in response.content.decode()
    response = admin_client.post(f"{URL}{member.pk}/remove/")
    assert response.status_code == 403
    assert Membership.objects.filter(pk=member.pk, role="member").exists()


@pytest.mark.django_db
def test_last_admin_cannot_leave(admin_client, org, admin_membership):
    response = admin_client.post(f"{URL}leave/")
    assert response.status_code == 409
    assert "at least one administrator" in response.content.decode()
    assert Membership.objects.filter(pk=admin_membership.pk).exists()


@pytest.mark.django_db
def test_remove_member_keeps_their_credentials(admin_client, org, member):
    from orgs.services import service_token_create

    token, _ = service_token_create(org=org, name="ci", actor=member.user)
    response = admin_client.post(f"{URL}{member.pk}/remove/")
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()
    body = admin_client.get("/orgs/acme/settings/service-tokens/").content.decode()
    assert "ci" in body and "creator left" in body and "Active" in body


@pytest.mark.django_db
def test_admin_cannot_remove_themself_with_remove(admin_client, admin_membership, member):
    response = admin_client.post(f"{URL}{admin_membership.pk}/remove/")
    assert response.status_code == 400
    assert Membership.objects.filter(pk=admin_membership.pk).exists()


@pytest.mark.django_db
def test_member_leaves(member_client, org, member):
    response = member_client.post(f"{URL}leave/")
    assert response.status_code == 302 and response["Location"] == "/?switch=1"
    assert not Membership.objects.filter(pk=member.pk).exists()
    # Access ends at once.
    assert member_client.get(URL).status_code == 404


@pytest.mark.django_db
def test_get_on_an_action_is_405(admin_client, member):
    assert admin_client.get(f"{URL}{member.pk}/remove/").status_code == 405


def _add_members(org, n, team):
    users = User.objects.bulk_create([User(email=f"user{i:05d}@bulk.test", first_name="Bulk") for i in range(n)])
    memberships = Membership.objects.bulk_create([Membership(org=org, user=u) for u in users])
    TeamMember.objects.bulk_create([TeamMember(org=org, team=team, membership=m) for m in memberships])


def _queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.django_db
def test_members_page_query_count_does_not_grow(admin_client, org, admin_user, settings):
    team = team_create(org=org, name="Everyone", actor=admin_user)
    _add_members(org, 10, team)
    admin_client.get(URL)  # warm the session
    small, _ = _queries_for(admin_client, URL)
    _add_members_more = 1000 - 10
    users = User.objects.bulk_create([User(email=f"more{i:05d}@bulk.test") for i in range(_add_members_more)])
    memberships = Membership.objects.bulk_create([Membership(org=org, user=u) for u in users])
    TeamMember.objects.bulk_create([TeamMember(org=org, team=team, membership=m) for m in memberships])
    large, response = _queries_for(admin_client, URL + "?page=3")
    assert large == small
    body = response.content.decode()
    assert "Page 3 of 21" in body
    assert body.count("data-member=") == settings.PAGE_SIZE


@pytest.mark.django_db
def test_members_page_finds_members_by_email_prefix_and_keeps_it_across_pages(admin_client, org, admin_user, other_org,
                                                                               settings):
    team = team_create(org=org, name="Everyone", actor=admin_user)
    _add_members(org, 120, team)
    body = admin_client.get(URL, {"q": "USER0011"}).content.decode()
    assert body.count("data-member=") == 10 and "user00110@bulk.test" in body and "user00120" not in body
    assert 'value="USER0011"' in body
    page = admin_client.get(URL, {"q": "user"}).content.decode()
    assert "Page 1 of 3" in page and "q=user&amp;page=2" in page  # the search stays on the next page
    none = admin_client.get(URL, {"q": "nobody"}).content.decode()
    assert "No member's email starts with “nobody”." in none
    # Another organization's members never match.
    assert "olga@other.test" not in admin_client.get(URL, {"q": "olga"}).content.decode()
