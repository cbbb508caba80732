from django.urls import path

app_name = "sso"

urlpatterns: list = []
