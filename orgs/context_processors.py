from django.utils.functional import SimpleLazyObject

from .selectors import organizations_of


def current_organization(request):
    """The organization a dashboard page is about (set by `orgs.access.org_view`) and
    the caller's organizations for the switcher, fetched only if a template asks."""
    user = getattr(request, "user", None)
    return {
        "current_org": getattr(request, "org", None),
        "current_membership": getattr(request, "membership", None),
        "user_orgs": SimpleLazyObject(
            lambda: list(organizations_of(user)) if user is not None and user.is_authenticated else []
        ),
    }
