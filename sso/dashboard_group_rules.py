"""Settings › Authentication › Group rules (/orgs/<org>/settings/authentication/group-rules/):
administrators map IdP groups to a role, the Database Administrator grant and a team
(sso.group_rules); members may look.

Shaped like sso.dashboard: one view per action at its own URL, a form (sso.forms.GroupRuleForm)
and a service call. Each change is previewed first: its "Preview" action renders the page
with who would gain or lose what, and a "Save" form carrying the same values to the action
that saves (which an administrator may also post to directly)."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from config.errors import ServiceError
from orgs.access import org_view
from teams.models import Team

from . import group_rules
from .dashboard import refusal_status
from .forms import TICKED, GroupRuleForm
from .models import GroupRule
from .policy import directory_sync_enabled
from .selectors import group_rule_get, group_rule_list, sso_connection_of


def _rule_or_404(request, rule_id) -> GroupRule:
    rule = group_rule_get(org=request.org, rule_id=rule_id)
    if rule is None:
        raise Http404("No such group rule.")
    return rule


def _render(request, *, rule: GroupRule | None = None, form=None, preview=None, pending=None,
            status: int = 200):
    """The list page (no `rule`) or one rule's page. `preview`: the rows of a previewed
    change, and `pending` what its Save form posts: {"url": …, "values": the form's data,
    "label": the button's}."""
    org = request.org
    directory_on = bool(directory_sync_enabled(org))
    if form is not None:  # what was typed, shown again
        values = {"group_name": form.data.get("group_name", ""), "role": form.data.get("role", ""),
                  "database_admin": str(form.data.get("database_admin", "")).lower() in TICKED,
                  "team": str(form.data.get("team", ""))}
    elif rule is not None:
        values = {"group_name": rule.group_name, "role": rule.role, "database_admin": rule.database_admin,
                  "team": str(rule.team_id or "")}
    else:
        values = {"group_name": "", "role": "", "database_admin": False, "team": ""}
    return render(request, "sso/group_rule.html" if rule is not None else "sso/group_rules.html", {
        "org": org,
        "rule": rule,
        "rules": list(group_rule_list(org=org)) if rule is None else [],
        "form": form,
        "values": values,
        "roles": GroupRule.Role.choices,
        # A rule may name a team of this organization's own, and none while Directory Sync is on.
        "teams": [] if directory_on else list(Team.objects.filter(org=org, directory_managed=False)
                                                .order_by("name").values_list("pk", "name")),
        "directory_sync_enabled": directory_on,
        "configured": sso_connection_of(org) is not None,
        "is_admin": request.membership.is_admin,
        "preview": preview,
        "pending": pending,
    }, status=status)


def _refused(request, exc: ServiceError, *, rule=None, form=None):
    messages.error(request, exc.message)
    return _render(request, rule=rule, form=form, status=refusal_status(exc))


@org_view()
@require_GET
def group_rules_page(request):
    return _render(request)


@org_view()
@require_GET
def group_rule_page(request, rule_id: int):
    return _render(request, rule=_rule_or_404(request, rule_id))


def _rule_and_form(request, kind: str, rule_id: int | None):
    """The rule an action names (404 if not this organization's) and its bound form (none to remove)."""
    rule = _rule_or_404(request, rule_id) if rule_id is not None else None
    return rule, (GroupRuleForm(request.POST) if kind != "remove" else None)


def _preview(kind: str):
    """The Preview action of adding (`add`), changing (`edit`) or removing (`remove`) a rule."""

    @org_view(admin=True)
    @require_POST
    def view(request, rule_id: int | None = None):
        rule, form = _rule_and_form(request, kind, rule_id)
        if form is not None and not form.is_valid():
            return _render(request, rule=rule, form=form, status=400)
        change = form.arguments() if form is not None else {}
        try:
            rules = group_rules.proposed_rules(org=request.org, rule_id=rule_id, remove=kind == "remove", **change)
            preview = group_rules.group_rules_preview(org=request.org, rules=rules)
        except ServiceError as exc:
            return _refused(request, exc, rule=rule, form=form)
        pending = {"url": reverse(f"sso_dashboard:group_rule_{kind}",
                                  kwargs={"org_slug": request.org.slug, **({"rule_id": rule.pk} if rule else {})}),
                   "values": {name: request.POST.get(name, "") for name in GroupRuleForm.base_fields}
                   if form is not None else {},
                   "label": {"add": "Save rule", "edit": "Save changes", "remove": "Remove rule"}[kind]}
        return _render(request, rule=rule, form=form, preview=preview, pending=pending)

    return view


def _save(kind: str):
    """The action that saves: add, edit (`rule_id`) or remove (`rule_id`) a rule."""

    @org_view(admin=True)
    @require_POST
    def view(request, rule_id: int | None = None):
        rule, form = _rule_and_form(request, kind, rule_id)
        if form is not None and not form.is_valid():
            return _render(request, rule=rule, form=form, status=400)
        try:
            if kind == "add":
                saved = group_rules.group_rule_create(org=request.org, actor=request.user, **form.arguments())
                messages.success(request, f"Rule for the group “{saved.group_name}” saved and applied.")
            elif kind == "edit":
                saved = group_rules.group_rule_update(org=request.org, actor=request.user, rule_id=rule.pk,
                                                      **form.arguments())
                messages.success(request, f"Rule for the group “{saved.group_name}” changed and applied.")
            else:
                group_rules.group_rule_remove(org=request.org, actor=request.user, rule_id=rule.pk)
                messages.success(request, f"Rule for the group “{rule.group_name}” removed.")
        except ServiceError as exc:
            return _refused(request, exc, rule=rule, form=form)
        return redirect("sso_dashboard:group_rules", org_slug=request.org.slug)

    return view


group_rule_add_preview = _preview("add")
group_rule_edit_preview = _preview("edit")
group_rule_remove_preview = _preview("remove")
group_rule_add = _save("add")
group_rule_edit = _save("edit")
group_rule_remove = _save("remove")
