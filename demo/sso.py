"""The demo organization's SSO, pointed at the built-in test IdP (sso.test_idp)."""
from django.conf import settings

from sso import test_idp
from sso.models import AttributePreset, SSOConnection
from sso.services import sso_configure


def configure_test_idp(*, org, admins: list, members: list, stdout) -> None:
    _, cert_pem = test_idp.keypair()
    actor = admins[0] if admins else None
    sso_configure(org=org, actor=actor, idp_entity_id=test_idp.entity_id(), idp_sso_url=test_idp.sso_url(),
                  idp_slo_url=test_idp.slo_url(), certificates=[cert_pem], attribute_preset=AttributePreset.OKTA,
                  allow_idp_initiated=True)
    state = SSOConnection.objects.get(org=org).get_state_display()
    enabled_note = "" if getattr(settings, "SAML_TEST_IDP", False) else (
        "  (the test IdP answers only with SAML_TEST_IDP=true — `python dev.py run` sets it)\n")
    stdout.write(
        f"\nSingle sign-on: {org.name} is configured ({state.lower()}) against the built-in test IdP\n"
        f"  {test_idp.entity_id()}\n{enabled_note}"
        f"Try it: sign in as {admins[0].email if admins else 'an administrator'}, open "
        f"{settings.BASE_URL}/orgs/{org.slug}/settings/authentication/, review the preview and enable SSO;\n"
        f"then sign out and use {settings.BASE_URL}/sso/ (enter {org.slug}) — the test IdP lets you pick any "
        f"demo user. Removed members ({', '.join(m.email for m in members[:3])}…) come back as members.\n"
        "Signing out of a session the test IdP made signs out there too (single logout).\n"
    )
