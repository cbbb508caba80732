"""Settings › Authentication: administrators configure, preview, enable and
disable SSO (E10); members may look. One page, one POST endpoint per action."""
from datetime import timedelta

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.http import Http404
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import ServiceError
from orgs.access import org_view
from orgs.selectors import member_get

from . import saml, services
from .models import AttributePreset, SSOConnection
from .selectors import enable_preview, enforcement_summary, verified_domains

ACTIONS = {
    "configure", "configure_metadata", "configure_url", "add_certificate", "remove_certificate", "enable",
    "disable", "add_domain", "verify_domain", "remove_domain", "session_lifetime",
}


def _bool(value) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


def _mapping_kwargs(post) -> dict:
    kwargs = {}
    if post.get("attribute_preset"):
        kwargs["attribute_preset"] = post["attribute_preset"]
    if post.get("attribute_preset") == AttributePreset.CUSTOM:
        for name in ("email_attribute", "first_name_attribute", "last_name_attribute"):
            if name in post:
                kwargs[name] = post[name]
    if "allow_idp_initiated_present" in post:
        kwargs["allow_idp_initiated"] = _bool(post.get("allow_idp_initiated"))
    if "subject_attribute" in post:
        kwargs["subject_attribute"] = post["subject_attribute"]
    return kwargs


def _perform(request, action: str):
    org, actor, post = request.org, request.user, request.POST
    if action == "configure":
        certificates = [pem for pem in (post.get("certificate", ""), post.get("certificate_2", "")) if pem.strip()]
        services.sso_configure(org=org, actor=actor, idp_entity_id=post.get("idp_entity_id", ""),
                               idp_sso_url=post.get("idp_sso_url", ""), idp_slo_url=post.get("idp_slo_url", ""),
                               certificates=certificates or None, **_mapping_kwargs(post))
        return "Identity provider settings saved."
    if action == "configure_metadata":
        upload = request.FILES.get("metadata_file")
        xml = post.get("metadata_xml", "")
        if upload is not None:
            if upload.size > 1024 * 1024:
                raise ServiceError("The metadata file is larger than 1 MiB.", code="invalid_metadata")
            try:
                xml = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ServiceError("The metadata file is not UTF-8 XML.", code="invalid_metadata") from None
        services.sso_configure_from_metadata(org=org, actor=actor, xml=xml, **_mapping_kwargs(post))
        return "Identity provider configured from its metadata."
    if action == "configure_url":
        services.sso_configure_from_metadata_url(org=org, actor=actor, url=post.get("metadata_url", ""),
                                                 **_mapping_kwargs(post))
        return "Identity provider configured from its metadata URL."
    if action == "add_certificate":
        services.sso_certificate_add(org=org, actor=actor, pem=post.get("certificate", ""))
        return "Certificate added."
    if action == "remove_certificate":
        services.sso_certificate_remove(org=org, actor=actor, certificate_id=_int(post.get("certificate_id")))
        return "Certificate removed."
    if action == "enable":
        if not _bool(post.get("confirm")):
            raise ServiceError("Tick the confirmation box: enabling removes every non-admin member.",
                               code="confirmation_required")
        services.sso_enable(org=org, actor=actor)
        return "Single sign-on is enabled. Non-admin members are being removed."
    if action == "disable":
        services.sso_disable(org=org, actor=actor)
        return "Single sign-on is disabled. Everyone signs in with a password again."
    if action == "session_lifetime":
        hours = _hours(post.get("session_lifetime_hours"))
        services.sso_configure(org=org, actor=actor, session_lifetime=timedelta(hours=hours))
        return f"SSO sessions now last {hours} hour{'s' if hours != 1 else ''}."
    if action == "add_domain":
        record = services.domain_add(org=org, actor=actor, domain=post.get("domain", ""))
        return f"Add the TXT record “{record.txt_record}” to {record.domain}, then verify."
    if action == "verify_domain":
        record = services.domain_verify(org=org, actor=actor, domain_id=_int(post.get("domain_id")))
        return f"{record.domain} is verified."
    if action == "remove_domain":
        services.domain_remove(org=org, actor=actor, domain_id=_int(post.get("domain_id")))
        return "Domain removed."
    raise ServiceError("Unknown action.", code="invalid_action")


def _hours(value) -> int:
    """Whole hours within E13's bounds (checked before timedelta, which overflows on huge numbers)."""
    bounds = services.SESSION_LIFETIME_HOURS
    try:
        hours = int(value)
    except (TypeError, ValueError):
        hours = None
    if hours not in bounds:
        raise ServiceError(f"Give the SSO session lifetime in whole hours, {bounds[0]} to {bounds[-1]}.",
                           code="invalid_session_lifetime")
    return hours


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ServiceError("Unknown item.", code="invalid") from None


@org_view()
@require_http_methods(["GET", "POST"])
def authentication(request):
    org = request.org
    status, retry_after = 200, None
    if request.method == "POST":
        if not request.membership.is_admin:
            raise PermissionDenied("Only organization administrators can change single sign-on (E10).")
        action = request.POST.get("action", "")
        try:
            if action not in ACTIONS:
                raise ServiceError("Unknown action.", code="invalid_action")
            messages.success(request, _perform(request, action))
            return redirect(request.path)
        except ServiceError as exc:
            messages.error(request, exc.message)
            status = exc.status if exc.status != 404 else 400
            retry_after = getattr(exc, "retry_after", None)  # config.errors.RateLimited
    connection = SSOConnection.objects.filter(org=org).prefetch_related("certificates").first()
    context = {
        "org": org,
        "connection": connection,
        "certificates": list(connection.certificates.all()) if connection else [],
        "sp_entity_id": saml.sp_entity_id(org.slug),
        "acs_url": saml.acs_url(org.slug),
        "metadata_url": saml.sp_entity_id(org.slug),
        "login_url": f"{saml.acs_url(org.slug).rsplit('/acs/', 1)[0]}/login/",
        "sls_url": saml.sls_url(org.slug),
        "enforcement": enforcement_summary(org=org, connection=connection) if connection else None,
        "lifetime_hours": services.SESSION_LIFETIME_HOURS,
        "presets": AttributePreset.choices,
        "domains": verified_domains(org=org),
        "preview": enable_preview(org=org) if connection and not connection.is_enabled else None,
        "is_admin": request.membership.is_admin,
        "removal_running": bool(connection and connection.removal_status == SSOConnection.RemovalStatus.RUNNING),
        "directory_sync_enabled": _directory_sync_enabled(org),
    }
    response = render(request, "sso/authentication.html", context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _directory_sync_enabled(org) -> bool | None:
    """For the Directory Sync card (DS2); None when the scim app is not installed.
    Read through the app registry: scim builds on sso, not the other way round."""
    if not apps.is_installed("scim"):
        return None
    return apps.get_model("scim", "Directory").objects.filter(org=org, enabled=True).exists()


@org_view(admin=True)
@require_http_methods(["GET"])
def test_connection(request):
    """Start a test login (issue item 7): the ACS shows what arrives and changes nothing."""
    from .views import _start_flow

    connection = SSOConnection.objects.filter(org=request.org).first()
    if connection is None:
        messages.error(request, "Configure your identity provider first.")
        return redirect(f"/orgs/{request.org.slug}/settings/authentication/")
    return _start_flow(request, request.org, connection, next_url="/", purpose="test")


@org_view(admin=True)
@require_POST
def identity_unlink(request, membership_id):
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
    return redirect(f"/orgs/{request.org.slug}/settings/members/" + (f"?page={page}" if page.isdigit() else ""))
