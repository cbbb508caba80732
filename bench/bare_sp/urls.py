from django.urls import path

from . import views

# The same URL shapes as Gatehouse's.
urlpatterns = [
    path("sso/<slug:slug>/login/", views.login_start),
    path("sso/<slug:slug>/acs/", views.acs),
    path("api/v1/user", views.current_user),
]
