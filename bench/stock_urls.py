"""URLconf for bench/scim_stock.py (settings: bench/stock_settings.py): STOCK
django-scim2 0.23 — its views, adapters and filter parser — mounted at /scim/v2/.

Benchmark only. django-scim2 expects a user model that carries its SCIM mixin
columns (scim_id, scim_external_id, scim_username), a `username`, and a
`scim_groups` relation; Gatehouse's `accounts.User` logs in by `email` and has
none of them, and Django's auth Group has no scim_id/scim_external_id. The
adaptations below are only what is needed to run stock's code unmodified on
these two models, through the extension points stock documents:

- USER_MODEL_GETTER / GROUP_MODEL: proxy models (no table, no migration) that
  give stock the attribute names it reads: `username` and `scim_username` are
  the email, `scim_groups` is `groups`, `scim_external_id` is not stored.
  (Stock's mixin would also run one extra UPDATE per created row to set
  scim_id; without the mixin that UPDATE does not happen, which favours stock.)
- USER_ADAPTER / GROUP_ADAPTER: stock's SCIMUser / SCIMGroup with
  `id_field = "id"` (the attribute stock marks as "modifiable by overriding
  classes"): ids are primary keys, since there is no scim_id column.
- USER_FILTER_PARSER: stock's UserFilterQuery with `userName` mapped to the
  `email` column instead of `username` (the rest of its attr_map unchanged).
- AUTH_CHECK_MIDDLEWARE: stock's SCIMAuthCheckMiddleware, preceded by a bearer
  token lookup (one indexed query on Gatehouse's token table, as Gatehouse's
  own SCIM does) that sets request.user; stock then checks is_authenticated.

Nothing of stock's request handling, filtering, pagination, serialization or
group membership code is replaced.
"""
from django.contrib.auth.models import Group
from django.urls import include, path

from accounts.models import User


class StockUser(User):
    """accounts.User under the attribute names django-scim2's adapters read."""

    scim_external_id = None  # no column: externalId is accepted but not stored

    class Meta:
        proxy = True
        app_label = "accounts"

    @property
    def username(self):
        return self.email

    @username.setter
    def username(self, value):
        if value:  # userName is the email; stock then sets email from `emails` too
            self.email = value

    @property
    def scim_username(self):
        return self.email

    @scim_username.setter
    def scim_username(self, value):
        pass

    @property
    def scim_groups(self):
        return self.groups


class StockGroup(Group):
    """django.contrib.auth Group, the stock GROUP_MODEL, with the one attribute
    stock's adapter reads that Group lacks."""

    scim_external_id = None

    class Meta:
        proxy = True
        app_label = "auth"


def stock_user_model():
    return StockUser


# Order matters below: django_scim.adapters and django_scim.views resolve the
# settings that point back into this module while they are being imported.
from django_scim.filters import UserFilterQuery  # noqa: E402
from django_scim.middleware import SCIMAuthCheckMiddleware  # noqa: E402


class StockUserFilterQuery(UserFilterQuery):
    attr_map = {**UserFilterQuery.attr_map, ("userName", None, None): "email"}


class StockBearerAuthCheck(SCIMAuthCheckMiddleware):
    def process_request(self, request):
        from orgs.models import hash_secret
        from scim.models import DirectoryToken

        scheme, _, secret = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and secret.strip():
            token = (DirectoryToken.objects.select_related("created_by")
                     .filter(token_hash=hash_secret(secret.strip()), revoked_at__isnull=True).first())
            if token is not None and token.created_by is not None:
                request.user = token.created_by
        return super().process_request(request)


from django_scim.adapters import SCIMGroup, SCIMUser  # noqa: E402


class StockSCIMUser(SCIMUser):
    id_field = "id"


class StockSCIMGroup(SCIMGroup):
    id_field = "id"


from config.urls import urlpatterns as _site  # noqa: E402

urlpatterns = [
    path("scim/v2/", include("django_scim.urls")),
    # The rest of the site, without Gatehouse's own SCIM app (same namespace "scim").
    *[p for p in _site if getattr(p, "app_name", None) != "scim"],
]
