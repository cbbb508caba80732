"""The bare SP's three views: start a sign-in, take the IdP's response, say who is signed in.

What it checks is python3-saml's strict mode (signature over the assertion with the
configured certificate, issuer, audience, destination, recipient, time limits,
subject confirmation), plus what python3-saml leaves to the SP: the AuthnRequest ID
bound to the browser (the session), the refusal of a response that names a request
this browser is not waiting for, the NameID format, and each assertion ID used once
(Redis SET NX with expiry). One pending request per browser: starting a second sign-in
replaces the first.
"""
import functools
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as SAML
from onelogin.saml2.settings import OneLogin_Saml2_Settings

PENDING_REQUEST = "saml_pending_request_id"
# python3-saml accepts an assertion up to 300 s past its NotOnOrAfter (clock drift): its ID
# is kept that much longer, and never less than this.
MIN_REPLAY_SECONDS = 10 * 60
CLOCK_DRIFT_SECONDS = 300


def _urls(slug: str) -> tuple[str, str]:
    """(SP entity ID, ACS URL), Gatehouse's shapes."""
    return f"{settings.BASE_URL}/sso/{slug}/metadata/", f"{settings.BASE_URL}/sso/{slug}/acs/"


@functools.cache
def saml_settings() -> OneLogin_Saml2_Settings:
    """Built once per process: there is one SP and one IdP."""
    entity_id, acs_url = _urls(settings.SAML_SLUG)
    return OneLogin_Saml2_Settings({
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": entity_id,
            "assertionConsumerService": {"url": acs_url, "binding": SAML.BINDING_HTTP_POST},
            "NameIDFormat": SAML.NAMEID_EMAIL_ADDRESS,  # asked for in the AuthnRequest, checked in the ACS
            "x509cert": "",
            "privateKey": "",
        },
        "idp": {
            "entityId": settings.SAML_IDP_ENTITY_ID,
            "singleSignOnService": {"url": settings.SAML_IDP_SSO_URL, "binding": SAML.BINDING_HTTP_REDIRECT},
            "x509cert": settings.SAML_IDP_CERT,
        },
        "security": {
            "authnRequestsSigned": False,
            "wantAssertionsSigned": True,
            "wantMessagesSigned": False,
            "wantAssertionsEncrypted": False,
            "wantNameId": True,
            "wantNameIdEncrypted": False,
            "wantAttributeStatement": False,
            "requestedAuthnContext": False,
            "rejectDeprecatedAlgorithm": True,
            "signatureAlgorithm": SAML.RSA_SHA256,
            "digestAlgorithm": SAML.SHA256,
        },
    }, sp_validation_only=False)


def _request_data(slug: str, suffix: str, post: dict | None = None) -> dict:
    """The request as python3-saml reads it, from BASE_URL rather than the Host header."""
    base = urlsplit(settings.BASE_URL)
    return {"https": "on" if base.scheme == "https" else "off", "http_host": base.netloc,
            "script_name": f"/sso/{slug}/{suffix}", "get_data": {}, "post_data": post or {}}


def _only_our_slug(slug: str) -> None:
    if slug != settings.SAML_SLUG:
        raise Http404()


def _next_path(value: str) -> str:
    """A relative path on this site, else /."""
    return value if value.startswith("/") and url_has_allowed_host_and_scheme(value, allowed_hosts=None) else "/"


def _refused(reason: str, status: int = 400) -> HttpResponse:
    return HttpResponse(f"Sign-in refused: {reason}\n", status=status, content_type="text/plain")


@require_GET
def login_start(request, slug):
    _only_our_slug(slug)
    auth = OneLogin_Saml2_Auth(_request_data(slug, "login/"), old_settings=saml_settings())
    url = auth.login(return_to=_next_path(request.GET.get("next", "")))
    request.session[PENDING_REQUEST] = auth.get_last_request_id()
    return HttpResponseRedirect(url)


def _first_use(assertion_id: str, not_on_or_after: int | None) -> bool:
    ttl = MIN_REPLAY_SECONDS
    if not_on_or_after is not None:
        ttl = max(ttl, int(not_on_or_after - time.time()) + CLOCK_DRIFT_SECONDS)
    return cache.add(f"saml:assertion:{assertion_id}", 1, timeout=ttl)  # SET NX EX


@csrf_exempt  # the IdP's POST, cross-site by nature; the signed response is its proof
@require_POST
def acs(request, slug):
    _only_our_slug(slug)
    request_id = request.session.pop(PENDING_REQUEST, None)  # single use, whatever the outcome
    auth = OneLogin_Saml2_Auth(_request_data(slug, "acs/", request.POST.dict()), old_settings=saml_settings())
    try:
        auth.process_response(request_id=request_id)
    except Exception as exc:  # noqa: BLE001 — no SAMLResponse, not base64, not XML: the poster's input
        return _refused(f"unreadable response ({type(exc).__name__})")
    if auth.get_errors():
        return _refused(auth.get_last_error_reason() or ", ".join(auth.get_errors()))
    # python3-saml compares InResponseTo only when given a request ID: a response that
    # answers a request this browser is not waiting for (expired, used, or someone else's)
    # is refused here. A response without InResponseTo is IdP-initiated, which is allowed.
    if request_id is None and auth.get_last_response_in_response_to():
        return _refused("it answers a sign-in this browser did not start", status=403)
    if auth.get_nameid_format() != SAML.NAMEID_EMAIL_ADDRESS:
        return _refused(f"NameID format {auth.get_nameid_format()!r} is not an email address")
    if not _first_use(auth.get_last_assertion_id(), auth.get_last_assertion_not_on_or_after()):
        return _refused("this assertion was already used", status=403)
    email = auth.get_nameid().strip().lower()
    if len(email) > User._meta.get_field("username").max_length:
        return _refused("the email address is longer than this SP keeps")
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email, "password": make_password(None)})
    if not user.is_active:
        return _refused("this account is deactivated", status=403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return HttpResponseRedirect(_next_path(request.POST.get("RelayState", "")))


@require_GET
def current_user(request):
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Not signed in."}, status=401)
    return JsonResponse({"id": request.user.pk, "email": request.user.email})
