from django.urls import path

from . import dashboard, slo, test_idp, views

app_name = "sso"

urlpatterns = [
    path("", views.sso_start, name="start"),
    path("link/<str:token>/", views.link_confirm, name="link_confirm"),
    path("test-idp/metadata/", test_idp.metadata_view, name="test_idp_metadata"),
    path("test-idp/sso/", test_idp.sso_view, name="test_idp_sso"),
    path("test-idp/initiate/<slug:org_slug>/", test_idp.initiate_view, name="test_idp_initiate"),
    path("test-idp/slo/", test_idp.slo_view, name="test_idp_slo"),
    path("<slug:org_slug>/login/", views.sso_login, name="login"),
    path("<slug:org_slug>/test/", dashboard.test_connection, name="test"),
    path("<slug:org_slug>/acs/", views.acs, name="acs"),
    path("<slug:org_slug>/metadata/", views.metadata, name="metadata"),
    path("<slug:org_slug>/sls/", slo.sls, name="sls"),
]
