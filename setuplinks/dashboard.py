"""Settings › Authentication › Setup links (/orgs/<org>/settings/authentication/setup-links/):
administrators list, create and revoke the links they give an IdP administrator.

Shaped like sso.dashboard_group_rules: one view per action at its own URL, a form
(setuplinks.forms) and a service call. A new link's URL is rendered in the answer to the
POST that made it, once, like a service token."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.errors import ServiceError
from orgs.access import org_view
from sso.dashboard import refusal_status

from . import services
from .forms import LIFETIME_HOURS_DEFAULT, SetupLinkForm
from .selectors import setup_link_get, setup_links_of


def _render(request, *, form=None, status: int = 200, created_url: str = ""):
    org = request.org
    return render(request, "setuplinks/setup_links.html", {
        "org": org,
        "links": list(setup_links_of(org=org)[:200]),
        "form": form,
        "lifetime_hours": form.data.get("lifetime_hours", LIFETIME_HOURS_DEFAULT) if form is not None
        else LIFETIME_HOURS_DEFAULT,
        "created_url": created_url,
    }, status=status)


@org_view(admin=True)
@require_GET
def setup_links_page(request):
    return _render(request)


@org_view(admin=True)
@require_POST
def setup_link_create(request):
    form = SetupLinkForm(request.POST)
    if not form.is_valid():
        return _render(request, form=form, status=400)
    try:
        _, secret = services.setup_link_create(org=request.org, actor=request.user, **form.arguments())
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render(request, form=form, status=refusal_status(exc))
    return _render(request, created_url=services.setup_link_url(secret))


@org_view(admin=True)
@require_POST
def setup_link_revoke(request, link_id: int):
    if setup_link_get(org=request.org, link_id=link_id) is None:
        raise Http404("No such setup link.")
    try:
        link = services.setup_link_revoke(org=request.org, actor=request.user, link_id=link_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render(request, status=refusal_status(exc))
    messages.success(request, f"{link.label} is revoked: it no longer opens anything.")
    return redirect("setuplinks_dashboard:setup_links", org_slug=request.org.slug)
