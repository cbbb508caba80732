"""Who may see a dashboard page: the organization comes from the URL, the caller
must be its member (404 otherwise, so outsiders learn nothing), and some pages
need an administrator (403)."""
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .selectors import membership_for_slug


def org_view(*, admin: bool = False):
    def decorator(view):
        @wraps(view)
        def wrapper(request, org_slug, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for_slug(request.user, org_slug)
            if membership is None:
                raise Http404("No such organization.")
            if admin and not membership.is_admin:
                raise PermissionDenied("Only organization administrators can do this.")
            request.org = membership.org
            request.membership = membership
            if request.session.get("current_org") != membership.org.slug:
                # Written only when it changes: a modified session costs an UPDATE and a commit.
                request.session["current_org"] = membership.org.slug
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
