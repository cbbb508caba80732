"""What sso does when something happens in the apps below it (connected in SsoConfig.ready). Rule ids: docs/rules.md."""
from orgs.audit import audit_record

from .events import SSOEvents
from .models import PendingLink, SSOIdentity, SSORemoval, SSOSession


def end_sso_ties_of_claimed_account(sender=None, *, user, **kwargs) -> None:
    """`accounts.signals.account_claimed`, inside the claim's transaction (E14): the owner
    proved the address, so no organization's IdP keeps a tie it made to the account
    before: its identity link (audited in that organization), its SSO removal records,
    unconfirmed link requests, and the sessions an IdP made."""
    from .services import _end_sessions

    for identity in SSOIdentity.objects.select_related("org").filter(user=user):
        audit_record(org=identity.org, actor=None, actor_label="account owner", event=SSOEvents.IDENTITY_RELEASED,
                     target=user, target_label=user.email, old={"subject": identity.name_id[:512]},
                     new={"reason": "account_claimed"})
        identity.delete()
    SSORemoval.objects.filter(user=user).delete()
    PendingLink.objects.filter(user=user, used_at__isnull=True).delete()
    _end_sessions(list(SSOSession.objects.filter(user=user).values_list("session_key", flat=True)))
