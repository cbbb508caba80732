"""The pages of a setup link (/setup/<secret>/…), for a customer's IdP administrator who has
no account here: the SP values to paste, the IdP's configuration and certificates, domains,
"Test the connection" and, when the link allows it, Directory Sync with its token shown once.

Nothing else: the link never enables or disables SSO, never reaches members, roles, teams,
invitations or the audit log, and knows no organization page. Its "session" is the secret in
the URL; no account is signed in and no Django session is made (the forms' CSRF token is
Django's cookie). Every request is counted per client address before the secret is looked
up (setuplinks.limits); an unknown, expired or revoked link, or one whose organization's plan
lost SSO, answers the same plain 404. Caches are told to keep nothing, and browsers to send
the page's URL (the secret) to no other site: `Referrer-Policy: same-origin` on the pages, and
`no-referrer` on the redirect to the IdP. Not `no-referrer` on the pages: a browser then
sends `Origin: null` with their own forms' POSTs, which Django's CSRF check refuses (and on
https, where it then reads the Referer instead, finds none).

Shaped like sso.dashboard: one view per action at its own URL, the same forms (sso.forms,
scim.forms) and the same services, called with the link as the actor (actor None, the
audit log naming it by SetupLink.label). A POST's answer is the page itself, with what
happened: a redirect would need a message stored somewhere, and the token shown once
must be rendered in the answer anyway."""
from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config.errors import RateLimited, ServiceError
from scim import services as scim_services
from scim.forms import DirectoryEnableForm
from scim.selectors import directory_of
from sso import saml, services as sso_services, state
from sso.dashboard import refusal_status
from sso.forms import CertificateForm, DomainForm, FieldsForm, MetadataForm, MetadataURLForm
from sso.models import AttributePreset
from sso.selectors import sso_connection_of, verified_domains
from sso.views import start_flow

from .limits import setup_link_request_count
from .selectors import live_setup_link
from .services import setup_link_touch


def _private(response):
    if response.status_code in (301, 302, 303, 307, 308):
        response["Referrer-Policy"] = "no-referrer"  # away to the IdP: nothing of this URL goes with it
    else:
        response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def link_view(view):
    """A page or an action of the link whose secret is in the URL: counted, looked up, and
    called as `view(request, link, secret, **url arguments)`; 404 for no live link."""

    @wraps(view)
    @never_cache
    def wrapper(request, secret, **arguments):
        try:
            setup_link_request_count(request)
        except RateLimited as exc:
            response = render(request, "setuplinks/limited.html", {"retry_after": exc.retry_after}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return _private(response)
        link = live_setup_link(secret)
        if link is None:
            return _private(render(request, "404.html", status=404))
        setup_link_touch(link=link)
        return _private(view(request, link, secret, **arguments))

    return wrapper


def _render(request, link, secret, *, form=None, status: int = 200, notice: str = "", error: str = "",
            token: str = "", retry_after: int | None = None):
    """The link's page. `form`: that of the action just refused, shown next to its inputs
    (the template finds it under the action's URL name); `notice`/`error`: what the action
    did or why it was refused; `token`: the SCIM token, shown once."""
    org = link.org
    connection = sso_connection_of(org, with_certificates=True)
    directory = directory_of(org=org) if link.allow_directory_sync else None
    response = render(request, "setuplinks/setup.html", {
        "link": link,
        "secret": secret,
        "org": org,
        "connection": connection,
        "certificates": list(connection.certificates.all()) if connection else [],
        **saml.sp_values(org.slug),
        "idp_actions": {name: reverse(f"setuplinks:{name}", kwargs={"secret": secret})
                        for name in ("configure_url", "configure_metadata", "configure")},
        "presets": AttributePreset.choices,
        "domains": verified_domains(org=org),
        "sso_enabled": bool(connection and connection.is_enabled),
        "directory_enabled": bool(directory and directory.enabled),
        "scim_base_url": f"{settings.BASE_URL}/scim/v2/{org.slug}/",
        "last_test": link.last_test,
        "last_test_at": parse_datetime(link.last_test.get("at", "")) if link.last_test else None,
        "refused": {request.resolver_match.url_name: form} if form is not None else {},
        "notice": notice,
        "error": error,
        "token": token,
    }, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_GET
@link_view
def setup_page(request, link, secret):
    return _render(request, link, secret)


def _action(service, success, form_class=None):
    """The view of one action: a POST checked by `form_class`, then `service` called for the
    link's organization with the link as the actor, the form's arguments and the URL's."""

    @require_POST
    @link_view
    def view(request, link, secret, **arguments):
        form = form_class(request.POST, request.FILES) if form_class else None
        if form is not None and not form.is_valid():
            return _render(request, link, secret, form=form, status=400)
        try:
            result = service(org=link.org, actor=None, actor_label=link.label,
                             **(form.arguments() if form else {}), **arguments)
        except ServiceError as exc:
            return _render(request, link, secret, form=form, status=refusal_status(exc), error=exc.message,
                           retry_after=getattr(exc, "retry_after", None))
        return _render(request, link, secret, notice=success(result) if callable(success) else success)

    return view


configure = _action(sso_services.sso_configure, "Identity provider settings saved.", FieldsForm)
configure_metadata = _action(sso_services.sso_configure_from_metadata,
                             "Identity provider configured from its metadata.", MetadataForm)
configure_url = _action(sso_services.sso_configure_from_metadata_url,
                        "Identity provider configured from its metadata URL.", MetadataURLForm)
certificate_add = _action(sso_services.sso_certificate_add, "Certificate added.", CertificateForm)
certificate_remove = _action(sso_services.sso_certificate_remove,
                             lambda removed: "Certificate removed." if removed else "No such certificate.")
domain_add = _action(sso_services.domain_add,
                     lambda record: f"Add the TXT record “{record.txt_record}” to {record.domain}, then verify.",
                     DomainForm)
domain_verify = _action(sso_services.domain_verify, lambda record: f"{record.domain} is verified.")


@require_POST
@link_view
def test_connection(request, link, secret):
    """Start a test login through the IdP, as an administrator's (sso.dashboard.test_connection):
    the ACS shows what arrives, keeps it for this page, and signs nobody in."""
    connection = sso_connection_of(link.org)
    if connection is None:
        return _render(request, link, secret, status=400, error="Configure your identity provider first.")
    return start_flow(request, link.org, connection, next_url="/", purpose=state.Purpose.TEST,
                      setup_link_id=link.pk)


@require_POST
@link_view
def directory_sync_enable(request, link, secret):
    """DS2 through the link, when the administrator allowed it: the token is in this answer only."""
    if not link.allow_directory_sync:
        return render(request, "403.html", status=403)
    form = DirectoryEnableForm(request.POST)
    if not form.is_valid():
        return _render(request, link, secret, form=form, status=400)
    try:
        _, token = scim_services.directory_enable(org=link.org, actor=None, actor_label=link.label)
    except ServiceError as exc:
        return _render(request, link, secret, form=form, status=refusal_status(exc), error=exc.message)
    return _render(request, link, secret, token=token,
                   notice="Directory Sync is on. Paste the SCIM base URL and the token into your identity provider.")
