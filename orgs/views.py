from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .errors import ServiceError
from .forms import OrganizationForm
from .selectors import organizations_of
from .services import organization_create


@login_required
def home(request):
    """The caller's organizations; straight into the last one used when it is still theirs."""
    orgs = list(organizations_of(request.user))
    last = request.session.get("current_org")
    if last and any(org.slug == last for org in orgs) and not request.GET.get("switch"):
        return redirect("orgs:members", org_slug=last)
    return render(request, "orgs/home.html", {"orgs": orgs})


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = organization_create(slug=form.cleaned_data["slug"], name=form.cleaned_data["name"],
                                      creator=request.user)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Created {org.name}.")
            return redirect("orgs:members", org_slug=org.slug)
    return render(request, "orgs/new.html", {"form": form})
