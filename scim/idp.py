"""What the directory says about a person reaches their membership and account
(issue 12, over SCIM): the role attribute (DS4, when the SSO connection's switch is on),
the group rules (sso.GroupRule), the names and the email. Called by scim.services
inside its transactions; the shared core is sso.identity, so SAML and SCIM cannot
drift apart. Rule ids: docs/rules.md.

One member at a time (a User's POST, PUT or PATCH): `sso.identity.apply_decision`.
A group's change may reach thousands: `apply_rules_to_members` is its set-based twin
(a constant number of statements per batch, whatever the batch's size), and
tests/scim/test_group_rules_scim.py runs both on the same input and compares the rows
and audit events they write.
"""
from collections import defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User, normalize_email
from orgs import events
from orgs.audit import Events as OrgEvents
from orgs.audit import audit_record, audit_row
from orgs.models import AuditEvent, Membership, Organization
from sso.events import SSOEvents
from sso.identity import Decision, apply_decision, decide, role_target, rule_team_ids, rules_of
from sso.selectors import domain_verified_by, tied_to_org
from teams.models import TeamMember

from .models import DirectoryGroupMember, DirectoryUser
from .selectors import role_management

DIRECTORY = "directory"
Role = Membership.Role
# Members aligned per round of statements; the IN lists stay well under SQLite's limit.
BATCH = 1000

EMAIL_NOT_IN_VERIFIED_DOMAIN = "The new address is not in a domain this organization verified."
EMAIL_HELD_BY_ANOTHER_ACCOUNT = "Another account already uses the new address."
EMAIL_ACCOUNT_NOT_TIED = "The account's owner has not joined this organization; the directory may not change it."


def managed_role(org: Organization, role: str) -> str | None:
    """DS4: the directory user's role when the organization lets the IdP manage roles."""
    if role and role_management(org=org).enabled:
        return role
    return None


def group_names(directory_user_ids: Iterable[int]) -> dict[int, list[str]]:
    """The display names of each directory user's groups, in one query."""
    names: dict[int, list[str]] = defaultdict(list)
    ids = list(directory_user_ids)
    if not ids:
        return names
    rows = DirectoryGroupMember.objects.filter(directory_user_id__in=ids).values_list("directory_user_id",
                                                                                      "group__display_name")
    for directory_user_id, name in rows:
        names[directory_user_id].append(name)
    return names


def group_member_ids(group) -> set[int]:
    return set(DirectoryGroupMember.objects.filter(group=group).values_list("directory_user_id", flat=True))


def follow_idp(org: Organization, directory_user: DirectoryUser, *, has_groups: bool = True) -> list[str]:
    """The IdP's word on one active member: their role attribute (when the switch is on)
    and the rules matching their groups, through sso.identity.apply_decision (the last
    administrator is kept, audited; a hand-made role is put back, audited)."""
    if not directory_user.active or not directory_user.membership_id:
        return []
    role = managed_role(org, directory_user.role)
    rules = rules_of(org)
    if role is None and not rules:
        return []
    groups = group_names([directory_user.pk])[directory_user.pk] if (rules and has_groups) else []
    decision = decide(rules=rules, groups=groups, role=role)
    if decision.role is None and not decision.role_rules and decision.database_admin is None \
            and not rule_team_ids(rules):
        return []
    membership = Membership.objects.select_for_update().select_related("user").get(
        pk=directory_user.membership_id, org=org)
    return apply_decision(org=org, membership=membership, decision=decision, rule_teams=rule_team_ids(rules),
                          actor_label=DIRECTORY)


def apply_stored_roles(*, org: Organization) -> int:
    """DS4 turned on: each active directory user's last role applies (the last
    administrator kept, audited). Returns how many memberships changed."""
    changed = 0
    pending = (DirectoryUser.objects.filter(org=org, active=True, membership__isnull=False).exclude(role="")
               .select_related("membership__user").order_by("pk"))
    for directory_user in pending:
        if directory_user.membership.role == directory_user.role:
            continue
        membership = Membership.objects.select_for_update().select_related("user").get(
            pk=directory_user.membership_id, org=org)
        if apply_decision(org=org, membership=membership, decision=Decision(role=directory_user.role),
                          rule_teams=set(), actor_label=DIRECTORY):
            changed += 1
    return changed


# Group rules on a group's change, set-based ------------------------------------------------


def apply_rules_to_members(org: Organization, directory_user_ids: Iterable[int], *, rules=None) -> None:
    """`apply_decision(decide(rules, groups=<their groups' names>, role=<their directory
    role if the switch is on>))` for every active member among `directory_user_ids`,
    as apply_decision would one by one in membership order, but in a constant number of
    statements per BATCH members: one read of the members, one of their groups, one of
    their rule teams, one UPDATE per kind of change (… WHERE id IN (…)), one bulk INSERT
    of team members and one of audit events. Nothing at all without rules."""
    rules = rules_of(org) if rules is None else rules
    if not rules:
        return
    ids = sorted(set(directory_user_ids))
    switch_on = role_management(org=org).enabled
    for start in range(0, len(ids), BATCH):
        _apply_rules_batch(org, ids[start:start + BATCH], rules, switch_on)


def _apply_rules_batch(org, ids, rules, switch_on) -> None:
    # By primary key alone, the organization checked on the rows: with `org_id = …` in the
    # WHERE the planner may walk the organization's index over every directory user
    # (measured: 440 ms for 256 of 55,000 on freshly loaded tables; as in fastpath's CTE).
    rows = [row[1:] for row in DirectoryUser.objects.filter(pk__in=ids, active=True, membership__isnull=False)
            .order_by("membership_id")
            .values_list("org_id", "pk", "role", "membership_id", "membership__role", "membership__is_database_admin",
                         "membership__database_admin_by_rule", "membership__role_by_rule", "membership__user__email")
            if row[0] == org.pk]
    if not rows:
        return
    names = group_names([row[0] for row in rows])
    rule_teams = rule_team_ids(rules)
    held: dict[int, dict[int, bool]] = defaultdict(dict)
    if rule_teams:
        for membership_id, team_id, by_rule in TeamMember.objects.filter(
                org=org, membership_id__in=[row[2] for row in rows], team_id__in=rule_teams).values_list(
                "membership_id", "team_id", "by_rule"):
            held[membership_id][team_id] = by_rule
    now = timezone.now()
    promote, promote_by_rule, demote, grant, revoke, audit = [], [], [], [], [], []
    team_adds: list[TeamMember] = []
    team_removes: dict[int, list[int]] = defaultdict(list)
    decided = []
    for pk, role, membership_id, current_role, is_dba, dba_by_rule, role_by_rule, email in rows:
        decision = decide(rules=rules, groups=names.get(pk, []), role=(role or None) if switch_on else None)
        target_role = role_target(decision, current_role, role_by_rule)
        decided.append((membership_id, current_role, is_dba, dba_by_rule, email, decision, target_role))
    # The last-administrator guard, as apply_decision applies it member after member: the
    # demotions go through while another administrator remains; the last one keeps the role.
    admins_left = None
    if any(target == Role.MEMBER and current == Role.ADMIN for _, current, _, _, _, _, target in decided):
        admins_left = Membership.objects.filter(org=org, role=Role.ADMIN).count()
    for membership_id, current_role, is_dba, dba_by_rule, email, decision, role in decided:
        target = Membership(pk=membership_id, org=org)
        extra = {"groups": list(decision.groups)} if decision.groups else {}
        if role and role != current_role:
            if role == Role.MEMBER:
                if admins_left - 1 < 1:
                    audit.append(audit_row(org=org, actor=None, actor_label=DIRECTORY, event=SSOEvents.IDP_ROLE_KEPT,
                                           target=target, target_label=email, old={"role": current_role},
                                           new={"role": role, "reason": "last_admin", **extra}))
                else:
                    admins_left -= 1
                    demote.append(membership_id)
                    audit.append(_role_changed(org, target, email, current_role, role))
            else:
                if admins_left is not None:
                    admins_left += 1
                (promote_by_rule if decision.role_by_rule else promote).append(membership_id)
                audit.append(_role_changed(org, target, email, current_role, role))
        if decision.database_admin is True and not is_dba:
            grant.append(membership_id)
            audit.append(audit_row(org=org, actor=None, actor_label=DIRECTORY, event=SSOEvents.GROUP_RULE_APPLIED,
                                   target=target, target_label=email, old={"database_admin": False},
                                   new={"database_admin": True, **extra}))
        elif decision.database_admin is False and is_dba and dba_by_rule:
            revoke.append(membership_id)
            audit.append(audit_row(org=org, actor=None, actor_label=DIRECTORY, event=SSOEvents.GROUP_RULE_APPLIED,
                                   target=target, target_label=email, old={"database_admin": True},
                                   new={"database_admin": False, **extra}))
        if rule_teams:
            mine = held.get(membership_id, {})
            to_add = [team_id for team_id in decision.teams if team_id not in mine]
            to_remove = [team_id for team_id, by_rule in mine.items() if by_rule and team_id not in decision.teams]
            team_adds += [TeamMember(org=org, team_id=team_id, membership_id=membership_id, by_rule=True)
                          for team_id in to_add]
            for team_id in to_remove:
                team_removes[team_id].append(membership_id)
            if to_add or to_remove:
                audit.append(audit_row(org=org, actor=None, actor_label=DIRECTORY, event=SSOEvents.GROUP_RULE_APPLIED,
                                       target=target, target_label=email,
                                       new={"teams_added": sorted(to_add), "teams_removed": sorted(to_remove),
                                            **extra}))
    for role, by_rule, members in ((Role.ADMIN, False, promote), (Role.ADMIN, True, promote_by_rule),
                                   (Role.MEMBER, False, demote)):
        if members:
            # As membership_change_role writes it (role_changed_at: SSO enable's removal rule).
            Membership.objects.filter(org=org, pk__in=members).update(role=role, role_by_rule=by_rule,
                                                                      role_changed_at=now, updated_at=now)
    if grant:
        Membership.objects.filter(org=org, pk__in=grant).update(is_database_admin=True, database_admin_by_rule=True)
    if revoke:
        Membership.objects.filter(org=org, pk__in=revoke).update(is_database_admin=False,
                                                                  database_admin_by_rule=False)
    if team_adds:
        TeamMember.objects.bulk_create(team_adds, ignore_conflicts=True)
    if team_removes:
        removal = Q()
        for team_id, members in team_removes.items():
            removal |= Q(team_id=team_id, membership_id__in=members)
        TeamMember.objects.filter(removal, org=org, by_rule=True).delete()
    if audit:
        events.record_many(AuditEvent.objects.bulk_create(audit))


def _role_changed(org, target, email, old, new):
    return audit_row(org=org, actor=None, actor_label=DIRECTORY, event=OrgEvents.MEMBER_ROLE_CHANGED, target=target,
                     target_label=email, old={"role": old}, new={"role": new})


# Profile: names and email ---------------------------------------------------------------


def _may_change_account(org: Organization, directory_user: DirectoryUser) -> bool:
    """E14: the directory changes an account only if it created it, or if the account is
    tied to this organization by its owner (a membership they agreed to, an SSO
    identity, a domain the organization verified): an account attached without its
    owner's agreement is theirs, in every organization."""
    return directory_user.created_account or tied_to_org(org=org, user=directory_user.user)


def follow_profile(org: Organization, directory_user: DirectoryUser, *, given_name: str, family_name: str) -> None:
    """First and last name follow the IdP; audited (sso.profile_updated) only when they change."""
    account = directory_user.user
    if account is None:
        return
    new = {"first_name": given_name[:150], "last_name": family_name[:150]}
    old = {"first_name": account.first_name, "last_name": account.last_name}
    if new == old or not _may_change_account(org, directory_user):
        return
    User.objects.filter(pk=account.pk).update(**new)
    account.first_name, account.last_name = new["first_name"], new["last_name"]
    changed = [name for name in new if new[name] != old[name]]
    audit_record(org=org, actor=None, actor_label=DIRECTORY, event=SSOEvents.PROFILE_UPDATED, target=account,
                 target_label=account.email, old={name: old[name] for name in changed},
                 new={name: new[name] for name in changed})


def follow_email(org: Organization, directory_user: DirectoryUser, email: str) -> None:
    """The IdP sent another address for the account. It becomes the account's when it is
    in a domain this organization verified, no other account holds it and the directory
    may change the account; otherwise the account keeps its address and the change
    waits on the directory user (email_change_pending, shown on the Directory Sync page
    as needing attention, audited once). Never a takeover of another account."""
    account = directory_user.user
    email = normalize_email(email)
    if account.email.lower() == email.lower():
        _clear_pending(org, directory_user)
        return
    if not domain_verified_by(org=org, email=email):
        reason = EMAIL_NOT_IN_VERIFIED_DOMAIN
    elif User.objects.filter(email__iexact=email).exclude(pk=account.pk).exists():
        reason = EMAIL_HELD_BY_ANOTHER_ACCOUNT
    elif not _may_change_account(org, directory_user):
        reason = EMAIL_ACCOUNT_NOT_TIED
    else:
        try:
            with transaction.atomic():
                User.objects.filter(pk=account.pk).update(email=email)
        except IntegrityError:  # taken meanwhile
            reason = EMAIL_HELD_BY_ANOTHER_ACCOUNT
        else:
            old = account.email
            account.email = email
            audit_record(org=org, actor=None, actor_label=DIRECTORY, event=SSOEvents.PROFILE_UPDATED, target=account,
                         target_label=email, old={"email": old}, new={"email": email})
            _clear_pending(org, directory_user)
            return
    if (directory_user.email_change_pending, directory_user.email_change_reason) == (email, reason):
        return
    directory_user.email_change_pending, directory_user.email_change_reason = email, reason
    audit_record(org=org, actor=None, actor_label=DIRECTORY, event=EMAIL_CHANGE_PENDING, target=directory_user,
                 target_label=directory_user.user_name, old={"email": account.email},
                 new={"email": email, "reason": reason})


def _clear_pending(org, directory_user: DirectoryUser) -> None:
    if directory_user.email_change_pending:
        audit_record(org=org, actor=None, actor_label=DIRECTORY, event=EMAIL_CHANGE_RESOLVED, target=directory_user,
                     target_label=directory_user.user_name, old={"email": directory_user.email_change_pending},
                     new={"email": directory_user.user.email if directory_user.user_id else None})
        directory_user.email_change_pending = directory_user.email_change_reason = ""


EMAIL_CHANGE_PENDING = "directory.email_change_pending"
EMAIL_CHANGE_RESOLVED = "directory.email_change_resolved"
