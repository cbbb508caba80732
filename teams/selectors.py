from django.db.models import Count, QuerySet

from orgs.models import Membership, Organization

from .models import Team, TeamMember


def team_list(*, org: Organization) -> QuerySet[Team]:
    return Team.objects.filter(org=org).annotate(member_count=Count("team_members")).order_by("name", "pk")


def team_count(*, org: Organization) -> int:
    return Team.objects.filter(org=org).count()


def team_get(*, org: Organization, team_id) -> Team | None:
    return Team.objects.filter(org=org, pk=team_id).first()


def team_member_list(*, org: Organization, team: Team) -> QuerySet[TeamMember]:
    return (
        TeamMember.objects.filter(org=org, team=team)
        .select_related("membership__user")
        .order_by("membership__user__email", "pk")
    )


def teams_by_membership(*, org: Organization, membership_ids) -> dict[int, list[str]]:
    """Team names for a page of members, in one query."""
    names: dict[int, list[str]] = {}
    rows = (
        TeamMember.objects.filter(org=org, membership_id__in=list(membership_ids))
        .order_by("team__name")
        .values_list("membership_id", "team__name")
    )
    for membership_id, name in rows:
        names.setdefault(membership_id, []).append(name)
    return names


def members_not_in_team(*, org: Organization, team: Team) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(org=org)
        .exclude(team_members__team=team)
        .select_related("user")
        .order_by("user__email")
    )
