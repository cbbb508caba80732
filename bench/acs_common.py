"""What bench/acs.py and bench/acs_http.py share: an organization with SSO enabled
against the built-in test IdP (signxml, independent of the SP code), and responses
signed by it. Import after django.setup()."""
import base64
from django.utils import timezone

SLUG = "bench-acs"


def prepare(users: int):
    """Configure and enable SSO for the bench organization; returns sign(n): n
    IdP-initiated responses (base64), each its own assertion, spread over `users` people."""
    from accounts.models import User
    from orgs.models import Organization, Plan
    from orgs.services import organization_create
    from sso import saml, test_idp
    from sso.services import sso_configure, sso_enable

    org = Organization.objects.filter(slug=SLUG).first()
    if org is None:
        admin = User.objects.create_user("bench-admin@bench.test", "x" * 12, email_verified_at=timezone.now())
        org = organization_create(slug=SLUG, name="Bench ACS", creator=admin, plan=Plan.ENTERPRISE)
    admin = User.objects.get(email="bench-admin@bench.test")
    # The test IdP's key is new each run (a fresh temporary directory): trust it again.
    _, cert = test_idp.keypair()
    sso_configure(org=org, actor=admin, idp_entity_id=test_idp.entity_id(), idp_sso_url=test_idp.sso_url(),
                  certificates=[cert], allow_idp_initiated=True)
    sso_enable(org=org, actor=admin)  # a no-op when already enabled
    acs, audience = saml.acs_url(SLUG), saml.sp_entity_id(SLUG)
    emails = [f"user{i}@bench.test" for i in range(users)]

    def sign(n: int) -> list[str]:
        return [base64.b64encode(test_idp.build_response(acs=acs, audience=audience, email=emails[i % len(emails)],
                                                         first_name="B", last_name="U", in_response_to=None)).decode()
                for i in range(n)]

    return sign
