"""Directory Sync reads, always scoped to one organization."""
from django.db.models import QuerySet

from orgs.models import Organization

from .models import Directory, DirectoryGroup, DirectoryGroupMember, DirectoryUser


def directory_of(*, org: Organization) -> Directory | None:
    return Directory.objects.filter(org=org).first()


def directory_enabled(*, org: Organization) -> bool:
    return Directory.objects.filter(org=org, enabled=True).exists()


def directory_users(*, org: Organization) -> QuerySet[DirectoryUser]:
    return DirectoryUser.objects.filter(org=org)


def directory_user_get(*, org: Organization, pk) -> DirectoryUser | None:
    return DirectoryUser.objects.filter(org=org, pk=pk).first()


def directory_groups(*, org: Organization) -> QuerySet[DirectoryGroup]:
    return DirectoryGroup.objects.filter(org=org)


def directory_group_get(*, org: Organization, pk) -> DirectoryGroup | None:
    return DirectoryGroup.objects.filter(org=org, pk=pk).first()


def group_members(*, group_ids) -> dict[int, list[int]]:
    """Member user ids per group for a page of groups, in one query on the member
    table alone. Callers pass groups already scoped to their organization."""
    result: dict[int, list[int]] = {}
    if not group_ids:
        return result
    rows = (DirectoryGroupMember.objects.filter(group_id__in=list(group_ids))
            .order_by("group_id", "directory_user_id")
            .values_list("group_id", "directory_user_id"))
    for group_id, user_id in rows:
        result.setdefault(group_id, []).append(user_id)
    return result




def group_names_by_membership(*, org: Organization, membership_ids) -> dict[int, list[str]]:
    """The display names of the directory groups of each member the directory holds (an
    empty list for one in no group), in one query; members it does not hold are absent."""
    names: dict[int, list[str]] = {}
    rows = (DirectoryUser.objects.filter(org=org, membership_id__in=list(membership_ids))
            .order_by("membership_id", "group_links__group__display_name")
            .values_list("membership_id", "group_links__group__display_name"))
    for membership_id, group_name in rows:
        groups = names.setdefault(membership_id, [])
        if group_name is not None:
            groups.append(group_name)
    return names
