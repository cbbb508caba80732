"""The operators' site (Django admin). Staff rights come only from a password session
(E14): a session an identity provider made never opens it, whoever it belongs to
(an account made staff after its SSO sign-in, say).

Rule ids: docs/rules.md."""
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import BACKEND_SESSION_KEY

PASSWORD_BACKEND = "accounts.backends.EmailBackend"


class GatehouseAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        return super().has_permission(request) and request.session.get(BACKEND_SESSION_KEY) == PASSWORD_BACKEND


class GatehouseAdminConfig(AdminConfig):
    default_site = "config.admin.GatehouseAdminSite"
