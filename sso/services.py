"""Every state change of the sso app: configuration, enable/disable (E1–E10,
D1–D2), the member-removal job's batches, SSO login with just-in-time accounts
and identity linking, emailed link confirmation, verified domains.

Keyword-only, `org=` and `actor=` explicit (None for the IdP or the system),
one transaction, one audit event each, idempotent. Who may call them (an
administrator, E10) is checked at the edge.
"""
import secrets
from dataclasses import dataclass
from enum import StrEnum
from datetime import timedelta
from importlib import import_module

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone

from accounts.models import User, normalize_email
from accounts.services import user_claim
from config.enqueue import RESUME, RUN_HERE, enqueue_on_commit
from config.errors import Conflict, NotAllowed, NotFound, ServiceError
from orgs.audit import audit_record
from orgs.limits import outbound_fetch_count
from orgs.models import Invitation, Membership, Organization, hash_secret
from orgs.services import invitation_revoke_all, membership_add, membership_remove_batch

from . import dns, fastpath
from .events import SSOEvents
from .group_rules import member_change
from .identity import apply_decision, decide, rule_team_ids, rules_of, saml_role
from .models import (
    ENTRA_GROUPS_CLAIM,
    MAX_ACTIVE_CERTIFICATES,
    PRESET_ATTRIBUTES,
    SESSION_LIFETIME_MAX,
    SESSION_LIFETIME_MIN,
    AttributePreset,
    GroupRule,
    PendingLink,
    SPKey,
    SSOCertificate,
    SSOConnection,
    SSOIdentity,
    SSORemoval,
    SSOSession,
    VerifiedDomain,
)
from .selectors import awaits_sso_removal, domain_verified_by, members_awaiting_removal, tied_to_org
from .policy import directory_sync_enabled, jit_admission_refusal
from .signals import domain_verified, role_management_enabled, sso_disabled, sso_member_joined

IDP_LABEL = "identity provider"
PENDING_LINK_TTL = timedelta(hours=24)


class SSOLoginRefused(ServiceError):
    """A valid assertion we still do not sign in with (E9, no email, inactive account)."""

    status = 403


class SSONotAvailable(NotAllowed):
    code = "sso_unavailable"


def _plan_message(org: Organization) -> str:
    return (f"Single sign-on is not included in {org.name}'s {org.get_plan_display()} plan. It is available on "
            "Scaler and Scaler Pro with the SSO add-on, and on Enterprise: contact us to change your plan.")


# Configuration ---------------------------------------------------------------


def parse_certificate(pem: str) -> dict:
    """A PEM (or bare base64 DER) certificate → its normalized PEM, fingerprint, subject and expiry."""
    text = (pem or "").strip()
    if not text:
        raise ServiceError("Paste the IdP's signing certificate (PEM).", code="invalid_certificate")
    if len(text) > 20_000:
        raise ServiceError("That certificate is too large.", code="invalid_certificate")
    if "-----BEGIN CERTIFICATE-----" not in text:
        body = "".join(text.split())
        text = "-----BEGIN CERTIFICATE-----\n" + "\n".join(
            body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END CERTIFICATE-----"
    try:
        cert = x509.load_pem_x509_certificate(text.encode())
    except (ValueError, TypeError):
        raise ServiceError("That is not a valid X.509 certificate in PEM format.", code="invalid_certificate") from None
    from cryptography.hazmat.primitives.serialization import Encoding

    fingerprint = cert.fingerprint(hashes.SHA256()).hex(":").upper()
    return {
        "pem": cert.public_bytes(Encoding.PEM).decode(),
        "sha256_fingerprint": fingerprint,
        "subject": cert.subject.rfc4514_string()[:500],
        "not_after": cert.not_valid_after_utc,
    }


_url_validator = URLValidator(schemes=["https", "http"])


def _clean_url(value: str, label: str, *, required: bool) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            raise ServiceError(f"The {label} is required.", code="invalid_configuration")
        return ""
    if len(value) > 1024:
        raise ServiceError(f"The {label} is too long.", code="invalid_configuration")
    own_site = value.startswith(settings.BASE_URL + "/")  # the built-in test IdP
    try:
        if not own_site:
            _url_validator(value)
    except ValidationError:
        raise ServiceError(f"The {label} must be an http(s) URL.", code="invalid_configuration") from None
    if value.startswith("http://") and not settings.DEBUG and not own_site:
        raise ServiceError(f"The {label} must use https.", code="invalid_configuration")
    return value


def _connection_snapshot(connection: SSOConnection) -> dict:
    return {
        "idp_entity_id": connection.idp_entity_id,
        "idp_sso_url": connection.idp_sso_url,
        "idp_slo_url": connection.idp_slo_url,
        "attribute_preset": connection.attribute_preset,
        "email_attribute": connection.email_attribute,
        "first_name_attribute": connection.first_name_attribute,
        "last_name_attribute": connection.last_name_attribute,
        "allow_idp_initiated": connection.allow_idp_initiated,
        "subject_attribute": connection.subject_attribute,
        "session_lifetime_seconds": int(connection.session_lifetime.total_seconds()),
        "certificates": [c.sha256_fingerprint for c in connection.certificates.all()],
    }


# E13's bounds in whole hours, as the dashboard form and the API take the lifetime.
SESSION_LIFETIME_HOURS = range(SESSION_LIFETIME_MIN // timedelta(hours=1),
                               SESSION_LIFETIME_MAX // timedelta(hours=1) + 1)


def _clean_session_lifetime(value) -> timedelta:
    if not isinstance(value, timedelta) or not SESSION_LIFETIME_MIN <= value <= SESSION_LIFETIME_MAX:
        raise ServiceError(f"The SSO session lifetime is {SESSION_LIFETIME_HOURS[0]} to {SESSION_LIFETIME_HOURS[-1]} "
                           "hours (30 days).", code="invalid_session_lifetime")
    return value


@transaction.atomic
def sso_configure(*, org: Organization, actor: User | None, idp_entity_id: str | None = None,
                  idp_sso_url: str | None = None, idp_slo_url: str | None = None,
                  certificates: list[str] | None = None, attribute_preset: str | None = None,
                  email_attribute: str | None = None, first_name_attribute: str | None = None,
                  last_name_attribute: str | None = None, allow_idp_initiated: bool | None = None,
                  session_lifetime: timedelta | None = None, subject_attribute: str | None = None,
                  actor_label: str | None = None) -> SSOConnection:
    """Create or change the IdP configuration. Arguments left None stay as they are;
    `certificates` replaces the set (one or two, for rotation); `session_lifetime` is
    how long a session this IdP made reaches the organization (E13). `actor_label` names
    an actor that is no account (a setup link: actor None), as in audit_record."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    connection = SSOConnection.objects.select_for_update().filter(org=org).first()
    creating = connection is None
    if creating:
        connection = SSOConnection(org=org)
        if idp_entity_id is None or idp_sso_url is None or not certificates:
            raise ServiceError("An IdP entity ID, SSO URL and signing certificate are required.",
                               code="invalid_configuration")
    old = None if creating else _connection_snapshot(connection)

    if idp_entity_id is not None:
        idp_entity_id = idp_entity_id.strip()
        if not idp_entity_id or len(idp_entity_id) > 1024:
            raise ServiceError("The IdP entity ID is required (at most 1024 characters).", code="invalid_configuration")
        connection.idp_entity_id = idp_entity_id
    if idp_sso_url is not None:
        connection.idp_sso_url = _clean_url(idp_sso_url, "IdP SSO URL", required=True)
    if idp_slo_url is not None:
        connection.idp_slo_url = _clean_url(idp_slo_url, "IdP logout URL", required=False)
    if attribute_preset is not None:
        if attribute_preset not in AttributePreset.values:
            raise ServiceError(f"Unknown attribute preset “{attribute_preset}”.", code="invalid_configuration")
        connection.attribute_preset = attribute_preset
        if attribute_preset in PRESET_ATTRIBUTES:
            mapping = PRESET_ATTRIBUTES[attribute_preset]
            connection.email_attribute = mapping["email"]
            connection.first_name_attribute = mapping["first_name"]
            connection.last_name_attribute = mapping["last_name"]
    for name, value in (("email_attribute", email_attribute), ("first_name_attribute", first_name_attribute),
                        ("last_name_attribute", last_name_attribute), ("subject_attribute", subject_attribute)):
        if value is not None:
            value = value.strip()
            if len(value) > 255 or (name == "email_attribute" and not value):
                raise ServiceError("Attribute names are 1–255 characters.", code="invalid_configuration")
            setattr(connection, name, value)
    if allow_idp_initiated is not None:
        connection.allow_idp_initiated = bool(allow_idp_initiated)
    if session_lifetime is not None:
        connection.session_lifetime = _clean_session_lifetime(session_lifetime)

    parsed = None
    if certificates is not None:
        if not certificates or len(certificates) > MAX_ACTIVE_CERTIFICATES:
            raise ServiceError(f"Give one or {MAX_ACTIVE_CERTIFICATES} signing certificates.",
                               code="invalid_certificate")
        parsed = [parse_certificate(pem) for pem in certificates]
        for cert in parsed:
            if cert["not_after"] <= timezone.now():
                raise ServiceError(f"The certificate {cert['subject']} expired on {cert['not_after']:%Y-%m-%d}.",
                                   code="certificate_expired")
    connection.save()
    if parsed is not None:
        keep = {c["sha256_fingerprint"] for c in parsed}
        connection.certificates.exclude(sha256_fingerprint__in=keep).delete()
        existing = set(connection.certificates.values_list("sha256_fingerprint", flat=True))
        for cert in parsed:
            if cert["sha256_fingerprint"] not in existing:
                SSOCertificate.objects.create(org=org, connection=connection, **cert)
                existing.add(cert["sha256_fingerprint"])
    new = _connection_snapshot(connection)
    if new != old:
        audit_record(org=org, actor=actor, event=SSOEvents.CONFIGURED, target=connection, old=old, new=new,
                     actor_label=actor_label)
    return connection


def sso_configure_from_metadata(*, org: Organization, actor: User | None, xml: str, **extra) -> SSOConnection:
    from .saml import parse_idp_metadata

    if not xml or not xml.strip():
        raise ServiceError("Paste or upload the IdP metadata XML.", code="invalid_metadata")
    if len(xml) > 1024 * 1024:
        raise ServiceError("The metadata is larger than 1 MiB.", code="invalid_metadata")
    try:
        parsed = parse_idp_metadata(xml)
    except ValueError as exc:
        raise ServiceError(str(exc), code="invalid_metadata") from None
    if not parsed["idp_entity_id"] or not parsed["idp_sso_url"] or not parsed["certificates"]:
        raise ServiceError("The metadata lacks an entity ID, an HTTP-Redirect SSO URL or a signing certificate.",
                           code="invalid_metadata")
    return sso_configure(org=org, actor=actor, idp_entity_id=parsed["idp_entity_id"],
                         idp_sso_url=parsed["idp_sso_url"], idp_slo_url=parsed["idp_slo_url"],
                         certificates=parsed["certificates"][:MAX_ACTIVE_CERTIFICATES], **extra)


def sso_configure_from_metadata_url(*, org: Organization, actor: User | None, url: str, **extra) -> SSOConnection:
    """Fetch the IdP's metadata from `url` and configure from it. The server fetches only for
    an organization whose plan includes SSO, each fetch counted against the organization's
    limit (orgs.limits); the rest of the configuration needs no plan, so an organization
    can prepare before it upgrades."""
    from .metadata import MetadataFetchError, fetch_metadata

    if not org.sso_available:
        raise SSONotAvailable(_plan_message(org))
    outbound_fetch_count(org=org)
    try:
        xml = fetch_metadata(url)
    except MetadataFetchError as exc:
        raise ServiceError(str(exc), code="metadata_fetch_failed") from None
    return sso_configure_from_metadata(org=org, actor=actor, xml=xml, **extra)


def _locked_connection(org: Organization) -> SSOConnection:
    connection = SSOConnection.objects.select_for_update().filter(org=org).first()
    if connection is None:
        raise NotFound("Single sign-on is not configured for this organization.", code="sso_not_configured")
    return connection


# Names the role attribute cannot take: SCIM reads it at the top level of the core User
# schema, where these are the standard attributes (`roles` is Entra's, read anyway).
SCIM_USER_ATTRIBUTES = frozenset({"username", "name", "displayname", "active", "emails", "roles", "externalid",
                                  "id", "meta", "schemas", "password", "groups"})


def _clean_role_attribute(value: str) -> str:
    """DS4's attribute name: read over SAML and at the top level of SCIM's core User
    schema, so a plain identifier that is not one of SCIM's own attributes."""
    if not value or not value.replace("_", "").isalnum() or len(value) > 64 or value[0].isdigit() \
            or not value.isascii():
        raise ServiceError("The role attribute name may use letters, digits and underscores (at most 64).",
                           code="invalid_role_attribute")
    if value.lower() in SCIM_USER_ATTRIBUTES:
        raise ServiceError(f"“{value}” is a standard attribute; choose another name.", code="invalid_role_attribute")
    return value


def _clean_groups_attribute(value: str) -> str:
    """A SAML attribute name (Okta's `groups`, Entra's groups claim URI): 1–255 characters."""
    if not value or len(value) > 255:
        raise ServiceError("The groups attribute name is 1–255 characters.", code="invalid_groups_attribute")
    return value


def _role_management(connection: SSOConnection) -> dict:
    return {"manage_roles_via_idp": connection.manage_roles_via_idp, "role_attribute": connection.role_attribute,
            "groups_attribute": connection.groups_attribute}


@transaction.atomic
def sso_set_role_management(*, org: Organization, actor: User | None, value: bool | None = None,
                            role_attribute: str | None = None,
                            groups_attribute: str | None = None) -> SSOConnection:
    """DS4: "Manage roles through identity provider" on or off, and the attribute names the
    IdP's word is read from (the role: SAML and SCIM; the groups: SAML's group rules).
    Available once SSO is configured, whatever Directory Sync's state; an argument left
    None (or empty) stays as it is. Turning it on tells Directory Sync
    (`role_management_enabled`, in this transaction), which applies the role each
    directory user last sent; SAML sign-ins apply theirs at the next sign-in."""
    connection = _locked_connection(org)
    old = _role_management(connection)
    if value is not None:
        connection.manage_roles_via_idp = bool(value)
    if role_attribute is not None and role_attribute.strip():
        connection.role_attribute = _clean_role_attribute(role_attribute.strip())
    if groups_attribute is not None and groups_attribute.strip():
        connection.groups_attribute = _clean_groups_attribute(groups_attribute.strip())
    new = _role_management(connection)
    if new == old:
        return connection
    connection.save(update_fields=["manage_roles_via_idp", "role_attribute", "groups_attribute", "updated_at"])
    audit_record(org=org, actor=actor, event=SSOEvents.ROLE_MANAGEMENT_CHANGED, target=connection, old=old, new=new)
    if connection.manage_roles_via_idp and not old["manage_roles_via_idp"]:
        role_management_enabled.send(sender=SSOConnection, org=org, actor=actor)
    return connection


@transaction.atomic
def sso_certificate_add(*, org: Organization, actor: User | None, pem: str,
                        actor_label: str | None = None) -> SSOCertificate:
    """Add the IdP's next signing certificate (rotation): at most two at once."""
    connection = _locked_connection(org)
    cert = parse_certificate(pem)
    existing = connection.certificates.filter(sha256_fingerprint=cert["sha256_fingerprint"]).first()
    if existing is not None:
        return existing
    if cert["not_after"] <= timezone.now():
        raise ServiceError(f"This certificate expired on {cert['not_after']:%Y-%m-%d}.", code="certificate_expired")
    if connection.certificates.count() >= MAX_ACTIVE_CERTIFICATES:
        raise Conflict("Two certificates are already active; remove the old one first.", code="too_many_certificates")
    created = SSOCertificate.objects.create(org=org, connection=connection, **cert)
    audit_record(org=org, actor=actor, event=SSOEvents.CERTIFICATE_ADDED, target=connection,
                 new={"fingerprint": created.sha256_fingerprint, "not_after": created.not_after.isoformat()},
                 actor_label=actor_label)
    return created


@transaction.atomic
def sso_certificate_remove(*, org: Organization, actor: User | None, certificate_id,
                           actor_label: str | None = None) -> bool:
    connection = _locked_connection(org)
    cert = SSOCertificate.objects.filter(org=org, connection=connection, pk=certificate_id).first()
    if cert is None:
        return False
    if connection.certificates.count() <= 1:
        raise Conflict("The last signing certificate cannot be removed; add the new one first.",
                       code="last_certificate")
    audit_record(org=org, actor=actor, event=SSOEvents.CERTIFICATE_REMOVED, target=connection,
                 old={"fingerprint": cert.sha256_fingerprint}, actor_label=actor_label)
    cert.delete()
    return True


def connection_certificates(connection: SSOConnection) -> list[str]:
    """The PEMs of the connection's certificates still valid: those org_and_connection
    loaded with it, or read now."""
    certificates = getattr(connection, "loaded_certificates", None)
    if certificates is None:
        certificates = connection.certificates.all()
    return [c.pem for c in certificates if not c.is_expired]


# Enable and disable ----------------------------------------------------------


@transaction.atomic
def sso_enable(*, org: Organization, actor: User | None) -> SSOConnection:
    """E1–E4: record who will be removed, revoke pending invitations, and queue the
    removal job on commit. The request does a fixed number of queries whatever
    the organization's size (one INSERT … SELECT records the removals)."""
    org = Organization.objects.select_for_update().get(pk=org.pk)
    if not org.sso_available:
        raise SSONotAvailable(_plan_message(org))
    connection = SSOConnection.objects.select_for_update().filter(org=org).first()
    if connection is None or not connection.certificates.exists():
        raise Conflict("Configure your identity provider before enabling single sign-on.", code="sso_not_configured")
    if connection.is_enabled:
        return connection
    revoked = invitation_revoke_all(org=org, actor=actor, reason=Invitation.RevokeReason.SSO_ENABLED)
    now = timezone.now()
    # Who goes is fixed by time (members_awaiting_removal): the request writes
    # nothing per member and costs the same for 10 or 50,000.
    total = members_awaiting_removal(org, now).count()
    connection.state = SSOConnection.State.ENABLED
    connection.enabled_at = now
    connection.enabled_by = actor
    connection.removal_total = total
    connection.removal_done = 0
    connection.removal_status = SSOConnection.RemovalStatus.RUNNING if total else SSOConnection.RemovalStatus.DONE
    connection.removal_finished_at = None if total else now
    connection.save()
    audit_record(org=org, actor=actor, event=SSOEvents.ENABLED, target=connection,
                 old={"state": SSOConnection.State.CONFIGURED},
                 new={"state": SSOConnection.State.ENABLED, "members_to_remove": total,
                      "invitations_revoked": revoked})
    if total:
        from .tasks import remove_non_admins

        enqueue_on_commit(remove_non_admins, if_unqueued=RESUME, args=(org.pk,))
    return connection


@transaction.atomic
def sso_disable(*, org: Organization, actor: User | None, reason: str | None = None,
                actor_label: str | None = None) -> SSOConnection:
    """D1: password sign-in works again (the E2 check reads the enabled state).
    D2: Directory Sync goes off with it (receivers of `sso_disabled`, in this
    transaction). Memberships stay; removals not yet done are dropped.
    `reason`: the operator's break-glass note (D3), kept in the audit event."""
    connection = _locked_connection(org)
    if not connection.is_enabled:
        return connection
    running = connection.removal_status == SSOConnection.RemovalStatus.RUNNING
    dropped = connection.removal_total - connection.removal_done if running else 0
    connection.state = SSOConnection.State.CONFIGURED
    if running:
        connection.removal_status = SSOConnection.RemovalStatus.DONE
        connection.removal_finished_at = timezone.now()
    connection.save()
    new = {"state": SSOConnection.State.CONFIGURED, "pending_removals_dropped": dropped}
    if reason is not None:
        new["reason"] = reason
    audit_record(org=org, actor=actor, event=SSOEvents.DISABLED, target=connection,
                 old={"state": SSOConnection.State.ENABLED}, new=new, actor_label=actor_label)
    sso_disabled.send(sender=SSOConnection, org=org, actor=actor)
    return connection


def _remove_users(org: Organization, connection: SSOConnection, user_ids: list[int]) -> list[int]:
    """Remove these members (the enable's effect), record the tie and the progress, queue their emails.
    Accounts Directory Sync attached without their owner's agreement get no removal row:
    it would tie them to this organization (§7), and they never joined it."""
    unconfirmed = set(Membership.objects.filter(org=org, user_id__in=user_ids, owner_unconfirmed=True)
                      .values_list("user_id", flat=True))
    removed = membership_remove_batch(org=org, user_ids=user_ids, actor=None, reason="sso_enabled",
                                      actor_label="sso enable")
    if removed:
        now = timezone.now()
        tied = [uid for uid in removed if uid not in unconfirmed]
        SSORemoval.objects.bulk_create([SSORemoval(org=org, user_id=uid, created_at=now, removed_at=now)
                                        for uid in tied], ignore_conflicts=True)
        # Removed again by a later enable: the row is reused and its email is due again.
        SSORemoval.objects.filter(org=org, user_id__in=tied).update(removed_at=now, notified_at=None)
        SSOConnection.objects.filter(pk=connection.pk).update(removal_done=F("removal_done") + len(removed))
        from .tasks import send_removal_emails

        enqueue_on_commit(send_removal_emails, if_unqueued=RESUME, args=(org.pk,))
    return removed


def sso_removal_run_batch(*, org: Organization, batch_size: int | None = None) -> int:
    """One batch of the enable job, in its own transaction: a crash loses at most
    this batch's uncommitted work, and the next run picks up the rest (whatever
    is still a pre-enable non-admin membership). Returns how many it removed
    (0: nothing left)."""
    batch_size = batch_size or settings.SSO_REMOVAL_BATCH_SIZE
    with transaction.atomic():
        connection = SSOConnection.objects.select_for_update().filter(org=org).first()
        if connection is None or not connection.is_enabled or connection.enabled_at is None:
            return 0
        user_ids = list(members_awaiting_removal(org, connection.enabled_at).order_by("pk")
                        .values_list("user_id", flat=True)[:batch_size])
        if not user_ids:
            if connection.removal_status != SSOConnection.RemovalStatus.DONE:
                connection.refresh_from_db(fields=["removal_done"])
                connection.removal_status = SSOConnection.RemovalStatus.DONE
                connection.removal_finished_at = timezone.now()
                connection.save(update_fields=["removal_status", "removal_finished_at", "updated_at"])
                audit_record(org=org, actor=None, actor_label="sso enable", event=SSOEvents.REMOVAL_FINISHED,
                             target=connection, new={"removed": connection.removal_done})
            return 0
        return len(_remove_users(org, connection, user_ids))


def sso_removal_run(*, org: Organization, batch_size: int | None = None, max_batches: int | None = None) -> int:
    handled = batches = 0
    while max_batches is None or batches < max_batches:
        count = sso_removal_run_batch(org=org, batch_size=batch_size)
        if not count:
            break
        handled += count
        batches += 1
    return handled


def sso_removal_notify(*, org: Organization, send, limit: int = 200) -> int:
    """Send the removal email (through `send(user)`) to up to `limit` removed members
    not told yet, and mark them. At least once: a crash after sending and before the
    commit sends that email again; rows another worker holds are skipped, so two
    workers never send the same batch."""
    with transaction.atomic():
        rows = list(SSORemoval.objects.select_for_update(skip_locked=True, of=("self",)).select_related("user")
                    .filter(org=org, notified_at__isnull=True, removed_at__isnull=False).order_by("pk")[:limit])
        for row in rows:
            if row.user.is_active:
                send(row.user)
        SSORemoval.objects.filter(pk__in=[row.pk for row in rows]).update(notified_at=timezone.now())
    return len(rows)


def sso_jobs_to_resume() -> tuple[list[int], list[int]]:
    """After a worker restart: organizations whose enable job was cut off, and those
    with removal emails still unsent."""
    running = list(SSOConnection.objects.filter(state=SSOConnection.State.ENABLED,
                                                removal_status=SSOConnection.RemovalStatus.RUNNING)
                   .values_list("org_id", flat=True))
    unsent = list(SSORemoval.objects.filter(notified_at__isnull=True, removed_at__isnull=False)
                  .values_list("org_id", flat=True).distinct())
    return running, unsent


# Login -----------------------------------------------------------------------


class LoginStatus(StrEnum):
    SIGNED_IN = "signed_in"
    PENDING_LINK = "pending_link"  # the owner confirms by email first (E14)


@dataclass
class LoginResult:
    user: User | None
    status: LoginStatus
    email: str = ""


def mapped_profile(connection: SSOConnection, name_id: str, attributes: dict) -> dict:
    """Email and names from the assertion, through the connection's attribute mapping."""

    def first(name):  # the first text value; anything else counts as absent (§6)
        return next((value for value in attributes.get(name) or [] if isinstance(value, str) and value), "")

    email = first(connection.email_attribute) or (name_id if "@" in (name_id or "") else "")
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    return {
        "email": email,
        "first_name": first(connection.first_name_attribute).strip()[:150],
        "last_name": first(connection.last_name_attribute).strip()[:150],
    }


# What a sign-in keeps of the assertion (SSOIdentity.idp_attributes, shown on the member's
# page): text values only, this many attributes of this many values of this many characters.
KEPT_ATTRIBUTES_MAX = 50
KEPT_VALUES_MAX = 20
KEPT_TEXT_MAX = 256
KEPT_GROUPS_MAX = 200


@dataclass(frozen=True)
class IdPWord:
    """What an assertion says beyond who signs in: the role (DS4; None: no word), the
    values of the groups attribute (group rules), and every attribute, clipped."""

    role: str | None
    groups: tuple[str, ...]
    attributes: dict


def _texts(values, limit: int) -> list[str]:
    return [value[:KEPT_TEXT_MAX] for value in (values or []) if isinstance(value, str)][:limit]


def idp_word(connection: SSOConnection, attributes: dict) -> IdPWord:
    """Read once per sign-in, before anything is written: an unknown role value raises
    UnknownRole, and the sign-in is refused with nothing changed (DS4). The groups are
    the connection's groups attribute's values (and Entra's groups claim), without
    regard to the attribute name's case."""
    role = saml_role(connection, attributes)
    group_names = {connection.groups_attribute.lower(), ENTRA_GROUPS_CLAIM.lower()}
    groups = []
    for name, values in attributes.items():
        if isinstance(name, str) and name.lower() in group_names:
            groups.extend(value.strip() for value in values or [] if isinstance(value, str) and value.strip())
    kept = {}
    for name, values in attributes.items():
        if len(kept) == KEPT_ATTRIBUTES_MAX:
            break
        if isinstance(name, str):
            kept[name[:KEPT_TEXT_MAX]] = _texts(values, KEPT_VALUES_MAX)
    return IdPWord(role=role, groups=tuple(dict.fromkeys(groups)), attributes=kept)


def kept_groups(word: IdPWord) -> list[str]:
    return _texts(word.groups, KEPT_GROUPS_MAX)


def _group_rules_for_sign_in(org: Organization) -> list[GroupRule]:
    """The group rules a SAML sign-in applies: with Directory Sync on, groups come from
    SCIM (and its group changes apply the rules), so none."""
    rules = rules_of(org)
    if rules and directory_sync_enabled(org):
        return []
    return rules


def word_changes(membership: Membership, word: IdPWord, rules: list[GroupRule], held: dict[int, bool]) -> bool:
    """Would a sign-in's apply_decision change (or audit) anything for this membership, with
    or without the organization's `rules` (Directory Sync's state decides which, and it
    is asked only when one of them would)? Read from rows already loaded (`held`: the
    member's rule teams, team id → whether a rule added it); the count of administrators
    only tells a demotion from a kept role, both of which are changes. sso.fastpath's
    returning sign-in takes the ORM path only when this says yes."""
    with_rules = decide(rules=rules, groups=word.groups, role=word.role)
    if member_change(membership, with_rules, held, admins=0):
        return True
    # With Directory Sync on no rule applies: the role attribute's word alone (no rule team).
    return bool(rules) and bool(member_change(membership, decide(rules=[], groups=(), role=word.role), {}, admins=0))


def names_to_follow(user: User, profile: dict) -> list[str]:
    """The names the IdP changed (issue 12: they follow it at every sign-in; a name it
    does not send stays)."""
    return [field for field in ("first_name", "last_name") if profile[field] and profile[field] != getattr(user, field)]


def email_news(connection: SSOConnection, identity: SSOIdentity | None, user: User, profile: dict,
                word: IdPWord) -> bool:
    """Does the IdP name another address for the account than at its last sign-in? Only
    then is a change tried (and a refusal recorded): an address it keeps sending that
    was refused once is not refused, nor recorded, again at every sign-in."""
    if not profile["email"] or profile["email"] == user.email:
        return False
    previous = identity.idp_attributes if identity is not None and isinstance(identity.idp_attributes, dict) else {}
    name = connection.email_attribute[:KEPT_TEXT_MAX]
    return word.attributes.get(name) != previous.get(name) or not previous


def _follow_profile(org: Organization, user: User, profile: dict, *, email_news: bool) -> None:
    """The account follows the IdP (issue 12 item 2): its names, always; its email when the
    new address is in a domain this organization verified and no other account holds it
    — never a takeover. One sso.profile_updated event when something changed or an email
    change was refused (the reason in it; the member's page shows what the IdP sent)."""
    old, new = {}, {}
    for field in names_to_follow(user, profile):
        old[field], new[field] = getattr(user, field), profile[field]
        setattr(user, field, profile[field])
    if old:
        user.save(update_fields=list(old))
    address, refused = profile["email"], ""
    if email_news:
        if not domain_verified_by(org=org, email=address):
            refused = "domain_not_verified"
        else:
            previous = user.email
            if _email_change(user, address):
                old["email"], new["email"] = previous, address
            else:
                refused = "email_taken"
    if refused:
        new.update({"email_change_refused": address, "reason": refused})
    if old or refused:
        audit_record(org=org, actor=None, actor_label=IDP_LABEL, event=SSOEvents.PROFILE_UPDATED, target=user,
                     target_label=old.get("email", user.email), old=old or None, new=new)


def _email_change(user: User, address: str) -> bool:
    """Move the account to `address`, which this organization's verified domain vouches
    for (so it counts as verified, E14), unless another account holds it (checked by
    the unique address itself, so two sign-ins cannot both take it)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(email=address, email_verified_at=now)
    except IntegrityError:
        return False
    user.email, user.email_verified_at = address, now
    return True


TRANSIENT_NAME_ID = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


class IdentityConflict(SSOLoginRefused):
    """E15: another subject names an account already bound to one in this organization."""

    code = "identity_conflict"

    def __init__(self, *, org: Organization, user: User, bound: str, presented: str):
        super().__init__(
            f"{user.email} is already linked to another identity at {org.name}'s identity provider. An "
            f"administrator of {org.name} must unlink the previous identity (Settings › Members) before this one "
            "can sign in.")
        self.org, self.user, self.bound, self.presented = org, user, bound, presented


def login_subject(connection: SSOConnection, name_id: str, name_id_format: str, attributes: dict) -> str:
    """The IdP's subject a sign-in binds the account to (E15): the connection's subject
    attribute when it names one, else the NameID, which must not be transient (a new
    value at every sign-in would bind nothing)."""
    if connection.subject_attribute:
        values = attributes.get(connection.subject_attribute) or []
        subject = values[0] if values and isinstance(values[0], str) else ""
        if not subject.strip() or len(subject) > 512:
            raise SSOLoginRefused(
                f"Your identity provider did not send the attribute “{connection.subject_attribute}” that "
                "identifies you; ask your administrator to check the SSO configuration.", code="subject_missing")
        return subject.strip()
    if name_id_format == TRANSIENT_NAME_ID:
        raise SSOLoginRefused(
            "Your identity provider sent a transient NameID, which changes at every sign-in; the organization's "
            "administrator must set a persistent subject attribute in the SSO settings (or make the IdP send a "
            "persistent or email NameID).", code="transient_name_id")
    return name_id


def _link_identity(*, org: Organization, user: User, name_id: str, name_id_format: str = "",
                   word: IdPWord | None = None) -> SSOIdentity:
    """Bind the account to the IdP subject `name_id` in `org` (E15): a first binding, or the
    move of a link from an organization that no longer enforces SSO; never a second
    subject in the same organization (IdentityConflict, until an administrator unlinks).
    `word`: what this sign-in's assertion said, kept on the link (None: an emailed link
    confirmation, which keeps what the link holds)."""
    now = timezone.now()
    received = {"idp_attributes": word.attributes, "idp_groups": kept_groups(word)} if word is not None else {}
    identity = SSOIdentity.objects.select_for_update().filter(user=user).first()
    if identity is None:
        identity = SSOIdentity.objects.create(org=org, user=user, name_id=name_id, name_id_format=name_id_format,
                                              first_sso_login_at=now, last_sso_login_at=now, **received)
    else:
        for field, value in received.items():
            setattr(identity, field, value)
        if identity.org_id == org.pk and identity.name_id and identity.name_id != name_id:
            raise IdentityConflict(org=org, user=user, bound=identity.name_id, presented=name_id)
        if identity.org_id != org.pk:
            identity.org = org
            identity.first_sso_login_at = now
        identity.name_id = name_id
        identity.name_id_format = name_id_format or identity.name_id_format
        identity.first_sso_login_at = identity.first_sso_login_at or now
        identity.last_sso_login_at = now
        identity.save()
    return identity


@transaction.atomic
def sso_removal_apply(*, org: Organization, user: User) -> bool:
    """Remove `user` now if the SSO enable still has to (E1), through the job's own path
    (audit event, removal row and email, progress), so Directory Sync (DS3) adds a fresh
    membership back, as an SSO sign-in does (_membership_for_sign_in): no grant (E5), no
    teams (E6), and one the job leaves alone. Returns whether it removed them."""
    if not awaits_sso_removal(Membership.objects.filter(org=org, user=user).first()):
        return False
    connection = SSOConnection.objects.get(org=org)
    return bool(_remove_users(org, connection, [user.pk]))


def _membership_for_sign_in(org: Organization, connection: SSOConnection, user: User) -> Membership:
    """The membership a sign-in through this organization's IdP lands in (E3): the one
    the account has, or a fresh `member` one, so no grant (E5) and no teams (E6). A
    member the enable job has not reached yet is removed first, through the job's own
    path, so they come back exactly as a removed member would."""
    membership = Membership.objects.filter(org=org, user=user).first()
    if membership is not None and not awaits_sso_removal(membership, connection):
        return membership
    _refuse_unless_admitted(org, user)
    with transaction.atomic():
        if membership is not None:
            _remove_users(org, connection, [user.pk])
        joined = membership_add(org=org, user=user, role=Membership.Role.MEMBER, actor=None, reason="sso_jit",
                                actor_label=IDP_LABEL)
        sso_member_joined.send(sender=SSOConnection, org=org, user=user, membership=joined)
        return joined


def _refuse_unless_admitted(org: Organization, user: User) -> None:
    """E16: may this sign-in add `user` to `org` just in time? Under Directory Sync, only
    if the directory pushed them and has not deactivated them (the scim app answers)."""
    refusal = jit_admission_refusal(org, user)
    if refusal:
        raise SSOLoginRefused(refusal, code="not_admitted_by_directory")


def _refuse_staff(user: User) -> None:
    """E14: an IdP never signs in an operator account; staff rights come only from a password session."""
    if user.is_staff or user.is_superuser:
        raise SSOLoginRefused(
            "This is an operator (staff) account: operators sign in with their password at /accounts/login/, "
            "never through an organization's identity provider.", code="staff_account")


def _signed_in(org: Organization, connection: SSOConnection, user: User, name_id: str, *,
               word: IdPWord | None = None) -> LoginResult:
    """The membership the sign-in lands in, made to match what the IdP said (`word`: DS4's
    role and the group rules), and the sso.login event."""
    membership = _membership_for_sign_in(org, connection, user)
    if word is not None:
        rules = _group_rules_for_sign_in(org)
        decision = decide(rules=rules, groups=word.groups, role=word.role)
        rule_teams = rule_team_ids(rules)
        if decision.role or decision.role_rules or decision.database_admin is not None or rule_teams:
            membership = Membership.objects.select_for_update().get(pk=membership.pk)
            membership.user = user
            apply_decision(org=org, membership=membership, decision=decision, rule_teams=rule_teams)
    audit_record(**login_event(org=org, user=user, membership=membership, name_id=name_id))
    return LoginResult(user=user, status=LoginStatus.SIGNED_IN, email=user.email)


def login_event(*, org: Organization, user: User, membership: Membership, name_id: str) -> dict:
    """The sso.login event of a sign-in, as audit_record and audit_row take it."""
    return {"org": org, "actor": user, "event": SSOEvents.LOGIN, "target": membership, "target_label": user.email,
            "new": {"name_id": name_id, "role": membership.role}}


def sso_login(*, org: Organization, name_id: str, attributes: dict,
              connection: SSOConnection | None = None, name_id_format: str = "") -> LoginResult:
    """Sign-in through this organization's IdP, after the response has been validated
    (against `connection`, which the ACS passes on so it is not read twice)."""
    if connection is None or connection.org_id != org.pk:
        connection = SSOConnection.objects.select_related("org").filter(org=org).first()
    if connection is None or not connection.is_enabled:
        raise SSOLoginRefused(f"Single sign-on is not enabled for {org.name}.", code="sso_not_enabled")
    if len(name_id) > 512 or len(name_id_format or "") > 256:
        raise SSOLoginRefused("Your identity provider sent a NameID longer than Gatehouse keeps (512 characters).",
                              code="name_id_too_long")
    subject = login_subject(connection, name_id, name_id_format, attributes)
    profile = mapped_profile(connection, name_id, attributes)
    word = idp_word(connection, attributes)  # UnknownRole: refused before anything is written
    # The common case, a returning sign-in, in two statements (sso.fastpath); the rest,
    # and the specification, through the ORM.
    signed_in = fastpath.sso_sign_in(org=org, connection=connection, name_id=subject, profile=profile,
                                     name_id_format=name_id_format, word=word)
    if signed_in is not None:
        return signed_in
    try:
        return sso_sign_in_orm(org=org, connection=connection, name_id=subject, profile=profile,
                               name_id_format=name_id_format, word=word)
    except IdentityConflict as conflict:  # sso_sign_in_orm's transaction is rolled back; this is recorded
        _record_identity_conflict(conflict)
        raise


def _record_identity_conflict(conflict: IdentityConflict) -> None:
    """The sso.identity_conflict event of a refused sign-in or link (E15), in its own transaction."""
    with transaction.atomic():
        audit_record(org=conflict.org, actor=None, actor_label=IDP_LABEL, event=SSOEvents.IDENTITY_CONFLICT,
                     target=conflict.user, target_label=conflict.user.email,
                     old={"subject": conflict.bound}, new={"subject": conflict.presented[:512]})


@transaction.atomic
def sso_sign_in_orm(*, org: Organization, connection: SSOConnection, name_id: str, profile: dict,
                    name_id_format: str = "", word: IdPWord | None = None) -> LoginResult:
    """A sign-in through the ORM, the specification of sso.fastpath.sso_sign_in, and the
    way every sign-in that takes goes: just-in-time accounts (E3), linking an existing
    account (E9 and the hostile-IdP guard), deactivated accounts, returning accounts
    whose profile follows the IdP, with a membership to make or that the IdP's word
    (`word`: DS4's role, the group rules; None: no word) changes. login() records
    last_login after it."""
    identity = SSOIdentity.objects.select_related("user").filter(org=org, name_id=name_id).first()
    user = identity.user if identity else None
    if user is None:
        if not profile["email"]:
            raise SSOLoginRefused("Your identity provider did not send an email address for you.", code="no_email")
        user = User.objects.filter(email=profile["email"]).first()
    if user is not None:
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise SSOLoginRefused("This account is deactivated.", code="account_inactive")
        _refuse_staff(user)
        if domain_verified_by(org=org, email=user.email):
            user = domain_owner_takes_over(org=org, user=user)
        linked = SSOIdentity.objects.select_related("org").filter(user=user).first()
        if linked is not None and linked.org_id != org.pk and SSOConnection.objects.filter(
                org_id=linked.org_id, state=SSOConnection.State.ENABLED).exists():
            raise SSOLoginRefused(
                f"{user.email} already signs in through {linked.org.name}'s single sign-on; an email address can "
                "be linked to only one SSO organization. Ask your administrator to use another address.",
                code="linked_to_other_org",
            )
        if not may_tie(org=org, user=user, linked_here=linked is not None and linked.org_id == org.pk):
            if not Membership.objects.filter(org=org, user=user).exists():
                _refuse_unless_admitted(org, user)  # no email to confirm a sign-in the directory refuses
            _pending_link_create(org=org, user=user, name_id=name_id, profile=profile)
            return LoginResult(user=None, status=LoginStatus.PENDING_LINK, email=user.email)
        _follow_profile(org, user, profile, email_news=word is not None and email_news(
            connection, identity, user, profile, word))
    else:
        user = User.objects.create_user(profile["email"], None, first_name=profile["first_name"],
                                        last_name=profile["last_name"], **new_account_state(org=org,
                                                                                            email=profile["email"]))
    _link_identity(org=org, user=user, name_id=name_id, name_id_format=name_id_format, word=word)
    return _signed_in(org, connection, user, name_id, word=word)


# Who an IdP may tie (E14) ----------------------------------------------------------


def new_account_state(*, org: Organization, email: str) -> dict:
    """How an account this organization's IdP or directory makes for `email` starts (E14):
    claimed, its address verified, when the organization verified the address's domain;
    otherwise unclaimed, usable only through this organization's IdP until its owner
    claims it."""
    if domain_verified_by(org=org, email=email):
        return {"claimed": True, "email_verified_at": timezone.now()}
    return {"claimed": False, "email_verified_at": None}


def may_tie(*, org: Organization, user: User, linked_here: bool = False) -> bool:
    """May this organization's IdP (or directory) sign in or attach the existing account
    `user` without its owner confirming by email (E14, §7)? An unclaimed account
    only by the organization it is tied to (the one that made it); a claimed one only
    once its address is verified and it has a tie here (membership its owner agreed to,
    an SSO removal, an identity link, or this organization's verified domain)."""
    if user.claimed and user.email_verified_at is None:
        return False
    return linked_here or tied_to_org(org=org, user=user)


@transaction.atomic
def domain_owner_takes_over(*, org: Organization, user: User) -> User:
    """`org` verified the domain of `user`'s address, so it outranks any organization that
    did not (E14, E9 conflicts). An unclaimed account is claimed for its address: every
    tie a stranger organization made ends (accounts.user_claim). A claimed account keeps
    its memberships, but a link to another organization's SSO ends (audit events in
    both, an email to the address). Either way the address counts as verified."""
    if not user.claimed or user.email_verified_at is None:
        return user_claim(user=user)  # nobody proved the address before: every earlier tie ends
    user = User.objects.select_for_update().get(pk=user.pk)
    identity = SSOIdentity.objects.select_related("org").filter(user=user).exclude(org=org).first()
    if identity is not None and not domain_verified_by(org=identity.org, email=user.email):
        released_from = identity.org
        for audited in (released_from, org):
            audit_record(org=audited, actor=None, actor_label="domain verification", event=SSOEvents.IDENTITY_RELEASED,
                         target=user, target_label=user.email,
                         old={"organization": released_from.slug, "subject": identity.name_id[:512]},
                         new={"verified_by": org.slug})
        identity.delete()
        _end_sessions(list(SSOSession.objects.filter(org=released_from, user=user)
                           .values_list("session_key", flat=True)))
        from .tasks import send_identity_released_email

        enqueue_on_commit(send_identity_released_email, if_unqueued=RUN_HERE, args=(user.pk, released_from.pk, org.pk))
    return user


def _pending_link_create(*, org: Organization, user: User, name_id: str, profile: dict) -> None:
    token = secrets.token_urlsafe(32)
    link = PendingLink.objects.create(
        org=org, user=user, token_hash=hash_secret(token), name_id=name_id,
        first_name=profile["first_name"], last_name=profile["last_name"],
        expires_at=timezone.now() + PENDING_LINK_TTL,
    )
    audit_record(org=org, actor=None, actor_label=IDP_LABEL, event=SSOEvents.LINK_PENDING, target=link,
                 target_label=user.email, new={"name_id": name_id})
    from .tasks import send_link_email

    url = f"{settings.BASE_URL}/sso/link/{token}/"
    enqueue_on_commit(send_link_email, if_unqueued=RUN_HERE, args=(link.pk, url))


def pending_link_lookup(token: str) -> PendingLink:
    link = PendingLink.objects.select_related("org", "user").filter(token_hash=hash_secret(token or "")).first()
    if link is None or link.used_at is not None or link.expires_at <= timezone.now():
        raise ServiceError("This confirmation link is not valid or has expired. Sign in with SSO again to get a "
                           "new one.", code="link_invalid")
    return link


def sso_link_confirm(*, token: str) -> LoginResult:
    """The account's owner confirmed from the emailed link: link it and sign in."""
    try:
        return _link_confirm(token)
    except IdentityConflict as conflict:  # rolled back, the link unused; recorded on its own
        _record_identity_conflict(conflict)
        raise


@transaction.atomic
def _link_confirm(token: str) -> LoginResult:
    link = pending_link_lookup(token)
    link = PendingLink.objects.select_for_update().select_related("org", "user").get(pk=link.pk)
    if link.used_at is not None:
        raise ServiceError("This confirmation link has already been used.", code="link_used")
    org, user = link.org, link.user
    _refuse_staff(user)
    if not user.is_active:
        raise SSOLoginRefused("This account is deactivated.", code="account_inactive")
    connection = SSOConnection.objects.filter(org=org, state=SSOConnection.State.ENABLED).first()
    if connection is None:
        raise SSOLoginRefused(f"Single sign-on is no longer enabled for {org.name}.", code="sso_not_enabled")
    linked = SSOIdentity.objects.filter(user=user).exclude(org=org).select_related("org").first()
    if linked is not None and SSOConnection.objects.filter(org_id=linked.org_id,
                                                           state=SSOConnection.State.ENABLED).exists():
        raise SSOLoginRefused(f"{user.email} already signs in through {linked.org.name}'s single sign-on.",
                              code="linked_to_other_org")
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    # The owner followed a link mailed to the address (E14): an account nobody proved before
    # (unclaimed, or a sign-up never verified) is claimed for them, its earlier ties ending.
    user = user_claim(user=user)
    _link_identity(org=org, user=user, name_id=link.name_id)  # IdentityConflict: rolled back, link unused
    membership = _membership_for_sign_in(org, connection, user)
    confirmed = membership.owner_unconfirmed  # attached by the directory; its owner agrees now
    if confirmed:
        membership.owner_unconfirmed = False
        membership.save(update_fields=["owner_unconfirmed", "updated_at"])
    audit_record(org=org, actor=user, event=SSOEvents.LINK_CONFIRMED, target=membership, target_label=user.email,
                 new={"name_id": link.name_id, **({"membership_confirmed": True} if confirmed else {})})
    return LoginResult(user=user, status=LoginStatus.SIGNED_IN, email=user.email)


@transaction.atomic
def sso_identity_unlink(*, org: Organization, actor: User | None, membership: Membership) -> bool:
    """E15: forget which IdP subject the member is bound to here, so the next sign-in binds
    anew (the way past an identity conflict, after an IdP re-created the user). Their
    sessions from this IdP end with it. The link itself stays, unbound (an empty subject):
    the account keeps its first IdP sign-in (E2: no password again for an administrator)
    and its tie to this organization. False when no subject was bound."""
    identity = SSOIdentity.objects.select_for_update().filter(org=org, user_id=membership.user_id).first()
    if identity is None or not identity.name_id:
        return False
    audit_record(org=org, actor=actor, event=SSOEvents.IDENTITY_UNLINKED, target=membership,
                 target_label=membership.user.email,
                 old={"subject": identity.name_id, "format": identity.name_id_format,
                      "first_sso_login_at": identity.first_sso_login_at.isoformat()
                      if identity.first_sso_login_at else None})
    identity.name_id, identity.name_id_format = "", ""
    identity.save(update_fields=["name_id", "name_id_format", "updated_at"])
    _end_sessions(list(SSOSession.objects.filter(org=org, user_id=membership.user_id)
                       .values_list("session_key", flat=True)))
    return True


# Verified domains ------------------------------------------------------------


def _clean_domain(domain: str) -> str:
    domain = (domain or "").strip().lower().rstrip(".")
    labels = domain.split(".")
    if (len(domain) > 253 or len(labels) < 2 or
            not all(label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
                    and not label.startswith("-") and not label.endswith("-") for label in labels)):
        raise ServiceError("Enter a domain name such as example.com.", code="invalid_domain")
    return domain


@transaction.atomic
def domain_add(*, org: Organization, actor: User | None, domain: str, actor_label: str | None = None) -> VerifiedDomain:
    domain = _clean_domain(domain)
    existing = VerifiedDomain.objects.filter(org=org, domain=domain).first()
    if existing is not None:
        return existing
    record = VerifiedDomain.objects.create(org=org, domain=domain, txt_token=secrets.token_hex(16))
    audit_record(org=org, actor=actor, event=SSOEvents.DOMAIN_ADDED, target=record, actor_label=actor_label)
    return record


@transaction.atomic
def domain_verify(*, org: Organization, actor: User | None, domain_id, resolver=None,
                  actor_label: str | None = None) -> VerifiedDomain:
    record = VerifiedDomain.objects.select_for_update().filter(org=org, pk=domain_id).first()
    if record is None:
        raise NotFound("No such domain.")
    if record.verified_at is not None:
        return record
    if VerifiedDomain.objects.filter(domain=record.domain, verified_at__isnull=False).exclude(org=org).exists():
        raise Conflict(f"{record.domain} is already verified by another organization; a domain is verified by one "
                       "organization only. Contact support if it is yours.", code="domain_taken")
    values = dns.txt_records(record.domain, resolver=resolver)
    if record.txt_record not in values:
        raise ServiceError(f"No TXT record “{record.txt_record}” found on {record.domain} yet; DNS changes can take "
                           "a while to appear.", code="domain_not_verified")
    record.verified_at = timezone.now()
    try:
        with transaction.atomic():
            record.save(update_fields=["verified_at", "updated_at"])
    except IntegrityError:  # verified by another organization in the meantime
        raise Conflict(f"{record.domain} is already verified by another organization.", code="domain_taken") from None
    audit_record(org=org, actor=actor, event=SSOEvents.DOMAIN_VERIFIED, target=record, actor_label=actor_label)
    email_changes_into_domain(org=org, domain=record.domain)
    domain_verified.send(sender=SSOConnection, org=org, domain=record.domain)
    return record


def email_changes_into_domain(*, org: Organization, domain: str) -> int:
    """The addresses this organization's IdP sent at its members' last sign-ins that were
    refused because their domain was not verified (sso.profile_updated with
    `email_change_refused`) go through now that it is, as at a sign-in (_email_change:
    never onto an address another account holds; audited). Returns how many moved."""
    connection = SSOConnection.objects.filter(org=org).first()
    if connection is None:
        return 0
    sent = KeyTextTransform(0, KeyTransform(connection.email_attribute[:KEPT_TEXT_MAX], "idp_attributes"))
    waiting = (SSOIdentity.objects.filter(org=org).select_related("user").annotate(sent=sent)
               .filter(sent__iendswith="@" + domain).exclude(sent__iexact=F("user__email")).order_by("pk"))
    moved = 0
    for identity in waiting:
        address = normalize_email(identity.sent)
        if address.rsplit("@", 1)[-1].lower() != domain:
            continue
        user, previous = identity.user, identity.user.email
        if _email_change(user, address):
            moved += 1
            audit_record(org=org, actor=None, actor_label="domain verification", event=SSOEvents.PROFILE_UPDATED,
                         target=user, target_label=address, old={"email": previous}, new={"email": address})
    return moved


@transaction.atomic
def domain_remove(*, org: Organization, actor: User | None, domain_id) -> bool:
    record = VerifiedDomain.objects.filter(org=org, pk=domain_id).first()
    if record is None:
        return False
    audit_record(org=org, actor=actor, event=SSOEvents.DOMAIN_REMOVED, target=record)
    record.delete()
    return True


def record_test_login(*, org: Organization, tester: User | None, name_id: str, attribute_names: list[str],
                      actor_label: str | None = None) -> None:
    """A test login arrived and validated (issue item 7); nothing else changes. The actor is
    whoever started it: an administrator, a setup link (`actor_label`, tester None), or
    the IdP when the administrator is gone."""
    with transaction.atomic():
        audit_record(org=org, actor=tester, actor_label=actor_label or (None if tester else IDP_LABEL),
                     event=SSOEvents.TEST_LOGIN, new={"name_id": name_id, "attributes": attribute_names})


REJECTION_TEXT_MAX = 200
REJECTIONS_RATE_LIMITED = "rejections_rate_limited"


def _clipped(value):
    return value[:REJECTION_TEXT_MAX] if isinstance(value, str) else value


def record_rejection(*, org: Organization, code: str, reason: str, extra: dict | None = None) -> None:
    """An audit event for a refused SAML response or login (its own transaction). The
    reason and the extras quote what an anonymous poster sent (a NameID, an ID), so each
    is cut to 200 characters (§7); the code is ours. How many are written is the
    ACS's business (sso.limits)."""
    with transaction.atomic():
        audit_record(org=org, actor=None, actor_label=IDP_LABEL, event=SSOEvents.LOGIN_REJECTED,
                     new={"code": code, "reason": _clipped(reason),
                          **{key: _clipped(value) for key, value in (extra or {}).items()}})


def record_rejections_suppressed(*, org: Organization, scope: str, count: int, limit: int, window_seconds: int,
                                 retry_after: int) -> None:
    """The one note of a window after which refused ACS posts are answered 429 and not
    recorded, so that an operator sees the attack without it filling the log."""
    source = "from one client address" if scope == "client" else "for this organization"
    record_rejection(org=org, code=REJECTIONS_RATE_LIMITED,
                     reason=f"More than {limit} refused sign-in responses {source} within {window_seconds} seconds; "
                            f"further ones are answered 429 and not recorded for the next {retry_after} seconds.",
                     extra={"scope": scope, "count": count, "limit": limit, "window_seconds": window_seconds})


# Single logout ---------------------------------------------------------------

SP_KEY_VALIDITY = timedelta(days=3650)


def _sp_key_generate(org: Organization) -> SPKey:
    """An RSA 2048 key and a self-signed SHA-256 certificate, named after the SP entity ID."""
    from .saml import sp_entity_id

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    common_name = sp_entity_id(org.slug)
    if len(common_name) > 64:  # the X.509 upper bound of a CN
        common_name = f"Gatehouse SP {org.slug}"[:64]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = timezone.now()
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + SP_KEY_VALIDITY).sign(key, hashes.SHA256()))
    return SPKey(
        org=org,
        private_key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode(),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        not_after=now + SP_KEY_VALIDITY,
    )


def sp_key_for(org: Organization) -> SPKey:
    """The SP's signing key for `org` (logout messages, the metadata's KeyDescriptor),
    made on first need. Two requests that both find none both make one; the one-to-one
    constraint keeps the first written and the other reads it."""
    existing = SPKey.objects.filter(org=org).first()
    if existing is not None:
        return existing
    made = _sp_key_generate(org)
    try:
        with transaction.atomic():
            made.save()
            audit_record(org=org, actor=None, event=SSOEvents.SP_KEY_CREATED, target_label="SP signing key",
                         new={"not_after": made.not_after.isoformat()})
    except IntegrityError:
        return SPKey.objects.get(org=org)
    return made


def _end_sessions(session_keys: list[str]) -> None:
    """Delete these Django sessions (one statement on the session engine's table:
    accounts.sessions is database-backed) and the SSO index rows of them."""
    if not session_keys:
        return
    import_module(settings.SESSION_ENGINE).SessionStore.get_model_class().objects.filter(
        session_key__in=session_keys).delete()
    SSOSession.objects.filter(session_key__in=session_keys).delete()


@transaction.atomic
def sso_logout(*, org: Organization, name_id: str, session_indexes: tuple = (), request_id: str = "") -> int:
    """Single logout the organization's IdP asked for (E13): end the Gatehouse sessions its
    sign-ins made for `name_id` — only those of `session_indexes` when the request names
    any. Returns how many ended (none is still a success for the IdP)."""
    rows = SSOSession.objects.filter(org=org, name_id=name_id)
    if session_indexes:
        rows = rows.filter(session_index__in=session_indexes)
    found = list(rows.values_list("session_key", "user_id"))
    session_keys = sorted({key for key, _ in found})
    _end_sessions(session_keys)
    users = {user_id for _, user_id in found}
    user = User.objects.filter(pk=users.pop()).first() if len(users) == 1 else None
    audit_record(org=org, actor=None, actor_label=IDP_LABEL, event=SSOEvents.LOGOUT, target=user,
                 target_label="" if user else name_id[:254],
                 new={"name_id": name_id[:512], "session_indexes": [i[:256] for i in session_indexes[:10]],
                      "sessions_ended": len(session_keys), "request_id": request_id[:256]})
    return len(session_keys)
