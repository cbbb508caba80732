"""The account follows the IdP at every SAML sign-in (issue 12 items 2 and 4): names
always, the email only into a domain this organization verified and never onto an
address another account holds; and what the IdP sent is kept on the link, clipped."""
import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.conftest import make_user
from orgs.models import AuditEvent
from sso.events import SSOEvents
from sso.models import SSOIdentity
from sso.services import (
    KEPT_ATTRIBUTES_MAX,
    KEPT_GROUPS_MAX,
    KEPT_TEXT_MAX,
    KEPT_VALUES_MAX,
    sso_configure,
    sso_login,
)

from .conftest import post_acs, start_login, verify_domain_now

pytestmark = pytest.mark.django_db
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
SUBJECT = "00u1subject"


def profile_events(org):
    return list(AuditEvent.objects.filter(org=org, event=SSOEvents.PROFILE_UPDATED).order_by("pk"))


def sign_in(org, email, first="Max", last="Member", connection=None, **extra):
    """The IdP's persistent subject stays; what it says of the person changes."""
    attributes = {"email": [email], "firstName": [first], "lastName": [last], **extra}
    return sso_login(org=org, name_id=SUBJECT, name_id_format=PERSISTENT, attributes=attributes,
                     connection=connection)


@pytest.fixture
def linked(org, enabled, member, member_user):
    assert sign_in(org, member_user.email).status == "signed_in"
    return member_user


def test_names_follow_the_idp_and_are_audited_only_when_they_change(org, linked):
    assert profile_events(org) == []
    sign_in(org, linked.email, first="Maxine", last="Member")
    linked.refresh_from_db()
    assert (linked.first_name, linked.last_name) == ("Maxine", "Member")
    [event] = profile_events(org)
    assert (event.old, event.new) == ({"first_name": "Max"}, {"first_name": "Maxine"})
    assert event.actor_id is None and event.actor_label == "identity provider" and event.target_label == linked.email
    sign_in(org, linked.email, first="Maxine", last="Member")
    sign_in(org, linked.email, first="", last="")  # names not sent: kept
    linked.refresh_from_db()
    assert (linked.first_name, linked.last_name) == ("Maxine", "Member")
    assert len(profile_events(org)) == 1


def test_names_follow_through_the_acs(client, org, enabled, idp, member, member_user):
    for first in ("Max", "Maximilian"):
        request_id, relay = start_login(client)
        response = post_acs(client, idp.encoded(org_slug="acme", name_id=member_user.email, in_response_to=request_id,
                                                attributes={"email": member_user.email, "firstName": first,
                                                            "lastName": "Member"}), relay)
        assert response.status_code == 302
    member_user.refresh_from_db()
    assert member_user.first_name == "Maximilian"


def test_email_follows_into_a_verified_domain(org, linked):
    verify_domain_now(org, "acme.test")
    sign_in(org, "maxwell@acme.test")
    linked.refresh_from_db()
    assert linked.email == "maxwell@acme.test" and linked.email_verified_at is not None
    [event] = profile_events(org)
    assert (event.old, event.new) == ({"email": "max@acme.test"}, {"email": "maxwell@acme.test"})
    assert event.target_label == "max@acme.test"
    assert sign_in(org, "maxwell@acme.test").user == linked  # and signs in under it from then on


def test_email_outside_a_verified_domain_is_refused_and_recorded_once(org, enabled, linked):
    sign_in(org, "max@elsewhere.test")
    linked.refresh_from_db()
    assert linked.email == "max@acme.test"
    [event] = profile_events(org)
    assert event.new == {"email_change_refused": "max@elsewhere.test", "reason": "domain_not_verified"}
    assert SSOIdentity.objects.get(user=linked).idp_attributes["email"] == ["max@elsewhere.test"]
    # The IdP keeps sending it: not refused (nor recorded) again, and the sign-in stays cheap.
    with CaptureQueriesContext(db) as queries:
        assert sign_in(org, "max@elsewhere.test", connection=enabled).status == "signed_in"
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == (2 if db.vendor == "postgresql" else 4), statements
    assert len(profile_events(org)) == 1
    # A name change still follows, and the account keeps its address.
    sign_in(org, "max@elsewhere.test", first="Maxi")
    linked.refresh_from_db()
    assert (linked.first_name, linked.email) == ("Maxi", "max@acme.test")


@pytest.mark.parametrize("held", [False, True])
def test_a_refused_email_is_tried_again_when_the_domain_is_verified(org, admin_user, enabled, linked, held):
    from sso.services import domain_add, domain_verify

    sign_in(org, "max@newco.test")
    linked.refresh_from_db()
    assert linked.email == "max@acme.test"
    other = make_user("max@newco.test") if held else None
    record = domain_add(org=org, actor=admin_user, domain="newco.test")
    domain_verify(org=org, actor=admin_user, domain_id=record.pk, resolver=lambda d: [record.txt_record])
    linked.refresh_from_db()
    if held:  # never a takeover, then either
        assert linked.email == "max@acme.test" and User.objects.get(pk=other.pk).email == "max@newco.test"
        assert profile_events(org)[-1].new["reason"] == "domain_not_verified"
        return
    assert linked.email == "max@newco.test" and linked.email_verified_at is not None
    event = profile_events(org)[-1]
    assert (event.old, event.new, event.actor_label) == ({"email": "max@acme.test"}, {"email": "max@newco.test"},
                                                          "domain verification")
    assert sign_in(org, "max@newco.test").user == linked


def test_email_held_by_another_account_is_never_taken(org, linked):
    verify_domain_now(org, "acme.test")
    other = make_user("taken@acme.test", first_name="Tak", last_name="En")
    sign_in(org, "taken@acme.test", first="Maxine")
    linked.refresh_from_db()
    other.refresh_from_db()
    assert linked.email == "max@acme.test" and linked.first_name == "Maxine"
    assert other.email == "taken@acme.test"
    [event] = profile_events(org)
    assert event.old == {"first_name": "Max"}
    assert event.new == {"first_name": "Maxine", "email_change_refused": "taken@acme.test", "reason": "email_taken"}
    assert not SSOIdentity.objects.filter(user=other).exists()


def test_idp_attributes_and_groups_are_kept_clipped_text_only(org, enabled, member, member_user):
    attributes = {"email": [member_user.email], "groups": ["Eng", "DBAs", "Eng", {"not": "text"}]}
    attributes.update({f"attr{i:03}": [f"v{j}" for j in range(KEPT_VALUES_MAX + 5)] for i in range(70)})
    attributes["attr000"] = ["x" * 1000, 7, None]
    sso_login(org=org, name_id=member_user.email, attributes=attributes)
    identity = SSOIdentity.objects.get(user=member_user)
    kept = identity.idp_attributes
    assert len(kept) == KEPT_ATTRIBUTES_MAX
    assert kept["email"] == [member_user.email]
    assert kept["groups"] == ["Eng", "DBAs", "Eng"]
    assert kept["attr000"] == ["x" * KEPT_TEXT_MAX]
    assert kept["attr001"] == [f"v{j}" for j in range(KEPT_VALUES_MAX)]
    assert identity.idp_groups == ["Eng", "DBAs"]
    # The next sign-in replaces them (the fast path writes them in its one UPDATE).
    many_groups = [f"group {i}" for i in range(KEPT_GROUPS_MAX + 50)]
    sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email], "groups": many_groups})
    identity.refresh_from_db()
    assert identity.idp_attributes == {"email": [member_user.email], "groups": many_groups[:KEPT_VALUES_MAX]}
    assert identity.idp_groups == many_groups[:KEPT_GROUPS_MAX]


def test_a_first_sign_in_of_an_existing_account_follows_its_names(org, enabled, member, member_user):
    sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email],
                                                              "firstName": ["Maximus"], "lastName": ["Member"]})
    member_user.refresh_from_db()
    assert member_user.first_name == "Maximus"
    assert [event.new for event in profile_events(org)] == [{"first_name": "Maximus"}]


def test_a_new_account_has_no_profile_event(org, enabled):
    sso_login(org=org, name_id="fresh@acme.test", attributes={"email": ["fresh@acme.test"], "firstName": ["F"]})
    assert User.objects.get(email="fresh@acme.test").first_name == "F"
    assert profile_events(org) == []


def test_the_email_attribute_follows_the_mapping(org, admin_user, linked):
    sso_configure(org=org, actor=admin_user, attribute_preset="custom", email_attribute="mail")
    verify_domain_now(org, "acme.test")
    sign_in(org, "ignored@acme.test", mail=["mapped@acme.test"])
    linked.refresh_from_db()
    assert linked.email == "mapped@acme.test"
