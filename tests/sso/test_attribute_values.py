"""Issue 10 (SPEC §6): a validly signed assertion whose AttributeValue holds an element
(here a `<saml:NameID>`) instead of text. python3-saml reads such a value as a dict; the
ACS used to answer 500 ('dict' object has no attribute 'strip'). A value that is not
text counts as absent, wherever attributes are read."""
import pytest
from lxml import etree

from accounts.models import User
from orgs.models import Membership
from sso.services import sso_configure

from .conftest import assert_rejected, post_acs, start_login
from .idp import SAML
from .test_test_connection import start_test

pytestmark = pytest.mark.django_db


def nested_name_id(text="nested@acme.test"):
    element = etree.Element(f"{{{SAML}}}NameID", Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
    element.text = text
    return element


def sign_in(client, idp, *, name_id, attributes):
    request_id, relay = start_login(client)
    return post_acs(client, idp.encoded(org_slug="acme", name_id=name_id, in_response_to=request_id,
                                        attributes=attributes), relay)


def test_an_element_for_the_email_is_no_email(client, enabled, idp, org):
    users = User.objects.count()
    response = sign_in(client, idp, name_id="opaque-subject-1",
                       attributes={"email": nested_name_id(), "firstName": "Nes", "lastName": "Ted"})
    assert_rejected(client, response, org, "no_email")
    assert User.objects.count() == users


def test_an_element_for_the_email_falls_back_to_an_email_name_id(client, enabled, idp, org):
    response = sign_in(client, idp, name_id="fallback@acme.test",
                       attributes={"email": [nested_name_id("other@acme.test")], "firstName": "F"})
    assert response.status_code == 302
    assert Membership.objects.filter(org=org, user__email="fallback@acme.test").exists()
    assert not User.objects.filter(email="other@acme.test").exists()


def test_an_element_for_a_name_is_no_name(client, enabled, idp, org):
    response = sign_in(client, idp, name_id="names@acme.test",
                       attributes={"email": "names@acme.test", "firstName": [nested_name_id("x"), "Nina"],
                                   "lastName": nested_name_id("y")})
    assert response.status_code == 302
    user = User.objects.get(email="names@acme.test")
    assert (user.first_name, user.last_name) == ("Nina", "")


def test_an_element_for_the_subject_attribute_is_no_subject(client, enabled, idp, org, admin_user):
    sso_configure(org=org, actor=admin_user, subject_attribute="uid")
    response = sign_in(client, idp, name_id="subj@acme.test",
                       attributes={"email": "subj@acme.test", "uid": nested_name_id("u-1")})
    assert_rejected(client, response, org, "subject_missing")
    assert not User.objects.filter(email="subj@acme.test").exists()


def test_the_test_connection_page_shows_an_element_as_absent(admin_client, enabled, idp, org):
    request_id, relay = start_test(admin_client)
    response = post_acs(admin_client, idp.encoded(org_slug="acme", name_id="opaque-subject-2",
                                                  in_response_to=request_id,
                                                  attributes={"email": nested_name_id("shown@acme.test")}), relay)
    assert response.status_code == 200
    page = response.content.decode()
    assert "No email: the attribute “email” is missing or empty" in page
    assert "shown@acme.test" not in page and "NameQualifier" not in page
