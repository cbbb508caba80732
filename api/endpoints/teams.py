"""Teams and team members. Directory-managed teams change only through the directory (403 `directory_managed`)."""
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from orgs import selectors as org_selectors
from teams import selectors, services
from teams.models import TeamMember

from ..serializers import (
    TeamMemberAddSerializer,
    TeamMemberSerializer,
    TeamSerializer,
    TeamWriteSerializer,
)
from ..views import OrgScopedAPIView, error_responses

TAGS = ["teams"]


class _TeamMixin:
    def team_or_404(self, team_id):
        """The team, annotated with its member count."""
        return self.get_or_404(selectors.team_list(org=self.org).filter(pk=team_id).first(), "No such team.")

    def team_response(self, team_id, status_code=status.HTTP_200_OK) -> Response:
        return Response(TeamSerializer(self.team_or_404(team_id)).data, status=status_code)


class TeamListView(_TeamMixin, OrgScopedAPIView):
    @extend_schema(tags=TAGS, summary="List teams", responses={200: TeamSerializer(many=True), **error_responses(404)})
    def get(self, request, org_slug):
        return self.page(selectors.team_list(org=self.org), TeamSerializer)

    @extend_schema(
        tags=TAGS, summary="Create a team", description="Administrators only. Names are unique, ignoring case.",
        request=TeamWriteSerializer,
        responses={201: TeamSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request, org_slug):
        data = self.validated(TeamWriteSerializer)
        team = services.team_create(org=self.org, name=data["name"], actor=self.actor)
        return self.team_response(team.pk, status.HTTP_201_CREATED)


class TeamDetailView(_TeamMixin, OrgScopedAPIView):
    @extend_schema(tags=TAGS, summary="One team", responses={200: TeamSerializer, **error_responses(404)})
    def get(self, request, org_slug, team_id):
        return self.team_response(team_id)

    @extend_schema(
        tags=TAGS, summary="Rename a team", description="Administrators only.",
        request=TeamWriteSerializer,
        responses={200: TeamSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def patch(self, request, org_slug, team_id):
        data = self.validated(TeamWriteSerializer)
        team = services.team_rename(org=self.org, team=self.team_or_404(team_id), name=data["name"], actor=self.actor)
        return self.team_response(team.pk)

    @extend_schema(
        tags=TAGS, summary="Delete a team", description="Administrators only. Its members stay in the organization.",
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request, org_slug, team_id):
        services.team_delete(org=self.org, team=self.team_or_404(team_id), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamMemberListView(_TeamMixin, OrgScopedAPIView):
    @extend_schema(
        tags=TAGS, summary="List a team's members",
        responses={200: TeamMemberSerializer(many=True), **error_responses(404)},
    )
    def get(self, request, org_slug, team_id):
        team = self.team_or_404(team_id)
        return self.page(selectors.team_member_list(org=self.org, team=team), TeamMemberSerializer)

    @extend_schema(
        tags=TAGS, summary="Add a member to a team",
        description="Administrators only. `membership_id` is the member's id in this organization "
        "(from the members list); adding someone already in the team changes nothing.",
        request=TeamMemberAddSerializer,
        responses={201: TeamMemberSerializer, **error_responses(400, 403, 404, 413)},
    )
    def post(self, request, org_slug, team_id):
        data = self.validated(TeamMemberAddSerializer)
        team = self.team_or_404(team_id)
        membership = self.get_or_404(
            org_selectors.member_get(org=self.org, membership_id=data["membership_id"]),
            "That person is not a member of this organization.",
        )
        team_member = services.team_member_add(org=self.org, team=team, membership=membership, actor=self.actor)
        team_member.membership = membership
        return Response(TeamMemberSerializer(team_member).data, status=status.HTTP_201_CREATED)


class TeamMemberDetailView(_TeamMixin, OrgScopedAPIView):
    @extend_schema(
        tags=TAGS, summary="Remove a member from a team",
        description="Administrators only. The person stays a member of the organization.",
        responses={204: None, **error_responses(403, 404)},
    )
    def delete(self, request, org_slug, team_id, membership_id):
        team = self.team_or_404(team_id)
        team_member = (
            TeamMember.objects.select_related("membership__user")
            .filter(org=self.org, team=team, membership_id=membership_id)
            .first()
        )
        if team_member is None:
            raise NotFound("That person is not in this team.")
        services.team_member_remove(org=self.org, team=team, membership=team_member.membership, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
