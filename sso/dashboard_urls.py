"""Settings › Authentication: /orgs/<org>/settings/authentication/, and one URL per action."""
from django.urls import path

from . import dashboard, dashboard_group_rules as rules

app_name = "sso_dashboard"

urlpatterns = [
    path("", dashboard.authentication, name="authentication"),
    path("idp/", dashboard.configure, name="configure"),
    path("idp/metadata/", dashboard.configure_metadata, name="configure_metadata"),
    path("idp/metadata-url/", dashboard.configure_url, name="configure_url"),
    path("certificates/add/", dashboard.certificate_add, name="certificate_add"),
    path("certificates/<int:certificate_id>/remove/", dashboard.certificate_remove, name="certificate_remove"),
    path("session-lifetime/", dashboard.session_lifetime, name="session_lifetime"),
    path("roles/", dashboard.role_management, name="role_management"),
    path("enable/", dashboard.enable, name="enable"),
    path("disable/", dashboard.disable, name="disable"),
    path("domains/add/", dashboard.domain_add, name="domain_add"),
    path("domains/<int:domain_id>/verify/", dashboard.domain_verify, name="domain_verify"),
    path("domains/<int:domain_id>/remove/", dashboard.domain_remove, name="domain_remove"),
    path("identities/<int:membership_id>/unlink/", dashboard.identity_unlink, name="identity_unlink"),
    # Group rules: each change previewed (…/preview/), then saved.
    path("group-rules/", rules.group_rules_page, name="group_rules"),
    path("group-rules/add/preview/", rules.group_rule_add_preview, name="group_rule_add_preview"),
    path("group-rules/add/", rules.group_rule_add, name="group_rule_add"),
    path("group-rules/<int:rule_id>/", rules.group_rule_page, name="group_rule"),
    path("group-rules/<int:rule_id>/edit/preview/", rules.group_rule_edit_preview, name="group_rule_edit_preview"),
    path("group-rules/<int:rule_id>/edit/", rules.group_rule_edit, name="group_rule_edit"),
    path("group-rules/<int:rule_id>/remove/preview/", rules.group_rule_remove_preview,
         name="group_rule_remove_preview"),
    path("group-rules/<int:rule_id>/remove/", rules.group_rule_remove, name="group_rule_remove"),
]
