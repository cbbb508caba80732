"""Group rules (issue 12 item 3): administrators map an IdP group to an organization role,
the Database Administrator grant and a team; saving a rule applies the new rule set to
every member whose groups are known, and a preview shows beforehand what saving would do.

Whose groups are known: while Directory Sync is on, the members its directory holds (their
SCIM groups, through sso.policy.directory_member_groups); otherwise the members with an
SSO identity here (the SAML groups attribute of their last sign-in, SSOIdentity.idp_groups).
The decision is sso.identity's (`decide`, `apply_decision`), with the rules' roles only:
the role attribute's last word is not re-read here.

One planner (`_plans`) serves the preview and the save, so what the preview shows is what
saving applies: it reads the members in batches (a constant number of queries per batch)
and works out each member's change as apply_decision would make it; saving then calls
apply_decision only for the members whose change is not empty.
"""
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from django.db import IntegrityError, transaction

from accounts.models import User
from config.errors import Conflict, NotFound, ServiceError
from orgs.audit import audit_record
from orgs.models import Membership, Organization
from teams.models import Team, TeamMember

from .events import SSOEvents
from .identity import Decision, apply_decision, decide, role_target, rule_team_ids, rules_of
from .models import GroupRule, SSOConnection
from .policy import directory_member_groups, directory_sync_enabled
from .selectors import group_rule_list

BATCH_SIZE = 500
GROUP_NAME_MAX = 255
_KEEP = object()


# Reading the members' groups ----------------------------------------------------------


def groups_of_members(org: Organization, membership_ids: list[int]) -> dict[int, list[str]]:
    """{membership id: [group names]} for the members of this batch whose groups are known."""
    directory = directory_member_groups(org, membership_ids)
    if directory is not None:
        return directory
    return dict(Membership.objects.filter(org=org, pk__in=membership_ids)
                .filter(user__sso_identity__org=org)
                .values_list("pk", "user__sso_identity__idp_groups"))


# The planner ---------------------------------------------------------------------------


@dataclass
class MemberChange:
    """What saving a rule set does to one member (the preview's row)."""

    membership: Membership
    decision: Decision
    role: tuple[str, str] | None = None
    # The rules would demote the last administrator: the role stays (apply_decision audits why).
    role_kept: tuple[str, str] | None = None
    database_admin: tuple[bool, bool] | None = None
    teams_added: list[int] = field(default_factory=list)
    teams_removed: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.role or self.role_kept or self.database_admin or self.teams_added or self.teams_removed)


def _plans(org: Organization, before: list[GroupRule], after: list[GroupRule], *,
           lock: bool = False) -> Iterator[MemberChange]:
    """Each member's change from the rule set `before` to `after`, members in id order.
    Teams and grants a removed or changed rule gave are taken away too: the teams and the
    grant of both rule sets are in play. With `lock`, each batch's memberships are locked."""
    rule_teams = rule_team_ids(before) | rule_team_ids(after)
    any_grant = any(rule.database_admin for rule in [*before, *after])
    any_role = any(rule.role for rule in [*before, *after])
    admins = Membership.objects.filter(org=org, role=Membership.Role.ADMIN).count()
    last_id = 0
    while True:
        batch = Membership.objects.filter(org=org, pk__gt=last_id).select_related("user").order_by("pk")
        if lock:
            batch = batch.select_for_update(of=("self",))
        batch = list(batch[:BATCH_SIZE])
        if not batch:
            return
        last_id = batch[-1].pk
        groups = groups_of_members(org, [membership.pk for membership in batch])
        held: dict[int, dict[int, bool]] = {}
        if rule_teams and groups:
            for membership_id, team_id, by_rule in TeamMember.objects.filter(
                    org=org, membership_id__in=list(groups), team_id__in=rule_teams).values_list(
                    "membership_id", "team_id", "by_rule"):
                held.setdefault(membership_id, {})[team_id] = by_rule
        for membership in batch:
            if membership.pk not in groups:
                continue
            decision = decide(rules=after, groups=groups[membership.pk] or [])
            if decision.database_admin is None and any_grant:
                # The last rule that granted it is gone: the grants it made go with it.
                decision = replace(decision, database_admin=False)
            if any_role and not decision.role_rules:
                # The last rule that named a role is gone: the administrators it made are members again.
                decision = replace(decision, role_rules=True)
            change = member_change(membership, decision, held.get(membership.pk, {}), admins)
            if change.role == (Membership.Role.ADMIN, Membership.Role.MEMBER):
                admins -= 1
            elif change.role == (Membership.Role.MEMBER, Membership.Role.ADMIN):
                admins += 1
            yield change


def member_change(membership: Membership, decision: Decision, held: dict[int, bool], admins: int) -> MemberChange:
    """apply_decision's effect on `membership` (`held`: its rule teams, team id → whether a
    rule added it; `admins`: the organization's administrators), worked out without
    writing (keep the two alike). The preview's planner and a returning SAML sign-in
    (which takes the ORM path only when this is not empty) read it."""
    change = MemberChange(membership=membership, decision=decision)
    role = role_target(decision, membership.role, membership.role_by_rule)
    if role and role != membership.role:
        if membership.role == Membership.Role.ADMIN and admins <= 1:
            change.role_kept = (membership.role, role)
        else:
            change.role = (membership.role, role)
    if decision.database_admin is True and not membership.is_database_admin:
        change.database_admin = (False, True)
    elif decision.database_admin is False and membership.is_database_admin and membership.database_admin_by_rule:
        change.database_admin = (True, False)
    change.teams_added = sorted(team_id for team_id in decision.teams if team_id not in held)
    change.teams_removed = sorted(team_id for team_id, by_rule in held.items()
                                  if by_rule and team_id not in decision.teams)
    return change


def _apply(org: Organization, before: list[GroupRule], after: list[GroupRule]) -> int:
    """Make every member whose groups are known match `after`; returns how many changed."""
    rule_teams = rule_team_ids(before) | rule_team_ids(after)
    changed = 0
    for change in _plans(org, before, after, lock=True):
        if change:
            apply_decision(org=org, membership=change.membership, decision=change.decision, rule_teams=rule_teams)
            changed += 1
    return changed


# The preview ---------------------------------------------------------------------------


def group_rules_preview(*, org: Organization, rules: list[GroupRule]) -> list[dict]:
    """Who would gain or lose what if the organization's rules were `rules` (the current
    ones with one added, changed or removed): writes nothing. Each row: member (the
    membership id), email, role (old, new) or None, role_kept (old, asked) when the last
    administrator would keep the role, database_admin (old, new) or None, teams_added and
    teams_removed (names)."""
    changes = [change for change in _plans(org, rules_of(org), rules) if change]
    team_ids = {team_id for change in changes for team_id in (*change.teams_added, *change.teams_removed)}
    names = dict(Team.objects.filter(org=org, pk__in=team_ids).values_list("pk", "name")) if team_ids else {}
    return [{
        "member": change.membership.pk,
        "email": change.membership.user.email,
        "role": change.role,
        "role_kept": change.role_kept,
        "database_admin": change.database_admin,
        "teams_added": [names.get(team_id, str(team_id)) for team_id in change.teams_added],
        "teams_removed": [names.get(team_id, str(team_id)) for team_id in change.teams_removed],
    } for change in changes]


# The rules themselves ------------------------------------------------------------------


def _clean(org: Organization, rule: GroupRule, *, group_name=_KEEP, role=_KEEP, database_admin=_KEEP,
           team_id=_KEEP) -> GroupRule:
    """`rule` with these values, checked (unsaved): a group name of 1–255 characters,
    unique in the organization without regard to case; a known role; a team of this
    organization that does not mirror a directory group, and none while Directory Sync is
    on; at least one effect."""
    if group_name is not _KEEP:
        group_name = " ".join(str(group_name or "").split())
        if not group_name or len(group_name) > GROUP_NAME_MAX:
            raise ServiceError(f"A group name of 1–{GROUP_NAME_MAX} characters is required.",
                               code="invalid_group_name")
        rule.group_name = group_name
    if role is not _KEEP:
        role = role or ""
        if role not in GroupRule.Role.values:
            raise ServiceError(f"Unknown role “{role}”; use “admin”, “member” or none.", code="invalid_role")
        rule.role = role
    if database_admin is not _KEEP:
        rule.database_admin = bool(database_admin)
    if team_id is not _KEEP:
        rule.team = _rule_team(org, team_id)
    if not (rule.role or rule.database_admin or rule.team_id):
        raise ServiceError("A rule must do something: give a role, the Database Administrator grant or a team.",
                           code="no_effect")
    taken = GroupRule.objects.filter(org=org, group_name__iexact=rule.group_name)
    if rule.pk:
        taken = taken.exclude(pk=rule.pk)
    if taken.exists():
        raise Conflict(f"A rule for the group “{rule.group_name}” already exists.", code="group_rule_exists")
    return rule


def _rule_team(org: Organization, team_id) -> Team | None:
    if team_id in (None, ""):
        return None
    team = Team.objects.filter(org=org, pk=team_id).first() if str(team_id).isdigit() else None
    if team is None:
        raise ServiceError("No such team in this organization.", code="invalid_team")
    if team.directory_managed:
        raise ServiceError(f"“{team.name}” mirrors a directory group: Directory Sync keeps its members, so a rule "
                           "may not add people to it.", code="directory_team")
    if directory_sync_enabled(org):
        raise ServiceError("While Directory Sync is on, teams are your identity provider's groups and stay as the "
                           "directory sends them: a rule may give a role or the Database Administrator grant, "
                           "not a team.", code="directory_team")
    return team


def _configured(org: Organization, *, lock: bool = True) -> None:
    # Locked: two rule saves of one organization apply one after the other.
    connections = SSOConnection.objects.filter(org=org)
    if not (connections.select_for_update() if lock else connections).exists():
        raise Conflict("Configure your identity provider before adding group rules.", code="sso_not_configured")


def _rule_or_404(org: Organization, rule_id, *, lock: bool = False) -> GroupRule:
    rules = group_rule_list(org=org).filter(pk=rule_id) if str(rule_id).isdigit() else GroupRule.objects.none()
    rule = (rules.select_for_update(of=("self",)) if lock else rules).first()
    if rule is None:
        raise NotFound("No such group rule.", code="not_found")
    return rule


def _snapshot(rule: GroupRule) -> dict:
    return {"group_name": rule.group_name, "role": rule.role, "database_admin": rule.database_admin,
            "team": rule.team.name if rule.team_id else None}


def proposed_rules(*, org: Organization, rule_id=None, remove: bool = False, **values) -> list[GroupRule]:
    """The organization's rules with one change: a new rule (no `rule_id`), a rule's new
    `values`, or its removal; checked as saving would check it. For the preview."""
    _configured(org, lock=False)
    rules = rules_of(org)
    if rule_id is None:
        return [*rules, _clean(org, GroupRule(org=org), **_new_rule_values(values))]
    current = _rule_or_404(org, rule_id)
    if remove:
        return [rule for rule in rules if rule.pk != current.pk]
    changed = _clean(org, current, **values)
    return [changed if rule.pk == changed.pk else rule for rule in rules]


def _new_rule_values(values: dict) -> dict:
    return {"group_name": values.get("group_name", ""), "role": values.get("role", ""),
            "database_admin": values.get("database_admin", False), "team_id": values.get("team_id")}


@transaction.atomic
def group_rule_create(*, org: Organization, actor: User | None, group_name: str, role: str = "",
                      database_admin: bool = False, team_id=None) -> GroupRule:
    _configured(org)
    before = rules_of(org)
    rule = _clean(org, GroupRule(org=org), group_name=group_name, role=role, database_admin=database_admin,
                  team_id=team_id)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise Conflict(f"A rule for the group “{rule.group_name}” already exists.",
                       code="group_rule_exists") from None
    changed = _apply(org, before, [*before, rule])
    audit_record(org=org, actor=actor, event=SSOEvents.GROUP_RULE_CREATED, target=rule, target_label=rule.group_name,
                 new={**_snapshot(rule), "members_changed": changed})
    return rule


@transaction.atomic
def group_rule_update(*, org: Organization, actor: User | None, rule_id, **values) -> GroupRule:
    """Change a rule: `group_name`, `role`, `database_admin`, `team_id` (those given)."""
    _configured(org)
    before = rules_of(org)
    rule = _rule_or_404(org, rule_id, lock=True)
    old = _snapshot(rule)
    rule = _clean(org, rule, **values)
    if _snapshot(rule) == old:
        return rule
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise Conflict(f"A rule for the group “{rule.group_name}” already exists.",
                       code="group_rule_exists") from None
    changed = _apply(org, before, [rule if current.pk == rule.pk else current for current in before])
    audit_record(org=org, actor=actor, event=SSOEvents.GROUP_RULE_CHANGED, target=rule, target_label=rule.group_name,
                 old=old, new={**_snapshot(rule), "members_changed": changed})
    return rule


@transaction.atomic
def group_rule_remove(*, org: Organization, actor: User | None, rule_id) -> bool:
    _configured(org)
    before = rules_of(org)
    rule = _rule_or_404(org, rule_id, lock=True)
    old = _snapshot(rule)
    rule_pk = rule.pk
    rule.delete()
    changed = _apply(org, before, [current for current in before if current.pk != rule_pk])
    audit_record(org=org, actor=actor, event=SSOEvents.GROUP_RULE_REMOVED,
                 target=GroupRule(pk=rule_pk, org=org, group_name=old["group_name"]), target_label=old["group_name"],
                 old=old, new={"members_changed": changed})
    return True
