"""The sso app; registers its hooks and receivers. Rule ids: docs/rules.md."""
from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the password sign-in refusal (E2), the invitation block (E4), the
        # access block for members the enable removes (E1), the plan-change block (D3) and
        # the audit event names.
        from . import events, policy  # noqa: F401

        # E14: a claim ends the ties an IdP made (after orgs ends the memberships).
        from accounts.signals import account_claimed

        from .receivers import end_sso_ties_of_claimed_account

        account_claimed.connect(end_sso_ties_of_claimed_account, dispatch_uid="sso.end_ties_of_claimed_account")

        # A patch of python3-saml, installed here once per process and never at import:
        # OneLogin_Saml2_XML.validate_xml and OneLogin_Saml2_XML.query are replaced by the
        # compiled XSD schema and compiled XPath expressions of sso.saml (one copy per
        # thread). The library parses and compiles its schema on every response and
        # compiles each of the ~54 XPath queries it makes of one; the compiled copies take
        # validation from 3.9-6.6 ms to 1.3-2.1 ms per response (bench/acs.py, README).
        # A patch is the only way: the schema check is a line inside
        # OneLogin_Saml2_Response.is_valid (the ~270-line method holding the library's
        # security checks), and of the XPath queries 39 go through Response._query,
        # 9 through three other Response methods, and 5 through the static helpers
        # OneLogin_Saml2_Utils.get_status and validate_sign, all called by class name.
        # Scoping it to our calls (subclasses) would mean copying is_valid and those
        # helpers: a fork of the validator that the library's security fixes would miss.
        # tests/sso/conftest.py runs every SAML verdict of the tests both ways and compares.
        from .saml import use_schema_cache

        use_schema_cache(True)
