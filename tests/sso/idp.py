"""A small, independent identity provider for tests: builds SAML responses with
lxml and signs them with signxml (never python3-saml), so the SP code under
test is checked against another implementation."""
import base64
import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import SignatureMethod, DigestAlgorithm

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


@lru_cache(maxsize=None)
def keypair(name: str = "idp", days: int = 365):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test {name}")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days)).sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return key_pem, cert_pem


class _SHA1Signer(XMLSigner):
    """signxml refuses SHA-1 by default; the test IdP forces it to prove the SP refuses it."""

    def check_deprecated_methods(self):
        return None


def _ts(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class TestIdP:
    __test__ = False

    def __init__(self, entity_id="https://idp.test/metadata", key_name="idp"):
        self.entity_id = entity_id
        self.key_pem, self.cert_pem = keypair(key_name)

    def assertion_element(self, *, name_id, audience, recipient, in_response_to=None, attributes=None,
                          not_before=None, not_on_or_after=None, assertion_id=None, issuer=None,
                          include_audience=True, session_not_on_or_after=None):
        now = datetime.now(timezone.utc)
        not_before = not_before or now - timedelta(minutes=1)
        not_on_or_after = not_on_or_after or now + timedelta(minutes=5)
        aid = assertion_id or f"_a{uuid.uuid4().hex}"
        a = etree.Element(f"{{{SAML}}}Assertion", nsmap={"saml": SAML},
                          ID=aid, Version="2.0", IssueInstant=_ts(now))
        etree.SubElement(a, f"{{{SAML}}}Issuer").text = issuer or self.entity_id
        etree.SubElement(a, f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder")
        subject = etree.SubElement(a, f"{{{SAML}}}Subject")
        nid = etree.SubElement(subject, f"{{{SAML}}}NameID",
                               Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        nid.text = name_id
        sc = etree.SubElement(subject, f"{{{SAML}}}SubjectConfirmation",
                              Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
        scd_attrs = {"NotOnOrAfter": _ts(not_on_or_after), "Recipient": recipient}
        if in_response_to:
            scd_attrs["InResponseTo"] = in_response_to
        etree.SubElement(sc, f"{{{SAML}}}SubjectConfirmationData", **scd_attrs)
        conditions = etree.SubElement(a, f"{{{SAML}}}Conditions", NotBefore=_ts(not_before),
                                      NotOnOrAfter=_ts(not_on_or_after))
        if include_audience:
            ar = etree.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
            etree.SubElement(ar, f"{{{SAML}}}Audience").text = audience
        statement_attrs = {"AuthnInstant": _ts(now), "SessionIndex": f"_s{uuid.uuid4().hex}"}
        if session_not_on_or_after is not None:
            statement_attrs["SessionNotOnOrAfter"] = _ts(session_not_on_or_after)
        stmt = etree.SubElement(a, f"{{{SAML}}}AuthnStatement", **statement_attrs)
        ctx = etree.SubElement(stmt, f"{{{SAML}}}AuthnContext")
        etree.SubElement(ctx, f"{{{SAML}}}AuthnContextClassRef").text = (
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
        if attributes:
            ats = etree.SubElement(a, f"{{{SAML}}}AttributeStatement")
            for name, values in attributes.items():
                attr = etree.SubElement(ats, f"{{{SAML}}}Attribute", Name=name)
                for value in (values if isinstance(values, list) else [values]):
                    etree.SubElement(attr, f"{{{SAML}}}AttributeValue").text = value
        return a

    def sign(self, element, *, sha1=False, key_name=None):
        key_pem, cert_pem = keypair(key_name) if key_name else (self.key_pem, self.cert_pem)
        signer = (_SHA1Signer if sha1 else XMLSigner)(
            signature_algorithm=SignatureMethod.RSA_SHA1 if sha1 else SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA1 if sha1 else DigestAlgorithm.SHA256,
            c14n_algorithm=EXC_C14N,
        )
        return signer.sign(element, key=key_pem, cert=cert_pem, reference_uri=element.get("ID"))

    def response(self, *, org_slug, base_url="http://testserver", name_id="someone@acme.test", attributes=None,
                 in_response_to=None, destination=None, audience=None, recipient=None, sign_assertion=True,
                 sha1=False, key_name=None, wrap=None, **assertion_kwargs) -> bytes:
        acs = f"{base_url}/sso/{org_slug}/acs/"
        audience = audience if audience is not None else f"{base_url}/sso/{org_slug}/metadata/"
        if attributes is None:
            attributes = {"email": name_id, "firstName": "Test", "lastName": "User"}
        assertion = self.assertion_element(name_id=name_id, audience=audience, recipient=recipient or acs,
                                           in_response_to=in_response_to, attributes=attributes,
                                           **assertion_kwargs)
        if sign_assertion:
            assertion = self.sign(assertion, sha1=sha1, key_name=key_name)
        else:
            assertion.remove(assertion.find(f"{{{DS}}}Signature"))
        now = datetime.now(timezone.utc)
        attrs = {"ID": f"_r{uuid.uuid4().hex}", "Version": "2.0", "IssueInstant": _ts(now)}
        destination = acs if destination is None else destination
        if destination is not False:
            attrs["Destination"] = destination
        if in_response_to:
            attrs["InResponseTo"] = in_response_to
        response = etree.Element(f"{{{SAMLP}}}Response", nsmap={"samlp": SAMLP, "saml": SAML}, **attrs)
        etree.SubElement(response, f"{{{SAML}}}Issuer").text = self.entity_id
        status = etree.SubElement(response, f"{{{SAMLP}}}Status")
        etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
        response.append(assertion)
        if wrap:
            wrap(response, assertion)
        return etree.tostring(response)

    def encoded(self, **kwargs) -> str:
        return base64.b64encode(self.response(**kwargs)).decode()
