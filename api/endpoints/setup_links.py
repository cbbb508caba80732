"""Setup links of the JSON API (issue 14 item 1, §5): list, create (the link's URL in that
answer only), read one, revoke. Administrators only, reads too: a link's note says whom the
organization's setup was handed to.

Rule ids: docs/rules.md."""
from datetime import timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from setuplinks import services
from setuplinks.models import NOTE_MAX, SetupLink
from setuplinks.selectors import setup_link_get, setup_links_of

from ..serializers import StrictSerializer
from ..views import OrgScopedAPIView, error_responses

TAGS = ["setup links"]


class SetupLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    note = serializers.CharField(allow_blank=True, help_text="Whom the link was made for.")
    allow_directory_sync = serializers.BooleanField(help_text="The link may turn Directory Sync on (and see its "
                                                              "token once).")
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    state = serializers.ChoiceField(choices=SetupLink.State.choices)


class SetupLinkCreatedSerializer(SetupLinkSerializer):
    url = serializers.URLField(help_text="The link to hand over. In this response only: it is stored as a hash.")


class SetupLinkCreateSerializer(StrictSerializer):
    lifetime_hours = serializers.IntegerField(min_value=0, max_value=10**6,
                                              help_text="How long the link works: 1 to 720 hours (30 days).")
    note = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX * 2,
                                 help_text=f"Whom the link is for (at most {NOTE_MAX} characters).")
    allow_directory_sync = serializers.BooleanField(required=False, default=False)


class _SetupLinkView(OrgScopedAPIView):
    admin_only_reads = True

    def link_or_404(self, link_id) -> SetupLink:
        return self.get_or_404(setup_link_get(org=self.org, link_id=link_id), "No such setup link.")


class SetupLinkListView(_SetupLinkView):
    @extend_schema(tags=TAGS, summary="List setup links",
                   responses={200: SetupLinkSerializer(many=True), **error_responses(403, 404)})
    def get(self, request, org_slug):
        return self.page(setup_links_of(org=self.org), SetupLinkSerializer)

    @extend_schema(tags=TAGS, summary="Create a setup link",
                   description="A link for the organization's IdP administrator, who needs no account: it "
                               "configures the IdP, domains, tests the connection and, with "
                               "`allow_directory_sync`, turns Directory Sync on. It never enables SSO. Needs a "
                               "plan with SSO. The URL is in this response only.",
                   request=SetupLinkCreateSerializer,
                   responses={201: SetupLinkCreatedSerializer, **error_responses(400, 403, 404, 413)})
    def post(self, request, org_slug):
        data = self.validated(SetupLinkCreateSerializer)
        link, secret = services.setup_link_create(org=self.org, actor=self.actor,
                                                  lifetime=timedelta(hours=data["lifetime_hours"]),
                                                  note=data.get("note", ""),
                                                  allow_directory_sync=data["allow_directory_sync"])
        link = self.link_or_404(link.pk)
        link.url = services.setup_link_url(secret)
        return Response(SetupLinkCreatedSerializer(link).data, status=status.HTTP_201_CREATED)


class SetupLinkDetailView(_SetupLinkView):
    @extend_schema(tags=TAGS, summary="One setup link",
                   responses={200: SetupLinkSerializer, **error_responses(403, 404)})
    def get(self, request, org_slug, link_id):
        return Response(SetupLinkSerializer(self.link_or_404(link_id)).data)

    @extend_schema(tags=TAGS, summary="Revoke a setup link",
                   description="It stops working at once (its pages answer 404). Revoking a revoked link "
                               "changes nothing.",
                   responses={200: SetupLinkSerializer, **error_responses(403, 404)})
    def delete(self, request, org_slug, link_id):
        link = self.link_or_404(link_id)
        services.setup_link_revoke(org=self.org, actor=self.actor, link_id=link.pk)
        return Response(SetupLinkSerializer(self.link_or_404(link_id)).data)
