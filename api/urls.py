"""Routes of the JSON API, all under /api/v1/.

Organization-scoped routes live under ``organizations/<slug:org_slug>/`` and
use `api.views.OrgScopedAPIView`, which resolves the organization and the
caller's role (api.permissions).
"""
from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from .endpoints import (account, audit, credentials, directory_sync, events, group_rules, invitations, members,
                        setup_links, sso, teams, webhooks)
from .views import not_found

app_name = "api"

ORG = "organizations/<slug:org_slug>"


def org_path(route: str, view, name: str):
    """A route under one organization: `route` is appended to ORG."""
    return path(ORG + route, view, name=name)


org_routes = [
    org_path("", account.OrganizationDetailView.as_view(), "organization"),
    # Members
    org_path("/members", members.MemberListView.as_view(), "members"),
    org_path("/members/<int:membership_id>", members.MemberDetailView.as_view(), "member"),
    # Invitations
    org_path("/invitations", invitations.InvitationListView.as_view(), "invitations"),
    org_path("/invitations/<int:invitation_id>", invitations.InvitationDetailView.as_view(), "invitation"),
    org_path("/invitations/<int:invitation_id>/resend", invitations.InvitationResendView.as_view(),
            "invitation-resend"),
    # Teams
    org_path("/teams", teams.TeamListView.as_view(), "teams"),
    org_path("/teams/<int:team_id>", teams.TeamDetailView.as_view(), "team"),
    org_path("/teams/<int:team_id>/members", teams.TeamMemberListView.as_view(), "team-members"),
    org_path("/teams/<int:team_id>/members/<int:membership_id>", teams.TeamMemberDetailView.as_view(),
            "team-member"),
    # Databases and credentials
    org_path("/databases", credentials.DatabaseListView.as_view(), "databases"),
    org_path("/databases/<slug:database_name>", credentials.DatabaseDetailView.as_view(), "database"),
    org_path("/databases/<slug:database_name>/passwords", credentials.DatabasePasswordListView.as_view(),
            "database-passwords"),
    org_path("/databases/<slug:database_name>/passwords/<int:password_id>",
            credentials.DatabasePasswordDetailView.as_view(), "database-password"),
    org_path("/service-tokens", credentials.ServiceTokenListView.as_view(), "service-tokens"),
    org_path("/service-tokens/<int:token_id>", credentials.ServiceTokenDetailView.as_view(), "service-token"),
    # Audit log
    org_path("/audit-events", audit.AuditEventListView.as_view(), "audit-events"),
    org_path("/audit-events/export", audit.AuditEventExportView.as_view(), "audit-events-export"),
]

urlpatterns = [
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi"),
    # The reference, readable: public as the schema is (SERVE_PERMISSIONS); "Try it out" acts
    # with the reader's own session or a service token typed into "Authorize".
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:openapi", title="Gatehouse API reference"),
         name="docs"),
    path("user", account.CurrentUserView.as_view(), name="user"),
    path("organizations", account.OrganizationListView.as_view(), name="organizations"),
    *org_routes,
    # Routes of other apps (sso, scim) are included below.
    org_path("/sso", sso.SSOView.as_view(), "sso"),
    org_path("/sso/enable/preview", sso.SSOPreviewView.as_view(), "sso-enable-preview"),
    org_path("/sso/enable", sso.SSOEnableView.as_view(), "sso-enable"),
    org_path("/sso/disable", sso.SSODisableView.as_view(), "sso-disable"),
    org_path("/sso/group-rules", group_rules.GroupRuleListView.as_view(), "sso-group-rules"),
    org_path("/sso/group-rules/preview", group_rules.GroupRulePreviewView.as_view(), "sso-group-rules-preview"),
    org_path("/sso/group-rules/<int:rule_id>", group_rules.GroupRuleDetailView.as_view(), "sso-group-rule"),
    org_path("/directory-sync", directory_sync.DirectorySyncView.as_view(), "directory-sync"),
    org_path("/directory-sync/enable", directory_sync.DirectorySyncEnableView.as_view(), "directory-sync-enable"),
    org_path("/directory-sync/disable", directory_sync.DirectorySyncDisableView.as_view(), "directory-sync-disable"),
    org_path("/directory-sync/rotate-token", directory_sync.DirectorySyncRotateTokenView.as_view(),
             "directory-sync-rotate-token"),
    org_path("/setup-links", setup_links.SetupLinkListView.as_view(), "setup-links"),
    org_path("/setup-links/<int:link_id>", setup_links.SetupLinkDetailView.as_view(), "setup-link"),
    # Events and webhooks (orgs.events, webhooks)
    org_path("/events", events.EventListView.as_view(), "events"),
    org_path("/webhooks", webhooks.WebhookListView.as_view(), "webhooks"),
    org_path("/webhooks/<int:webhook_id>", webhooks.WebhookDetailView.as_view(), "webhook"),
    org_path("/webhooks/<int:webhook_id>/rotate-secret", webhooks.WebhookRotateSecretView.as_view(),
             "webhook-rotate-secret"),
    org_path("/webhooks/<int:webhook_id>/deliveries", webhooks.WebhookDeliveryListView.as_view(),
             "webhook-deliveries"),
    org_path("/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver",
             webhooks.WebhookRedeliverView.as_view(), "webhook-redeliver"),
]

# Keep last: unmatched API URLs answer a JSON 404 instead of the site's HTML page.
# [\s\S], not ".": a path may hold a newline (%0A), and then "." would let it fall to the HTML 404.
urlpatterns.append(re_path(r"^[\s\S]*$", not_found, name="not-found"))
