from django.urls import path

from . import dashboard, views

app_name = "sso"

urlpatterns = [
    path("", views.sso_start, name="start"),
    path("link/<str:token>/", views.link_confirm, name="link_confirm"),
    path("<slug:org_slug>/login/", views.sso_login, name="login"),
    path("<slug:org_slug>/test/", dashboard.test_connection, name="test"),
    path("<slug:org_slug>/acs/", views.acs, name="acs"),
    path("<slug:org_slug>/metadata/", views.metadata, name="metadata"),
]
