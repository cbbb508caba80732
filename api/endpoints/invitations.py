"""Invitations: list, create (the link goes by email, never in the response), revoke, re-send."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from orgs import selectors, services
from orgs.models import Invitation

from ..errors import InvalidQuery
from ..serializers import EmptySerializer, InvitationCreateSerializer, InvitationSerializer
from ..views import OrgScopedAPIView, error_responses

TAGS = ["invitations"]
STATUS_FILTERS = [*Invitation.Status.values, "all"]


class _InvitationMixin:
    def invitation_or_404(self, invitation_id):
        return self.get_or_404(selectors.invitation_get(org=self.org, invitation_id=invitation_id),
                               "No such invitation.")


class InvitationListView(_InvitationMixin, OrgScopedAPIView):
    @extend_schema(
        tags=TAGS, summary="List invitations",
        parameters=[OpenApiParameter("status", str, enum=STATUS_FILTERS, default="pending",
                                     description="Which invitations; `all` for every status.")],
        responses={200: InvitationSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, org_slug):
        wanted = request.query_params.get("status", Invitation.Status.PENDING)
        if wanted not in STATUS_FILTERS:
            raise InvalidQuery("status", f"`status` must be one of: {', '.join(STATUS_FILTERS)}.")
        queryset = selectors.invitation_list(org=self.org, status=None if wanted == "all" else wanted)
        return self.page(queryset, InvitationSerializer)

    @extend_schema(
        tags=TAGS, summary="Invite someone",
        description="Administrators only. The one-time link is emailed to the invitee; it is not in the response. "
        "Refused (403 `invitations_disabled`) while the organization enforces SSO.",
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, **error_responses(400, 403, 404, 409, 413)},
    )
    def post(self, request, org_slug):
        data = self.validated(InvitationCreateSerializer)
        invitation, _token = services.invitation_create(
            org=self.org, email=data["email"], role=data["role"], actor=self.actor)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(_InvitationMixin, OrgScopedAPIView):
    @extend_schema(tags=TAGS, summary="One invitation", responses={200: InvitationSerializer, **error_responses(404)})
    def get(self, request, org_slug, invitation_id):
        return Response(InvitationSerializer(self.invitation_or_404(invitation_id)).data)

    @extend_schema(
        tags=TAGS, summary="Revoke an invitation",
        description="Administrators only. Its link stops working. Revoking a revoked or accepted invitation "
        "changes nothing.",
        responses={200: InvitationSerializer, **error_responses(403, 404)},
    )
    def delete(self, request, org_slug, invitation_id):
        invitation = services.invitation_revoke(
            org=self.org, invitation=self.invitation_or_404(invitation_id), actor=self.actor)
        return Response(InvitationSerializer(invitation).data)


class InvitationResendView(_InvitationMixin, OrgScopedAPIView):
    @extend_schema(
        tags=TAGS, summary="Re-send an invitation",
        description="Administrators only. Emails a new link (the old one stops working) with a fresh expiry.",
        request=None,
        responses={200: InvitationSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request, org_slug, invitation_id):
        self.validated(EmptySerializer)
        invitation, _token = services.invitation_resend(
            org=self.org, invitation=self.invitation_or_404(invitation_id), actor=self.actor)
        return Response(InvitationSerializer(invitation).data)
