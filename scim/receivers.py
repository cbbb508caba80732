"""What Directory Sync does when something happened elsewhere (connected in scim.apps).
Rule ids: docs/rules.md."""


def on_sso_disabled(sender=None, *, org, actor=None, **kwargs):
    """D2: when SSO is disabled, Directory Sync goes with it (memberships stay), inside
    the disable's transaction."""
    from .services import directory_disable

    directory_disable(org=org, actor=actor, reason="sso_disabled")


def on_sso_member_joined(sender=None, *, org, user, membership, **kwargs):
    """E16: a member the directory pushed who joined through an SSO sign-in is the
    directory's member: tied to their directory user, so deactivate and delete remove it."""
    from .services import directory_user_attach_membership

    directory_user_attach_membership(org=org, user=user, membership=membership)


def detach_claimed_account(sender=None, *, user, **kwargs) -> None:
    """`accounts.signals.account_claimed` (E14): a directory that attached or created this
    account before its owner claimed it no longer holds it; its directory users stay
    (the IdP reads them back) without the account, as for a user pushed with no email."""
    from .services import directory_users_release_account

    directory_users_release_account(user=user)


def on_role_management_enabled(sender=None, *, org, actor=None, **kwargs):
    """DS4 turned on (Settings › Authentication): each active directory user's last role
    applies now, inside the switch's transaction, as the IdP's next word would."""
    from .services import directory_apply_stored_roles

    directory_apply_stored_roles(org=org, actor=actor)


def on_domain_verified(sender=None, *, org, domain, **kwargs):
    """The organization verified `domain`: the email changes its directory sent into it,
    which waited for that (email_change_pending), are tried again, in the verification's
    transaction."""
    from .services import directory_retry_pending_emails

    directory_retry_pending_emails(org=org, domain=domain)
