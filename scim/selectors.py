"""Directory Sync reads, always scoped to one organization."""
from dataclasses import dataclass

from django.db.models import QuerySet

from orgs.models import Organization
from sso.models import DEFAULT_ROLE_ATTRIBUTE
from sso.selectors import sso_connection_of

from .models import Directory, DirectoryGroup, DirectoryGroupMember, DirectoryUser, DirectoryUserCount


def directory_of(*, org: Organization) -> Directory | None:
    return Directory.objects.filter(org=org).first()


def directory_enabled(*, org: Organization) -> bool:
    return Directory.objects.filter(org=org, enabled=True).exists()


def directory_users(*, org: Organization) -> QuerySet[DirectoryUser]:
    return DirectoryUser.objects.filter(org=org)


def directory_user_count(*, org: Organization) -> int:
    """The organization's number of directory users, from its DirectoryUserCount (one row)."""
    return DirectoryUserCount.objects.filter(org=org).values_list("users", flat=True).first() or 0


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


@dataclass(frozen=True)
class RoleManagement:
    """DS4: "Manage roles through identity provider" and the attribute that carries the role."""

    enabled: bool = False
    attribute: str = DEFAULT_ROLE_ATTRIBUTE


def role_management(*, org: Organization) -> RoleManagement:
    """DS4's switch, which is the SSO connection's (Settings › Authentication). No query
    when the connection came with the organization (scim.services.directory_authenticate
    reads it with the token)."""
    if Organization.sso_connection.is_cached(org):
        connection = getattr(org, "sso_connection", None)  # None cached: there is none
    else:
        connection = sso_connection_of(org)
    if connection is None:
        return RoleManagement()
    return RoleManagement(enabled=connection.manage_roles_via_idp, attribute=connection.role_attribute)


def email_changes_pending(*, org: Organization) -> QuerySet[DirectoryUser]:
    """Directory users whose new email could not reach their account (needs attention)."""
    return (DirectoryUser.objects.filter(org=org).exclude(email_change_pending="")
            .select_related("user").order_by("user_name"))
