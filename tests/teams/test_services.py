"""teams.services: names unique per organization (case-insensitive), members only from this
organization, directory-managed teams refused to hand edits, one audit event per change."""
import pytest

from config.errors import Conflict, NotAllowed, NotFound, ServiceError
from orgs.models import AuditEvent, Membership
from teams.models import Team, TeamMember
from teams.services import team_create, team_delete, team_member_add, team_member_remove, team_rename


def test_create_rename_delete_audited(org, admin_user):
    team = team_create(org=org, name="  Platform   Team ", actor=admin_user)
    assert team.name == "Platform Team"
    team_rename(org=org, team=team, name="Platform Team", actor=admin_user)  # no change, no event
    team_rename(org=org, team=team, name="Infra", actor=admin_user)
    assert team_delete(org=org, team=team, actor=admin_user) is True
    assert team_delete(org=org, team=team, actor=admin_user) is False
    assert list(AuditEvent.objects.filter(org=org, event__startswith="team.").values_list("event", flat=True)
                .order_by("pk")) == ["team.created", "team.renamed", "team.deleted"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_bad_names_refused(org, admin_user, name):
    with pytest.raises(ServiceError):
        team_create(org=org, name=name, actor=admin_user)
    assert not Team.objects.exists()


def test_names_unique_per_org_case_insensitive(org, other_org, admin_user, outsider):
    team_create(org=org, name="Platform", actor=admin_user)
    other = team_create(org=org, name="Data", actor=admin_user)
    with pytest.raises(Conflict):
        team_create(org=org, name="PLATFORM", actor=admin_user)
    with pytest.raises(Conflict):
        team_rename(org=org, team=other, name="platform", actor=admin_user)
    team_create(org=other_org, name="Platform", actor=outsider)  # another org may use it


def test_members_only_from_this_org(org, other_org, admin_user, outsider, member):
    team = team_create(org=org, name="Platform", actor=admin_user)
    team_member_add(org=org, team=team, membership=member, actor=admin_user)
    team_member_add(org=org, team=team, membership=member, actor=admin_user)  # idempotent
    assert TeamMember.objects.filter(team=team).count() == 1
    foreign = Membership.objects.get(org=other_org, user=outsider)
    with pytest.raises(NotFound):
        team_member_add(org=org, team=team, membership=foreign, actor=admin_user)
    assert team_member_remove(org=org, team=team, membership=member, actor=admin_user) is True
    assert team_member_remove(org=org, team=team, membership=member, actor=admin_user) is False
    assert AuditEvent.objects.filter(org=org, event="team.member_added").count() == 1


def test_another_orgs_team_is_not_found(org, other_org, admin_user, outsider, member):
    foreign = team_create(org=other_org, name="Secret", actor=outsider)
    with pytest.raises(NotFound):
        team_rename(org=org, team=foreign, name="Mine", actor=admin_user)
    with pytest.raises(NotFound):
        team_member_add(org=org, team=foreign, membership=member, actor=admin_user)
    assert team_delete(org=org, team=foreign, actor=admin_user) is False
    foreign.refresh_from_db()
    assert foreign.name == "Secret"


def test_directory_managed_team_refuses_hand_edits(org, admin_user, member):
    team = team_create(org=org, name="Engineering", actor=None, directory_managed=True, external_id="g1")
    for change in (
        lambda: team_rename(org=org, team=team, name="Eng", actor=admin_user),
        lambda: team_member_add(org=org, team=team, membership=member, actor=admin_user),
        lambda: team_delete(org=org, team=team, actor=admin_user),
    ):
        with pytest.raises(NotAllowed):
            change()
    team_member_add(org=org, team=team, membership=member, actor=None, by_directory=True)
    team_rename(org=org, team=team, name="Eng", actor=None, by_directory=True)
    assert Team.objects.get(pk=team.pk).name == "Eng"
