"""Members of an organization: list, read, change role / database-administrator grant, remove, leave."""
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from orgs import selectors, services
from teams.selectors import teams_by_membership

from ..serializers import MemberSerializer, MemberUpdateSerializer, member_data
from ..views import OrgScopedAPIView, error_responses

TAGS = ["members"]


class _MemberMixin:
    def attach_teams(self, memberships) -> None:
        """Team names for a page of members, in one query."""
        names = teams_by_membership(org=self.org, membership_ids=[m.pk for m in memberships])
        for membership in memberships:
            membership.team_names = names.get(membership.pk, [])

    def member_or_404(self, membership_id):
        return self.get_or_404(selectors.member_get(org=self.org, membership_id=membership_id),
                               "That person is not a member of this organization.")

    def member_response(self, membership) -> Response:
        self.attach_teams([membership])
        return Response(MemberSerializer(membership).data)


class MemberListView(_MemberMixin, OrgScopedAPIView):
    @extend_schema(
        tags=TAGS, summary="List members",
        description="Members with their role, database-administrator grant, directory-managed flag and teams. "
        "Ordered by account (oldest account first): a stable order that an index serves, so a page costs the "
        "same on an organization of 50,000 members as on one of ten.",
        responses={200: MemberSerializer(many=True), **error_responses(404)},
    )
    def get(self, request, org_slug):
        return self.page(selectors.members_by_account(org=self.org), MemberSerializer, prepare=self.attach_teams,
                         represent=member_data)


class MemberDetailView(_MemberMixin, OrgScopedAPIView):
    # DELETE is allowed to members for themselves (leaving); the handler checks the rest.
    member_methods = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})

    @extend_schema(tags=TAGS, summary="One member", responses={200: MemberSerializer, **error_responses(404)})
    def get(self, request, org_slug, membership_id):
        return self.member_response(self.member_or_404(membership_id))

    @extend_schema(
        tags=TAGS, summary="Change a member's role and/or database-administrator grant",
        description="Administrators only. Nobody changes their own role; the last administrator cannot be "
        "demoted; directory-managed members' roles change in the identity provider.",
        request=MemberUpdateSerializer,
        responses={200: MemberSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def patch(self, request, org_slug, membership_id):
        data = self.validated(MemberUpdateSerializer)
        membership = self.member_or_404(membership_id)
        with transaction.atomic():  # both changes or neither
            if "role" in data:
                membership = services.membership_change_role(
                    org=self.org, membership=membership, role=data["role"], actor=self.actor)
            if "is_database_admin" in data:
                membership = services.membership_set_database_admin(
                    org=self.org, membership=membership, value=data["is_database_admin"], actor=self.actor)
        return self.member_response(self.member_or_404(membership_id))

    @extend_schema(
        tags=TAGS, summary="Remove a member, or leave",
        description="Administrators remove members; any member may remove themself (leave). The last "
        "administrator cannot be removed; directory-managed members are removed by the identity provider. "
        "Credentials the member created stay active.",
        responses={204: None, **error_responses(403, 404, 409)},
    )
    def delete(self, request, org_slug, membership_id):
        membership = self.member_or_404(membership_id)
        if self.is_self(membership.user_id):
            services.membership_leave(org=self.org, user=self.actor)
        elif not self.access.is_admin:
            raise PermissionDenied("Only organization administrators can remove other members.")
        else:
            services.membership_remove(org=self.org, membership=membership, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
