"""Settings › Authentication (/orgs/<org>/settings/authentication/): administrators
configure, preview, enable and disable SSO (E10); members may look.

Shaped like orgs.views: one view per action, each at its own URL (sso.dashboard_urls),
with a form for its input (sso.forms) and a service call. Most actions differ only in
those, so `_action` makes their views. Input of the wrong shape is shown next to its
form (400); a service's refusal as a message with its status; a success redirects back
to the page (POST/redirect/GET)."""
from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config.errors import ServiceError
from orgs.access import org_view
from orgs.selectors import member_get

from . import saml, services, state
from .forms import (
    CertificateForm,
    DomainForm,
    EnableForm,
    FieldsForm,
    MetadataForm,
    MetadataURLForm,
    RoleManagementForm,
    SessionLifetimeForm,
)
from .models import AttributePreset, SSOConnection
from .policy import directory_sync_enabled
from .selectors import enable_preview, enforcement_summary, sso_connection_of, verified_domains
from .views import start_flow


def refusal_status(exc: ServiceError) -> int:
    """A refused action answers the page with the refusal's status; NotFound (nothing to
    change yet, such as no connection) is a 400: the page itself exists."""
    return 400 if exc.status == 404 else exc.status


def _render(request, *, form=None, status: int = 200, retry_after: int | None = None):
    """The page. `form` is that of the action just refused, shown next to its inputs: the
    template finds it under the action's URL name. `retry_after`: a refusal past a limit
    (config.errors.RateLimited) says when to try again."""
    org = request.org
    connection = sso_connection_of(org, with_certificates=True)
    response = render(request, "sso/authentication.html", {
        "org": org,
        "connection": connection,
        "certificates": list(connection.certificates.all()) if connection else [],
        **saml.sp_values(org.slug),
        "idp_actions": {name: reverse(f"sso_dashboard:{name}", kwargs={"org_slug": org.slug})
                        for name in ("configure_url", "configure_metadata", "configure")},
        "enforcement": enforcement_summary(org=org, connection=connection) if connection else None,
        "lifetime_hours": services.SESSION_LIFETIME_HOURS,
        "presets": AttributePreset.choices,
        "domains": verified_domains(org=org),
        "preview": enable_preview(org=org) if connection and not connection.is_enabled else None,
        "is_admin": request.membership.is_admin,
        "removal_running": bool(connection and connection.removal_status == SSOConnection.RemovalStatus.RUNNING),
        "directory_sync_enabled": directory_sync_enabled(org),
        "refused": {request.resolver_match.url_name: form} if form is not None else {},
    }, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _action(service, success, form_class=None):
    """The view of one action: an administrator's POST, checked by `form_class`, then
    `service` called for the organization with the form's arguments and the URL's (an
    item's id). `success` is the message, or makes it from what the service returned."""

    @org_view(admin=True)
    @require_POST
    def view(request, **arguments):
        form = form_class(request.POST, request.FILES) if form_class else None
        if form is not None and not form.is_valid():
            return _render(request, form=form, status=400)
        try:
            result = service(org=request.org, actor=request.user, **(form.arguments() if form else {}),
                             **arguments)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return _render(request, form=form, status=refusal_status(exc),
                           retry_after=getattr(exc, "retry_after", None))
        messages.success(request, success(result) if callable(success) else success)
        return redirect("sso_dashboard:authentication", org_slug=request.org.slug)

    return view


def _role_management_saved(connection: SSOConnection) -> str:
    if connection.manage_roles_via_idp:
        return (f"Roles now follow your identity provider: the attribute “{connection.role_attribute}” at each "
                "sign-in and directory change.")
    return "Roles are managed here; your identity provider's role attribute is not read."


def _lifetime_saved(connection: SSOConnection) -> str:
    hours = connection.session_lifetime // timedelta(hours=1)
    return f"SSO sessions now last {hours} hour{'s' if hours != 1 else ''}."


@org_view()
@require_GET
def authentication(request):
    return _render(request)


configure = _action(services.sso_configure, "Identity provider settings saved.", FieldsForm)
configure_metadata = _action(services.sso_configure_from_metadata, "Identity provider configured from its metadata.",
                             MetadataForm)
configure_url = _action(services.sso_configure_from_metadata_url,
                        "Identity provider configured from its metadata URL.", MetadataURLForm)
certificate_add = _action(services.sso_certificate_add, "Certificate added.", CertificateForm)
certificate_remove = _action(services.sso_certificate_remove, "Certificate removed.")
session_lifetime = _action(services.sso_configure, _lifetime_saved, SessionLifetimeForm)
role_management = _action(services.sso_set_role_management, _role_management_saved, RoleManagementForm)
enable = _action(services.sso_enable, "Single sign-on is enabled. Non-admin members are being removed.", EnableForm)
disable = _action(services.sso_disable, "Single sign-on is disabled. Everyone signs in with a password again.")
domain_add = _action(services.domain_add,
                     lambda record: f"Add the TXT record “{record.txt_record}” to {record.domain}, then verify.",
                     DomainForm)
domain_verify = _action(services.domain_verify, lambda record: f"{record.domain} is verified.")
domain_remove = _action(services.domain_remove, "Domain removed.")


@org_view(admin=True)
@require_GET
def test_connection(request):
    """Start a test login (issue item 7): the ACS shows what arrives and changes nothing."""
    connection = sso_connection_of(request.org)
    if connection is None:
        messages.error(request, "Configure your identity provider first.")
        return redirect("sso_dashboard:authentication", org_slug=request.org.slug)
    return start_flow(request, request.org, connection, next_url="/", purpose=state.Purpose.TEST)


@org_view(admin=True)
@require_POST
def identity_unlink(request, membership_id: int):
    """E15: an administrator unlinks a member's IdP identity (Settings › Members)."""
    membership = member_get(org=request.org, membership_id=membership_id)
    if membership is None:
        raise Http404("No such member.")
    if services.sso_identity_unlink(org=request.org, actor=request.user, membership=membership):
        messages.success(request, f"Unlinked {membership.user.email}'s identity at the identity provider: their next "
                                  "sign-in through it links the identity it presents.")
    else:
        messages.info(request, f"{membership.user.email} had no linked identity.")
    page = request.POST.get("page", "")
    members = reverse("orgs:members", kwargs={"org_slug": request.org.slug})
    return redirect(members + (f"?page={page}" if page.isdigit() else ""))
