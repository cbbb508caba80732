"""Dashboard pages for an organization's settings.

Thin HTTP edge: `org_view` resolves the organization from the URL (404 for
non-members, 403 for a member on an administrator's page), forms check the
shape of input, services do the work. A ServiceError is shown on the page
with its status (4xx) and nothing changes; a success redirects (POST/redirect/GET).
One-time secrets are rendered in the response to the POST that created them
and never stored anywhere they could be shown again.

Rule ids: docs/rules.md.
"""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ServiceError

from . import policy
from .access import org_view
from .audit_export import export_response
from .forms import (
    AuditExportForm,
    AuditFilterForm,
    DatabaseAdminForm,
    DatabaseForm,
    DatabasePasswordForm,
    InvitationForm,
    OrganizationForm,
    RoleForm,
    ServiceTokenForm,
)
from .models import Membership, Plan
from .policy import invitation_block_reason
from .selectors import (
    audit_event_list,
    database_get,
    database_list,
    database_password_get,
    database_password_list,
    invitation_get,
    invitation_list,
    member_get,
    members_by_account,
    organizations_of,
    service_token_get,
    service_token_list,
)
from .services import (
    InvitationInvalid,
    database_create,
    database_delete,
    database_password_create,
    database_password_revoke,
    invitation_accept,
    invitation_create,
    invitation_lookup,
    invitation_resend,
    invitation_revoke,
    membership_change_role,
    membership_leave,
    membership_remove,
    membership_set_database_admin,
    organization_create,
    service_token_create,
    service_token_revoke,
)


def paginate(request, queryset, *, source=None):
    """One page of `queryset` (settings.PAGE_SIZE); a bad page number gives the nearest page."""
    number = (source if source is not None else request.GET).get("page")
    return Paginator(queryset, settings.PAGE_SIZE).get_page(number)


def _back(request, url_name: str, **kwargs):
    """Redirect to a list page, keeping the page the form was posted from."""
    url = reverse(url_name, kwargs={"org_slug": request.org.slug, **kwargs})
    page = request.POST.get("page", "")
    if page.isdigit() and page != "1":
        url += "?" + urlencode({"page": page})
    return redirect(url)


def _can_revoke(request, credential) -> bool:
    """Administrators revoke any credential; anyone their own."""
    return request.membership.is_admin or credential.created_by_id == request.user.pk


# Home and organizations ------------------------------------------------------


@login_required
def home(request):
    """The caller's organizations; straight into the last one used when it is still theirs."""
    orgs = list(organizations_of(request.user))
    last = request.session.get("current_org")
    if last and any(org.slug == last for org in orgs) and not request.GET.get("switch"):
        return redirect("orgs:members", org_slug=last)
    return render(request, "orgs/home.html", {"orgs": orgs})


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request):
    form = OrganizationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                org = organization_create(slug=form.cleaned_data["slug"], name=form.cleaned_data["name"],
                                          creator=request.user)
            except ServiceError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, f"Created {org.name}.")
                return redirect("orgs:members", org_slug=org.slug)
    return render(request, "orgs/new.html", {"form": form}, status=status)


@org_view()
def organization_index(request):
    return redirect("orgs:members", org_slug=request.org.slug)


# Members ---------------------------------------------------------------------


def _render_members(request, *, status: int = 200):
    org = request.org
    query = (request.GET.get("q") or "").strip()[:254]
    page = paginate(request, members_by_account(org=org, email_prefix=query),
                    source=request.POST if request.method == "POST" else None)
    memberships = list(page.object_list)
    details = policy.member_details(org, memberships)  # teams, SSO identity, … (each app's, one query)
    rows = [{"membership": m, **details.get(m.pk, {})} for m in memberships]
    return render(request, "orgs/members.html", {
        "page": page,
        "rows": rows,
        "query": query,
        # Short labels keep the table narrow; the page header explains the roles.
        "roles": [(Membership.Role.ADMIN, "Administrator"), (Membership.Role.MEMBER, "Member")],
        "is_admin": request.membership.is_admin,
        # Row actions are built from this prefix (members/<id>/role/ …): reversing
        # three URLs per row was a third of the page's rendering time.
        "members_url": reverse("orgs:members", kwargs={"org_slug": org.slug}),
        # Plain values for the row loop: `user` is a lazy object and numbers are localized,
        # both costly fifty times over.
        "me_id": request.user.pk,
        "page_number": str(page.number),
        "org_name": org.name,
    }, status=status)


def _member_action(request, membership_id, action, success: str):
    membership = member_get(org=request.org, membership_id=membership_id)
    if membership is None:
        raise Http404("No such member.")
    try:
        action(membership)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render_members(request, status=exc.status)
    messages.success(request, success.format(email=membership.user.email))
    return _back(request, "orgs:members")


@org_view()
def members(request):
    return _render_members(request)


@org_view()
@require_GET
def member_detail(request, membership_id: int):
    """One member's page: role, Database Administrator grant, teams, and what other apps
    know of them (member_details, as on the list; member_page_details, read for this page
    only: what the IdP last sent, the directory's resource), so an administrator can see
    why a role or grant is what it is. Members may look."""
    org = request.org
    membership = member_get(org=org, membership_id=membership_id)
    if membership is None:
        raise Http404("No such member.")
    return render(request, "orgs/member.html", {
        "m": membership,
        "row": policy.member_details(org, [membership]).get(membership.pk, {}),
        "page": policy.member_page_details(org, membership),
        "is_admin": request.membership.is_admin,
        "me_id": request.user.pk,
    })


@org_view(admin=True)
@require_POST
def member_role(request, membership_id: int):
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: Organization Administrator or Organization Member.")
        return _render_members(request, status=400)
    role = form.cleaned_data["role"]
    return _member_action(
        request, membership_id,
        lambda m: membership_change_role(org=request.org, membership=m, role=role, actor=request.user),
        f"{{email}} is now {Membership.Role(role).label}.",
    )


@org_view(admin=True)
@require_POST
def member_database_admin(request, membership_id: int):
    form = DatabaseAdminForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say whether to grant or revoke Database Administrator.")
        return _render_members(request, status=400)
    value = form.cleaned_data["value"]
    return _member_action(
        request, membership_id,
        lambda m: membership_set_database_admin(org=request.org, membership=m, value=value, actor=request.user),
        "{email} is now a Database Administrator." if value else "{email} is no longer a Database Administrator.",
    )


@org_view(admin=True)
@require_POST
def member_remove(request, membership_id: int):
    if str(request.membership.pk) == str(membership_id):
        messages.error(request, "Use “Leave organization” to remove yourself.")
        return _render_members(request, status=400)
    return _member_action(
        request, membership_id,
        lambda m: membership_remove(org=request.org, membership=m, actor=request.user),
        "Removed {email} from the organization. Credentials they created stay active.",
    )


@org_view()
@require_POST
def member_leave(request):
    org = request.org
    try:
        membership_leave(org=org, user=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render_members(request, status=exc.status)
    request.session.pop("current_org", None)
    messages.success(request, f"You left {org.name}.")
    return redirect(reverse("orgs:home") + "?switch=1")


# Invitations -----------------------------------------------------------------


def _render_invitations(request, *, form=None, status: int = 200):
    org = request.org
    blocked = invitation_block_reason(org)
    if form is None and request.membership.is_admin and not blocked:
        form = InvitationForm()
    page = paginate(request, invitation_list(org=org))
    return render(request, "orgs/invitations.html", {
        "page": page,
        "form": form if not blocked else None,
        "blocked": blocked,
        "is_admin": request.membership.is_admin,
    }, status=status)


@org_view()
@require_http_methods(["GET", "POST"])
def invitations(request):
    if request.method == "GET":
        return _render_invitations(request)
    if not request.membership.is_admin:
        raise PermissionDenied("Only organization administrators can invite people.")
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _render_invitations(request, form=form, status=400)
    try:
        invitation, _token = invitation_create(org=request.org, email=form.cleaned_data["email"],
                                               role=form.cleaned_data["role"], actor=request.user)
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _render_invitations(request, form=form, status=exc.status)
    messages.success(request, f"Invitation sent to {invitation.email}.")
    return redirect("orgs:invitations", org_slug=request.org.slug)


def _invitation_action(request, invitation_id, action, success: str):
    invitation = invitation_get(org=request.org, invitation_id=invitation_id)
    if invitation is None:
        raise Http404("No such invitation.")
    try:
        action(invitation)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render_invitations(request, status=exc.status)
    messages.success(request, success.format(email=invitation.email))
    return _back(request, "orgs:invitations")


@org_view(admin=True)
@require_POST
def invitation_revoke_view(request, invitation_id: int):
    return _invitation_action(
        request, invitation_id,
        lambda i: invitation_revoke(org=request.org, invitation=i, actor=request.user),
        "Revoked the invitation for {email}.",
    )


@org_view(admin=True)
@require_POST
def invitation_resend_view(request, invitation_id: int):
    return _invitation_action(
        request, invitation_id,
        lambda i: invitation_resend(org=request.org, invitation=i, actor=request.user),
        "Sent a new invitation link to {email}; the previous link no longer works.",
    )


def _invitation_error(request, exc: ServiceError, status: int, invitation=None):
    return render(request, "orgs/invitation_error.html", {"message": exc.message, "code": exc.code,
                                                          "invitation": invitation}, status=status)


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, token: str):
    """The link in the invitation email. Anyone holding it sees which organization it is for;
    accepting needs the invited account (sign in or sign up, then come back here)."""
    try:
        invitation = invitation_lookup(token)
    except InvitationInvalid as exc:
        return _invitation_error(request, exc, 404 if exc.code == InvitationInvalid.code else 400)
    here = reverse("orgs:invitation_accept", kwargs={"token": token})
    user = request.user
    mismatch = user.is_authenticated and user.email != invitation.email.strip().lower()
    # E14: the invited account accepts once its address is verified; the page offers the link.
    unverified = user.is_authenticated and not mismatch and user.email_verified_at is None
    if request.method == "POST":
        if not user.is_authenticated:
            return redirect(reverse("accounts:login") + "?" + urlencode({"next": here}))
        try:
            membership = invitation_accept(token=token, user=user)
        except InvitationInvalid as exc:
            return _invitation_error(request, exc, 400)
        except ServiceError as exc:
            if exc.code != "email_unverified":
                return _invitation_error(request, exc, exc.status, invitation)
        else:
            request.session["current_org"] = membership.org.slug
            messages.success(request, f"Welcome to {membership.org.name}.")
            return redirect("orgs:members", org_slug=membership.org.slug)
    from accounts.models import User

    return render(request, "orgs/invitation_accept.html", {
        "invitation": invitation,
        "mismatch": mismatch,
        "unverified": unverified,
        "next_query": urlencode({"next": here}),
        "account_exists": (not user.is_authenticated
                           and User.objects.filter(email=invitation.email.strip().lower()).exists()),
    }, status=403 if mismatch or (unverified and request.method == "POST") else 200)


# Databases and passwords -----------------------------------------------------


def _render_databases(request, *, form=None, status: int = 200):
    page = paginate(request, database_list(org=request.org))
    return render(request, "orgs/databases.html", {"page": page, "form": form or DatabaseForm()},
                  status=status)


@org_view()
@require_http_methods(["GET", "POST"])
def databases(request):
    if request.method == "GET":
        return _render_databases(request)
    form = DatabaseForm(request.POST)
    if not form.is_valid():
        return _render_databases(request, form=form, status=400)
    try:
        database = database_create(org=request.org, name=form.cleaned_data["name"], actor=request.user)
    except ServiceError as exc:
        form.add_error("name" if exc.code in ("name_taken", "invalid_name") else None, exc.message)
        return _render_databases(request, form=form, status=exc.status)
    messages.success(request, f"Created the database {database.name}.")
    return redirect("orgs:database", org_slug=request.org.slug, name=database.name)


def _database_or_404(request, name):
    database = database_get(org=request.org, name=name)
    if database is None:
        raise Http404("No such database.")
    return database


def _render_database(request, database, *, form=None, secret=None, created=None, status: int = 200):
    page = paginate(request, database_password_list(org=request.org, database=database))
    return render(request, "orgs/database.html", {
        "database": database,
        "page": page,
        "form": form or DatabasePasswordForm(),
        "secret": secret,
        "created": created,
        "is_admin": request.membership.is_admin,
    }, status=status)


@org_view()
@require_http_methods(["GET", "POST"])
def database_detail(request, name: str):
    database = _database_or_404(request, name)
    if request.method == "GET":
        return _render_database(request, database)
    form = DatabasePasswordForm(request.POST)
    if not form.is_valid():
        return _render_database(request, database, form=form, status=400)
    try:
        password, secret = database_password_create(org=request.org, database=database,
                                                    name=form.cleaned_data["name"],
                                                    access=form.cleaned_data["access"], actor=request.user)
    except ServiceError as exc:
        form.add_error("name" if exc.code == "name_taken" else None, exc.message)
        return _render_database(request, database, form=form, status=exc.status)
    return _render_database(request, database, secret=secret, created=password)


@org_view()
@require_POST
def database_password_revoke_view(request, name: str, password_id: int):
    database = _database_or_404(request, name)
    password = database_password_get(org=request.org, database=database, password_id=password_id)
    if password is None:
        raise Http404("No such password.")
    if not _can_revoke(request, password):
        raise PermissionDenied("Only an administrator or the password's creator can revoke it.")
    database_password_revoke(org=request.org, password=password, actor=request.user)
    messages.success(request, f"Revoked the password {password.name}.")
    return _back(request, "orgs:database", name=database.name)


@org_view(admin=True)
@require_POST
def database_delete_view(request, name: str):
    database = _database_or_404(request, name)
    database_delete(org=request.org, database=database, actor=request.user)
    messages.success(request, f"Deleted the database {database.name} and its passwords.")
    return redirect("orgs:databases", org_slug=request.org.slug)


# Service tokens --------------------------------------------------------------


def _render_tokens(request, *, form=None, secret=None, created=None, status: int = 200):
    page = paginate(request, service_token_list(org=request.org))
    return render(request, "orgs/service_tokens.html", {
        "page": page,
        "form": form or ServiceTokenForm(),
        "secret": secret,
        "created": created,
        "is_admin": request.membership.is_admin,
        "api_url": f"{settings.BASE_URL}/api/v1/",
    }, status=status)


@org_view()
@require_http_methods(["GET", "POST"])
def service_tokens(request):
    if request.method == "GET":
        return _render_tokens(request)
    form = ServiceTokenForm(request.POST)
    if not form.is_valid():
        return _render_tokens(request, form=form, status=400)
    try:
        token, secret = service_token_create(org=request.org, name=form.cleaned_data["name"], actor=request.user)
    except ServiceError as exc:
        form.add_error("name" if exc.code == "name_taken" else None, exc.message)
        return _render_tokens(request, form=form, status=exc.status)
    return _render_tokens(request, secret=secret, created=token)


@org_view()
@require_POST
def service_token_revoke_view(request, token_id: int):
    token = service_token_get(org=request.org, token_id=token_id)
    if token is None:
        raise Http404("No such service token.")
    if not _can_revoke(request, token):
        raise PermissionDenied("Only an administrator or the token's creator can revoke it.")
    service_token_revoke(org=request.org, token=token, actor=request.user)
    messages.success(request, f"Revoked the service token {token.name}.")
    return _back(request, "orgs:service_tokens")


# Audit log and plan ----------------------------------------------------------


@org_view(admin=True)
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _audit_log_refused(request, form)
    filters = form.filters() if form.is_bound else {}
    page = paginate(request, audit_event_list(org=request.org, **filters))
    for event in page.object_list:
        event.changes = _audit_changes(event.old, event.new)
    # The export links carry the filter shown, not the page number.
    shown = request.GET.copy()
    shown.pop("page", None)
    return render(request, "orgs/audit_log.html", {"form": form, "page": page, "filter_query": shown.urlencode()})


@org_view(admin=True)
@require_GET
def audit_log_export(request):
    """The audit log as the page filters it, as a CSV or NDJSON download (orgs.audit_export)."""
    form = AuditExportForm(request.GET)
    if not form.is_valid():
        return _audit_log_refused(request, form)
    return export_response(org=request.org, actor=request.user, fmt=form.cleaned_data["format"],
                           filters=form.filters())


def _audit_log_refused(request, form):
    """The audit log page with the form's errors, and no events (400)."""
    return render(request, "orgs/audit_log.html", {"form": form, "page": None}, status=400)


def _audit_value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _audit_changes(old, new) -> list[dict]:
    """An event's old → new as rows of (field, old, new), readable in a table cell."""
    old = old if isinstance(old, dict) else ({"value": old} if old is not None else {})
    new = new if isinstance(new, dict) else ({"value": new} if new is not None else {})
    rows = []
    for key in list(old) + [k for k in new if k not in old]:
        rows.append({
            "field": key.replace("_", " "),
            "old": _audit_value(old[key]) if key in old else None,
            "new": _audit_value(new[key]) if key in new else None,
        })
    return rows


@org_view()
def plan(request):
    return render(request, "orgs/plan.html", {"plans": Plan.choices})
