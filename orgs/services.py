"""Every state change to organizations, memberships, invitations and credentials.

Services are keyword-only, take `org=` and `actor=` (None for the system or an
identity provider), run in one transaction, lock what they change, write one
audit event each, and do nothing when the object is already as asked.
Permission to call them (is the actor an administrator?) is the edge's job;
the rules that hold whoever asks (last administrator, own role, directory-
managed rows) are checked here.

Rule ids: docs/rules.md.
"""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User, normalize_email
from accounts.services import clean_email
from config.enqueue import RUN_HERE, enqueue_on_commit
from config.errors import Conflict, NotAllowed, NotFound, ServiceError

from . import events, fastpath
from .audit import Events, audit_record, audit_row
from .models import (
    RESERVED_SLUGS,
    Database,
    DatabasePassword,
    Invitation,
    Membership,
    Organization,
    Plan,
    ServiceToken,
    hash_secret,
    new_secret,
    slug_validator,
)
from .policy import invitation_block_reason, plan_change_block_reason

Role = Membership.Role


# Organizations ---------------------------------------------------------------


@transaction.atomic
def organization_create(*, slug: str, name: str, creator: User, plan: str = Plan.HOBBY,
                        sso_addon: bool = False) -> Organization:
    slug = (slug or "").strip().lower()
    name = (name or "").strip()
    try:
        slug_validator(slug)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], code="invalid_slug") from None
    if slug in RESERVED_SLUGS:
        raise ServiceError(f"“{slug}” is reserved; choose another.", code="invalid_slug")
    if not name or len(name) > 100:
        raise ServiceError("A name of 1–100 characters is required.", code="invalid_name")
    if plan not in Plan.values:
        raise ServiceError(f"Unknown plan “{plan}”.", code="invalid_plan")
    if Organization.objects.filter(slug=slug).exists():
        raise Conflict(f"The organization “{slug}” already exists.", code="slug_taken")
    try:
        with transaction.atomic():
            org = Organization.objects.create(slug=slug, name=name, plan=plan, sso_addon=sso_addon)
    except IntegrityError:
        raise Conflict(f"The organization “{slug}” already exists.", code="slug_taken") from None
    membership = Membership.objects.create(org=org, user=creator, role=Role.ADMIN)
    audit_record(org=org, actor=creator, event=Events.ORG_CREATED, target=org, new={"name": name, "plan": plan})
    audit_record(org=org, actor=creator, event=Events.MEMBER_ADDED, target=membership,
                 target_label=creator.email, new={"role": Role.ADMIN})
    return org


@transaction.atomic
def organization_set_plan(*, org: Organization, plan: str, sso_addon: bool | None = None,
                          actor: User | None) -> Organization:
    """The operator's change of plan and SSO add-on."""
    if plan not in Plan.values:
        raise ServiceError(f"Unknown plan “{plan}”; choose one of {', '.join(Plan.values)}.", code="invalid_plan")
    org = Organization.objects.select_for_update().get(pk=org.pk)
    old = {"plan": org.plan, "sso_addon": org.sso_addon}
    new = {"plan": plan, "sso_addon": org.sso_addon if sso_addon is None else sso_addon}
    if new == old:
        return org
    refusal = plan_change_block_reason(org, new["plan"], new["sso_addon"])
    if refusal:
        raise Conflict(refusal, code="sso_enabled")
    org.plan, org.sso_addon = new["plan"], new["sso_addon"]
    org.save(update_fields=["plan", "sso_addon", "updated_at"])
    audit_record(org=org, actor=actor, event=Events.ORG_PLAN_CHANGED, target=org, old=old, new=new,
                 actor_label=None if actor else "operator")
    return org


# Memberships -----------------------------------------------------------------


def _locked_membership(org: Organization, membership: Membership) -> Membership:
    try:
        return Membership.objects.select_for_update().select_related("user").get(pk=membership.pk, org=org)
    except Membership.DoesNotExist:
        raise NotFound("That person is not a member of this organization.") from None


def _admin_count(org: Organization) -> int:
    # Locks every admin row, so two concurrent demotions cannot both pass the check.
    return len(list(Membership.objects.select_for_update().filter(org=org, role=Role.ADMIN).values_list("pk", flat=True)))


def _refuse_manual_edit_of_directory_member(membership: Membership, by_directory: bool) -> None:
    if membership.directory_managed and not by_directory:
        raise NotAllowed(
            "This member is managed by your identity provider's directory; change them there.",
            code="directory_managed",
        )


@transaction.atomic
def membership_add(*, org: Organization, user: User, role: str = Role.MEMBER, actor: User | None,
                   is_database_admin: bool = False, directory_managed: bool = False, reason: str = "added",
                   actor_label: str | None = None, owner_unconfirmed: bool = False) -> Membership:
    """Add `user` to `org`; an existing membership is returned unchanged.
    `owner_unconfirmed`: the account's owner did not agree to join (Directory Sync
    attaching an existing account), so this membership is no SSO tie (§7)."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role “{role}”.", code="invalid_role")
    membership, created = Membership.objects.get_or_create(
        org=org, user=user,
        defaults={"role": role, "is_database_admin": is_database_admin, "directory_managed": directory_managed,
                  "owner_unconfirmed": owner_unconfirmed},
    )
    if created:
        audit_record(org=org, actor=actor, event=Events.MEMBER_ADDED, target=membership, target_label=user.email,
                     new={"role": role, "database_admin": is_database_admin, "reason": reason},
                     actor_label=actor_label)
    return membership


@transaction.atomic
def membership_mark_directory_managed(*, org: Organization, membership: Membership, value: bool = True,
                                      actor: User | None, actor_label: str | None = None) -> Membership:
    """Directory Sync takes over (or releases) an existing membership (DS6)."""
    membership = _locked_membership(org, membership)
    if membership.directory_managed == value:
        return membership
    membership.directory_managed = value
    membership.save(update_fields=["directory_managed", "updated_at"])
    audit_record(org=org, actor=actor, event=Events.MEMBER_DIRECTORY_MANAGED_CHANGED, target=membership,
                 target_label=membership.user.email, old={"directory_managed": not value},
                 new={"directory_managed": value}, actor_label=actor_label)
    return membership


@transaction.atomic
def membership_change_role(*, org: Organization, membership: Membership, role: str, actor: User | None,
                           by_directory: bool = False, actor_label: str | None = None,
                           by_rule: bool = False) -> Membership:
    """`by_rule`: a group rule made this change (Membership.role_by_rule); every other change,
    by hand or by the IdP's role attribute, is nobody's rule to take back."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role “{role}”; use “admin” or “member”.", code="invalid_role")
    membership = _locked_membership(org, membership)
    if membership.role == role:
        return membership
    _refuse_manual_edit_of_directory_member(membership, by_directory)
    if actor is not None and actor.pk == membership.user_id:
        raise NotAllowed("You cannot change your own role.", code="own_role")
    if membership.role == Role.ADMIN and _admin_count(org) <= 1:
        raise Conflict("An organization needs at least one administrator.", code="last_admin")
    old = membership.role
    membership.role = role
    # Read by the SSO enable's removal rule (sso.selectors.members_awaiting_removal).
    membership.role_changed_at = timezone.now()
    membership.role_by_rule = by_rule and role == Role.ADMIN
    membership.save(update_fields=["role", "role_changed_at", "role_by_rule", "updated_at"])
    audit_record(org=org, actor=actor, event=Events.MEMBER_ROLE_CHANGED, target=membership,
                 target_label=membership.user.email, old={"role": old}, new={"role": role}, actor_label=actor_label)
    return membership


@transaction.atomic
def membership_set_database_admin(*, org: Organization, membership: Membership, value: bool,
                                  actor: User | None) -> Membership:
    membership = _locked_membership(org, membership)
    if membership.is_database_admin == value:
        return membership
    membership.is_database_admin = value
    # A grant or revocation by hand is the administrator's: no group rule takes it back.
    membership.database_admin_by_rule = False
    membership.save(update_fields=["is_database_admin", "database_admin_by_rule", "updated_at"])
    audit_record(org=org, actor=actor, event=Events.MEMBER_DATABASE_ADMIN_CHANGED, target=membership,
                 target_label=membership.user.email, old={"database_admin": not value},
                 new={"database_admin": value})
    return membership


@transaction.atomic
def membership_remove(*, org: Organization, membership: Membership, actor: User | None, reason: str = "removed",
                      by_directory: bool = False, actor_label: str | None = None, force: bool = False) -> bool:
    """Remove a membership: its role, database-administrator grant and team
    memberships go with it (E5, E6); credentials the member made stay (E7).
    Access ends at once: every request checks the membership row. Returns
    False when the membership was already gone. `force` removes a directory-managed
    member or the last administrator too: only for a membership that was never its
    account owner's (membership_remove_for_claim)."""
    try:
        membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk, org=org)
    except Membership.DoesNotExist:
        return False
    if not force:
        _refuse_manual_edit_of_directory_member(membership, by_directory)
    if not force and membership.role == Role.ADMIN and _admin_count(org) <= 1:
        raise Conflict("An organization needs at least one administrator; add another before this one leaves.",
                       code="last_admin")
    old = {"role": membership.role, "database_admin": membership.is_database_admin}
    audit_record(org=org, actor=actor, event=Events.MEMBER_REMOVED, target=membership,
                 target_label=membership.user.email, old=old, new={"reason": reason}, actor_label=actor_label)
    membership.delete()
    return True


@transaction.atomic
def membership_remove_batch(*, org: Organization, user_ids: list, actor: User | None, reason: str,
                            actor_label: str | None = None) -> list[int]:
    """Remove many NON-ADMIN memberships at once (the SSO enable job, E1): the same
    effects as `membership_remove` (grants and team memberships go, credentials stay,
    one audit event per member) in a bounded number of queries per batch. Admins and
    memberships already gone are skipped; returns the user ids actually removed."""
    from .models import AuditEvent

    rows = list(
        Membership.objects.select_for_update().select_related("user")
        .filter(org=org, user_id__in=list(user_ids)).exclude(role=Role.ADMIN).order_by("pk")
    )
    if not rows:
        return []
    events.record_many(AuditEvent.objects.bulk_create([
        audit_row(org=org, actor=actor, actor_label=actor_label, event=Events.MEMBER_REMOVED, target=m,
                  target_label=m.user.email, old={"role": m.role, "database_admin": m.is_database_admin},
                  new={"reason": reason})
        for m in rows
    ]))
    Membership.objects.filter(pk__in=[m.pk for m in rows]).delete()
    return [m.user_id for m in rows]


@transaction.atomic
def membership_remove_for_claim(*, user: User) -> int:
    """E14: the owner of the address claims an unclaimed account. Its memberships were made
    by organizations that did not verify the address (their IdP or directory), never by
    its owner, so every one ends — directory-managed ones and a last administrator too —
    with one `member.removed` event (reason `account_claimed`) in each organization.
    Nothing else is revoked: credentials the account made stay (E7). Returns how many."""
    memberships = list(Membership.objects.select_for_update().select_related("org").filter(user=user).order_by("pk"))
    for membership in memberships:
        membership_remove(org=membership.org, membership=membership, actor=user, reason="account_claimed",
                          actor_label="account owner", force=True)
    return len(memberships)


def membership_leave(*, org: Organization, user: User) -> bool:
    membership = Membership.objects.filter(org=org, user=user).first()
    if membership is None:
        return False
    return membership_remove(org=org, membership=membership, actor=user, reason="left")


# Invitations -----------------------------------------------------------------


def _invitation_link(token: str) -> str:
    return f"{settings.BASE_URL}/invitations/{token}/"


def _queue_invitation_email(invitation: Invitation, token: str) -> None:
    from .tasks import send_invitation_email

    link = _invitation_link(token)
    enqueue_on_commit(send_invitation_email, if_unqueued=RUN_HERE,
                      kwargs={"invitation_id": invitation.pk, "link": link})


@transaction.atomic
def invitation_create(*, org: Organization, email: str, role: str = Role.MEMBER,
                      actor: User | None) -> tuple[Invitation, str]:
    """Invite an email; returns the invitation and its one-time token (emailed, never stored)."""
    email = clean_email(email)
    if role not in Role.values:
        raise ServiceError(f"Unknown role “{role}”; use “admin” or “member”.", code="invalid_role")
    blocked = invitation_block_reason(org)
    if blocked:
        raise NotAllowed(blocked, code="invitations_disabled")
    Organization.objects.select_for_update().filter(pk=org.pk).first()
    if Membership.objects.filter(org=org, user__email=email).exists():
        raise Conflict(f"{email} is already a member of this organization.", code="already_member")
    pending = Invitation.objects.select_for_update().filter(org=org, email=email, status=Invitation.Status.PENDING).first()
    if pending is not None and pending.is_expired:
        invitation_revoke(org=org, invitation=pending, actor=actor, reason=Invitation.RevokeReason.EXPIRED)
    elif pending is not None:
        raise Conflict(f"{email} already has a pending invitation; re-send it instead.", code="already_invited")
    token = new_secret("ghi")
    invitation = Invitation.objects.create(
        org=org, email=email, role=role, token_hash=hash_secret(token), invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    audit_record(org=org, actor=actor, event=Events.INVITATION_CREATED, target=invitation, target_label=email,
                 new={"role": role})
    _queue_invitation_email(invitation, token)
    return invitation, token


def _locked_invitation(org: Organization, invitation: Invitation) -> Invitation:
    try:
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, org=org)
    except Invitation.DoesNotExist:
        raise NotFound("No such invitation.") from None
    return invitation


@transaction.atomic
def invitation_resend(*, org: Organization, invitation: Invitation, actor: User | None) -> tuple[Invitation, str]:
    """A new link (the old one stops working) and a fresh expiry."""
    blocked = invitation_block_reason(org)
    if blocked:
        raise NotAllowed(blocked, code="invitations_disabled")
    invitation = _locked_invitation(org, invitation)
    if invitation.status != Invitation.Status.PENDING:
        raise Conflict(f"This invitation is {invitation.status}; only a pending one can be re-sent.",
                       code="invitation_not_pending")
    token = new_secret("ghi")
    invitation.token_hash = hash_secret(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)
    invitation.save(update_fields=["token_hash", "expires_at", "updated_at"])
    audit_record(org=org, actor=actor, event=Events.INVITATION_RESENT, target=invitation,
                 target_label=invitation.email)
    _queue_invitation_email(invitation, token)
    return invitation, token


@transaction.atomic
def invitation_revoke(*, org: Organization, invitation: Invitation, actor: User | None,
                      reason: Invitation.RevokeReason = Invitation.RevokeReason.REVOKED) -> Invitation:
    invitation = _locked_invitation(org, invitation)
    if invitation.status != Invitation.Status.PENDING:
        return invitation
    invitation.status = Invitation.Status.REVOKED
    invitation.revoke_reason = reason
    invitation.save(update_fields=["status", "revoke_reason", "updated_at"])
    audit_record(org=org, actor=actor, event=Events.INVITATION_REVOKED, target=invitation,
                 target_label=invitation.email, new={"reason": reason})
    return invitation


@transaction.atomic
def invitation_revoke_all(*, org: Organization, actor: User | None, reason: Invitation.RevokeReason) -> int:
    pending = list(Invitation.objects.select_for_update().filter(org=org, status=Invitation.Status.PENDING))
    for invitation in pending:
        invitation_revoke(org=org, invitation=invitation, actor=actor, reason=reason)
    return len(pending)


class InvitationInvalid(ServiceError):
    code = "invitation_invalid"
    status = 400


def invitation_lookup(token: str) -> Invitation:
    """The invitation a link's token names, if it can still be accepted; otherwise
    an InvitationInvalid that says why (used, revoked, expired, blocked)."""
    invitation = (
        Invitation.objects.select_related("org", "invited_by").filter(token_hash=hash_secret(token or "")).first()
    )
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid. Ask an administrator to send a new one.")
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationInvalid("This invitation has already been used.", code="invitation_used")
    if invitation.status == Invitation.Status.REVOKED:
        raise InvitationInvalid("This invitation was withdrawn. Ask an administrator for a new one.",
                                code="invitation_revoked")
    if invitation.is_expired:
        raise InvitationInvalid("This invitation has expired. Ask an administrator to re-send it.",
                                code="invitation_expired")
    blocked = invitation_block_reason(invitation.org)
    if blocked:
        raise InvitationInvalid(blocked, code="invitations_disabled")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """Accept as `user`, whose email must be the invited one."""
    invitation = invitation_lookup(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationInvalid("This invitation has already been used.", code="invitation_used")
    if normalize_email(user.email) != normalize_email(invitation.email):
        raise NotAllowed(
            f"This invitation is for {invitation.email}; sign in with that address to accept it.",
            code="invitation_email_mismatch",
        )
    if user.email_verified_at is None:  # E14: verified before tied
        raise NotAllowed(
            f"Verify your email address first: open the link we sent to {user.email}, then accept the invitation.",
            code="email_unverified",
        )
    org = invitation.org
    existing = Membership.objects.filter(org=org, user=user).first()
    membership = existing or membership_add(org=org, user=user, role=invitation.role,
                                            actor=invitation.invited_by, reason="invitation")
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_by = user
    invitation.save(update_fields=["status", "accepted_by", "updated_at"])
    audit_record(org=org, actor=user, event=Events.INVITATION_ACCEPTED, target=invitation,
                 target_label=invitation.email)
    return membership


# Databases and credentials ---------------------------------------------------


@transaction.atomic
def database_create(*, org: Organization, name: str, actor: User | None) -> Database:
    name = (name or "").strip().lower()
    try:
        slug_validator(name)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], code="invalid_name") from None
    if Database.objects.filter(org=org, name=name).exists():
        raise Conflict(f"A database named “{name}” already exists.", code="name_taken")
    try:
        with transaction.atomic():
            database = Database.objects.create(org=org, name=name, created_by=actor)
    except IntegrityError:
        raise Conflict(f"A database named “{name}” already exists.", code="name_taken") from None
    audit_record(org=org, actor=actor, event=Events.DATABASE_CREATED, target=database)
    return database


@transaction.atomic
def database_delete(*, org: Organization, database: Database, actor: User | None) -> bool:
    deleted = Database.objects.filter(pk=database.pk, org=org).first()
    if deleted is None:
        return False
    audit_record(org=org, actor=actor, event=Events.DATABASE_DELETED, target=deleted)
    deleted.delete()
    return True


def _clean_credential_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ServiceError("A name of 1–100 characters is required.", code="invalid_name")
    return name


@transaction.atomic
def database_password_create(*, org: Organization, database: Database, name: str, access: str,
                             actor: User | None) -> tuple[DatabasePassword, str]:
    name = _clean_credential_name(name)
    if access not in DatabasePassword.Access.values:
        raise ServiceError("Access must be “read_only” or “read_write”.", code="invalid_access")
    if database.org_id != org.pk:
        raise NotFound("No such database.")
    if DatabasePassword.objects.filter(database=database, name=name).exists():
        raise Conflict(f"A password named “{name}” already exists for this database.", code="name_taken")
    secret = new_secret("ghp")
    password = DatabasePassword.objects.create(
        org=org, database=database, name=name, access=access, token_hash=hash_secret(secret),
        prefix=secret[:10], created_by=actor,
    )
    audit_record(org=org, actor=actor, event=Events.DATABASE_PASSWORD_CREATED, target=password,
                 target_label=f"{database.name}/{name}", new={"access": access})
    return password, secret


@transaction.atomic
def database_password_revoke(*, org: Organization, password: DatabasePassword, actor: User | None) -> DatabasePassword:
    password = DatabasePassword.objects.select_for_update().get(pk=password.pk, org=org)
    if password.revoked_at is not None:
        return password
    password.revoked_at = timezone.now()
    password.save(update_fields=["revoked_at", "updated_at"])
    audit_record(org=org, actor=actor, event=Events.DATABASE_PASSWORD_REVOKED, target=password,
                 target_label=password.name)
    return password


@transaction.atomic
def service_token_create(*, org: Organization, name: str, actor: User) -> tuple[ServiceToken, str]:
    """A token acting with its creator's current role, fixed at creation."""
    name = _clean_credential_name(name)
    membership = Membership.objects.filter(org=org, user=actor).first()
    if membership is None:
        raise NotAllowed("Only members of this organization can create its service tokens.", code="not_member")
    if ServiceToken.objects.filter(org=org, name=name).exists():
        raise Conflict(f"A service token named “{name}” already exists.", code="name_taken")
    secret = new_secret("ghst")
    token = ServiceToken.objects.create(
        org=org, name=name, role=membership.role, token_hash=hash_secret(secret), prefix=secret[:10],
        created_by=actor,
    )
    audit_record(org=org, actor=actor, event=Events.SERVICE_TOKEN_CREATED, target=token, new={"role": token.role})
    return token, secret


@transaction.atomic
def service_token_revoke(*, org: Organization, token: ServiceToken, actor: User | None) -> ServiceToken:
    token = ServiceToken.objects.select_for_update().get(pk=token.pk, org=org)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    audit_record(org=org, actor=actor, event=Events.SERVICE_TOKEN_REVOKED, target=token)
    return token


def service_token_authenticate(secret: str) -> ServiceToken | None:
    """One indexed lookup by SHA-256; revoked tokens do not authenticate."""
    if not secret or len(secret) > 200:
        return None
    token = fastpath.service_token_by_hash(hash_secret(secret))
    if token is not None:
        # At most once a minute, so authentication stays a read.
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ServiceToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token


# Audit log -------------------------------------------------------------------


@transaction.atomic
def audit_export_record(*, org: Organization, actor: User | None, fmt: str, filters: dict,
                        token: ServiceToken | None = None) -> None:
    """An export of the audit log is itself an event: its format and filters (the
    audit_event_list arguments that were set) and the service token that asked, if one
    did; committed before the first row is sent."""
    described = {name: value.isoformat() if hasattr(value, "isoformat") else value
                 for name, value in filters.items() if value is not None}
    new = {"format": fmt, "filters": described}
    if token is not None:
        new["service_token_id"] = token.pk
    audit_record(org=org, actor=actor, event=Events.AUDIT_EXPORTED, target=org, new=new)
