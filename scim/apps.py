"""The scim app; connects its receivers, hooks and error surface. Rule ids: docs/rules.md."""
from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "scim"
    verbose_name = "Directory Sync (SCIM)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from sso.signals import domain_verified, role_management_enabled, sso_disabled, sso_member_joined

        from .receivers import on_domain_verified, on_role_management_enabled, on_sso_disabled, on_sso_member_joined

        # D2: disabling SSO turns Directory Sync off, inside the same transaction.
        sso_disabled.connect(on_sso_disabled, dispatch_uid="scim.directory_disable_on_sso_disabled")
        # E16: a just-in-time membership of a pushed user belongs to its directory user.
        sso_member_joined.connect(on_sso_member_joined, dispatch_uid="scim.attach_sso_joined_member")
        # DS4: turning role management on applies the roles the directory last sent.
        role_management_enabled.connect(on_role_management_enabled, dispatch_uid="scim.apply_stored_roles")
        domain_verified.connect(on_domain_verified, dispatch_uid="scim.retry_pending_emails")
        # E14: a claim takes the account away from every directory.
        from accounts.signals import account_claimed

        from .receivers import detach_claimed_account

        account_claimed.connect(detach_claimed_account, dispatch_uid="scim.detach_claimed_account")
        # The directory's audit event names; the block on hand-made teams (DS3, DS5).
        from . import policy, services  # noqa: F401
        # An outage (PostgreSQL) met outside a SCIM view still answers SCIM's error JSON.
        from config.faults import register_surface

        from .errors import ScimError

        register_surface("/scim/", lambda message: ScimError(503, message).response())
