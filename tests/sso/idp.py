"""A small, independent identity provider for tests: builds SAML responses with
lxml and signs them with signxml (never python3-saml), so the SP code under
test is checked against another implementation. Logout messages too: see
"Single logout" below."""
import base64
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from urllib.parse import quote_plus, unquote_plus, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import SignatureMethod, DigestAlgorithm

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


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

    def metadata_xml(self, sso_url="https://idp.test/sso") -> str:
        """This IdP's SAML metadata: entity ID, signing certificate, HTTP-Redirect SSO URL."""
        body = "".join(line for line in self.cert_pem.splitlines() if "-----" not in line)
        return (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{self.entity_id}">'
                '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
                f'<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="{DS}"><ds:X509Data>'
                f'<ds:X509Certificate>{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
                '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
                f'Location="{sso_url}"/></md:IDPSSODescriptor></md:EntityDescriptor>')

    def assertion_element(self, *, name_id, audience, recipient, in_response_to=None, attributes=None,
                          not_before=None, not_on_or_after=None, assertion_id=None, issuer=None,
                          include_audience=True, session_not_on_or_after=None,
                          name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"):
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
                               Format=name_id_format)
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
                    attribute_value = etree.SubElement(attr, f"{{{SAML}}}AttributeValue")
                    if isinstance(value, etree._Element):  # an element where text belongs (fuzzing)
                        attribute_value.append(value)
                    else:
                        attribute_value.text = value
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

    # Single logout: messages built with lxml, bindings as below the class.

    def logout_request(self, *, org_slug, name_id, session_indexes=(), base_url="http://testserver",
                       destination=None, issuer=None, message_id=None, issue_instant=None, not_on_or_after=None,
                       placeholder=True, name_id_comment=False):
        """`placeholder`: where the enveloped signature goes (schema order); False for the Redirect binding."""
        root = _logout_base("LogoutRequest", issuer=self.entity_id if issuer is None else issuer,
                            destination=f"{base_url}/sso/{org_slug}/sls/" if destination is None else destination,
                            message_id=message_id, issue_instant=issue_instant, placeholder=placeholder,
                            NotOnOrAfter=_ts(not_on_or_after) if not_on_or_after else None)
        nid = etree.SubElement(root, f"{{{SAML}}}NameID",
                               Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        if name_id_comment:
            local, _, domain = name_id.partition("@")
            nid.text = f"{local}@evil.test"
            nid.append(etree.Comment(""))
            nid[-1].tail = domain
        else:
            nid.text = name_id
        for index in session_indexes:
            etree.SubElement(root, f"{{{SAMLP}}}SessionIndex").text = index
        return root

    def logout_response(self, *, org_slug, in_response_to, status=SUCCESS, base_url="http://testserver",
                        destination=None, issuer=None, message_id=None, issue_instant=None, placeholder=True):
        root = _logout_base("LogoutResponse", issuer=self.entity_id if issuer is None else issuer,
                            destination=f"{base_url}/sso/{org_slug}/sls/" if destination is None else destination,
                            message_id=message_id, issue_instant=issue_instant, placeholder=placeholder,
                            InResponseTo=in_response_to)
        status_element = etree.SubElement(root, f"{{{SAMLP}}}Status")
        etree.SubElement(status_element, f"{{{SAMLP}}}StatusCode", Value=status)
        return root

    def redirect_query(self, kind, root, *, relay_state=None, sign=True, sha1=False, key_name=None,
                       sig_alg=None) -> str:
        """The HTTP-Redirect binding's query string: deflated, base64, signed over the octets sent."""
        xml = root if isinstance(root, bytes) else etree.tostring(root)
        query = f"{kind}={quote_plus(base64.b64encode(deflate(xml)).decode())}"
        if relay_state is not None:
            query += f"&RelayState={quote_plus(relay_state)}"
        if not sign:
            return query
        query += f"&SigAlg={quote_plus(sig_alg or (RSA_SHA1 if sha1 else RSA_SHA256))}"
        key_pem = keypair(key_name)[0] if key_name else self.key_pem
        signature = sign_query(query, key_pem, sha1=sha1)
        return f"{query}&Signature={quote_plus(base64.b64encode(signature).decode())}"

    def post_body(self, root, *, sign=True, sha1=False, key_name=None, relay_state=None,
                  kind="SAMLRequest") -> dict:
        """The HTTP-POST binding's form: the message with an enveloped signature, base64."""
        if sign:
            root = self.sign(root, sha1=sha1, key_name=key_name)
        else:
            placeholder = root.find(f"{{{DS}}}Signature")
            if placeholder is not None:
                root.remove(placeholder)
        body = {kind: base64.b64encode(etree.tostring(root)).decode()}
        if relay_state is not None:
            body["RelayState"] = relay_state
        return body


# Single logout ---------------------------------------------------------------
# LogoutRequest/LogoutResponse built with lxml; the HTTP-POST binding signed with
# signxml (enveloped), the HTTP-Redirect binding deflated with zlib and signed with
# `cryptography` (RSA PKCS#1 v1.5) over the query string — never python3-saml.


def deflate(data: bytes) -> bytes:
    deflater = zlib.compressobj(wbits=-15)
    return deflater.compress(data) + deflater.flush()


def inflate(data: bytes) -> bytes:
    return zlib.decompress(data, -15)


def sign_query(query: str, key_pem: bytes, *, sha1=False) -> bytes:
    key = serialization.load_pem_private_key(key_pem, password=None)
    return key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA1() if sha1 else hashes.SHA256())


def verify_query(query: str, signature: bytes, cert_pem: str) -> None:
    """Raises unless `signature` is an RSA-SHA256 signature of `query` by `cert_pem`'s key."""
    x509.load_pem_x509_certificate(cert_pem.encode()).public_key().verify(
        signature, query.encode(), padding.PKCS1v15(), hashes.SHA256())


def split_redirect(url: str, kind: str) -> dict:
    """A Redirect-binding URL → its raw signed octets, decoded parameters and inflated XML root."""
    query = urlsplit(url).query
    raw = dict(part.split("=", 1) for part in query.split("&"))
    signed = "&".join(f"{name}={raw[name]}" for name in (kind, "RelayState", "SigAlg") if name in raw)
    values = {name: unquote_plus(value) for name, value in raw.items()}
    xml = inflate(base64.b64decode(values[kind]))
    return {"signed": signed, "values": values, "root": etree.fromstring(xml),
            "signature": base64.b64decode(values.get("Signature", ""))}


def _logout_base(tag, *, issuer, destination, message_id, issue_instant, placeholder, **attrs):
    now = datetime.now(timezone.utc)
    fields = {"ID": message_id or f"_l{uuid.uuid4().hex}", "Version": "2.0",
              "IssueInstant": _ts(issue_instant or now)}
    if destination is not False:
        fields["Destination"] = destination
    fields.update({k: v for k, v in attrs.items() if v is not None})
    root = etree.Element(f"{{{SAMLP}}}{tag}", nsmap={"samlp": SAMLP, "saml": SAML}, **fields)
    if issuer is not False:
        etree.SubElement(root, f"{{{SAML}}}Issuer").text = issuer
    if placeholder:
        etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder")
    return root
