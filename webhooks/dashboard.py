"""Settings › Webhooks (/orgs/<org>/settings/webhooks/), for administrators: register an
endpoint and choose its event types (its signing secret shown once), read an endpoint's
delivery log, redeliver, pause, resume, rotate the secret, delete.

Shaped like orgs.views and sso.dashboard: one view per action at its own URL, a form
(webhooks.forms.WebhookForm) and a service call; a ServiceError becomes a message on the
page, with the status it carries."""
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.errors import ServiceError
from orgs import events
from orgs.access import org_view
from sso.dashboard import refusal_status

from . import selectors, services
from .delivery import SIGNATURE_HEADER
from .forms import WebhookForm
from .models import WebhookEndpoint


def _endpoint_or_404(request, endpoint_id) -> WebhookEndpoint:
    endpoint = selectors.webhook_get(org=request.org, endpoint_id=endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def _render_list(request, *, form=None, secret=None, created=None, status=200):
    return render(request, "webhooks/webhooks.html", {
        "endpoints": list(selectors.webhook_list(org=request.org)),
        "form": form or WebhookForm(initial={"event_types": list(events.carried_types())}),
        "event_types": events.carried_types(),
        "secret": secret, "created": created,
        "signature_header": SIGNATURE_HEADER,
    }, status=status)


def _render_endpoint(request, endpoint, *, form=None, secret=None, status=200):
    page = Paginator(selectors.delivery_list(org=request.org, endpoint=endpoint),
                     settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webhooks/webhook.html", {
        "endpoint": endpoint,
        "form": form or WebhookForm(initial={"url": endpoint.url, "description": endpoint.description,
                                             "event_types": endpoint.event_types}),
        "page": page, "secret": secret,
        "behind": max(events.last_seq(request.org.pk) - endpoint.delivered_seq, 0),
    }, status=status)


@org_view(admin=True)
@require_GET
def webhooks_page(request):
    return _render_list(request)


@org_view(admin=True)
@require_POST
def webhook_add(request):
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _render_list(request, form=form, status=400)
    try:
        endpoint, secret = services.webhook_create(org=request.org, actor=request.user, **form.arguments())
    except ServiceError as exc:
        form.add_error("url" if exc.code == "invalid_url" else None, exc.message)
        return _render_list(request, form=form, status=refusal_status(exc))
    return _render_list(request, secret=secret, created=endpoint)


@org_view(admin=True)
@require_GET
def webhook_page(request, endpoint_id: int):
    return _render_endpoint(request, _endpoint_or_404(request, endpoint_id))


@org_view(admin=True)
@require_POST
def webhook_edit(request, endpoint_id: int):
    endpoint = _endpoint_or_404(request, endpoint_id)
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _render_endpoint(request, endpoint, form=form, status=400)
    try:
        services.webhook_update(org=request.org, actor=request.user, endpoint_id=endpoint.pk, **form.arguments())
    except ServiceError as exc:
        form.add_error("url" if exc.code == "invalid_url" else None, exc.message)
        return _render_endpoint(request, endpoint, form=form, status=refusal_status(exc))
    messages.success(request, "Webhook endpoint saved.")
    return redirect("webhooks_dashboard:webhook", org_slug=request.org.slug, endpoint_id=endpoint.pk)


def _state_change(change, done: str):
    """The pause, resume and delete actions: a service call on the endpoint, then a message."""

    @org_view(admin=True)
    @require_POST
    def view(request, endpoint_id: int):
        endpoint = _endpoint_or_404(request, endpoint_id)
        change(org=request.org, actor=request.user, endpoint_id=endpoint.pk)
        messages.success(request, done.format(url=endpoint.url))
        if change is services.webhook_delete:
            return redirect("webhooks_dashboard:webhooks", org_slug=request.org.slug)
        return redirect("webhooks_dashboard:webhook", org_slug=request.org.slug, endpoint_id=endpoint.pk)

    return view


webhook_pause = _state_change(services.webhook_pause, "Paused: events wait, in order, until you resume.")
webhook_resume = _state_change(services.webhook_resume, "Resumed: delivery goes on from the first event not "
                                                        "delivered.")
webhook_delete = _state_change(services.webhook_delete, "Deleted the webhook endpoint {url}.")


@org_view(admin=True)
@require_POST
def webhook_rotate_secret(request, endpoint_id: int):
    endpoint = _endpoint_or_404(request, endpoint_id)
    endpoint, secret = services.webhook_rotate_secret(org=request.org, actor=request.user, endpoint_id=endpoint.pk)
    return _render_endpoint(request, endpoint, secret=secret)


@org_view(admin=True)
@require_POST
def webhook_redeliver(request, endpoint_id: int, delivery_id: int):
    endpoint = _endpoint_or_404(request, endpoint_id)
    try:
        services.webhook_redeliver(org=request.org, actor=request.user, endpoint_id=endpoint.pk,
                                   delivery_id=delivery_id)
    except ServiceError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
        return _render_endpoint(request, endpoint, status=exc.status)
    messages.success(request, "Redelivery queued; it appears in the log below.")
    return redirect("webhooks_dashboard:webhook", org_slug=request.org.slug, endpoint_id=endpoint.pk)
