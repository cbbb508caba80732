"""What bench/acs.py and bench/acs_http.py share: an organization with SSO enabled
against the built-in test IdP (signxml, independent of the SP code), and responses
signed by it. Import after django.setup()."""
import base64
from django.utils import timezone

SLUG = "bench-acs"


def prepare(users: int, idp_word: bool = False):
    """Configure and enable SSO for the bench organization; returns sign(n): n
    IdP-initiated responses (base64), each its own assertion, spread over `users` people.
    `idp_word` (issue 12): roles managed through the IdP and three group rules (a role, the
    Database Administrator grant, a team), each response carrying a role and groups that
    change nothing after the first sign-in: the returning sign-in that reads them all.
    Without it, the switch is off and there is no rule (a database reused across runs is
    put back either way)."""
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
    from sso.models import GroupRule
    from sso.services import sso_set_role_management
    from teams.models import Team

    sso_set_role_management(org=org, actor=admin, value=idp_word)
    GroupRule.objects.filter(org=org).delete()
    extra = None
    if idp_word:
        team, _ = Team.objects.get_or_create(org=org, name="Backend")
        GroupRule.objects.create(org=org, group_name="Engineering", role="member")
        GroupRule.objects.create(org=org, group_name="DBAs", database_admin=True)
        GroupRule.objects.create(org=org, group_name="Backend", team=team)
        extra = {"planetscale_role": ["member"], "groups": ["Engineering", "DBAs", "Backend", "Everyone"]}
    acs, audience = saml.acs_url(SLUG), saml.sp_entity_id(SLUG)
    emails = [f"user{i}@bench.test" for i in range(users)]

    def sign(n: int) -> list[str]:
        return [base64.b64encode(test_idp.build_response(acs=acs, audience=audience, email=emails[i % len(emails)],
                                                         first_name="B", last_name="U", in_response_to=None,
                                                         extra_attributes=extra)).decode()
                for i in range(n)]

    return sign
