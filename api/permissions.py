"""Who may do what, decided in one place.

`resolve_org_access(request, org_slug)` turns the `<org_slug>` of a URL into an
`OrgAccess` (org, role, membership) or raises 404:

* session: the caller's Membership in that organization (404 if none, so an
  outsider cannot tell whether the organization exists), and the session must be
  one the organization accepts (orgs.policy session gates — SSO's E12/E13: a
  403 `sso_required` / `sso_session_expired` naming where to sign in);
* service token: the token's own organization only (404 for any other slug),
  with `token.role` — the creator's role when the token was made. The
  creator's current membership does not matter (see api.authentication).

Permission classes, in the order views list them:

* `IsAuthenticatedCaller` — a session user or a valid service token (401 otherwise);
* `HasOrgRole` — resolves the organization (404) and checks the role the view
  requires for the HTTP method (403 with a JSON error otherwise). The view says
  which role it needs through `view.required_role(request)`; `OrgScopedAPIView`
  (api.views) implements it: reads need membership, changes need `admin`.

Rule ids: docs/rules.md.
"""
from dataclasses import dataclass

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission

from config.errors import NotAllowed
from orgs.models import Membership, Organization
from orgs.policy import session_refusal
from orgs.selectors import membership_for_slug

from .authentication import token_of

Role = Membership.Role
_RANK = {Role.MEMBER: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class OrgAccess:
    org: Organization
    role: str
    # The caller's membership (session), or None for a service token.
    membership: Membership | None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def has_role(self, needed: str) -> bool:
        return _RANK.get(self.role, 0) >= _RANK[needed]


def resolve_org_access(request, org_slug: str) -> OrgAccess:
    token = token_of(request)
    if token is not None:
        if token.org.slug != org_slug:
            raise NotFound("No such organization.")
        return OrgAccess(org=token.org, role=token.role, membership=None)
    membership = membership_for_slug(request.user, org_slug)
    if membership is None:
        raise NotFound("No such organization.")
    refusal = session_refusal(request, membership)
    if refusal is not None:
        raise NotAllowed(refusal.message, code=refusal.code)
    return OrgAccess(org=membership.org, role=membership.role, membership=membership)


def is_authenticated_caller(request) -> bool:
    return token_of(request) is not None or bool(request.user and request.user.is_authenticated)


class IsAuthenticatedCaller(BasePermission):
    """A session user, or a valid service token (even one whose creator's account is gone)."""

    def has_permission(self, request, view):
        return is_authenticated_caller(request)


class HasOrgRole(BasePermission):
    """Resolves `view.kwargs["org_slug"]` into `view.access` and checks the role the view requires."""

    def has_permission(self, request, view):
        if not is_authenticated_caller(request):
            return False
        access = resolve_org_access(request, view.kwargs["org_slug"])
        view.access = access
        needed = view.required_role(request)
        if not access.has_role(needed):
            raise PermissionDenied("Only organization administrators can do this.")
        return True
