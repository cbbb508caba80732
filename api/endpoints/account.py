"""Who is calling, and their organizations."""
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from orgs import fastpath
from orgs.selectors import memberships_of

from ..serializers import CallerSerializer, OrganizationWithRoleSerializer, caller_data
from ..views import APIBaseView, OrgScopedAPIView, error_responses


def _with_role(org, role):
    org.role = role
    return org


class _CallerOrganizations:
    def caller_memberships(self):
        """A session's memberships that open their organization, as the switcher lists them (a member
        the SSO enable is removing has none there), with the organizations (a token has none: it acts
        for one organization)."""
        return memberships_of(self.request.user)

    def caller_organizations(self, memberships=None) -> list:
        token = self.token
        if token is not None:
            return [_with_role(token.org, token.role)]
        # All of them (`GET /user`): the ORM's query, compiled once (orgs.fastpath).
        memberships = fastpath.memberships_of(self.request.user) if memberships is None else memberships
        return [_with_role(m.org, m.role) for m in memberships]


class CurrentUserView(_CallerOrganizations, APIBaseView):
    @extend_schema(
        tags=["account"],
        summary="Who the caller is",
        description="The user (for a service token: its creator, null if that account was deleted), "
        "the organizations the caller can act for with its role in each (for a token: the token's "
        "organization and role only), and the token if one was used.",
        responses={200: CallerSerializer, **error_responses()},
    )
    def get(self, request):
        user = request.user if request.user.is_authenticated else None
        return Response(caller_data(user=user, organizations=self.caller_organizations(), token=self.token))


class OrganizationListView(_CallerOrganizations, APIBaseView):
    @extend_schema(
        tags=["organizations"],
        summary="The caller's organizations",
        description="For a session: every organization the user belongs to. For a service token: its organization.",
        responses={200: OrganizationWithRoleSerializer(many=True), **error_responses()},
    )
    def get(self, request):
        if self.token is not None:
            rows = self.paginate_queryset(self.caller_organizations())
        else:
            rows = self.caller_organizations(self.paginate_queryset(self.caller_memberships()))
        return self.get_paginated_response(OrganizationWithRoleSerializer(rows, many=True).data)


class OrganizationDetailView(OrgScopedAPIView):
    @extend_schema(
        tags=["organizations"],
        summary="One organization, with the caller's role in it",
        responses={200: OrganizationWithRoleSerializer, **error_responses(404)},
    )
    def get(self, request, org_slug):
        return Response(OrganizationWithRoleSerializer(_with_role(self.org, self.role)).data)
