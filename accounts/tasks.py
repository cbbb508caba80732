from urllib.parse import urlencode

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .models import User
from .tokens import EmailLinkPurpose, email_link_token, email_link_wanted

_EMAILS = {
    EmailLinkPurpose.VERIFY: ("accounts:verify_email_confirm", "accounts/email/verify_email"),
    EmailLinkPurpose.CLAIM: ("accounts:claim", "accounts/email/claim"),
}


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email_link(*, user_id: int, purpose: str, next_path: str = "") -> bool:
    """The token is made here, when the email is written: it never travels through the broker."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not email_link_wanted(user, purpose):
        return False
    view, template = _EMAILS[purpose]
    link = settings.BASE_URL + reverse(view, kwargs={"token": email_link_token(user, purpose)})
    if next_path:
        link += "?" + urlencode({"next": next_path})
    context = {"email": user.email, "link": link, "days": settings.EMAIL_LINK_TTL_DAYS,
               "base_url": settings.BASE_URL}
    send_mail(
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        message=render_to_string(f"{template}.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
    return True
