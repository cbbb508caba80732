"""Organization-scoped reads. Every lookup by id takes the organization."""
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from . import policy
from .models import (AuditEvent, Database, DatabasePassword, Invitation, MemberCount, Membership, Organization,
                     ServiceToken)


def organizations_of(user) -> QuerySet[Organization]:
    """The organizations the user can open (the switcher, the home page): a membership
    an access policy blocks does not count, as in membership_for_slug."""
    return Organization.objects.filter(pk__in=memberships_of(user).values("org_id")).order_by("name", "pk")


def memberships_of(user) -> QuerySet[Membership]:
    """The user's memberships that open their organization (organizations_of, with the role:
    the API's list of the caller's organizations), with the organization, in its order."""
    return (_with_access(Membership.objects.filter(user=user)).select_related("org")
            .order_by("org__name", "org__pk"))


def _with_access(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    """Leave out the memberships an access policy blocks (orgs.policy), in the same query."""
    blocked = policy.memberships_without_access()
    return memberships if blocked is None else memberships.exclude(blocked)


def membership_for_slug(user, slug: str) -> Membership | None:
    """The caller's membership in the organization `slug`, with the organization; None when not a member
    (the edges answer 404 then, so an outsider cannot tell the organization exists). A membership
    that a policy blocks (a member the SSO enable is removing) counts as none. It carries the
    values the session gates need (orgs.policy.access_annotations), read in the same query."""
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("org").filter(org__slug=slug, user=user)
    return _with_access(memberships.annotate(**policy.access_annotations())).first()


def member_list(*, org: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(org=org).select_related("user").order_by("user__email", "pk")


class MembersByAccount:
    """The members of `org` for a paginator (the API's and the dashboard's), in account
    order, by a deferred join: the page's user ids come from an index-only scan of the
    (org, user) unique index, in a subquery, and only those rows are joined to their
    users. Sorting by email instead would join and sort every member on each request
    (60 ms at page 500 of an organization of 50,000); this costs the same on any page.
    `email_prefix` narrows it to emails starting so (the dashboard's search).

    Without a prefix the total is the organization's MemberCount (one row, kept by the
    database) instead of a COUNT of every index entry, and a page in the second half of
    the list is read from the end (`ORDER BY user_id DESC OFFSET total - stop`), so no
    page walks more than half the organization's index entries (issue 13: at 100,000
    members the COUNT and a deep OFFSET each cost a pass over 100,000 entries)."""

    def __init__(self, org: Organization, email_prefix: str = ""):
        self.org = org
        self.email_prefix = email_prefix
        keys = Membership.objects.filter(org=org)
        if email_prefix:
            keys = keys.filter(user__email__startswith=email_prefix.lower())
        self.keys = keys.order_by("user_id").values("user_id")
        self.total = None

    def count(self) -> int:
        if self.email_prefix:
            self.total = self.keys.count()
        else:
            self.total = member_count(org=self.org)
        return self.total

    def __getitem__(self, page: slice) -> list:
        members = member_list(org=self.org)
        start, stop = page.start or 0, page.stop
        if self.total is not None and stop is not None and start > self.total - stop:
            # Nearer the end: skip the entries after the page instead of those before it.
            stop = min(stop, self.total)
            keys = self.keys.order_by("-user_id")[self.total - stop:self.total - start]
        else:
            keys = self.keys[page]
        return list(members.filter(user_id__in=keys).order_by("user_id"))


def member_count(*, org: Organization) -> int:
    """The organization's number of memberships, from its MemberCount (one row)."""
    return MemberCount.objects.filter(org=org).values_list("members", flat=True).first() or 0


def members_by_account(*, org: Organization, email_prefix: str = "") -> MembersByAccount:
    return MembersByAccount(org, email_prefix)


def member_get(*, org: Organization, membership_id) -> Membership | None:
    return Membership.objects.select_related("user").filter(org=org, pk=membership_id).first()


def member_by_email(*, org: Organization, email: str) -> Membership | None:
    """The membership of the account with this email, with the user; None when that account is
    not a member, or is one only through a directory its owner has not agreed to."""
    return (Membership.objects.select_related("user")
            .filter(org=org, user__email=email, owner_unconfirmed=False).first())


def admin_get(*, org: Organization, user_id) -> Membership | None:
    """This account's membership when it is an active administrator of the organization, with the user."""
    return (Membership.objects.select_related("user")
            .filter(org=org, user_id=user_id, role=Membership.Role.ADMIN, user__is_active=True).first())


def invitation_list(*, org: Organization, status: str | None = Invitation.Status.PENDING) -> QuerySet[Invitation]:
    qs = Invitation.objects.filter(org=org).select_related("invited_by").order_by("-created_at", "-pk")
    return qs.filter(status=status) if status else qs


def invitation_get(*, org: Organization, invitation_id) -> Invitation | None:
    return Invitation.objects.filter(org=org, pk=invitation_id).first()


def _with_creator_membership(qs, org):
    return qs.select_related("created_by").annotate(
        creator_is_member=Exists(Membership.objects.filter(org=org, user=OuterRef("created_by")))
    )


def database_list(*, org: Organization) -> QuerySet[Database]:
    return (
        Database.objects.filter(org=org)
        .select_related("created_by")
        .annotate(active_passwords=Count("passwords", filter=Q(passwords__revoked_at__isnull=True)))
        .order_by("name")
    )


def database_get(*, org: Organization, name: str) -> Database | None:
    return Database.objects.filter(org=org, name=name).first()


def database_password_list(*, org: Organization, database: Database) -> QuerySet[DatabasePassword]:
    return _with_creator_membership(DatabasePassword.objects.filter(org=org, database=database), org).order_by(
        "-created_at", "-pk"
    )


def database_password_get(*, org: Organization, database: Database, password_id) -> DatabasePassword | None:
    return DatabasePassword.objects.filter(org=org, database=database, pk=password_id).first()


def service_token_list(*, org: Organization) -> QuerySet[ServiceToken]:
    return _with_creator_membership(ServiceToken.objects.filter(org=org), org).order_by("-created_at", "-pk")


def service_token_get(*, org: Organization, token_id) -> ServiceToken | None:
    return ServiceToken.objects.filter(org=org, pk=token_id).first()


def audit_event_list(*, org: Organization, event: str | None = None, since=None, until=None,
                     actor: str | None = None) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.filter(org=org)
    if event:
        qs = qs.filter(event__startswith=event) if event.endswith(".") else qs.filter(event=event)
    if since:
        qs = qs.filter(created_at__gte=since)
    if until:
        qs = qs.filter(created_at__lt=until)
    if actor:
        qs = qs.filter(actor_label=actor.strip().lower())
    return qs.order_by("-created_at", "-pk")


def audit_event_batches(events: QuerySet[AuditEvent], *, size: int, fields: tuple):
    """`events` (audit_event_list's order: newest first) as lists of `fields` tuples of at
    most `size` rows, each list one query that starts where the last one ended (a keyset
    on (created_at, id), which the index orgs_audit_org_time serves in that order): memory
    and the cost of each query stay the same however many rows there are, and unlike
    OFFSET nothing is skipped or repeated when events are written meanwhile (they are
    newer than the first batch). `fields` (names or expressions, as values_list takes
    them) must end with "created_at", "id"."""
    assert fields[-2:] == ("created_at", "id"), fields
    page = events.values_list(*fields)
    last = None
    while True:
        batch = page if last is None else page.filter(
            # `created_at <= t` is the index's range; the OR steps past the rows already sent.
            Q(created_at__lt=last[0]) | Q(created_at=last[0], pk__lt=last[1]), created_at__lte=last[0])
        rows = list(batch[:size])
        if rows:
            yield rows
        if len(rows) < size:
            return
        last = rows[-1][-2:]
