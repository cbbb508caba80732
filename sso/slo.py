"""Single logout (E13; §3 `/sso/<org>/sls/`): both directions, both bindings.

SP-initiated: signing out of Gatehouse (accounts' SignOutView asks the
accounts.policy hook that sso.policy fills) ends the Gatehouse session first, then
sends the browser to the IdP with a LogoutRequest signed by the organization's SP
key. The IdP's LogoutResponse comes back here and must answer that request, once,
in the browser that signed out (sso.state, purpose "logout").

IdP-initiated: the IdP's signed LogoutRequest ends every Gatehouse session its
sign-ins made for that NameID (only those of its SessionIndexes when it names
any), and is answered with a signed LogoutResponse to the IdP's SLO URL
(HTTP-Redirect binding), RelayState echoed.

Every message is checked by sso.saml.validate_logout against the organization in
the URL; refusals go through the ACS's `_reject` (generic page, exact reason in the
audit log, nothing written for an organization without SSO).

Rule ids: docs/rules.md.
"""
import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import saml, selectors, services, sessions, state
from .models import SSOConnection
from .views import _error, _reject

log = logging.getLogger(__name__)

# How long a logout message ID is remembered: as long as validate_logout may accept it.
REPLAY_WINDOW_SECONDS = saml.LOGOUT_MAX_AGE_SECONDS + 2 * saml.LOGOUT_CLOCK_SKEW_SECONDS


def _sp_key(org) -> tuple[str, str]:
    key = services.sp_key_for(org)
    return key.certificate_pem, key.private_key_pem


def sign_out_redirect(request):
    """For a session an enabled connection's IdP made, when that IdP has an SLO URL: the
    redirect carrying our signed LogoutRequest (NameID and SessionIndex of that sign-in),
    whose ID is kept under a new RelayState bound to this browser. None otherwise, and
    when anything here fails: signing out of Gatehouse never depends on the IdP."""
    latest = sessions.latest_binding(request.session)
    if latest is None or not latest[1].get("name_id"):
        return None
    org_id, binding = latest
    connection = (SSOConnection.objects.select_related("org")
                  .filter(org_id=org_id, state=SSOConnection.State.ENABLED).exclude(idp_slo_url="").first())
    if connection is None:
        return None
    try:
        # The state cookie lives under /sso/ and is not sent here: a new one binds this logout.
        browser_secret = state.new_browser_secret()
        relay_state = state.new_relay_state()
        url, request_id = saml.logout_request_url(
            connection, services.connection_certificates(connection), _sp_key(connection.org),
            name_id=binding["name_id"], session_index=binding.get("index") or None, relay_state=relay_state)
        state.state_create(org_slug=connection.org.slug, request_id=request_id, next_url="",
                           purpose=state.Purpose.LOGOUT, browser_secret=browser_secret, relay_state=relay_state)
    except Exception:  # noqa: BLE001 — the local sign-out goes on whatever happened
        log.exception("Single logout could not start for organization %s", org_id)
        return None
    response = HttpResponseRedirect(url)
    state.set_state_cookie(response, browser_secret)
    return response


def _signed_out(request, org, *, idp_failed: bool = False, status_code: str = "", by_idp: bool = False):
    return render(request, "sso/signed_out.html", {
        "org": org, "idp_failed": idp_failed, "idp_status": status_code.rsplit(":", 1)[-1], "by_idp": by_idp,
    })


def _read(request) -> saml.LogoutMessage:
    if request.method == "GET":
        return saml.read_logout(method="GET", query_string=request.META.get("QUERY_STRING", ""))
    try:
        post = request.POST
    except RequestDataTooBig:
        raise saml.SAMLRejected("too_large", "The POST body exceeds the server's upload limit.") from None
    return saml.read_logout(method="POST", post=post)


@csrf_exempt  # the IdP's POST binding is a cross-site form post, like the ACS's
@require_http_methods(["GET", "POST"])
def sls(request, org_slug):
    org, connection = selectors.org_and_connection(org_slug)
    if connection is None:  # one page whether or not the organization exists
        return _error(request, status=404, title="Single sign-on is not set up for this organization.",
                      detail="There is no single logout here.")
    try:
        message = _read(request)
        valid = saml.validate_logout(connection, services.connection_certificates(connection), message)
    except saml.SAMLRejected as exc:
        return _reject(request, org, connection, exc.code, f"Single logout: {exc.reason}",
                       status=413 if exc.code == "too_large" else 400)
    if not state.logout_message_first_use(org=org, message_id=valid.message_id,
                                          max_age_seconds=REPLAY_WINDOW_SECONDS):
        return _reject(request, org, connection, "replay",
                       f"Single logout: {valid.kind} {valid.message_id!r} was already used.", status=403)
    if valid.kind == saml.LOGOUT_RESPONSE:
        return _logout_response(request, org, connection, valid)
    return _logout_request(request, org, connection, valid)


def _logout_response(request, org, connection, valid: saml.ValidLogout):
    """The IdP's answer to our LogoutRequest: the Gatehouse session already ended."""
    flow = state.state_peek(valid.relay_state)
    if (flow is None or flow.get("purpose") != state.Purpose.LOGOUT or flow.get("request_id") != valid.in_response_to
            or state.state_consume(valid.relay_state, org_slug=org.slug,
                                   browser_secret=request.COOKIES.get(state.STATE_COOKIE)) is None):
        return _reject(request, org, connection, "unknown_in_response_to",
                       f"Single logout: LogoutResponse InResponseTo {valid.in_response_to[:200]!r} names no logout "
                       "request of this browser (expired, already used, or started elsewhere).", status=403)
    if not valid.succeeded:
        log.warning("The IdP of %s answered our LogoutRequest with %s", org.slug, valid.status)
    return _signed_out(request, org, idp_failed=not valid.succeeded, status_code=valid.status)


def _logout_request(request, org, connection, valid: saml.ValidLogout):
    """The IdP ends its session: ours go too, and the IdP gets a signed Success."""
    services.sso_logout(org=org, name_id=valid.name_id, session_indexes=valid.session_indexes,
                        request_id=valid.message_id)
    if connection.idp_slo_url:
        try:
            return HttpResponseRedirect(saml.logout_response_url(
                connection, services.connection_certificates(connection), _sp_key(org),
                in_response_to=valid.message_id, relay_state=valid.relay_state))
        except Exception:  # noqa: BLE001 — the sessions have ended; the page says so
            log.exception("Single logout: the LogoutResponse to %s's IdP could not be built", org.slug)
    return _signed_out(request, org, by_idp=True)
