"""Dashboard pages for teams (Settings › Teams). Members see them; administrators change them.
Directory-managed teams are shown with a badge and no edit controls; the services refuse
manual edits anyway (DS6).

Rule ids: docs/rules.md."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import ServiceError
from orgs.access import org_view
from orgs.models import Membership
from orgs.selectors import member_get
from orgs.views import paginate

from .forms import MEMBER_SELECT_LIMIT, TeamForm, TeamMemberAddForm
from .selectors import members_not_in_team, team_get, team_list, team_member_list
from .services import team_create, team_delete, team_member_add, team_member_remove, team_rename


def _team_or_404(request, team_id):
    team = team_get(org=request.org, team_id=team_id)
    if team is None:
        raise Http404("No such team.")
    return team


def _render_teams(request, *, form=None, status: int = 200):
    page = paginate(request, team_list(org=request.org))
    return render(request, "teams/teams.html", {
        "page": page,
        "form": form or TeamForm(),
        "is_admin": request.membership.is_admin,
    }, status=status)


@org_view()
@require_http_methods(["GET", "POST"])
def teams(request):
    if request.method == "GET":
        return _render_teams(request)
    if not request.membership.is_admin:
        raise PermissionDenied("Only organization administrators can create teams.")
    form = TeamForm(request.POST)
    if not form.is_valid():
        return _render_teams(request, form=form, status=400)
    try:
        team = team_create(org=request.org, name=form.cleaned_data["name"], actor=request.user)
    except ServiceError as exc:
        form.add_error("name", exc.message)
        return _render_teams(request, form=form, status=exc.status)
    messages.success(request, f"Created the team {team.name}.")
    return redirect("orgs:team", org_slug=request.org.slug, team_id=team.pk)


def _add_form(request, team, data=None):
    candidates = members_not_in_team(org=request.org, team=team)
    small = list(candidates[: MEMBER_SELECT_LIMIT + 1])
    return TeamMemberAddForm(data, candidates=small if len(small) <= MEMBER_SELECT_LIMIT else None)


def _render_team(request, team, *, add_form=None, rename_form=None, status: int = 200):
    is_admin = request.membership.is_admin
    editable = is_admin and not team.directory_managed
    if editable and add_form is None:
        add_form = _add_form(request, team)
    return render(request, "teams/team.html", {
        "team": team,
        "page": paginate(request, team_member_list(org=request.org, team=team)),
        "add_form": add_form if editable else None,
        "rename_form": rename_form or TeamForm(initial={"name": team.name}),
        "editable": editable,
        "is_admin": is_admin,
    }, status=status)


@org_view()
@require_http_methods(["GET", "POST"])
def team_detail(request, team_id: int):
    """GET shows the team; POST (administrators) adds a member."""
    team = _team_or_404(request, team_id)
    if request.method == "GET":
        return _render_team(request, team)
    if not request.membership.is_admin:
        raise PermissionDenied("Only organization administrators can change teams.")
    form = _add_form(request, team, request.POST)
    if not form.is_valid():
        return _render_team(request, team, add_form=form, status=400)
    if form.use_select:
        membership = member_get(org=request.org, membership_id=form.cleaned_data["membership"])
    else:
        membership = (Membership.objects.select_related("user")
                      .filter(org=request.org, user__email=form.cleaned_data["email"].strip().lower()).first())
    if membership is None:
        form.add_error(None, "That person is not a member of this organization.")
        return _render_team(request, team, add_form=form, status=400)
    try:
        team_member_add(org=request.org, team=team, membership=membership, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render_team(request, team, status=exc.status)
    messages.success(request, f"Added {membership.user.email} to {team.name}.")
    return redirect("orgs:team", org_slug=request.org.slug, team_id=team.pk)


@org_view(admin=True)
@require_POST
def team_rename_view(request, team_id: int):
    team = _team_or_404(request, team_id)
    form = TeamForm(request.POST)
    if not form.is_valid():
        return _render_team(request, team, rename_form=form, status=400)
    try:
        team = team_rename(org=request.org, team=team, name=form.cleaned_data["name"], actor=request.user)
    except ServiceError as exc:
        form.add_error("name", exc.message)
        return _render_team(request, team, rename_form=form, status=exc.status)
    messages.success(request, f"Renamed the team to {team.name}.")
    return redirect("orgs:team", org_slug=request.org.slug, team_id=team.pk)


@org_view(admin=True)
@require_POST
def team_delete_view(request, team_id: int):
    team = _team_or_404(request, team_id)
    try:
        team_delete(org=request.org, team=team, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render_team(request, team, status=exc.status)
    messages.success(request, f"Deleted the team {team.name}.")
    return redirect("orgs:teams", org_slug=request.org.slug)


@org_view(admin=True)
@require_POST
def team_member_remove_view(request, team_id: int, membership_id: int):
    team = _team_or_404(request, team_id)
    membership = member_get(org=request.org, membership_id=membership_id)
    if membership is None:
        raise Http404("No such member.")
    try:
        removed = team_member_remove(org=request.org, team=team, membership=membership, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return _render_team(request, team, status=exc.status)
    if removed:
        messages.success(request, f"Removed {membership.user.email} from {team.name}.")
    return redirect(reverse("orgs:team", kwargs={"org_slug": request.org.slug, "team_id": team.pk}))
