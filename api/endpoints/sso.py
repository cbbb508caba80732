"""SSO endpoints of the JSON API (§5): state and SP URLs, configure, preview, enable, disable.

Rule ids: docs/rules.md."""
from contextlib import nullcontext
from datetime import timedelta

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from sso import saml, services
from sso.models import AttributePreset, SSOConnection
from sso.selectors import enable_preview, enforcement_summary, sso_connection_of

from ..views import OrgScopedAPIView, error_responses

TAGS = ["sso"]


class CertificateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    sha256_fingerprint = serializers.CharField()
    not_after = serializers.DateTimeField()
    expires_soon = serializers.BooleanField()
    is_expired = serializers.BooleanField()


class EnforcementSerializer(serializers.Serializer):
    signed_in_through_idp = serializers.IntegerField(help_text="Members who have signed in through the IdP.")
    admins_on_password = serializers.IntegerField(
        help_text="Administrators not yet signed in through the IdP: they keep their password until then (E2).")
    awaiting_first_sso_sign_in = serializers.IntegerField(
        help_text="Other members not yet signed in through the IdP (members the enable is removing not counted).")


class SSOStateSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    state = serializers.ChoiceField(choices=["not_configured", *SSOConnection.State.values])
    sp_entity_id = serializers.CharField()
    acs_url = serializers.CharField()
    metadata_url = serializers.CharField()
    sls_url = serializers.CharField(help_text="Single logout URL (SLO) to give the IdP.")
    idp_entity_id = serializers.CharField(allow_blank=True)
    idp_sso_url = serializers.CharField(allow_blank=True)
    idp_slo_url = serializers.CharField(allow_blank=True)
    attribute_preset = serializers.CharField(allow_blank=True)
    email_attribute = serializers.CharField(allow_blank=True)
    first_name_attribute = serializers.CharField(allow_blank=True)
    last_name_attribute = serializers.CharField(allow_blank=True)
    allow_idp_initiated = serializers.BooleanField()
    subject_attribute = serializers.CharField(
        allow_blank=True, help_text="The attribute holding the IdP's persistent subject (E15); empty: the NameID.")
    session_lifetime_hours = serializers.IntegerField(
        allow_null=True, help_text="How long a session the IdP made opens the organization (E13); null if not set up.")
    single_logout = serializers.BooleanField(help_text="On when the IdP's logout URL (idp_slo_url) is set.")
    manage_roles_via_idp = serializers.BooleanField(
        help_text="DS4: the organization role follows the IdP's role attribute (SAML sign-ins and SCIM).")
    role_attribute = serializers.CharField(
        allow_blank=True, help_text="The attribute carrying member/admin (default planetscale_role); Entra's "
                                    "roles claim is read too.")
    groups_attribute = serializers.CharField(
        allow_blank=True, help_text="The SAML attribute listing the user's groups, for group rules while "
                                    "Directory Sync is off.")
    certificates = CertificateSerializer(many=True)
    enabled_at = serializers.DateTimeField(allow_null=True)
    removal = serializers.DictField()
    enforcement = EnforcementSerializer(allow_null=True, help_text="Sign-in counts; null unless SSO is enabled.")


class SSOConfigureSerializer(serializers.Serializer):
    metadata_xml = serializers.CharField(required=False, max_length=1024 * 1024, trim_whitespace=False)
    metadata_url = serializers.CharField(required=False, max_length=2048)
    idp_entity_id = serializers.CharField(required=False, max_length=1024)
    idp_sso_url = serializers.CharField(required=False, max_length=1024)
    idp_slo_url = serializers.CharField(required=False, max_length=1024, allow_blank=True)
    certificates = serializers.ListField(child=serializers.CharField(max_length=20_000), required=False,
                                         min_length=1, max_length=2)
    attribute_preset = serializers.ChoiceField(choices=AttributePreset.values, required=False)
    email_attribute = serializers.CharField(required=False, max_length=255)
    first_name_attribute = serializers.CharField(required=False, max_length=255, allow_blank=True)
    last_name_attribute = serializers.CharField(required=False, max_length=255, allow_blank=True)
    allow_idp_initiated = serializers.BooleanField(required=False)
    subject_attribute = serializers.CharField(required=False, max_length=255, allow_blank=True)
    session_lifetime_hours = serializers.IntegerField(required=False, min_value=services.SESSION_LIFETIME_HOURS[0],
                                                      max_value=services.SESSION_LIFETIME_HOURS[-1])
    manage_roles_via_idp = serializers.BooleanField(required=False)
    role_attribute = serializers.CharField(required=False, max_length=64)
    groups_attribute = serializers.CharField(required=False, max_length=255)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError({name: "Unknown field." for name in sorted(unknown)})
        sources = [name for name in ("metadata_xml", "metadata_url") if name in attrs]
        if len(sources) > 1:
            raise serializers.ValidationError("Give metadata_xml or metadata_url, not both.")
        if not attrs:
            raise serializers.ValidationError("Nothing to configure.")
        return attrs


class PreviewSerializer(serializers.Serializer):
    remove_count = serializers.IntegerField()
    removed = serializers.ListField(child=serializers.EmailField(), help_text="First 100 emails.")
    admins = serializers.ListField(child=serializers.EmailField())
    database_admins_removed = serializers.IntegerField()
    active_database_passwords = serializers.IntegerField()
    active_service_tokens = serializers.IntegerField()
    pending_invitations = serializers.IntegerField()


def sso_state(org) -> dict:
    connection = sso_connection_of(org, with_certificates=True)
    certs = list(connection.certificates.all()) if connection else []
    summary = enforcement_summary(org=org, connection=connection) if connection else None
    return {
        "available": org.sso_available,
        "state": connection.state if connection else "not_configured",
        "sp_entity_id": saml.sp_entity_id(org.slug),
        "acs_url": saml.acs_url(org.slug),
        "metadata_url": saml.sp_entity_id(org.slug),
        "sls_url": saml.sls_url(org.slug),
        "idp_entity_id": connection.idp_entity_id if connection else "",
        "idp_sso_url": connection.idp_sso_url if connection else "",
        "idp_slo_url": connection.idp_slo_url if connection else "",
        "attribute_preset": connection.attribute_preset if connection else "",
        "email_attribute": connection.email_attribute if connection else "",
        "first_name_attribute": connection.first_name_attribute if connection else "",
        "last_name_attribute": connection.last_name_attribute if connection else "",
        "allow_idp_initiated": connection.allow_idp_initiated if connection else False,
        "subject_attribute": connection.subject_attribute if connection else "",
        "session_lifetime_hours": summary["session_lifetime_hours"] if summary else None,
        "single_logout": bool(summary and summary["single_logout"]),
        "manage_roles_via_idp": connection.manage_roles_via_idp if connection else False,
        "role_attribute": connection.role_attribute if connection else "",
        "groups_attribute": connection.groups_attribute if connection else "",
        "certificates": [{"id": c.pk, "subject": c.subject, "sha256_fingerprint": c.sha256_fingerprint,
                          "not_after": c.not_after, "expires_soon": c.expires_soon, "is_expired": c.is_expired}
                         for c in certs],
        "enabled_at": connection.enabled_at if connection else None,
        "removal": {"status": connection.removal_status, "total": connection.removal_total,
                    "done": connection.removal_done} if connection else {},
        "enforcement": summary if connection and connection.is_enabled else None,
    }


class SSOView(OrgScopedAPIView):
    @extend_schema(tags=TAGS, summary="SSO state and SP URLs", responses={200: SSOStateSerializer,
                                                                          **error_responses(404)})
    def get(self, request, org_slug):
        return Response(SSOStateSerializer(sso_state(self.org)).data)

    @extend_schema(tags=TAGS, summary="Configure the IdP (metadata XML, metadata URL, or fields) and roles from it",
                   description="Fields left out stay as they are. `manage_roles_via_idp`, `role_attribute` and "
                               "`groups_attribute` (DS4) need SSO configured, before or in the same request.",
                   request=SSOConfigureSerializer,
                   responses={200: SSOStateSerializer, **error_responses(400, 403, 404, 429)})
    def put(self, request, org_slug):
        data = dict(self.validated(SSOConfigureSerializer))
        roles = {argument: data.pop(name) for name, argument in (("manage_roles_via_idp", "value"),
                                                                 ("role_attribute", "role_attribute"),
                                                                 ("groups_attribute", "groups_attribute"))
                 if name in data}
        extra = {k: data.pop(k) for k in ("attribute_preset", "email_attribute", "first_name_attribute",
                                          "last_name_attribute", "allow_idp_initiated", "subject_attribute")
                 if k in data}
        if "session_lifetime_hours" in data:
            extra["session_lifetime"] = timedelta(hours=data.pop("session_lifetime_hours"))
        # A refused role setting leaves the configuration as it was (without roles, no
        # transaction is held open while a metadata URL is fetched).
        with transaction.atomic() if roles else nullcontext():
            if "metadata_xml" in data:
                services.sso_configure_from_metadata(org=self.org, actor=self.actor, xml=data["metadata_xml"],
                                                     **extra)
            elif "metadata_url" in data:
                services.sso_configure_from_metadata_url(org=self.org, actor=self.actor, url=data["metadata_url"],
                                                         **extra)
            elif data or extra:
                services.sso_configure(org=self.org, actor=self.actor, **data, **extra)
            if roles:
                services.sso_set_role_management(org=self.org, actor=self.actor, **roles)
        return Response(SSOStateSerializer(sso_state(self.org)).data)

    @extend_schema(tags=TAGS, summary="Change some SSO settings (as PUT: fields left out stay as they are)",
                   request=SSOConfigureSerializer,
                   responses={200: SSOStateSerializer, **error_responses(400, 403, 404, 429)})
    def patch(self, request, org_slug):
        return self.put(request, org_slug)


class SSOPreviewView(OrgScopedAPIView):
    member_methods = frozenset()

    @extend_schema(tags=TAGS, summary="What enabling SSO would do", request=None,
                   responses={200: PreviewSerializer, **error_responses(403, 404)})
    def post(self, request, org_slug):
        return Response(PreviewSerializer(enable_preview(org=self.org)).data)


class SSOEnableView(OrgScopedAPIView):
    @extend_schema(tags=TAGS, summary="Enable SSO (removes non-admin members in a background job)", request=None,
                   responses={200: SSOStateSerializer, **error_responses(403, 404, 409)})
    def post(self, request, org_slug):
        services.sso_enable(org=self.org, actor=self.actor)
        return Response(SSOStateSerializer(sso_state(self.org)).data)


class SSODisableView(OrgScopedAPIView):
    @extend_schema(tags=TAGS, summary="Disable SSO (password sign-in again; Directory Sync off)", request=None,
                   responses={200: SSOStateSerializer, **error_responses(403, 404)})
    def post(self, request, org_slug):
        services.sso_disable(org=self.org, actor=self.actor)
        return Response(SSOStateSerializer(sso_state(self.org)).data)
