"""What orgs does when something happens in accounts (connected in OrgsConfig.ready). Rule ids: docs/rules.md."""
from accounts.models import User

from .services import membership_remove_for_claim


def end_memberships_of_claimed_account(sender=None, *, user: User, **kwargs) -> None:
    """`accounts.signals.account_claimed`, inside the claim's transaction (E14)."""
    membership_remove_for_claim(user=user)
