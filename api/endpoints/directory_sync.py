"""Directory Sync endpoints of the JSON API (§5): state, enable (base URL and
token, once), disable, rotate-token. Administrators only. The manage-roles setting (DS4)
moved to the SSO connection (PUT …/sso); the state still reports it, read-only.

Rule ids: docs/rules.md."""
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from config.errors import ServiceError
from scim import selectors, services
from scim.models import DirectoryToken

from ..views import OrgScopedAPIView, error_responses

TAGS = ["directory-sync"]


class DirectoryStateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    scim_base_url = serializers.CharField()
    manage_roles_via_idp = serializers.BooleanField(
        read_only=True, help_text="Read-only here: the SSO connection's setting (PUT …/sso), DS4.")
    role_attribute = serializers.CharField(read_only=True, help_text="Read-only here: the SSO connection's.")
    enabled_at = serializers.DateTimeField(allow_null=True)
    token_prefix = serializers.CharField(allow_blank=True, help_text="The first characters of the active token.")


class DirectoryTokenSerializer(DirectoryStateSerializer):
    token = serializers.CharField(help_text="The SCIM bearer token. Shown once; store it in your IdP now.")


def directory_state(org) -> dict:
    directory = selectors.directory_of(org=org)
    token = DirectoryToken.objects.filter(org=org, revoked_at__isnull=True).order_by("-pk").first()
    enabled = bool(directory and directory.enabled)
    roles = selectors.role_management(org=org)
    return {
        "enabled": enabled,
        "scim_base_url": f"{settings.BASE_URL}/scim/v2/{org.slug}/",
        "manage_roles_via_idp": roles.enabled,
        "role_attribute": roles.attribute,
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

    @extend_schema(tags=TAGS, summary="Change Directory Sync settings (moved)", deprecated=True,
                   description="Directory Sync has no settings of its own any more: `manage_roles_via_idp` "
                               "and `role_attribute` (DS4) are the SSO connection's, set with "
                               "`PUT /api/v1/organizations/{org}/sso`. Answers 400 `setting_moved`.",
                   request=None, responses={**error_responses(400, 403, 404)})
    def patch(self, request, org_slug):
        raise ServiceError(
            f"“Manage roles through identity provider” and the role attribute are set with "
            f"PUT /api/v1/organizations/{self.org.slug}/sso (Settings › Authentication); "
            "Directory Sync has no settings of its own.", code="setting_moved")


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
