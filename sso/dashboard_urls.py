"""Settings › Authentication: /orgs/<org>/settings/authentication/, and one URL per action."""
from django.urls import path

from . import dashboard

app_name = "sso_dashboard"

urlpatterns = [
    path("", dashboard.authentication, name="authentication"),
    path("idp/", dashboard.configure, name="configure"),
    path("idp/metadata/", dashboard.configure_metadata, name="configure_metadata"),
    path("idp/metadata-url/", dashboard.configure_url, name="configure_url"),
    path("certificates/add/", dashboard.certificate_add, name="certificate_add"),
    path("certificates/<int:certificate_id>/remove/", dashboard.certificate_remove, name="certificate_remove"),
    path("session-lifetime/", dashboard.session_lifetime, name="session_lifetime"),
    path("enable/", dashboard.enable, name="enable"),
    path("disable/", dashboard.disable, name="disable"),
    path("domains/add/", dashboard.domain_add, name="domain_add"),
    path("domains/<int:domain_id>/verify/", dashboard.domain_verify, name="domain_verify"),
    path("domains/<int:domain_id>/remove/", dashboard.domain_remove, name="domain_remove"),
    path("identities/<int:membership_id>/unlink/", dashboard.identity_unlink, name="identity_unlink"),
]
