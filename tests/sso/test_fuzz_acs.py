"""Hypothesis drives the ACS with generated SAMLResponse bodies (SPEC §6–§7, issue 10):
random bytes and text, base64 of random XML (SAML vocabulary, DTDs, comments), signed
responses cut short or with a byte changed, and validly signed responses (tests/sso/idp.py,
signxml) whose NameID and attribute values are of odd types: elements where text belongs,
empty, long, or several. Every answer is < 500; a refused response is a 4xx page that
left every row as it was, but for its audit event (and the replay cache's used ID).
The rejection rate limit is raised, so fuzzing is not answered 429.
"""
import base64

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from sso.services import sso_configure

from ..fuzzing import changed, fuzz_settings, rolled_back, rows
from .idp import DS, SAML, SAMLP
from .test_test_connection import start_test

pytestmark = pytest.mark.django_db

# A refused response writes its audit event (SPEC §7) and that event's webhook outbox row
# (sso.login_rejected, orgs.events); the replay cache keeps a used ID.
EXPECTED_WRITES = ("orgs.AuditEvent", "orgs.OrgEvent", "sso.UsedMessageID")
XSI = "http://www.w3.org/2001/XMLSchema-instance"

xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
TAGS = [f"{{{SAMLP}}}Response", f"{{{SAML}}}Assertion", f"{{{SAML}}}Issuer", f"{{{DS}}}Signature",
        f"{{{SAML}}}Subject", f"{{{SAML}}}NameID", f"{{{SAML}}}Conditions", f"{{{SAML}}}AttributeStatement",
        f"{{{SAML}}}Attribute", f"{{{SAML}}}AttributeValue", f"{{{SAMLP}}}Status", f"{{{SAML}}}EncryptedAssertion",
        "{urn:x}Other", "plain"]
XML_ATTRIBUTES = ["ID", "Version", "IssueInstant", "Destination", "InResponseTo", "Name", "Format", "NotOnOrAfter"]


def _element(tag, attributes, text, children):
    element = etree.Element(tag)
    for name, value in attributes.items():
        element.set(name, value)
    element.text = text
    for child in children:
        element.append(child)
    return element


elements = st.recursive(
    st.builds(_element, st.sampled_from(TAGS), st.dictionaries(st.sampled_from(XML_ATTRIBUTES), xml_text, max_size=3),
              xml_text | st.none(), st.just([])),
    lambda inner: st.builds(_element, st.sampled_from(TAGS),
                            st.dictionaries(st.sampled_from(XML_ATTRIBUTES), xml_text, max_size=3),
                            xml_text | st.none(), st.lists(inner, max_size=4)),
    max_leaves=12)
PROLOGUES = ["", '<?xml version="1.0"?>', '<!DOCTYPE r [<!ENTITY e "x">]>', '<!DOCTYPE r SYSTEM "http://x/d.dtd">',
             "<!-- c -->", '<?xml version="1.0" encoding="UTF-16"?>']
random_xml = st.builds(lambda prologue, element: prologue.encode() + etree.tostring(element),
                       st.sampled_from(PROLOGUES), elements)


def odd_values():
    """An AttributeValue's content: text of any kind, or elements where text belongs."""
    def name_id(text):
        element = etree.Element(f"{{{SAML}}}NameID")
        element.text = text
        return element

    def other(tag, text):
        element = etree.Element(tag)
        element.text = text
        return element

    return st.one_of(xml_text, st.sampled_from(["", " ", "x" * 5000, "max@acme.test", "ADA@ACME.TEST"]),
                     st.builds(name_id, xml_text), st.builds(other, st.sampled_from(TAGS), xml_text))


attribute_maps = st.dictionaries(
    st.sampled_from(["email", "firstName", "lastName", "uid", "groups"]) | xml_text.filter(bool),
    st.lists(odd_values(), min_size=1, max_size=3), max_size=4)
name_ids = st.emails() | xml_text | st.sampled_from(["max@acme.test", "ada@acme.test", " ", "x" * 600])


@pytest.fixture(autouse=True)
def _no_rejection_limit(settings):
    settings.SSO_REJECTIONS_PER_CLIENT = 10**9
    settings.SSO_REJECTIONS_PER_ORG = 10**9


@pytest.fixture
def acs_world(enabled, org, admin_user, member):
    sso_configure(org=org, actor=admin_user, allow_idp_initiated=True)
    return {"before": rows(ignore=EXPECTED_WRITES)}


def assert_acs_answer(response, world):
    assert response.status_code < 500, (response.status_code, response.content[:500])
    if 400 <= response.status_code < 500:
        after = rows(ignore=EXPECTED_WRITES)
        assert not changed(world["before"], after), changed(world["before"], after)


def post(saml_response, relay_state=None, client=None):
    data = {} if saml_response is None else {"SAMLResponse": saml_response}
    if relay_state is not None:
        data["RelayState"] = relay_state
    return (client or Client()).post("/sso/acme/acs/", data)


def test_garbage_fuzz(acs_world):
    bodies = st.one_of(
        st.binary(max_size=300).map(lambda raw: base64.b64encode(raw).decode()),
        st.text(max_size=300),
        random_xml.map(lambda raw: base64.b64encode(raw).decode()),
        random_xml.map(lambda raw: raw.decode("utf-8", "replace")),  # XML not base64-encoded
        st.none())

    @fuzz_settings()
    @given(body=bodies, relay_state=st.none() | st.text(max_size=60) | st.sampled_from(["/", "//evil.test", "/orgs/"]))
    def run(body, relay_state):
        with rolled_back():
            assert_acs_answer(post(body, relay_state), acs_world)

    run()


def test_damaged_signed_response_fuzz(acs_world, idp):
    signed = idp.response(org_slug="acme", name_id="max@acme.test")

    @fuzz_settings()
    @given(cut=st.integers(0, len(signed)), flip=st.none() | st.tuples(st.integers(0, len(signed) - 1),
                                                                         st.integers(1, 255)))
    def run(cut, flip):
        raw = bytearray(signed)
        if flip is not None:
            raw[flip[0]] ^= flip[1]
        else:
            raw = raw[:cut]
        with rolled_back():
            response = post(base64.b64encode(bytes(raw)).decode())
            assert_acs_answer(response, acs_world)
            if flip is None and cut < len(signed):
                assert 400 <= response.status_code < 500

    run()


def test_signed_responses_with_odd_attribute_values_fuzz(acs_world, idp):
    @fuzz_settings()
    @given(name_id=name_ids, attributes=attribute_maps, name_id_format=st.sampled_from([
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient", ""]))
    def run(name_id, attributes, name_id_format):
        body = idp.encoded(org_slug="acme", name_id=name_id, attributes=attributes, name_id_format=name_id_format)
        with rolled_back():
            assert_acs_answer(post(body, "/"), acs_world)

    run()


def test_test_connection_with_odd_attribute_values_fuzz(acs_world, idp, admin_client):
    """The administrator's test login reads the same attributes, to show them: never a 500 either."""
    @fuzz_settings()
    @given(name_id=name_ids, attributes=attribute_maps)
    def run(name_id, attributes):
        with rolled_back():
            request_id, relay = start_test(admin_client)
            body = idp.encoded(org_slug="acme", name_id=name_id, attributes=attributes, in_response_to=request_id)
            response = post(body, relay, client=admin_client)
            assert_acs_answer(response, acs_world)

    run()
