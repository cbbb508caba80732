"""A setup link's page and its actions: /setup/<secret>/… (outside /orgs/: no organization in
the URL, the secret says which)."""
from django.urls import path

from . import views

app_name = "setuplinks"

urlpatterns = [
    path("<str:secret>/", views.setup_page, name="page"),
    path("<str:secret>/idp/", views.configure, name="configure"),
    path("<str:secret>/idp/metadata/", views.configure_metadata, name="configure_metadata"),
    path("<str:secret>/idp/metadata-url/", views.configure_url, name="configure_url"),
    path("<str:secret>/certificates/add/", views.certificate_add, name="certificate_add"),
    path("<str:secret>/certificates/<int:certificate_id>/remove/", views.certificate_remove,
         name="certificate_remove"),
    path("<str:secret>/domains/add/", views.domain_add, name="domain_add"),
    path("<str:secret>/domains/<int:domain_id>/verify/", views.domain_verify, name="domain_verify"),
    path("<str:secret>/test/", views.test_connection, name="test"),
    path("<str:secret>/directory-sync/enable/", views.directory_sync_enable, name="directory_sync_enable"),
]
