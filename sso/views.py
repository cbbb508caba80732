"""The public SAML endpoints (§3): /sso/, login, ACS, metadata, link
confirmation. Thin: validation in sso.saml, state changes in sso.services.

Rule ids: docs/rules.md."""
import logging
import secrets
from dataclasses import dataclass

from django.contrib.auth import login
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import normalize_email
from accounts.views import safe_relative_path
from config.errors import ServiceError
from orgs.models import Organization
from orgs.selectors import admin_get, member_by_email

from . import limits, saml, selectors, services, sessions, state
from .identity import UnknownRole
from .models import SSOConnection
from .policy import setup_link_tester
from .signals import connection_tested

log = logging.getLogger(__name__)
BACKEND = "accounts.backends.IdentityProviderBackend"

GENERIC_FAILURE = "We could not sign you in with single sign-on."
WHAT_TO_DO = ("Start again from your organization's sign-in page. If it keeps failing, tell your "
              "organization's administrator the time it happened: the exact reason is in the organization's "
              "audit log.")


@dataclass(frozen=True)
class Tester:
    """Who started a test of the connection: an administrator of the organization (`user`),
    or a setup link (`setup_link_id`; no account, the audit log names it by `label`)."""

    label: str
    user: object = None
    setup_link_id: int | None = None


def _error(request, *, status: int, title: str = GENERIC_FAILURE, detail: str = WHAT_TO_DO, org=None):
    response = render(request, "sso/error.html", {"title": title, "detail": detail, "org": org}, status=status)
    return response


def _record_rejection(request, org, code: str, reason: str, extra: dict | None = None) -> limits.Allowance:
    """The audit event of a refused ACS post, while this client and the organization are
    under their limits (§7); past them only the window's one note of it."""
    allowance = limits.rejection_allowance(request, org)
    if allowance.record:
        services.record_rejection(org=org, code=code, reason=reason, extra=extra)
    elif allowance.note is not None:
        services.record_rejections_suppressed(org=org, **allowance.note)
    return allowance


def _reject(request, org, connection, code: str, reason: str, *, status: int = 400, tester=None):
    """Refuse a response: the exact reason goes to the audit log. The browser sees a
    generic page, except an administrator's test login (issue item 7), which shows
    that same reason and what to change in the IdP. An organization without SSO keeps
    no record of posts to its ACS; anonymous posters past the rejection limit get 429.
    A test login is an administrator's, started here and used once: never limited."""
    if tester is None:
        if connection is not None:
            allowance = _record_rejection(request, org, code, reason)
            if not allowance.record:
                response = _error(request, status=429, title="Too many failed single sign-on attempts.",
                                  detail=f"Wait {allowance.retry_after} seconds, then start again from your "
                                         "organization's sign-in page.", org=org)
                response["Retry-After"] = str(allowance.retry_after)
                return response
        return _error(request, status=status, org=org)
    services.record_rejection(org=org, code=code, reason=reason,
                              extra={"purpose": state.Purpose.TEST, "tested_by": tester.label})
    failure = {"code": code, "reason": reason, "hints": _failure_hints(org, connection, code)}
    connection_tested.send(sender=SSOConnection, org=org, tester=tester, result={"ok": False, **failure})
    return render(request, "sso/test_result.html", {
        "org": org, "connection": connection, "failure": failure, "setup_link": tester.setup_link_id is not None,
    }, status=status)


def _failure_hints(org, connection, code: str) -> list[str]:
    """What to change in the IdP (or here) for a rejection code of sso.saml."""
    entity_id, acs_url = saml.sp_entity_id(org.slug), saml.acs_url(org.slug)
    if code in ("wrong_audience", "audience_missing"):
        return [f"In the IdP, set the Audience URI (SP entity ID, Identifier) to exactly {entity_id}"]
    if code in ("wrong_destination", "wrong_recipient", "recipient_missing", "subject_confirmation"):
        return [f"In the IdP, set the Single sign-on URL (ACS URL, Reply URL), used as Destination and Recipient, "
                f"to exactly {acs_url}"]
    if code in ("invalid_signature", "no_certificate"):
        configured = [c.sha256_fingerprint for c in connection.certificates.all()] if connection else []
        return ["Certificate mismatch: the response is not signed by any signing certificate configured here"
                + (f" (SHA-256 {', '.join(configured)})" if configured else "") + ".",
                "Download the IdP's current signing certificate and add it under Signing certificates; two may "
                "be active while the IdP rotates its key. If the IdP re-signs or transforms the assertion "
                "after signing, turn that off."]
    if code == "assertion_unsigned":
        return ["Configure the IdP to sign the assertion itself (Okta: “Assertion Signature: Signed”; "
                "Entra ID: “Sign SAML assertion”), not only the response."]
    if code == "sha1":
        return ["Set the IdP's signature algorithm to RSA-SHA256 and the digest to SHA-256; SHA-1 is refused."]
    if code in ("expired", "not_yet_valid"):
        return ["The assertion's validity window does not include this server's time: check the IdP's clock "
                "(clock skew) and that the browser posts the response straight away, not from a cached page."]
    if code == "wrong_issuer":
        return [f"The response's Issuer is not the IdP entity ID configured here ({connection.idp_entity_id}). "
                "Copy the IdP's entity ID (Issuer) from its metadata into the settings."]
    if code == "idp_status_not_success":
        return ["The IdP answered with an error status: check that the user is assigned to the application "
                "and look at the IdP's sign-in logs."]
    if code in ("unknown_in_response_to", "wrong_in_response_to", "replay"):
        return ["Start a new test from the Authentication page in this browser; a test login works once and "
                "the IdP must answer the request it was sent."]
    if code == "encrypted_assertion":
        return ["Turn off assertion encryption in the IdP; Gatehouse relies on the TLS connection instead."]
    if code in ("name_id_missing", "name_id_comment"):
        return ["Configure the IdP to send one NameID, format EmailAddress (the user's email)."]
    if code == "too_large":
        return ["Send fewer attributes or groups in the assertion."]
    return ["The response's structure was refused. Make sure the IdP sends one signed assertion directly in "
            "the Response, signed with RSA-SHA256 and exclusive canonicalization."]


def _tester(org, flow: dict | None) -> Tester | None:
    """For a test login's state: who started it — the administrator of `org`, or a setup link
    of `org` still live — or None (not a test; the administrator removed, demoted or
    deactivated since; the link expired or revoked)."""
    if flow is None or flow["purpose"] != state.Purpose.TEST:
        return None
    if flow.get("started_by_link"):
        label = setup_link_tester(org, flow["started_by_link"])
        return Tester(label=label, setup_link_id=flow["started_by_link"]) if label else None
    if not flow.get("started_by"):
        return None
    membership = admin_get(org=org, user_id=flow["started_by"])
    return Tester(label=membership.user.email, user=membership.user) if membership else None


@require_http_methods(["GET", "POST"])
def sso_start(request):
    """“Sign in with SSO”: an email in a domain an SSO organization verified, or an
    organization slug → that organization's login, coming back into that organization.
    Any other email gets one answer, whoever it belongs to: type your organization
    (selectors.sso_org_for_email says why)."""
    query = (request.POST.get("identifier") or request.GET.get("org") or "").strip()
    next_url = safe_relative_path(request.POST.get("next") or request.GET.get("next") or "", "")
    error, ask_organization = "", False
    if query:
        if "@" in query:
            org = selectors.sso_org_for_email(normalize_email(query))
            ask_organization = org is None
        else:
            org = selectors.sso_org_for_slug(query.lower())
        if org is not None:
            return redirect(f"/sso/{org.slug}/login/?next={next_url or f'/orgs/{org.slug}/'}")
        if not ask_organization:
            error = ("We found no organization with single sign-on for that. Check the spelling, or use your "
                     "organization's name as it appears in its URL.")
    return render(request, "sso/start.html",
                  {"query": "" if ask_organization else query, "error": error, "next": next_url,
                   "ask_organization": ask_organization},
                  status=404 if error else 200)


def start_flow(request, org, connection, *, next_url: str, purpose: state.Purpose, setup_link_id: int | None = None):
    """Send the browser to the IdP with an AuthnRequest: a sign-in, or a test login (purpose
    "test"): an administrator's (sso.dashboard.test_connection, admin-only), or one started
    through the setup link `setup_link_id` (setuplinks.views)."""
    certificates = services.connection_certificates(connection)
    browser_secret = request.COOKIES.get(state.STATE_COOKIE) or state.new_browser_secret()
    # The AuthnRequest ID is known only after onelogin builds it; the RelayState is
    # reserved first and the state stored right after, under it.
    placeholder = secrets.token_urlsafe(32)
    url, request_id = saml.authn_request_url(connection, certificates, placeholder)
    relay_state = state.state_create(org_slug=org.slug, request_id=request_id, next_url=next_url,
                                     purpose=purpose, browser_secret=browser_secret,
                                     started_by=request.user.pk if purpose == state.Purpose.TEST and not setup_link_id
                                     else None, started_by_link=setup_link_id)
    url = url.replace(f"RelayState={placeholder}", f"RelayState={relay_state}")
    response = HttpResponseRedirect(url)
    state.set_state_cookie(response, browser_secret)
    return response


@require_GET
def sso_login(request, org_slug):
    org, connection = selectors.org_and_connection(org_slug)
    if connection is None or not connection.is_enabled:
        # One page whether or not the organization exists: this URL confirms no slug.
        return _error(request, status=404, title="Single sign-on is not enabled for this organization.",
                      detail="Sign in with your email and password instead, or ask your administrator.")
    next_url = safe_relative_path(request.GET.get("next", ""), "/")
    return start_flow(request, org, connection, next_url=next_url, purpose=state.Purpose.LOGIN)


def _read_post(request):
    try:
        return request.POST.get("SAMLResponse"), request.POST.get("RelayState", "")
    except RequestDataTooBig:
        raise saml.SAMLRejected("too_large", "The POST body exceeds the server's upload limit.") from None


@csrf_exempt
@require_POST
def acs(request, org_slug):
    org, connection = selectors.org_and_connection(org_slug)
    if connection is None:
        # One page whether or not the organization exists (nothing is recorded for an
        # organization without SSO): this URL confirms no slug.
        return _error(request, status=404)
    try:
        encoded, relay_state = _read_post(request)
    except saml.SAMLRejected as exc:
        return _reject(request, org, connection, exc.code, exc.reason, status=413)
    relay_state = relay_state or ""
    # The state is consumed before the response is read: a rejected response ends
    # its login too, and a test login's failure is then shown to its administrator.
    flow = state.state_consume(relay_state, org_slug=org.slug,
                               browser_secret=request.COOKIES.get(state.STATE_COOKIE)) if relay_state else None
    tester = _tester(org, flow)
    if tester is None and flow is not None and flow.get("started_by_link"):
        # A setup link's test whose link expired or was revoked meanwhile: its reach ended.
        return _error(request, status=404)
    try:
        posted = saml.prevalidate(encoded)
    except saml.SAMLRejected as exc:
        return _reject(request, org, connection, exc.code, exc.reason, status=413 if exc.code == "too_large" else 400,
                       tester=tester)
    if flow is not None:
        request_id, next_url, purpose = flow["request_id"], flow["next"], flow["purpose"]
    else:
        # No login started here by this browser: an unsolicited (IdP-initiated)
        # response, or a stale/foreign RelayState.
        if posted.in_response_to:
            return _reject(request, org, connection, "unknown_in_response_to",
                           f"InResponseTo {posted.in_response_to!r} names no pending login request of this browser "
                           "(expired, already used, or started elsewhere).", status=403)
        if not connection.allow_idp_initiated:
            return _reject(request, org, connection, "unsolicited_not_allowed",
                           "An unsolicited (IdP-initiated) response arrived but this organization does not allow "
                           "IdP-initiated sign-in.", status=403)
        request_id, purpose = None, state.Purpose.LOGIN
        next_url = safe_relative_path(relay_state, "") if relay_state else "/"
        if not next_url:
            return _reject(request, org, connection, "unsafe_relay_state",
                           f"RelayState {relay_state[:200]!r} is not a relative path on this site.")

    try:
        assertion = saml.validate_response(connection, services.connection_certificates(connection), posted,
                                           request_id=request_id)
    except saml.SAMLRejected as exc:
        return _reject(request, org, connection, exc.code, exc.reason,
                       status=413 if exc.code == "too_large" else 400, tester=tester)
    if not state.assertion_first_use(org=org, assertion_id=assertion.assertion_id,
                                     not_on_or_after=assertion.not_on_or_after):
        return _reject(request, org, connection, "replay",
                       f"Assertion {assertion.assertion_id!r} was already used.", status=403, tester=tester)

    if purpose == state.Purpose.TEST:
        return _test_result(request, org, connection, assertion, tester=tester)

    try:
        result = services.sso_login(org=org, name_id=assertion.name_id, attributes=assertion.attributes,
                                    connection=connection, name_id_format=assertion.name_id_format)
    except ServiceError as exc:
        # The IdP signed this one: its person sees why, limited or not (an unknown role
        # value, DS4: the attribute and the value, in the page and the audit event).
        extra = {"name_id": assertion.name_id}
        if isinstance(exc, UnknownRole):
            extra.update(attribute=exc.attribute, value=exc.value)
        _record_rejection(request, org, exc.code, exc.message, extra=extra)
        return _error(request, status=exc.status, title="You cannot sign in here with single sign-on.",
                      detail=exc.message, org=org)
    if result.status == services.LoginStatus.PENDING_LINK:
        return render(request, "sso/check_email.html", {"org": org, "email": result.email}, status=202)
    login(request, result.user, backend=BACKEND)
    sessions.bind(request, org=org, connection=connection, user=result.user, name_id=assertion.name_id,
                  session_index=assertion.session_index,
                  session_not_on_or_after=assertion.session_not_on_or_after)
    return redirect(next_url or "/")


def _test_result(request, org, connection, assertion, *, tester=None):
    """Issue item 7: what the IdP sent and what it maps to; nothing changes."""
    profile = services.mapped_profile(connection, assertion.name_id, assertion.attributes)
    diagnosis = []
    if not profile["email"]:
        diagnosis.append(f"No email: the attribute “{connection.email_attribute}” is missing or empty and the "
                         "NameID is not an email address. Change the attribute mapping or the IdP's claims.")
    # Only this organization's own members are looked into: whether any other address has an
    # account, or an SSO link elsewhere, is not this organization's to learn (its IdP can name
    # any address), so "no account" and "not a member" read the same. A setup link sees none
    # of the organization's members: its IdP could name any address to ask.
    by_link = tester is not None and tester.setup_link_id is not None
    membership = member_by_email(org=org, email=profile["email"]) if profile["email"] and not by_link else None
    if membership is not None:
        user = membership.user
        identity = selectors.sso_identity_of(user)
        if identity is not None and identity.org_id != org.pk:
            diagnosis.append(f"{user.email} is linked to another organization's SSO; sign-in would be refused "
                             "if that organization enforces SSO.")
    elif profile["email"] and not by_link:
        diagnosis.append(f"{profile['email']} is not a member of {org.name}; a real sign-in would add it just in "
                         "time if allowed.")
    services.record_test_login(org=org, tester=tester.user if tester else None, name_id=assertion.name_id,
                               attribute_names=sorted(assertion.attributes),
                               actor_label=tester.label if by_link else None)
    if tester is not None:
        connection_tested.send(sender=SSOConnection, org=org, tester=tester, result={
            "ok": True, "name_id": assertion.name_id, "issuer": assertion.issuer, **profile,
            "attributes": sorted(assertion.attributes), "diagnosis": diagnosis})
    return render(request, "sso/test_result.html", {
        "org": org, "assertion": assertion, "profile": profile, "diagnosis": diagnosis,
        "connection": connection, "setup_link": by_link,
    })


@require_GET
def metadata(request, org_slug):
    """The SP metadata, derived from the slug alone: every slug an organization could have gets
    one, so this URL confirms no slug. The SP signing certificate (single logout) is added
    once the organization has an SSO connection (its key made then, on the first request);
    before that, and for a slug nobody has, the same document without it."""
    if len(org_slug) > Organization._meta.get_field("slug").max_length:
        raise Http404("No such organization.")
    connection = selectors.sso_connection_for_slug(org_slug)
    certificate = services.sp_key_for(connection.org).certificate_pem if connection is not None else ""
    return HttpResponse(saml.sp_metadata_xml(org_slug, certificate), content_type="application/samlmetadata+xml")


@require_http_methods(["GET", "POST"])
def link_confirm(request, token):
    """GET shows what will happen (mail scanners only GET); POST confirms."""
    try:
        link = services.pending_link_lookup(token)
    except ServiceError as exc:
        return _error(request, status=400, title="This link does not work.", detail=exc.message)
    if request.method == "GET":
        return render(request, "sso/link_confirm.html", {"link": link})
    try:
        result = services.sso_link_confirm(token=token)
    except ServiceError as exc:
        return _error(request, status=exc.status, title="This link does not work.", detail=exc.message)
    login(request, result.user, backend=BACKEND)
    sessions.bind(request, org=link.org, connection=link.org.sso_connection, user=result.user, name_id=link.name_id)
    return redirect("/")
