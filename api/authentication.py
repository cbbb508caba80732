"""How the API knows who is calling.

Two ways, tried in this order:

1. ``Authorization: Bearer <service token>`` — `ServiceTokenAuthentication`.
   The token is looked up by its SHA-256 (one indexed query,
   `orgs.services.service_token_authenticate`). The rule:

   * a service token acts for ITS organization only; any other
     organization's URL answers 404, exactly as for a non-member;
   * it acts with the role its creator had when it was created
     (`ServiceToken.role`), not the creator's current role;
   * it keeps working after its creator is demoted, leaves or is removed
     (E7: credentials outlive their creator's membership); revoking the
     token is how its access ends;
   * a malformed, unknown or revoked token answers 401 with
     ``WWW-Authenticate: Bearer`` (no fallback to the session).

   ``request.user`` is the token's creator (the actor recorded in audit
   events), or AnonymousUser when that account was deleted; ``request.auth``
   is the `ServiceToken`.

2. The Django session (DRF's `SessionAuthentication`), with CSRF enforced for
   unsafe methods, for the dashboard's own scripts and for trying the API in
   a browser. A session acts with the caller's current membership role.

Without either, the answer is 401 with ``WWW-Authenticate: Bearer``.

Rule ids: docs/rules.md.
"""
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from orgs.models import ServiceToken
from orgs.services import service_token_authenticate

TOKEN_RULE = (
    "A service token (`Authorization: Bearer <token>`) acts for its own organization only — any other "
    "organization's URL answers 404 — with the role its creator had when it was created, and it keeps "
    "working after its creator is demoted or leaves the organization; revoke it to end its access. "
    "An unknown or revoked token answers 401 with `WWW-Authenticate: Bearer`."
)


class ServiceTokenAuthentication(BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header: use “Bearer <token>”.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.") from None
        token = service_token_authenticate(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return (token.created_by or AnonymousUser(), token)

    def authenticate_header(self, request):
        return "Bearer"


def token_of(request) -> ServiceToken | None:
    """The service token the request authenticated with, or None for a session."""
    return request.auth if isinstance(request.auth, ServiceToken) else None


class ServiceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ServiceTokenAuthentication"
    name = "serviceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": TOKEN_RULE}
