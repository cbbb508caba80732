"""Settings for bench/scim_stock.py: Gatehouse's settings plus STOCK django-scim2,
installed the way its README says (app in INSTALLED_APPS, `django_scim.urls`
under /scim/v2/, SCIM_SERVICE_PROVIDER with NETLOC and AUTHENTICATION_SCHEMES).

Benchmark only; the app never uses django_scim this way. What had to be
adapted to point stock at `accounts.User` (no username, no SCIM columns) and
Django's auth Group lives in bench/stock_urls.py and is listed there.
"""
from config.settings import *  # noqa: F401,F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "django_scim"]

# Stock's own URLs only (plus the rest of the site, without Gatehouse's SCIM
# app, whose URL namespace is also "scim").
ROOT_URLCONF = "stock_urls"

# django-scim2 0.23 applies its auth check (AUTH_CHECK_MIDDLEWARE) to every
# SCIM view itself, so no entry in MIDDLEWARE is needed.
SCIM_SERVICE_PROVIDER = {
    "NETLOC": "localhost",
    "AUTHENTICATION_SCHEMES": [
        {"type": "oauth2", "name": "OAuth 2", "description": "Oauth 2 implemented with bearer token"},
    ],
    # Strictly necessary adaptations (see bench/stock_urls.py):
    "USER_MODEL_GETTER": "stock_urls.stock_user_model",
    "GROUP_MODEL": "stock_urls.StockGroup",
    "USER_ADAPTER": "stock_urls.StockSCIMUser",
    "GROUP_ADAPTER": "stock_urls.StockSCIMGroup",
    "USER_FILTER_PARSER": "stock_urls.StockUserFilterQuery",
    "AUTH_CHECK_MIDDLEWARE": "stock_urls.StockBearerAuthCheck",
}
