"""Teams and their members. Directory-managed teams change only through the directory (DS6). Rule ids: docs/rules.md."""
from django.db import IntegrityError, transaction

from accounts.models import User
from config.errors import Conflict, NotAllowed, NotFound, ServiceError
from orgs.audit import Events, audit_record
from orgs.models import Membership, Organization

from . import policy
from .models import Team, TeamMember


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise ServiceError("A team name of 1–100 characters is required.", code="invalid_name")
    return name


def _refuse_manual_edit(team: Team, by_directory: bool) -> None:
    if team.directory_managed and not by_directory:
        raise NotAllowed("This team mirrors a directory group; change it in your identity provider.",
                         code="directory_managed")


def _locked_team(org: Organization, team: Team) -> Team:
    try:
        return Team.objects.select_for_update().get(pk=team.pk, org=org)
    except Team.DoesNotExist:
        raise NotFound("No such team.") from None


def _name_taken(org: Organization, name: str, exclude_pk=None) -> bool:
    qs = Team.objects.filter(org=org, name__iexact=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


@transaction.atomic
def team_create(*, org: Organization, name: str, actor: User | None, directory_managed: bool = False,
                external_id: str = "", actor_label: str | None = None) -> Team:
    name = _clean_name(name)
    if not directory_managed and (reason := policy.team_creation_block_reason(org)):
        raise NotAllowed(reason, code="directory_managed")
    if _name_taken(org, name):
        raise Conflict(f"A team named “{name}” already exists.", code="name_taken")
    try:
        with transaction.atomic():
            team = Team.objects.create(org=org, name=name, directory_managed=directory_managed,
                                       external_id=external_id)
    except IntegrityError:
        raise Conflict(f"A team named “{name}” already exists.", code="name_taken") from None
    audit_record(org=org, actor=actor, event=Events.TEAM_CREATED, target=team, new={"name": name},
                 actor_label=actor_label)
    return team


@transaction.atomic
def team_rename(*, org: Organization, team: Team, name: str, actor: User | None, by_directory: bool = False,
                actor_label: str | None = None) -> Team:
    name = _clean_name(name)
    team = _locked_team(org, team)
    if team.name == name:
        return team
    _refuse_manual_edit(team, by_directory)
    if _name_taken(org, name, exclude_pk=team.pk):
        raise Conflict(f"A team named “{name}” already exists.", code="name_taken")
    old = team.name
    team.name = name
    try:
        with transaction.atomic():
            team.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        raise Conflict(f"A team named “{name}” already exists.", code="name_taken") from None
    audit_record(org=org, actor=actor, event=Events.TEAM_RENAMED, target=team, old={"name": old},
                 new={"name": name}, actor_label=actor_label)
    return team


@transaction.atomic
def team_delete(*, org: Organization, team: Team, actor: User | None, by_directory: bool = False,
                reason: str = "deleted", actor_label: str | None = None) -> bool:
    found = Team.objects.select_for_update().filter(pk=team.pk, org=org).first()
    if found is None:
        return False
    _refuse_manual_edit(found, by_directory)
    audit_record(org=org, actor=actor, event=Events.TEAM_DELETED, target=found, old={"name": found.name},
                 new={"reason": reason}, actor_label=actor_label)
    found.delete()
    return True


@transaction.atomic
def team_member_add(*, org: Organization, team: Team, membership: Membership, actor: User | None,
                    by_directory: bool = False, actor_label: str | None = None) -> TeamMember:
    team = _locked_team(org, team)
    _refuse_manual_edit(team, by_directory)
    if membership.org_id != org.pk or not Membership.objects.filter(pk=membership.pk, org=org).exists():
        raise NotFound("That person is not a member of this organization.")
    team_member, created = TeamMember.objects.get_or_create(org=org, team=team, membership=membership)
    if created:
        audit_record(org=org, actor=actor, event=Events.TEAM_MEMBER_ADDED, target=team,
                     new={"member": membership.user.email}, actor_label=actor_label)
    return team_member


@transaction.atomic
def team_member_remove(*, org: Organization, team: Team, membership: Membership, actor: User | None,
                       by_directory: bool = False, actor_label: str | None = None) -> bool:
    team = _locked_team(org, team)
    _refuse_manual_edit(team, by_directory)
    deleted, _ = TeamMember.objects.filter(org=org, team=team, membership=membership).delete()
    if deleted:
        audit_record(org=org, actor=actor, event=Events.TEAM_MEMBER_REMOVED, target=team,
                     old={"member": membership.user.email}, actor_label=actor_label)
    return bool(deleted)
