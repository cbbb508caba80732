"""What setup links add to sso through its hooks (registered in SetupLinksConfig.ready)."""
from sso.policy import register_setup_link_tester

from .selectors import live_setup_link_of


@register_setup_link_tester
def live_link_label(org, link_id) -> str | None:
    """A test of the connection reaches its result only while its link is live."""
    link = live_setup_link_of(org=org, link_id=link_id)
    return link.label if link is not None else None
