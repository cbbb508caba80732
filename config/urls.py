"""The site's URLs: one include per app. Rule ids: docs/rules.md."""
from django.contrib import admin
from django.urls import include, path

from .health import healthz


def admin_login(request):
    """Operators sign in where everyone does: one password sign-in, with its rate
    limits and its refusal of SSO-only accounts (E2); Django admin's own login
    form has neither."""
    from django.contrib.auth.views import redirect_to_login

    return redirect_to_login(request.GET.get("next") or "/admin/", login_url="accounts:login")


# An outage met outside a view (in a middleware) answers 503 too, not the 500 page.
handler500 = "config.faults.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("api.urls")),
    path("sso/", include("sso.urls")),
    path("orgs/<slug:org_slug>/settings/authentication/setup-links/", include("setuplinks.dashboard_urls")),
    path("orgs/<slug:org_slug>/settings/authentication/", include("sso.dashboard_urls")),
    path("scim/v2/<slug:org_slug>/", include("scim.urls")),
    # A setup link's pages: the secret in the URL says which organization (issue 14).
    path("setup/", include("setuplinks.urls")),
    path("orgs/<slug:org_slug>/settings/directory-sync/", include("scim.dashboard_urls")),
    path("orgs/<slug:org_slug>/settings/webhooks/", include("webhooks.dashboard_urls")),
    path("", include("orgs.urls")),
]
