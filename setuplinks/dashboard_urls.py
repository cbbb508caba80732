"""Settings › Authentication › Setup links: /orgs/<org>/settings/authentication/setup-links/, one URL per action."""
from django.urls import path

from . import dashboard

app_name = "setuplinks_dashboard"

urlpatterns = [
    path("", dashboard.setup_links_page, name="setup_links"),
    path("create/", dashboard.setup_link_create, name="setup_link_create"),
    path("<int:link_id>/revoke/", dashboard.setup_link_revoke, name="setup_link_revoke"),
]
