"""What setup links do when something happened in sso (connected in setuplinks.apps)."""


def keep_last_test(sender=None, *, org, tester, result, **kwargs):
    """A test of the connection started through a link: its page shows the result."""
    if getattr(tester, "setup_link_id", None) is None:
        return
    from .services import setup_link_keep_test

    setup_link_keep_test(org=org, link_id=tester.setup_link_id, result=result)
