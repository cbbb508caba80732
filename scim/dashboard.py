"""Settings › Directory Sync (/orgs/<org>/settings/directory-sync/), administrators only.

Shaped like orgs.views: one view per action (scim.dashboard_urls), a form for its input
(scim.forms), a service call; input of the wrong shape is shown next to its form (400), a
service's refusal as a message with its status. The page's own POST enables Directory
Sync, as orgs' service-token page creates a token: the bearer token is rendered in the
answer to that POST (and to a rotation) and stored nowhere it could be shown again."""
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import ServiceError
from orgs.access import org_view
from sso.dashboard import refusal_status
from sso.selectors import sso_is_enabled
from teams.selectors import team_count

from . import request_log, services
from .forms import DirectoryEnableForm
from .selectors import directory_of, email_changes_pending, role_management


def _render(request, *, form=None, status: int = 200, **secret):
    """The page; `form` as in sso.dashboard, `secret` and `secret_label` a token shown once."""
    org = request.org
    directory = directory_of(org=org)
    return render(request, "scim/directory_sync.html", {
        "directory": directory,
        "enabled": bool(directory and directory.enabled),
        "sso_enabled": sso_is_enabled(org),
        "scim_base_url": f"{settings.BASE_URL}/scim/v2/{org.slug}/",
        "requests": request_log.recent(org_id=org.pk, limit=50) if directory else [],
        "team_count": team_count(org=org),
        # DS4's switch is in Settings › Authentication; the page says where, and its state.
        "role_management": role_management(org=org),
        # Email changes from the IdP that did not reach the account (scim.idp.follow_email).
        "needs_attention": list(email_changes_pending(org=org)[:200]) if directory else [],
        "refused": {request.resolver_match.url_name: form} if form is not None else {},
        **secret,
    }, status=status)


def _refused(request, exc: ServiceError, form=None):
    messages.error(request, exc.message)
    return _render(request, form=form, status=refusal_status(exc))


def _back(request):
    return redirect("scim_dashboard:directory_sync", org_slug=request.org.slug)


@org_view(admin=True)
@require_http_methods(["GET", "POST"])
def directory_sync(request):
    """The page; its POST enables Directory Sync (DS2; DS5: the organization's teams are deleted)."""
    if request.method == "GET":
        return _render(request)
    form = DirectoryEnableForm(request.POST)
    if not form.is_valid():
        return _render(request, form=form, status=400)
    try:
        _, secret = services.directory_enable(org=request.org, actor=request.user)
    except ServiceError as exc:
        return _refused(request, exc, form)
    return _render(request, secret=secret, secret_label="SCIM bearer token")


@org_view(admin=True)
@require_POST
def rotate_token(request):
    try:
        secret = services.directory_rotate_token(org=request.org, actor=request.user)
    except ServiceError as exc:
        return _refused(request, exc)
    return _render(request, secret=secret, secret_label="New SCIM bearer token")


@org_view(admin=True)
@require_POST
def disable(request):
    services.directory_disable(org=request.org, actor=request.user)
    messages.success(request, "Directory Sync is off. Members and teams stay and can be edited here again.")
    return _back(request)
