"""Settings › Teams."""
import pytest

from orgs.models import AuditEvent
from teams.models import Team, TeamMember
from teams.services import team_create, team_member_add

URL = "/orgs/acme/settings/teams/"


@pytest.mark.django_db
def test_create_rename_add_remove_delete(admin_client, org, member):
    response = admin_client.post(URL, {"name": "  Platform   Team "})
    team = Team.objects.get(org=org)
    assert response.status_code == 302 and response["Location"] == f"{URL}{team.pk}/"
    assert team.name == "Platform Team"
    page = admin_client.get(f"{URL}{team.pk}/").content.decode()
    assert f'<option value="{member.pk}">' in page
    response = admin_client.post(f"{URL}{team.pk}/", {"membership": member.pk})
    assert response.status_code == 302
    assert TeamMember.objects.filter(team=team, membership=member).exists()
    body = admin_client.get(URL).content.decode()
    assert "Platform Team" in body
    members_page = admin_client.get("/orgs/acme/settings/members/").content.decode()
    assert '<span class="chip">Platform Team</span>' in members_page
    response = admin_client.post(f"{URL}{team.pk}/rename/", {"name": "Infra"})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Infra"
    response = admin_client.post(f"{URL}{team.pk}/members/{member.pk}/remove/")
    assert response.status_code == 302
    assert not TeamMember.objects.filter(team=team).exists()
    response = admin_client.post(f"{URL}{team.pk}/delete/")
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    events = set(AuditEvent.objects.filter(org=org, event__startswith="team.").values_list("event", flat=True))
    assert events == {"team.created", "team.renamed", "team.member_added", "team.member_removed", "team.deleted"}


@pytest.mark.django_db
def test_duplicate_and_empty_names_are_400_or_409_and_change_nothing(admin_client, org, admin_user):
    team = team_create(org=org, name="Core", actor=admin_user)
    other = team_create(org=org, name="Web", actor=admin_user)
    response = admin_client.post(URL, {"name": "core"})
    assert response.status_code == 409 and "already exists" in response.content.decode()
    response = admin_client.post(URL, {"name": ""})
    assert response.status_code == 400
    response = admin_client.post(f"{URL}{other.pk}/rename/", {"name": "CORE"})
    assert response.status_code == 409 and "already exists" in response.content.decode()
    other.refresh_from_db()
    assert other.name == "Web" and Team.objects.filter(org=org).count() == 2
    assert team.name == "Core"


@pytest.mark.django_db
def test_adding_someone_not_in_the_org_is_400(admin_client, org, admin_user, other_org, outsider):
    team = team_create(org=org, name="Core", actor=admin_user)
    outsider_membership = other_org.memberships.get(user=outsider)
    response = admin_client.post(f"{URL}{team.pk}/", {"membership": outsider_membership.pk})
    assert response.status_code == 400
    response = admin_client.post(f"{URL}{team.pk}/", {"membership": "abc"})
    assert response.status_code == 400
    assert not TeamMember.objects.filter(team=team).exists()


@pytest.mark.django_db
def test_large_org_adds_by_email(admin_client, org, admin_user, member, monkeypatch):
    monkeypatch.setattr("teams.views.MEMBER_SELECT_LIMIT", 1)
    team = team_create(org=org, name="Core", actor=admin_user)
    page = admin_client.get(f"{URL}{team.pk}/").content.decode()
    assert 'name="email"' in page and 'name="membership"' not in page
    response = admin_client.post(f"{URL}{team.pk}/", {"email": "olga@other.test"})
    assert response.status_code == 400 and "not a member of this organization" in response.content.decode()
    response = admin_client.post(f"{URL}{team.pk}/", {"email": "MAX@acme.test"})
    assert response.status_code == 302
    assert TeamMember.objects.filter(team=team, membership=member).exists()


@pytest.mark.django_db
def test_members_see_teams_but_cannot_change_them(member_client, member, org, admin_user):
    team = team_create(org=org, name="Core", actor=admin_user)
    body = member_client.get(URL).content.decode()
    assert "Core" in body and "Create team" not in body
    assert "Add to team" not in member_client.get(f"{URL}{team.pk}/").content.decode()
    assert member_client.post(URL, {"name": "Mine"}).status_code == 403
    assert member_client.post(f"{URL}{team.pk}/", {"membership": member.pk}).status_code == 403
    assert member_client.post(f"{URL}{team.pk}/rename/", {"name": "X"}).status_code == 403
    assert member_client.post(f"{URL}{team.pk}/delete/").status_code == 403
    assert list(Team.objects.filter(org=org).values_list("name", flat=True)) == ["Core"]
    assert not TeamMember.objects.exists()


@pytest.mark.django_db
def test_directory_managed_team_has_badge_and_no_controls(admin_client, org, member):
    team = team_create(org=org, name="Okta Engineers", actor=None, directory_managed=True, external_id="g1")
    team_member_add(org=org, team=team, membership=member, actor=None, by_directory=True)
    body = admin_client.get(URL).content.decode()
    assert "badge-directory" in body and f"{team.pk}/delete/" not in body
    page = admin_client.get(f"{URL}{team.pk}/").content.decode()
    assert "Add to team" not in page and "/rename/" not in page and "max@acme.test" in page
    # Forced requests get the service's refusal, shown on the page.
    response = admin_client.post(f"{URL}{team.pk}/delete/")
    assert response.status_code == 403 and "change it in your identity provider" in response.content.decode()
    response = admin_client.post(f"{URL}{team.pk}/rename/", {"name": "Renamed"})
    assert response.status_code == 403
    response = admin_client.post(f"{URL}{team.pk}/members/{member.pk}/remove/")
    assert response.status_code == 403
    team.refresh_from_db()
    assert team.name == "Okta Engineers" and TeamMember.objects.filter(team=team).count() == 1
