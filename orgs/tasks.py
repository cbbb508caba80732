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
