"""sso/fastpath.py against its specification, the ORM paths of sso/services.py and
sso/selectors.py: on the same input, every row written (every column of every table)
and every value returned must be the same (tests/fastpath.py), on SQLite and on
PostgreSQL. A sign-in is the service and then Django's login(), which records
last_login after the ORM path (the fast path writes it in its own statement)."""
from datetime import timedelta

import pytest
from django.contrib.auth import login
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import RequestFactory
from django.db import connection
from django.utils import timezone

from accounts.models import User
from orgs.models import Membership
from sso import fastpath, selectors
from sso.models import GroupRule, SSOConnection, SSOIdentity
from sso.services import (
    idp_word,
    mapped_profile,
    sso_certificate_add,
    sso_login,
    sso_set_role_management,
    sso_sign_in_orm,
)
from teams.models import Team
from tests.fastpath import run

from .conftest import verify_domain_now
from .idp import keypair

pytestmark = pytest.mark.django_db


def signing_in(path):
    """`path`, then what the ACS does with a signed-in account: login() (a session of
    signed cookies: no row of its own)."""
    def sign_in(**inputs):
        result = path(**inputs)
        if result is not None and result.user is not None:
            request = RequestFactory().post("/sso/acme/acs/")
            request.session = SessionStore()
            login(request, result.user, backend="accounts.backends.IdentityProviderBackend")
        return result

    sign_in.__qualname__ = path.__qualname__
    return sign_in


def returning(org, enabled, email, **attributes):
    """`email`'s account signed in through the organization's IdP once (a link and a
    membership); the inputs of its next sign-in."""
    attributes = {"email": [email], **attributes}
    assert sso_login(org=org, name_id=email, attributes={"email": [email]}).status == "signed_in"
    return {"org": org, "connection": enabled, "name_id": email, "profile": mapped_profile(enabled, email, attributes)}


def _member(org, enabled, member_user):
    return returning(org, enabled, member_user.email)


def _admin(org, enabled, admin_user):
    return returning(org, enabled, admin_user.email)


def _unclaimed(org, enabled, member_user):
    inputs = returning(org, enabled, "jit@acme.test")  # made by the IdP, no verified domain: unclaimed (E14)
    assert not User.objects.get(email="jit@acme.test").claimed
    return inputs


def _new_name_id_format(org, enabled, member_user):
    return {**_member(org, enabled, member_user),
            "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}


def _first_sign_in_time_missing(org, enabled, member_user):
    inputs = _member(org, enabled, member_user)
    SSOIdentity.objects.filter(user=member_user).update(first_sso_login_at=None)
    return inputs


def _names_unchanged(org, enabled, member_user):
    return returning(org, enabled, member_user.email, firstName=["Max"], lastName=["Member"])


def _with_word(org, enabled, member_user, extra: dict, *, rules=True, sign_in_first=True):
    """Roles through the IdP on, group rules (a role, the grant, a team), the member signed
    in once with `extra` applied; the next sign-in's inputs with what its assertion says."""
    sso_set_role_management(org=org, actor=None, value=True)
    enabled.refresh_from_db()
    if rules:
        team = Team.objects.create(org=org, name="Backend")
        GroupRule.objects.create(org=org, group_name="Engineering", role="member")
        GroupRule.objects.create(org=org, group_name="DBAs", database_admin=True)
        GroupRule.objects.create(org=org, group_name="Backend", team=team)
    attributes = {"email": [member_user.email], "planetscale_role": ["member"], "groups": ["DBAs", "Backend"]}
    if sign_in_first:
        sso_login(org=org, name_id=member_user.email, attributes=attributes)
    attributes.update(extra)
    return {"org": org, "connection": enabled, "name_id": member_user.email,
            "profile": mapped_profile(enabled, member_user.email, attributes), "word": idp_word(enabled, attributes)}


def _word_nothing_to_change(org, enabled, member_user):
    return _with_word(org, enabled, member_user, {"Department": ["R&D"]})


SIGN_IN_CASES = {
    "a member": _member,
    "an administrator": _admin,
    "an unclaimed account the IdP made": _unclaimed,
    "another NameID format": _new_name_id_format,
    "no first sign-in time yet": _first_sign_in_time_missing,
    "names sent, the account's own": _names_unchanged,
    "a role and groups that change nothing (rules read with the link)": _word_nothing_to_change,
}


@pytest.mark.parametrize("case", SIGN_IN_CASES)
def test_sso_sign_in_writes_and_returns_what_the_orm_path_does(org, member, enabled, admin_user, member_user, case):
    inputs = SIGN_IN_CASES[case](org, enabled, admin_user if case == "an administrator" else member_user)
    orm = run(signing_in(sso_sign_in_orm), **inputs)
    fast = run(signing_in(fastpath.sso_sign_in), **inputs)
    assert fast.returned is not None  # it applies to a returning sign-in
    assert fast == orm
    assert set(fast.written) <= {SSOIdentity._meta.db_table, User._meta.db_table, "orgs_auditevent"}
    # One query, then one statement (three in a transaction on SQLite); login() writes nothing more.
    assert len(fast.statements) == (2 if connection.vendor == "postgresql" else 4) < len(orm.statements)


def _no_link(org, enabled, member_user):
    return {"org": org, "connection": enabled, "name_id": "new@acme.test",
            "profile": mapped_profile(enabled, "new@acme.test", {"email": ["new@acme.test"]})}


def _deactivated(org, enabled, member_user):
    inputs = _member(org, enabled, member_user)
    User.objects.filter(pk=member_user.pk).update(is_active=False)
    return inputs


def _staff(org, enabled, member_user):
    inputs = _member(org, enabled, member_user)
    User.objects.filter(pk=member_user.pk).update(is_staff=True)
    return inputs


def _address_unverified(org, enabled, member_user):
    inputs = _member(org, enabled, member_user)
    User.objects.filter(pk=member_user.pk).update(email_verified_at=None)  # its owner confirms by email (E14)
    return inputs


def _unclaimed_in_a_verified_domain(org, enabled, member_user):
    inputs = _unclaimed(org, enabled, member_user)
    verify_domain_now(org, "acme.test")  # the account is claimed for its address first (E14)
    return inputs


def _names_to_fill_in(org, enabled, member_user):
    inputs = returning(org, enabled, "nameless@acme.test")
    return {**inputs, "profile": {**inputs["profile"], "first_name": "Nora"}}


def _names_changed(org, enabled, member_user):
    return returning(org, enabled, member_user.email, firstName=["Other"], lastName=["Name"])


def _new_email(org, enabled, member_user):
    return _with_word(org, enabled, member_user, {"email": ["max@elsewhere.test"]}, rules=False)


def _role_changes(org, enabled, member_user):
    return _with_word(org, enabled, member_user, {"planetscale_role": ["admin"]}, rules=False)


def _grant_to_give(org, enabled, member_user):
    return _with_word(org, enabled, member_user, {"groups": ["DBAs", "Backend"]}, sign_in_first=False) | {
        "name_id": returning(org, enabled, member_user.email)["name_id"]}


def _team_to_leave(org, enabled, member_user):
    return _with_word(org, enabled, member_user, {"groups": ["DBAs"]})


def _membership_gone(org, enabled, member_user):
    inputs = _member(org, enabled, member_user)
    Membership.objects.filter(org=org, user=member_user).delete()
    return inputs


def _membership_the_enable_removes(org, enabled, member_user):
    inputs = _member(org, enabled, member_user)
    Membership.objects.filter(org=org, user=member_user).update(created_at=enabled.enabled_at - timedelta(days=1))
    return inputs


DECLINED_CASES = {
    "no link yet": _no_link,
    "a deactivated account": _deactivated,
    "an operator (staff)": _staff,
    "a claimed account, its address unverified": _address_unverified,
    "an unclaimed account in a domain the organization verified": _unclaimed_in_a_verified_domain,
    "names to fill in": _names_to_fill_in,
    "names that changed": _names_changed,
    "a new email address": _new_email,
    "a role the IdP changes": _role_changes,
    "a grant a group rule gives": _grant_to_give,
    "a rule team the member leaves": _team_to_leave,
    "no membership": _membership_gone,
    "a membership the SSO enable removes": _membership_the_enable_removes,
}


@pytest.mark.parametrize("case", DECLINED_CASES)
def test_sso_sign_in_leaves_every_other_sign_in_to_the_orm_path(org, member, enabled, member_user, case):
    inputs = DECLINED_CASES[case](org, enabled, member_user)
    fast = run(fastpath.sso_sign_in, **inputs)
    assert fast.returned is None and fast.written == {} and len(fast.statements) == 1


def test_the_service_takes_the_fast_path_for_a_returning_sign_in(org, member, enabled, member_user):
    inputs = _member(org, enabled, member_user)

    def service(*, org, connection, name_id, profile):
        return sso_login(org=org, connection=connection, name_id=name_id, attributes={"email": [name_id]})

    by_service, fast = run(signing_in(service), **inputs), run(signing_in(fastpath.sso_sign_in), **inputs)
    assert by_service == fast and len(by_service.statements) == len(fast.statements)


# org_and_connection: what every SAML request reads first ---------------------------------


def _with_certificates(path):
    """`path`'s organization and connection, and the certificates it loaded with the connection."""
    def read(**inputs):
        org, connection = path(**inputs)
        return org, connection, connection.loaded_certificates if connection is not None else None

    read.__qualname__ = path.__qualname__
    return read


@pytest.mark.parametrize("case", ["two certificates", "one certificate", "no certificate", "no connection",
                                  "no such organization"])
def test_org_and_connection_returns_what_the_orm_path_does(org, connection, admin_user, other_org, case):
    slug = "acme"
    if case == "two certificates":
        sso_certificate_add(org=org, actor=admin_user, pem=keypair("second")[1])
    elif case == "no certificate":
        connection.certificates.all().delete()
    elif case == "no connection":
        slug = other_org.slug
    elif case == "no such organization":
        slug = "no-such-org"
    orm = run(_with_certificates(selectors.org_and_connection_orm), slug=slug)
    fast = run(_with_certificates(fastpath.org_and_connection), slug=slug)
    assert fast == orm and fast.written == {}
    assert len(fast.statements) == 1
    if case.endswith("certificates"):
        assert len(fast.returned[2]) == 2 and all(c["related"]["connection"] for c in fast.returned[2])


def test_a_certificate_is_read_from_the_loaded_ones_or_the_database(org, connection, admin_user):
    from sso.services import connection_certificates

    _, loaded = selectors.org_and_connection("acme")
    assert connection_certificates(loaded) == connection_certificates(SSOConnection.objects.get(pk=loaded.pk))
    assert connection_certificates(loaded) == [c.pem for c in connection.certificates.all()]
    expired = connection.certificates.get()
    expired.not_after = timezone.now() - timedelta(days=1)
    expired.save()
    assert connection_certificates(selectors.org_and_connection("acme")[1]) == []


# message_id_record: an assertion or logout message ID accepted once ---------------------------


@pytest.mark.parametrize("case", ["first use", "a replay", "another organization's ID"])
def test_message_id_record_writes_and_returns_what_the_orm_path_does(org, other_org, case):
    from sso.models import UsedMessageID
    from sso.state import message_id_record_orm

    expires_at = timezone.now() + timedelta(minutes=10)
    if case != "first use":
        UsedMessageID.objects.create(org=other_org if case.startswith("another") else org, id_hash="a" * 64,
                                     expires_at=expires_at - timedelta(minutes=1))
    inputs = {"org": org, "id_hash": "a" * 64, "expires_at": expires_at}
    orm = run(message_id_record_orm, **inputs)
    fast = run(fastpath.message_id_record, **inputs)
    assert fast == orm and len(fast.statements) == 1
    assert fast.returned is (case != "a replay")
    assert bool(fast.written) is fast.returned
