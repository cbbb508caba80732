"""Directory Sync endpoints of the JSON API (§5): state, enable (base URL and
token, once), disable, rotate-token, and the manage-roles setting. Administrators only.

Rule ids: docs/rules.md."""
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from scim import selectors, services
from scim.models import DEFAULT_ROLE_ATTRIBUTE, DirectoryToken

from ..views import OrgScopedAPIView, error_responses

TAGS = ["directory-sync"]


class DirectoryStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    scim_base_url = serializers.CharField()
    manage_roles_via_idp = serializers.BooleanField()
    role_attribute = serializers.CharField()
    enabled_at = serializers.DateTimeField(allow_null=True)
    token_prefix = serializers.CharField(allow_blank=True, help_text="The first characters of the active token.")


class DirectoryTokenSerializer(DirectoryStateSerializer):
    token = serializers.CharField(help_text="The SCIM bearer token. Shown once; store it in your IdP now.")


class DirectorySettingsSerializer(serializers.Serializer):
    manage_roles_via_idp = serializers.BooleanField(required=False)
    role_attribute = serializers.CharField(required=False, max_length=64)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError({name: "Unknown field." for name in sorted(unknown)})
        if not attrs:
            raise serializers.ValidationError("Nothing to change.")
        return attrs


def directory_state(org) -> dict:
    directory = selectors.directory_of(org=org)
    token = DirectoryToken.objects.filter(org=org, revoked_at__isnull=True).order_by("-pk").first()
    enabled = bool(directory and directory.enabled)
    return {
        "enabled": enabled,
        "scim_base_url": f"{settings.BASE_URL}/scim/v2/{org.slug}/",
        "manage_roles_via_idp": bool(directory and directory.manage_roles_via_idp),
        "role_attribute": directory.role_attribute if directory else DEFAULT_ROLE_ATTRIBUTE,
        "enabled_at": directory.enabled_at if enabled else None,
        "token_prefix": token.prefix if (token and enabled) else "",
    }


class _DirectoryView(OrgScopedAPIView):
    admin_only_reads = True


class DirectorySyncView(_DirectoryView):
    @extend_schema(tags=TAGS, summary="Directory Sync state",
                   responses={200: DirectoryStateSerializer, **error_responses(403, 404)})
    def get(self, request, org_slug):
        return Response(DirectoryStateSerializer(directory_state(self.org)).data)

    @extend_schema(tags=TAGS, summary="Change Directory Sync settings",
                   description="`manage_roles_via_idp` (DS4) and the role attribute's name.",
                   request=DirectorySettingsSerializer,
                   responses={200: DirectoryStateSerializer, **error_responses(400, 403, 404, 409)})
    def patch(self, request, org_slug):
        data = self.validated(DirectorySettingsSerializer)
        state = directory_state(self.org)
        services.directory_set_manage_roles(
            org=self.org, actor=self.actor,
            value=data.get("manage_roles_via_idp", state["manage_roles_via_idp"]),
            role_attribute=data.get("role_attribute"))
        return Response(DirectoryStateSerializer(directory_state(self.org)).data)


class DirectorySyncEnableView(_DirectoryView):
    @extend_schema(tags=TAGS, summary="Enable Directory Sync",
                   description="Requires SSO enabled (DS1). Deletes the organization's existing teams (DS5). "
                               "Answers the SCIM base URL and the bearer token, shown once.",
                   request=None, responses={201: DirectoryTokenSerializer, **error_responses(403, 404, 409)})
    def post(self, request, org_slug):
        _, token = services.directory_enable(org=self.org, actor=self.actor)
        return Response(DirectoryTokenSerializer({**directory_state(self.org), "token": token}).data,
                        status=status.HTTP_201_CREATED)


class DirectorySyncDisableView(_DirectoryView):
    @extend_schema(tags=TAGS, summary="Disable Directory Sync",
                   description="Tokens stop at once; members and teams stay.",
                   request=None, responses={200: DirectoryStateSerializer, **error_responses(403, 404)})
    def post(self, request, org_slug):
        services.directory_disable(org=self.org, actor=self.actor)
        return Response(DirectoryStateSerializer(directory_state(self.org)).data)


class DirectorySyncRotateTokenView(_DirectoryView):
    @extend_schema(tags=TAGS, summary="Rotate the SCIM token",
                   description="The old token stops at once; the new one is shown once.",
                   request=None, responses={201: DirectoryTokenSerializer, **error_responses(403, 404)})
    def post(self, request, org_slug):
        token = services.directory_rotate_token(org=self.org, actor=self.actor)
        return Response(DirectoryTokenSerializer({**directory_state(self.org), "token": token}).data,
                        status=status.HTTP_201_CREATED)
