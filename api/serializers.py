"""Request and response shapes. Thin: validation of form only; the rules live in the services.

Input serializers derive from `StrictSerializer`, which refuses fields it does
not declare (400 "unknown_field") instead of silently ignoring them — a typo
such as `is_db_admin` must not look like success.

Rule ids: docs/rules.md.
"""
from collections.abc import Mapping

from rest_framework import serializers

from orgs.models import DatabasePassword, Invitation, Membership, Plan

from .errors import UnknownField

Role = Membership.Role


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = set(data) - writable
            if unknown:
                raise UnknownField(unknown)
        return super().to_internal_value(data)


class EmptySerializer(StrictSerializer):
    """For actions that take no body: any field is refused."""


# Errors ---------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code, e.g. `last_admin`.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="Field errors: field name → messages (validation errors only).",
    )


# People and organizations ------------------------------------------------------


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    display_name = serializers.CharField()


class OrganizationSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    plan = serializers.ChoiceField(choices=Plan.choices)
    sso_available = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class OrganizationWithRoleSerializer(OrganizationSerializer):
    role = serializers.ChoiceField(choices=Role.choices, help_text="The caller's role in this organization.")


class TokenSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    organization = serializers.CharField(source="org.slug")
    role = serializers.ChoiceField(choices=Role.choices)


class CallerSerializer(serializers.Serializer):
    user = UserSerializer(allow_null=True, help_text="Null when a token's creator account was deleted.")
    organizations = OrganizationWithRoleSerializer(many=True)
    token = TokenSummarySerializer(allow_null=True, help_text="The service token, when the caller used one.")


# The bodies of the hottest reads, made without the serializers, which stay their schema:
# instantiating nested serializers deep-copies every declared field (about sixty copies for
# `GET /api/v1/user`, more than the rest of the view; a page of 50 members spends a third
# of its time there: bench/api_profile.py). tests/api/test_fast_representations.py holds
# each equal to its serializer's output.

_TIME = serializers.DateTimeField()


def user_data(user) -> dict:
    """UserSerializer(user).data"""
    return {"id": user.pk, "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
            "display_name": user.display_name}


def member_data(membership) -> dict:
    """MemberSerializer(membership).data (its `team_names` attached)."""
    return {"id": membership.pk, "user": user_data(membership.user), "role": membership.role,
            "is_database_admin": membership.is_database_admin, "directory_managed": membership.directory_managed,
            "teams": [str(name) for name in membership.team_names],
            "created_at": _TIME.to_representation(membership.created_at)}


def caller_data(*, user, organizations, token) -> dict:
    """CallerSerializer({"user": …, "organizations": …, "token": …}).data"""
    return {
        "user": None if user is None else user_data(user),
        "organizations": [{
            "slug": org.slug, "name": org.name, "plan": org.plan, "sso_available": org.sso_available,
            "created_at": _TIME.to_representation(org.created_at), "role": org.role} for org in organizations],
        "token": None if token is None else {
            "id": token.pk, "name": token.name, "organization": token.org.slug, "role": token.role},
    }


# Members ----------------------------------------------------------------------


class MemberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = UserSerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    is_database_admin = serializers.BooleanField()
    directory_managed = serializers.BooleanField()
    teams = serializers.ListField(child=serializers.CharField(), source="team_names")
    created_at = serializers.DateTimeField()


class MemberUpdateSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_database_admin = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give `role` and/or `is_database_admin`.")
        return attrs


# Invitations --------------------------------------------------------------------


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.ChoiceField(choices=Invitation.Status.choices)
    is_expired = serializers.BooleanField()
    expires_at = serializers.DateTimeField()
    invited_by = serializers.EmailField(source="invited_by.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class InvitationCreateSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.MEMBER)


# Teams ----------------------------------------------------------------------------


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    directory_managed = serializers.BooleanField()
    member_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class TeamWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)


class TeamMemberSerializer(serializers.Serializer):
    membership_id = serializers.IntegerField()
    user = UserSerializer(source="membership.user")
    role = serializers.ChoiceField(choices=Role.choices, source="membership.role")
    added_at = serializers.DateTimeField(source="created_at")


class TeamMemberAddSerializer(StrictSerializer):
    membership_id = serializers.IntegerField(min_value=1)


# Databases and credentials ---------------------------------------------------------


class DatabaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    active_passwords = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class DatabaseCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)


class CredentialSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The first characters of the secret, to tell credentials apart.")
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    creator_is_member = serializers.BooleanField(help_text="Whether the creator is still a member (E7).")
    active = serializers.BooleanField(source="is_active")
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


class DatabasePasswordSerializer(CredentialSerializer):
    database = serializers.CharField(source="database.name")
    access = serializers.ChoiceField(choices=DatabasePassword.Access.choices)


class DatabasePasswordCreatedSerializer(DatabasePasswordSerializer):
    plain_text = serializers.CharField(help_text="The password. Shown once, in this response only.")


class DatabasePasswordCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    access = serializers.ChoiceField(choices=DatabasePassword.Access.choices, default=DatabasePassword.Access.READ_ONLY)


class ServiceTokenSerializer(CredentialSerializer):
    role = serializers.ChoiceField(choices=Role.choices, help_text="The role the token acts with (fixed at creation).")


class ServiceTokenCreatedSerializer(ServiceTokenSerializer):
    token = serializers.CharField(help_text="The bearer token. Shown once, in this response only.")


class ServiceTokenCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)


# Audit log ------------------------------------------------------------------------------


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    event = serializers.CharField()
    actor = serializers.CharField(source="actor_label", help_text="Email of the actor, or `system`/the IdP.")
    actor_id = serializers.IntegerField(allow_null=True)
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    target_label = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)
    ip_address = serializers.IPAddressField(allow_null=True)
