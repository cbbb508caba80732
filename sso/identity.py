"""What the identity provider says about a member, and what it makes of them here
(DS4 and group rules; rule ids: docs/rules.md).

The IdP speaks through two channels: a role attribute (DS4, when the connection's
"Manage roles through identity provider" is on: SAML's `role_attribute` or Entra's
roles claim, SCIM's top-level attribute of that name) and its groups (SCIM groups,
or the SAML groups attribute), which group rules (sso.models.GroupRule) map to a role,
the Database Administrator grant and teams. `decide` joins them into one `Decision`;
`apply_decision` makes a membership match it, in the caller's transaction, with an
audit event per change. Both protocols call them, so the rules cannot drift apart.

Precedence: admin beats member, whichever channel says it; a grant from any rule
grants; a channel that says nothing changes nothing — except that what a rule gave, a
rule takes back: a member no rule names any more loses the grant (and the teams) rules
gave, and, while some rule names a role, the administrator role a rule gave
(Membership.role_by_rule: a role set by hand or by the role attribute stays). The IdP wins over a hand-made
change (its next word puts it back, audited), except that it never demotes the last
administrator: the role stays and an audit event says why.
"""
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from config.errors import ServiceError
from orgs.audit import audit_record
from orgs.models import Membership
from orgs.services import membership_change_role
from teams.models import TeamMember

from .events import SSOEvents
from .models import ENTRA_ROLES_CLAIM, GroupRule

ROLE_VALUES = frozenset(Membership.Role.values)
IDP_LABEL = "identity provider"


class UnknownRole(ServiceError):
    """The IdP sent a role value that is neither member nor admin (compared without case)."""

    code = "unknown_role"

    def __init__(self, attribute: str, value: str):
        super().__init__(f"Your identity provider sent “{value}” in the attribute “{attribute}”; Gatehouse "
                         "knows the roles “member” and “admin”. Ask your administrator to fix the value.")
        self.attribute, self.value = attribute, value


def role_from_values(attribute: str, values: Iterable) -> str | None:
    """The role that these values of `attribute` name (admin beats member), None when
    there is none. A value that names no role raises UnknownRole; non-text values are
    ignored, as for every attribute (§6)."""
    roles = set()
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        role = value.strip().lower()
        if role not in ROLE_VALUES:
            raise UnknownRole(attribute, value.strip())
        roles.add(role)
    if not roles:
        return None
    return Membership.Role.ADMIN if Membership.Role.ADMIN in roles else Membership.Role.MEMBER


def saml_role(connection, attributes: dict) -> str | None:
    """DS4 over SAML: the role the assertion names, when the connection lets the IdP
    manage roles. Read from the connection's role attribute and Entra's roles claim
    (`roles`, or its full claim URI)."""
    if not connection.manage_roles_via_idp:
        return None
    found = []
    for name in (connection.role_attribute, ENTRA_ROLES_CLAIM, "roles"):
        for key, values in attributes.items():
            if key.lower() == name.lower():
                role = role_from_values(key, values or [])
                if role is not None:
                    found.append(role)
    if not found:
        return None
    return Membership.Role.ADMIN if Membership.Role.ADMIN in found else Membership.Role.MEMBER


@dataclass(frozen=True)
class Decision:
    """What the IdP makes of one member. None: no opinion (nothing changes)."""

    role: str | None = None
    # The administrator role comes from a rule (kept in Membership.role_by_rule).
    role_by_rule: bool = False
    # Some rule names a role: an administrator a rule made and no rule names now is a member again.
    role_rules: bool = False
    # True: grant; False: take away a grant a rule made (never one made by hand).
    database_admin: bool | None = None
    # Teams the rules give; every other team a rule gave is taken away.
    teams: frozenset[int] = field(default_factory=frozenset)
    # The rules behind it, for the audit events and the preview.
    groups: tuple[str, ...] = ()


def rules_of(org) -> list[GroupRule]:
    return list(GroupRule.objects.filter(org=org))


def decide(*, rules: list[GroupRule], groups: Iterable[str], role: str | None = None) -> Decision:
    """Join the role attribute's word (`role`, from saml_role or SCIM's attribute) and
    the rules matching `groups` (names, compared without case)."""
    names = {str(group).strip().lower() for group in groups if isinstance(group, str) and group.strip()}
    matching = [rule for rule in rules if rule.group_name.strip().lower() in names]
    roles = {rule.role for rule in matching if rule.role} | ({role} if role else set())
    decided_role = None
    if roles:
        decided_role = Membership.Role.ADMIN if Membership.Role.ADMIN in roles else Membership.Role.MEMBER
    grants_anything = any(rule.database_admin for rule in rules)
    database_admin = True if any(rule.database_admin for rule in matching) else (False if grants_anything else None)
    return Decision(role=decided_role, database_admin=database_admin,
                    role_by_rule=decided_role == Membership.Role.ADMIN
                    and any(rule.role == Membership.Role.ADMIN for rule in matching),
                    role_rules=any(rule.role for rule in rules),
                    teams=frozenset(rule.team_id for rule in matching if rule.team_id),
                    groups=tuple(sorted({rule.group_name for rule in matching})))


def role_target(decision: Decision, role: str, role_by_rule: bool) -> str | None:
    """The role `decision` gives a member who holds `role` (`role_by_rule`: a rule gave
    it), None when it has no word on the role."""
    if decision.role:
        return decision.role
    if decision.role_rules and role == Membership.Role.ADMIN and role_by_rule:
        return Membership.Role.MEMBER
    return None


def rule_team_ids(rules: list[GroupRule]) -> set[int]:
    return {rule.team_id for rule in rules if rule.team_id}


def apply_decision(*, org, membership: Membership, decision: Decision, rule_teams: set[int],
                   actor_label: str = IDP_LABEL) -> list[str]:
    """Make `membership` (locked by the caller, or fresh in its transaction) match
    `decision`. `rule_teams`: every team some rule names (a rule team this member
    no longer gets is left, if a rule added them). Returns what changed ("role",
    "database_admin", "teams"), for the caller's own audit."""
    changed = []
    email = membership.user.email
    extra = {"groups": list(decision.groups)} if decision.groups else {}
    role = role_target(decision, membership.role, membership.role_by_rule)
    if role and role != membership.role:
        if membership.role == Membership.Role.ADMIN and not Membership.objects.filter(
                org=org, role=Membership.Role.ADMIN).exclude(pk=membership.pk).exists():
            audit_record(org=org, actor=None, actor_label=actor_label, event=SSOEvents.IDP_ROLE_KEPT,
                         target=membership, target_label=email,
                         old={"role": membership.role}, new={"role": role, "reason": "last_admin", **extra})
        else:
            membership_change_role(org=org, membership=membership, role=role, actor=None,
                                   by_directory=True, actor_label=actor_label, by_rule=decision.role_by_rule)
            membership.refresh_from_db(fields=["role", "role_changed_at", "role_by_rule"])
            changed.append("role")
    if decision.database_admin is True and not membership.is_database_admin:
        Membership.objects.filter(pk=membership.pk).update(is_database_admin=True, database_admin_by_rule=True)
        membership.is_database_admin, membership.database_admin_by_rule = True, True
        audit_record(org=org, actor=None, actor_label=actor_label, event=SSOEvents.GROUP_RULE_APPLIED,
                     target=membership, target_label=email, old={"database_admin": False},
                     new={"database_admin": True, **extra})
        changed.append("database_admin")
    elif decision.database_admin is False and membership.is_database_admin and membership.database_admin_by_rule:
        Membership.objects.filter(pk=membership.pk).update(is_database_admin=False, database_admin_by_rule=False)
        membership.is_database_admin, membership.database_admin_by_rule = False, False
        audit_record(org=org, actor=None, actor_label=actor_label, event=SSOEvents.GROUP_RULE_APPLIED,
                     target=membership, target_label=email, old={"database_admin": True},
                     new={"database_admin": False, **extra})
        changed.append("database_admin")
    if rule_teams:
        held = dict(TeamMember.objects.filter(org=org, membership=membership, team_id__in=rule_teams)
                    .values_list("team_id", "by_rule"))
        to_add = [team_id for team_id in decision.teams if team_id not in held]
        to_remove = [team_id for team_id, by_rule in held.items() if by_rule and team_id not in decision.teams]
        if to_add:
            TeamMember.objects.bulk_create([TeamMember(org=org, team_id=team_id, membership=membership, by_rule=True)
                                            for team_id in to_add], ignore_conflicts=True)
        if to_remove:
            TeamMember.objects.filter(Q(team_id__in=to_remove), org=org, membership=membership,
                                      by_rule=True).delete()
        if to_add or to_remove:
            audit_record(org=org, actor=None, actor_label=actor_label, event=SSOEvents.GROUP_RULE_APPLIED,
                         target=membership, target_label=email,
                         new={"teams_added": sorted(to_add), "teams_removed": sorted(to_remove), **extra})
            changed.append("teams")
    return changed
