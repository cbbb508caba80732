from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .models import Invitation


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_email(*, invitation_id: int, link: str) -> bool:
    """The link carries the one-time token; it is passed in because only its hash is stored."""
    invitation = Invitation.objects.select_related("org", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return False
    context = {"invitation": invitation, "link": link, "base_url": settings.BASE_URL}
    send_mail(
        subject=f"You are invited to join {invitation.org.name} on Gatehouse",
        message=render_to_string("orgs/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True


@shared_task
def sequence_events(org_id: int) -> int:
    """Number the organization's committed new events (orgs.events.sequence); queued on
    commit by every transaction that wrote one. A lost message is made up for by Celery
    beat (webhooks.tasks.deliver_due) and by the events API, which both sequence first."""
    from .events import sequence

    return sequence(org_id)
