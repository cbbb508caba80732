"""Who may see a dashboard page: the organization comes from the URL, the caller
must be its member (404 otherwise, so outsiders learn nothing), the session must
be one the organization accepts (orgs.policy session gates: SSO's E12/E13), and
some pages need an administrator (403).

Rule ids: docs/rules.md."""
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render

from . import policy
from .selectors import membership_for_slug


def _same_site_path(url: str) -> str | None:
    """The path (and query) of `url` when it is a page of this site (BASE_URL), else None."""
    try:
        parts, base = urlsplit(url or ""), urlsplit(settings.BASE_URL)
    except ValueError:  # a malformed Referer (e.g. "http://[bad")
        return None
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def reauthenticate(request, membership, refusal: policy.SessionRefusal):
    """Send a session the organization does not accept through its sign-in, back to the
    page asked for. A GET keeps its URL; any other method (a form) did nothing, and gets
    a page that says so, with a way back to the page the form was on."""
    if request.method in ("GET", "HEAD"):
        return HttpResponseRedirect(f"{refusal.sign_in_url}?{urlencode({'next': request.get_full_path()})}")
    back = _same_site_path(request.META.get("HTTP_REFERER", "")) or f"/orgs/{membership.org.slug}/"
    return render(request, "orgs/sign_in_again.html", {
        "org": membership.org, "refusal": refusal,
        "sign_in_url": f"{refusal.sign_in_url}?{urlencode({'next': back})}",
    }, status=403)


def org_view(*, admin: bool = False):
    def decorator(view):
        @wraps(view)
        def wrapper(request, org_slug, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for_slug(request.user, org_slug)
            if membership is None:
                raise Http404("No such organization.")
            refusal = policy.session_refusal(request, membership)
            if refusal is not None:
                return reauthenticate(request, membership, refusal)
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
