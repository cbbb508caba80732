"""Base views of the JSON API. Every endpoint derives from one of these.

`APIBaseView` — authentication (service token, then session with CSRF), JSON
only, the size-limited JSON parser, pagination and the error format
(api.errors). Permission: an authenticated caller.

`OrgScopedAPIView` — for URLs under ``organizations/<slug:org_slug>/``. Before
the handler runs, `HasOrgRole` (api.permissions) resolves the organization:

* ``self.org``    — the Organization (404 if the caller is not a member, or a
  service token of another organization);
* ``self.role``   — the caller's role there: the membership's, or the token's;
* ``self.actor``  — the User to pass as ``actor=`` to services (a token's
  creator; None if that account was deleted);
* ``self.access`` — all of the above plus the session's Membership.

Reads need membership; every other method needs ``admin``. A view relaxes
that with ``member_methods`` (methods a member may call, e.g. POST on
databases) and tightens it with ``admin_only_reads = True`` (audit events).

Helpers: ``self.validated(SerializerClass)`` — the request body, validated
(unknown fields → 400 "unknown_field"); ``self.page(queryset, SerializerClass)``
— a paginated response; ``self.get_or_404(obj)``.

How another app adds endpoints (SSO, Directory Sync)::

    from api.views import OrgScopedAPIView, error_responses

    class SSOView(OrgScopedAPIView):
        admin_only_reads = True

        @extend_schema(responses={200: SSOStateSerializer, **error_responses(403, 404)})
        def get(self, request, org_slug):
            return Response(SSOStateSerializer(sso_state(org=self.org)).data)

and a route in api/urls.py. Services raise config.errors.ServiceError; the
error handler turns it into its status and code. Never catch it in a view.
"""
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from orgs.models import Membership

from .authentication import ServiceTokenAuthentication, token_of
from .errors import InvalidQuery
from .pagination import Pagination
from .parsers import LimitedJSONParser
from .permissions import HasOrgRole, IsAuthenticatedCaller, OrgAccess
from .serializers import ErrorSerializer

_ERROR_TEXT = {
    400: "Invalid input (`invalid`, `malformed_json`, `unknown_field`, or a rule's code).",
    401: "No valid session or bearer token.",
    403: "The caller's role does not allow this.",
    404: "Not found — or not visible to this caller.",
    409: "Conflicts with the current state (e.g. `name_taken`, `last_admin`).",
    413: "The request body is too large.",
    429: "Past a limit (`rate_limited`): try again after `Retry-After` seconds.",
}


def error_responses(*statuses: int) -> dict:
    """OpenAPI responses for the given error statuses, each with the error body; 401 is always included."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT.get(status, "Error."))
        for status in sorted({401, *statuses})
    }


class APIBaseView(GenericAPIView):
    """Authenticated JSON endpoint; see the module docstring."""

    authentication_classes = [ServiceTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticatedCaller]
    parser_classes = [LimitedJSONParser]
    renderer_classes = [JSONRenderer]
    pagination_class = Pagination
    # No OPTIONS introspection: the OpenAPI schema describes every endpoint (OPTIONS answers 405).
    metadata_class = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Body strings are refused by DRF's CharField; a query parameter is read raw, and
        # PostgreSQL refuses NUL in text (DataError, a 500): refuse it here, for every endpoint.
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise InvalidQuery(name.replace("\x00", ""), "Query parameters cannot contain NUL characters.")

    def validated(self, serializer_class, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def page(self, queryset: QuerySet, serializer_class, *, prepare=None, represent=None) -> Response:
        """One page of `queryset`; `prepare(rows)` may attach data to the page's rows in bulk;
        `represent(row)`, when given, makes each row's body as `serializer_class` would (the
        api.serializers functions that skip the serializers on the hottest reads)."""
        rows = self.paginate_queryset(queryset)
        if prepare is not None:
            prepare(rows)
        if represent is not None:
            return self.get_paginated_response([represent(row) for row in rows])
        return self.get_paginated_response(serializer_class(rows, many=True).data)

    @property
    def token(self):
        """The ServiceToken the caller authenticated with, or None for a session."""
        return token_of(self.request)

    @staticmethod
    def get_or_404(obj, message: str = "Not found."):
        if obj is None:
            raise NotFound(message)
        return obj


class OrgScopedAPIView(APIBaseView):
    permission_classes = [IsAuthenticatedCaller, HasOrgRole]
    # Methods a plain member may call; any other needs an administrator.
    member_methods: frozenset[str] = frozenset(permissions.SAFE_METHODS)
    # True for read endpoints only administrators may use.
    admin_only_reads = False

    access: OrgAccess

    def required_role(self, request) -> str:
        if request.method in permissions.SAFE_METHODS and self.admin_only_reads:
            return Membership.Role.ADMIN
        if request.method in self.member_methods:
            return Membership.Role.MEMBER
        return Membership.Role.ADMIN

    @property
    def org(self):
        return self.access.org

    @property
    def role(self) -> str:
        return self.access.role

    @property
    def actor(self):
        user = self.request.user
        return user if user is not None and user.is_authenticated else None

    def is_self(self, user_id) -> bool:
        """Whether `user_id` is the caller (the session user, or a token's creator)."""
        return self.actor is not None and self.actor.pk == user_id


def not_found(request, *args, **kwargs):
    """Any /api/v1/ URL that no route matches: a JSON 404, like every other API error."""
    from django.http import JsonResponse

    from .errors import error_body

    return JsonResponse(error_body("not_found", "No such API endpoint."), status=404)
