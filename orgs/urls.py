from django.urls import include, path

from . import views

app_name = "orgs"

settings_patterns = [
    path("members/", views.members, name="members"),
    path("members/leave/", views.member_leave, name="member_leave"),
    path("members/<int:membership_id>/", views.member_detail, name="member"),
    path("members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<int:membership_id>/database-admin/", views.member_database_admin, name="member_database_admin"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke_view, name="invitation_revoke"),
    path("invitations/<int:invitation_id>/resend/", views.invitation_resend_view, name="invitation_resend"),
    path("teams/", include("teams.urls")),
    path("databases/", views.databases, name="databases"),
    path("databases/<slug:name>/", views.database_detail, name="database"),
    path("databases/<slug:name>/delete/", views.database_delete_view, name="database_delete"),
    path("databases/<slug:name>/passwords/<int:password_id>/revoke/", views.database_password_revoke_view,
         name="database_password_revoke"),
    path("service-tokens/", views.service_tokens, name="service_tokens"),
    path("service-tokens/<int:token_id>/revoke/", views.service_token_revoke_view, name="service_token_revoke"),
    path("audit-log/", views.audit_log, name="audit_log"),
    path("audit-log/export/", views.audit_log_export, name="audit_log_export"),
    path("plan/", views.plan, name="plan"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("orgs/new/", views.organization_new, name="new"),
    path("orgs/<slug:org_slug>/", views.organization_index, name="index"),
    path("orgs/<slug:org_slug>/settings/", include(settings_patterns)),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
]
