"""Databases, their passwords, and service tokens.

Members (not only administrators) create databases, passwords and tokens.
Revoking a credential someone else created, and deleting a database, needs an
administrator. Secrets are in the create response only (`plain_text`, `token`).
Credentials stay listed and active after their creator leaves (E7);
`creator_is_member` says whether the creator still belongs to the organization.

Rule ids: docs/rules.md.
"""
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from orgs import selectors, services
from orgs.models import Membership

from ..serializers import (
    DatabaseCreateSerializer,
    DatabasePasswordCreatedSerializer,
    DatabasePasswordCreateSerializer,
    DatabasePasswordSerializer,
    DatabaseSerializer,
    ServiceTokenCreatedSerializer,
    ServiceTokenCreateSerializer,
    ServiceTokenSerializer,
)
from ..views import OrgScopedAPIView, error_responses

MEMBER_READ_WRITE = frozenset({"GET", "HEAD", "OPTIONS", "POST"})
MEMBER_REVOKE = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class _DatabaseMixin:
    def database_or_404(self, name):
        """The database, annotated with its count of active passwords."""
        return self.get_or_404(selectors.database_list(org=self.org).filter(name=name).first(), "No such database.")

    def require_creator_or_admin(self, credential) -> None:
        if not (self.access.is_admin or self.is_self(credential.created_by_id)):
            raise PermissionDenied("Only its creator or an organization administrator can revoke this credential.")


class DatabaseListView(_DatabaseMixin, OrgScopedAPIView):
    member_methods = MEMBER_READ_WRITE

    @extend_schema(tags=["databases"], summary="List databases",
                   responses={200: DatabaseSerializer(many=True), **error_responses(404)})
    def get(self, request, org_slug):
        return self.page(selectors.database_list(org=self.org), DatabaseSerializer)

    @extend_schema(
        tags=["databases"], summary="Create a database",
        description="Any member. Names: lowercase letters, digits and hyphens, unique in the organization.",
        request=DatabaseCreateSerializer,
        responses={201: DatabaseSerializer, **error_responses(400, 404, 409, 413)},
    )
    def post(self, request, org_slug):
        data = self.validated(DatabaseCreateSerializer)
        database = services.database_create(org=self.org, name=data["name"], actor=self.actor)
        return Response(DatabaseSerializer(self.database_or_404(database.name)).data, status=status.HTTP_201_CREATED)


class DatabaseDetailView(_DatabaseMixin, OrgScopedAPIView):
    @extend_schema(tags=["databases"], summary="One database",
                   responses={200: DatabaseSerializer, **error_responses(404)})
    def get(self, request, org_slug, database_name):
        return Response(DatabaseSerializer(self.database_or_404(database_name)).data)

    @extend_schema(
        tags=["databases"], summary="Delete a database",
        description="Administrators only. Its passwords go with it.",
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request, org_slug, database_name):
        services.database_delete(org=self.org, database=self.database_or_404(database_name), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatabasePasswordListView(_DatabaseMixin, OrgScopedAPIView):
    member_methods = MEMBER_READ_WRITE

    @extend_schema(tags=["databases"], summary="List a database's passwords",
                   responses={200: DatabasePasswordSerializer(many=True), **error_responses(404)})
    def get(self, request, org_slug, database_name):
        database = self.database_or_404(database_name)
        queryset = selectors.database_password_list(org=self.org, database=database).select_related("database")
        return self.page(queryset, DatabasePasswordSerializer)

    @extend_schema(
        tags=["databases"], summary="Create a database password",
        description="Any member. The password is in this response only (`plain_text`).",
        request=DatabasePasswordCreateSerializer,
        responses={201: DatabasePasswordCreatedSerializer, **error_responses(400, 404, 409, 413)},
    )
    def post(self, request, org_slug, database_name):
        data = self.validated(DatabasePasswordCreateSerializer)
        database = self.database_or_404(database_name)
        password, secret = services.database_password_create(
            org=self.org, database=database, name=data["name"], access=data["access"], actor=self.actor)
        password = selectors.database_password_list(org=self.org, database=database).get(pk=password.pk)
        password.plain_text = secret
        return Response(DatabasePasswordCreatedSerializer(password).data, status=status.HTTP_201_CREATED)


class DatabasePasswordDetailView(_DatabaseMixin, OrgScopedAPIView):
    member_methods = MEMBER_REVOKE

    def password_or_404(self, database_name, password_id):
        database = self.database_or_404(database_name)
        queryset = selectors.database_password_list(org=self.org, database=database).select_related("database")
        return self.get_or_404(queryset.filter(pk=password_id).first(), "No such password.")

    @extend_schema(tags=["databases"], summary="One database password",
                   responses={200: DatabasePasswordSerializer, **error_responses(404)})
    def get(self, request, org_slug, database_name, password_id):
        return Response(DatabasePasswordSerializer(self.password_or_404(database_name, password_id)).data)

    @extend_schema(
        tags=["databases"], summary="Revoke a database password",
        description="Its creator or an administrator. Revoking a revoked password changes nothing.",
        responses={200: DatabasePasswordSerializer, **error_responses(403, 404)},
    )
    def delete(self, request, org_slug, database_name, password_id):
        password = self.password_or_404(database_name, password_id)
        self.require_creator_or_admin(password)
        services.database_password_revoke(org=self.org, password=password, actor=self.actor)
        return Response(DatabasePasswordSerializer(self.password_or_404(database_name, password_id)).data)


class ServiceTokenListView(_DatabaseMixin, OrgScopedAPIView):
    member_methods = MEMBER_READ_WRITE

    @extend_schema(tags=["service tokens"], summary="List service tokens",
                   responses={200: ServiceTokenSerializer(many=True), **error_responses(404)})
    def get(self, request, org_slug):
        return self.page(selectors.service_token_list(org=self.org), ServiceTokenSerializer)

    @extend_schema(
        tags=["service tokens"], summary="Create a service token",
        description="Any member. The token acts for this organization with the creator's current role, "
        "and keeps working after the creator leaves. The token is in this response only (`token`). "
        "A service token may create tokens only with a role no higher than its own.",
        request=ServiceTokenCreateSerializer,
        responses={201: ServiceTokenCreatedSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request, org_slug):
        data = self.validated(ServiceTokenCreateSerializer)
        self._refuse_escalation_by_token()
        token, secret = services.service_token_create(org=self.org, name=data["name"], actor=self.actor)
        token = selectors.service_token_list(org=self.org).get(pk=token.pk)
        token.token = secret
        return Response(ServiceTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def _refuse_escalation_by_token(self) -> None:
        """A token made when its creator was a member must not mint an admin token after the creator's promotion."""
        caller = self.token
        if caller is None or caller.role == Membership.Role.ADMIN:
            return
        creator = Membership.objects.filter(org=self.org, user=self.actor).first() if self.actor else None
        if creator is not None and creator.role != caller.role:
            raise PermissionDenied("This token cannot create a token with a higher role than its own.")


class ServiceTokenDetailView(_DatabaseMixin, OrgScopedAPIView):
    member_methods = MEMBER_REVOKE

    def token_or_404(self, token_id):
        return self.get_or_404(selectors.service_token_list(org=self.org).filter(pk=token_id).first(),
                               "No such service token.")

    @extend_schema(tags=["service tokens"], summary="One service token",
                   responses={200: ServiceTokenSerializer, **error_responses(404)})
    def get(self, request, org_slug, token_id):
        return Response(ServiceTokenSerializer(self.token_or_404(token_id)).data)

    @extend_schema(
        tags=["service tokens"], summary="Revoke a service token",
        description="Its creator or an administrator. It stops authenticating at once.",
        responses={200: ServiceTokenSerializer, **error_responses(403, 404)},
    )
    def delete(self, request, org_slug, token_id):
        token = self.token_or_404(token_id)
        self.require_creator_or_admin(token)
        services.service_token_revoke(org=self.org, token=token, actor=self.actor)
        return Response(ServiceTokenSerializer(self.token_or_404(token_id)).data)
