from django.contrib import admin
from django.urls import include, path

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("api.urls")),
    path("sso/", include("sso.urls")),
    path("orgs/<slug:org_slug>/settings/authentication/", include("sso.dashboard_urls")),
    path("scim/v2/<slug:org_slug>/", include("scim.urls")),
    path("orgs/<slug:org_slug>/settings/directory-sync/", include("scim.dashboard_urls")),
    path("", include("orgs.urls")),
]
