"""The operator's view of organizations. Plan and SSO add-on are the only things
edited here, and they go through orgs.services.organization_set_plan so the
change is audited; everything else is read-only (changes belong to the
dashboard, the API and the services behind them).

Rule ids: docs/rules.md."""
from django import forms
from django.contrib import admin

from .models import AuditEvent, Database, DatabasePassword, Invitation, Membership, Organization, ServiceToken
from .policy import plan_change_block_reason
from .services import organization_set_plan


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganizationPlanForm(forms.ModelForm):
    """Refuses, as a form error, the change organization_set_plan would refuse (SSO's D3):
    an error raised in save_model would come after the admin's "changed successfully"."""

    class Meta:
        model = Organization
        fields = ("plan", "sso_addon")

    def clean(self):
        cleaned = super().clean()
        if self.has_changed() and "plan" in cleaned:
            refusal = plan_change_block_reason(self.instance, cleaned["plan"], cleaned.get("sso_addon", False))
            if refusal:
                raise forms.ValidationError(refusal, code="sso_enabled")
        return cleaned


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationPlanForm
    list_display = ("slug", "name", "plan", "sso_addon", "created_at")
    list_filter = ("plan", "sso_addon")
    search_fields = ("slug", "name")
    fields = ("slug", "name", "plan", "sso_addon", "created_at")
    readonly_fields = ("slug", "name", "created_at")

    def has_add_permission(self, request):
        # Organizations are created by their first administrator (dashboard, API or `create_org`).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        organization_set_plan(org=obj, plan=form.cleaned_data["plan"], sso_addon=form.cleaned_data["sso_addon"],
                              actor=request.user)
        obj.refresh_from_db()


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "org", "role", "is_database_admin", "directory_managed", "created_at")
    list_filter = ("role", "is_database_admin", "directory_managed")
    search_fields = ("user__email", "org__slug")
    list_select_related = ("user", "org")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("email", "org", "role", "status", "expires_at", "invited_by")
    list_filter = ("status", "role")
    search_fields = ("email", "org__slug")
    list_select_related = ("org", "invited_by")
    exclude = ("token_hash",)


@admin.register(Database)
class DatabaseAdmin(ReadOnlyAdmin):
    list_display = ("name", "org", "created_by", "created_at")
    search_fields = ("name", "org__slug")
    list_select_related = ("org", "created_by")


@admin.register(DatabasePassword)
class DatabasePasswordAdmin(ReadOnlyAdmin):
    list_display = ("name", "database", "org", "access", "prefix", "created_by", "revoked_at")
    search_fields = ("name", "org__slug", "database__name")
    list_select_related = ("org", "database", "created_by")
    exclude = ("token_hash",)


@admin.register(ServiceToken)
class ServiceTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "org", "role", "prefix", "created_by", "last_used_at", "revoked_at")
    search_fields = ("name", "org__slug")
    list_select_related = ("org", "created_by")
    exclude = ("token_hash",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "org", "actor_label", "event", "target_label", "ip_address")
    list_filter = ("event",)
    search_fields = ("org__slug", "actor_label", "target_label", "event")
    list_select_related = ("org",)
    date_hierarchy = "created_at"
