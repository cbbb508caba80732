"""The SAML service provider. The ONLY module that imports onelogin (python3-saml).

python3-saml validates signatures, the schema, timestamps and issuers when it
runs in strict mode; what it leaves to the application (see STACK.md) is done
here, before and after it: body size and base64, DTDs, one assertion directly
under the Response and signed by its own signature, allowed transforms only,
no SHA-1, no comments inside the NameID, Audience required and exact,
Destination and Recipient exact, InResponseTo exact or absent as the flow
requires. The replay cache and the request state live in `sso.state`.

Settings are always built from the organization named in the ACS URL, never
from the response's Issuer: two organizations may share one IdP.
"""
import base64
import binascii
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone
from os.path import dirname, join
from urllib.parse import unquote_plus
from xml.sax.saxutils import escape as xml_escape

from django.conf import settings as django_settings
from lxml import etree
from onelogin.saml2 import xml_utils as onelogin_xml_utils
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

MAX_RESPONSE_BYTES = 256 * 1024

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
ALLOWED_TRANSFORMS = frozenset({
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
})
ALLOWED_C14N = ALLOWED_TRANSFORMS - {"http://www.w3.org/2000/09/xmldsig#enveloped-signature"}
SHA1_ALGORITHMS = frozenset({
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    "http://www.w3.org/2000/09/xmldsig#sha1",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
    "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
})


class SAMLRejected(Exception):
    """A response we refuse. `reason` is the exact cause (audit log only);
    `code` is a stable short name; the user sees a generic message."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _text_attributes(attributes: dict | None) -> dict[str, list[str]]:
    """The attributes' text values only. python3-saml reads an AttributeValue holding an
    element (a nested NameID) as a dict; such a value counts as absent (§6: no 500)."""
    return {name: [value for value in values if isinstance(value, str)]
            for name, values in (attributes or {}).items() if isinstance(name, str)}


@dataclass
class Assertion:
    name_id: str
    name_id_format: str
    attributes: dict = field(default_factory=dict)
    assertion_id: str = ""
    in_response_to: str | None = None
    not_on_or_after: datetime | None = None
    session_index: str | None = None
    issuer: str = ""
    # The AuthnStatement's SessionNotOnOrAfter: the IdP's cap on the session (E13).
    session_not_on_or_after: datetime | None = None


# XSD schema cache ------------------------------------------------------------
#
# python3-saml parses and compiles its XSD (saml-schema-protocol-2.0.xsd and
# the schemas it imports) on every response: about 1.3 ms of a ~2.2 ms
# validation. The compiled schema never changes, so it is kept. lxml's
# XMLSchema carries a per-instance error log and libxml2 validation contexts
# are not meant to be shared by concurrent threads, so each thread keeps its
# own compiled copy (gunicorn sync workers have one thread: one copy each).

_per_thread = threading.local()  # compiled schema and XPath expressions of this thread
_original_validate_xml = OneLogin_Saml2_XML.validate_xml


def _cached_schema(schema: str) -> etree.XMLSchema:
    schemas = getattr(_per_thread, "schemas", None)
    if schemas is None:
        schemas = _per_thread.schemas = {}
    compiled = schemas.get(schema)
    if compiled is None:
        schema_file = join(dirname(onelogin_xml_utils.__file__), "schemas", schema)
        with open(schema_file, "rb") as handle:
            compiled = etree.XMLSchema(etree.parse(handle))
        schemas[schema] = compiled
    return compiled


def _validate_xml_with_cached_schema(xml, schema, debug=False):
    """Same contract as OneLogin_Saml2_XML.validate_xml (the parsed element or an error string)."""
    try:
        xml = OneLogin_Saml2_XML.to_etree(xml)
    except Exception:
        return "unloaded_xml"
    if not _cached_schema(schema).validate(xml):
        return "invalid_xml"
    return xml


# XPath cache ----------------------------------------------------------------
#
# python3-saml reads a response through about 50 XPath queries (a dozen distinct
# expressions), each through `element.xpath(expression)`, which compiles the
# expression every time: about 0.7 ms per response. lxml's compiled `etree.XPath`
# gives the same results for the same expression, namespaces and variables; one
# compiled copy per thread, as for the schema.

_original_query = OneLogin_Saml2_XML.query


def _query_with_compiled_xpath(dom, query, context=None, tagid=None):
    """Same contract as OneLogin_Saml2_XML.query."""
    compiled_queries = getattr(_per_thread, "xpath", None)
    if compiled_queries is None:
        compiled_queries = _per_thread.xpath = {}
    compiled = compiled_queries.get(query)
    if compiled is None:
        compiled = compiled_queries[query] = etree.XPath(query, namespaces=OneLogin_Saml2_Constants.NSMAP)
    source = dom if context is None else context
    return compiled(source) if tagid is None else compiled(source, tagid=tagid)


def use_schema_cache(enabled: bool = True) -> None:
    """Put the compiled XSD schema and XPath expressions above in place of python3-saml's
    `OneLogin_Saml2_XML.validate_xml` and `.query` (True), or put the library's own back
    (False). Importing this module changes nothing: `SsoConfig.ready()` (sso/apps.py) turns
    it on once, and says why it is a patch; bench/acs.py and the tests (tests/sso/conftest.py)
    turn it off to measure the difference and to compare every verdict."""
    OneLogin_Saml2_XML.validate_xml = staticmethod(
        _validate_xml_with_cached_schema if enabled else _original_validate_xml
    )
    OneLogin_Saml2_XML.query = staticmethod(_query_with_compiled_xpath if enabled else _original_query)


# Settings --------------------------------------------------------------------


def sp_entity_id(org_slug: str) -> str:
    return f"{django_settings.BASE_URL}/sso/{org_slug}/metadata/"


def acs_url(org_slug: str) -> str:
    return f"{django_settings.BASE_URL}/sso/{org_slug}/acs/"


def sls_url(org_slug: str) -> str:
    return f"{django_settings.BASE_URL}/sso/{org_slug}/sls/"


def sp_values(org_slug: str) -> dict:
    """What an IdP administrator pastes into the IdP (§3), as Settings › Authentication and a
    setup link's page show them: the SP entity ID (also the metadata URL), the ACS URL, the
    sign-in URL and the single logout URL."""
    return {"sp_entity_id": sp_entity_id(org_slug), "acs_url": acs_url(org_slug),
            "metadata_url": sp_entity_id(org_slug), "login_url": f"{django_settings.BASE_URL}/sso/{org_slug}/login/",
            "sls_url": sls_url(org_slug)}


def _strip_pem(pem: str) -> str:
    return "".join(
        line.strip() for line in pem.strip().splitlines() if line.strip() and not line.startswith("-----")
    )


_settings_cache: dict = {}
_settings_lock = threading.Lock()


def _settings_for(connection, certificates: list[str], sp_key: tuple[str, str] | None = None
                  ) -> OneLogin_Saml2_Settings:
    """Built from this organization's connection only; cached by its exact content.
    `sp_key`: the SP's own (certificate PEM, private key PEM), to sign logout messages."""
    org_slug = connection.org.slug
    key = (
        org_slug, django_settings.BASE_URL, connection.idp_entity_id, connection.idp_sso_url,
        connection.idp_slo_url, tuple(certificates), sp_key,
    )
    cached = _settings_cache.get(key)
    if cached is not None:
        return cached
    certs = [_strip_pem(pem) for pem in certificates]
    idp = {
        "entityId": connection.idp_entity_id,
        "singleSignOnService": {"url": connection.idp_sso_url,
                                "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT},
        # Full certificates only; never a fingerprint (§7).
        "x509certMulti": {"signing": certs, "encryption": []},
    }
    if connection.idp_slo_url:
        idp["singleLogoutService"] = {"url": connection.idp_slo_url,
                                      "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT}
    data = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": sp_entity_id(org_slug),
            "assertionConsumerService": {"url": acs_url(org_slug),
                                         "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST},
            "singleLogoutService": {"url": sls_url(org_slug),
                                    "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT},
            "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_UNSPECIFIED,
            "x509cert": "",
            "privateKey": "",
        },
        "idp": idp,
        "security": {
            "authnRequestsSigned": False,
            "wantAssertionsSigned": True,
            "wantMessagesSigned": False,
            "wantNameId": True,
            "wantAttributeStatement": False,
            "requestedAuthnContext": False,
            "rejectDeprecatedAlgorithm": True,
            "signatureAlgorithm": OneLogin_Saml2_Constants.RSA_SHA256,
            "digestAlgorithm": OneLogin_Saml2_Constants.SHA256,
            # BASE_URL may be an intranet or development host without a dot.
            "allowSingleLabelDomains": True,
        },
    }
    if sp_key is not None:
        data["sp"]["x509cert"], data["sp"]["privateKey"] = sp_key
        data["security"]["logoutRequestSigned"] = data["security"]["logoutResponseSigned"] = True
    built = OneLogin_Saml2_Settings(data, sp_validation_only=False)
    with _settings_lock:
        if len(_settings_cache) > 512:
            _settings_cache.clear()
        _settings_cache[key] = built
    return built


def _request_data(org_slug: str, post: dict | None = None, get: dict | None = None, path_suffix: str = "acs/"):
    """What onelogin calls the request, built from BASE_URL: never from Host or X-Forwarded-* headers."""
    base = django_settings.BASE_URL
    scheme, _, rest = base.partition("://")
    host, _, prefix = rest.partition("/")
    hostname, _, port = host.partition(":")
    return {
        "https": "on" if scheme == "https" else "off",
        "http_host": hostname,
        "server_port": port or ("443" if scheme == "https" else "80"),
        "script_name": (f"/{prefix}" if prefix else "") + f"/sso/{org_slug}/{path_suffix}",
        "get_data": get or {},
        "post_data": post or {},
    }


def authn_request_url(connection, certificates: list[str], relay_state: str) -> tuple[str, str]:
    """The IdP URL carrying a new AuthnRequest (HTTP-Redirect binding), and its ID."""
    auth = OneLogin_Saml2_Auth(_request_data(connection.org.slug, path_suffix="login/"),
                               _settings_for(connection, certificates))
    url = auth.login(return_to=relay_state)
    return url, auth.get_last_request_id()


def sp_metadata_xml(org_slug: str, sp_certificate: str = "") -> str:
    """The SP metadata: ACS, single logout (HTTP-Redirect and HTTP-POST) and, given the SP's
    certificate, its signing KeyDescriptor (IdPs that want signed logout requests read it)."""
    data = {
        "strict": True,
        "sp": {
            "entityId": sp_entity_id(org_slug),
            "assertionConsumerService": {"url": acs_url(org_slug),
                                         "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST},
            "singleLogoutService": {"url": sls_url(org_slug),
                                    "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT},
            "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_EMAIL_ADDRESS,
            "x509cert": sp_certificate,
        },
        "security": {"wantAssertionsSigned": True, "authnRequestsSigned": False, "allowSingleLabelDomains": True},
    }
    metadata = OneLogin_Saml2_Settings(data, sp_validation_only=True).get_sp_metadata()
    root = etree.fromstring(metadata if isinstance(metadata, bytes) else metadata.encode(), parser=_safe_parser())
    # python3-saml writes one SingleLogoutService; the POST binding is served at the same URL.
    redirect = root.find(".//md:SingleLogoutService", {"md": MD})
    post = etree.Element(redirect.tag, Binding=OneLogin_Saml2_Constants.BINDING_HTTP_POST, Location=sls_url(org_slug))
    post.tail = redirect.tail
    redirect.addnext(post)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode()


# Response validation ---------------------------------------------------------

_parser = threading.local()


def _safe_parser() -> etree.XMLParser:
    parser = getattr(_parser, "parser", None)
    if parser is None:
        parser = _parser.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=False,
            remove_pis=False,
        )
    return parser


def decode_response(encoded, *, field: str = "SAMLResponse", limit: int = MAX_RESPONSE_BYTES) -> bytes:
    """Size cap before decoding; strict base64 (whitespace allowed, as IdPs wrap lines).
    `field` names the parameter in the reasons; `limit` caps the decoded bytes."""
    if encoded is None or encoded == "":
        raise SAMLRejected("missing_response", f"No {field} in the request.")
    if isinstance(encoded, str):
        try:
            encoded = encoded.encode("ascii")
        except UnicodeEncodeError:
            raise SAMLRejected("not_base64", f"{field} is not base64 (non-ASCII characters).") from None
    max_encoded = limit * 4 // 3 + 8 * 1024  # base64 grows the body by 4/3; line breaks on top
    if len(encoded) > max_encoded:
        raise SAMLRejected("too_large", f"{field} is {len(encoded)} bytes encoded; the limit is {max_encoded}.")
    compact = b"".join(encoded.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise SAMLRejected("not_base64", f"{field} is not valid base64.") from None
    if len(raw) > limit:
        raise SAMLRejected("too_large", f"{field} is {len(raw)} bytes; the limit is {limit}.")
    return raw


def _precheck(root: etree._Element, *, expected_acs: str, expected_audience: str) -> etree._Element:
    """Structural checks python3-saml does not make, on our own hardened parse (prevalidate's)."""
    if root.tag != f"{{{NS['samlp']}}}Response":
        raise SAMLRejected("not_a_response", f"The root element is {root.tag}, not samlp:Response.")

    # Duplicate IDs are how most signature-wrapping attacks point the verifier at one
    # element and the reader at another.
    ids = [el.get("ID") for el in root.iter(etree.Element) if el.get("ID") is not None]
    if len(ids) != len(set(ids)):
        raise SAMLRejected("xsw_duplicate_id", "The response contains duplicate ID attributes.")

    if root.findall(".//saml:EncryptedAssertion", NS):
        raise SAMLRejected("encrypted_assertion", "Encrypted assertions are not supported.")
    assertions = root.findall(".//saml:Assertion", NS)
    if len(assertions) != 1:
        raise SAMLRejected("xsw_assertion_count", f"The response contains {len(assertions)} assertions; "
                                                  "exactly one is required.")
    assertion = assertions[0]
    if assertion.getparent() is not root:
        raise SAMLRejected("xsw_assertion_position", "The assertion is not a direct child of the Response.")

    signatures = root.findall(".//ds:Signature", NS)
    own_signature = None
    for signature in signatures:
        parent = signature.getparent()
        if parent is not root and parent is not assertion:
            raise SAMLRejected("xsw_signature_position", f"A signature sits inside {parent.tag}.")
        _check_enveloped_signature(signature)
        if parent is assertion:
            own_signature = signature
    if own_signature is None:
        raise SAMLRejected("assertion_unsigned", "The assertion is not signed.")

    _one_name_id(assertion, "saml:Subject/saml:NameID", "The assertion must have exactly one Subject NameID.")

    destination = root.get("Destination")
    if destination != expected_acs:
        raise SAMLRejected("wrong_destination", f"Destination {destination!r} is not exactly {expected_acs!r}.")

    restrictions = assertion.findall("saml:Conditions/saml:AudienceRestriction", NS)
    if not restrictions:
        raise SAMLRejected("audience_missing", "The assertion has no AudienceRestriction.")
    for restriction in restrictions:
        audiences = [(a.text or "").strip() for a in restriction.findall("saml:Audience", NS)]
        if expected_audience not in audiences:
            raise SAMLRejected("wrong_audience", f"Audience {audiences!r} does not include {expected_audience!r}.")

    confirmations = assertion.findall("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS)
    if not confirmations:
        raise SAMLRejected("recipient_missing", "The assertion has no SubjectConfirmationData.")
    for data in confirmations:
        recipient = data.get("Recipient")
        if recipient != expected_acs:
            raise SAMLRejected("wrong_recipient", f"Recipient {recipient!r} is not exactly {expected_acs!r}.")
    return root


def _check_enveloped_signature(signature: etree._Element) -> None:
    """A signature over its parent element only: one Reference naming the parent's ID,
    enveloped-signature and C14N transforms only, without parameters, and no SHA-1."""
    parent = signature.getparent()
    references = signature.findall("ds:SignedInfo/ds:Reference", NS)
    if len(references) != 1:
        raise SAMLRejected("xsw_reference_count", "A signature must have exactly one Reference.")
    uri = references[0].get("URI") or ""
    if uri != f"#{parent.get('ID') or ''}":
        raise SAMLRejected("xsw_reference_mismatch", f"Signature reference {uri!r} does not name its parent.")
    for transform in signature.findall("ds:SignedInfo/ds:Reference/ds:Transforms/ds:Transform", NS):
        algorithm = transform.get("Algorithm") or ""
        if algorithm not in ALLOWED_TRANSFORMS:
            raise SAMLRejected("transform_not_allowed", f"Signature transform {algorithm!r} is not allowed.")
        if len(transform):
            raise SAMLRejected("transform_not_allowed", "Signature transforms must not carry parameters.")
    c14n = signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS)
    if c14n is None or c14n.get("Algorithm") not in ALLOWED_C14N:
        raise SAMLRejected("transform_not_allowed", "Signature canonicalization method is not allowed.")
    for node in signature.findall("ds:SignedInfo/ds:SignatureMethod", NS) + signature.findall(
            "ds:SignedInfo/ds:Reference/ds:DigestMethod", NS):
        if (node.get("Algorithm") or "") in SHA1_ALGORITHMS:
            raise SAMLRejected("sha1", f"SHA-1 ({node.get('Algorithm')}) is refused.")


def _one_name_id(parent: etree._Element, path: str, missing: str) -> str:
    """The text of the one NameID at `path` under `parent`."""
    name_ids = parent.findall(path, NS)
    if len(name_ids) != 1:
        raise SAMLRejected("name_id_missing", missing)
    name_id = name_ids[0]
    # A comment inside the NameID makes some readers see only the text before it
    # (user@evil.com<!---->.example.com). Any child node at all is refused.
    if len(name_id) or not (name_id.text or "").strip():
        raise SAMLRejected("name_id_comment", "The NameID contains comments or child nodes, or is empty.")
    return name_id.text.strip()


def _in_response_to_values(root) -> set:
    values = {root.get("InResponseTo")}
    for data in root.findall("saml:Assertion/saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS):
        values.add(data.get("InResponseTo"))
    return values


@dataclass(frozen=True)
class Posted:
    """A posted SAMLResponse that passed prevalidate: its bytes and our hardened parse."""
    raw: bytes
    root: etree._Element
    in_response_to: str | None


def prevalidate(encoded) -> Posted:
    """Size, base64, DTD and well-formedness, before anything else. The result carries the
    response's InResponseTo (None when absent), to tell SP- from IdP-initiated, and is
    what validate_response reads (so the response is decoded and parsed once)."""
    raw = decode_response(encoded)
    root = _parse_hardened(raw, "response")
    return Posted(raw=raw, root=root, in_response_to=root.get("InResponseTo"))


def _parse_hardened(raw: bytes, what: str) -> etree._Element:
    """No DTD or entity declaration, well-formed: our own parse, before any library sees the bytes."""
    if b"<!doctype" in raw[:4096].lower() or b"<!entity" in raw.lower():
        raise SAMLRejected("dtd", f"The {what} contains a DTD or entity declaration.")
    try:
        root = etree.fromstring(raw, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        raise SAMLRejected("malformed_xml", f"The {what} is not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise SAMLRejected("dtd", f"The {what} contains a DTD.")
    return root


def validate_response(connection, certificates: list[str], posted: "Posted | str", *,
                      request_id: str | None) -> Assertion:
    """Validate a posted SAMLResponse (prevalidate's result, or the form value) for
    `connection`. `request_id` is the ID of our AuthnRequest (SP-initiated) or None
    (unsolicited: InResponseTo must be absent)."""
    if not certificates:
        raise SAMLRejected("no_certificate", "The connection has no IdP signing certificate.")
    org_slug = connection.org.slug
    if not isinstance(posted, Posted):
        posted = prevalidate(posted)
    raw = posted.raw
    root = _precheck(posted.root, expected_acs=acs_url(org_slug), expected_audience=sp_entity_id(org_slug))

    seen = _in_response_to_values(root) - {None}
    if request_id is None:
        if seen:
            raise SAMLRejected("unknown_in_response_to",
                               f"InResponseTo {sorted(seen)!r} names no login request started in this browser.")
    else:
        if root.get("InResponseTo") != request_id or seen != {request_id}:
            raise SAMLRejected("wrong_in_response_to",
                               f"InResponseTo {sorted(seen)!r} does not match the request {request_id!r}.")

    saml_settings = _settings_for(connection, certificates)
    try:
        response = OneLogin_Saml2_Response(saml_settings, base64.b64encode(raw))
        response.is_valid(_request_data(org_slug), request_id=request_id, raise_exceptions=True)
        name_id = response.get_nameid()
        name_id_format = response.get_nameid_format() or ""
        attributes = response.get_attributes()
        assertion_id = response.get_assertion_id()
        not_on_or_after = response.get_assertion_not_on_or_after()
        session_index = response.get_session_index()
        session_not_on_or_after = response.get_session_not_on_or_after()
        issuers = response.get_issuers()
    except OneLogin_Saml2_ValidationError as exc:
        raise SAMLRejected(_validation_code(exc), str(exc)) from None
    except OneLogin_Saml2_Error as exc:
        raise SAMLRejected("invalid_response", str(exc)) from None
    except Exception as exc:  # noqa: BLE001 — the library raises plain exceptions for DTDs and bad XML
        raise SAMLRejected("invalid_response", f"{type(exc).__name__}: {exc}") from None

    # The values read must come from the one assertion our precheck saw signed.
    signed_assertion = root.find("saml:Assertion", NS)
    if signed_assertion.get("ID") != assertion_id:
        raise SAMLRejected("xsw_assertion_mismatch", "The assertion read is not the signed assertion.")
    expected_name_id = (signed_assertion.find("saml:Subject/saml:NameID", NS).text or "").strip()
    if (name_id or "").strip() != expected_name_id:
        raise SAMLRejected("xsw_nameid_mismatch", "The NameID read is not the signed assertion's NameID.")

    expiry = None
    if not_on_or_after:
        expiry = datetime.fromtimestamp(int(not_on_or_after), tz=dt_timezone.utc)
    return Assertion(
        name_id=expected_name_id,
        name_id_format=name_id_format,
        attributes=_text_attributes(attributes),
        assertion_id=assertion_id,
        in_response_to=request_id,
        not_on_or_after=expiry,
        session_index=session_index,
        issuer=(issuers or [""])[0],
        session_not_on_or_after=(datetime.fromtimestamp(int(session_not_on_or_after), tz=dt_timezone.utc)
                                 if session_not_on_or_after else None),
    )


_VALIDATION_CODES = {
    OneLogin_Saml2_ValidationError.ASSERTION_EXPIRED: "expired",
    OneLogin_Saml2_ValidationError.ASSERTION_TOO_EARLY: "not_yet_valid",
    OneLogin_Saml2_ValidationError.INVALID_SIGNATURE: "invalid_signature",
    OneLogin_Saml2_ValidationError.NO_SIGNED_ASSERTION: "assertion_unsigned",
    OneLogin_Saml2_ValidationError.NO_SIGNATURE_FOUND: "assertion_unsigned",
    OneLogin_Saml2_ValidationError.WRONG_ISSUER: "wrong_issuer",
    OneLogin_Saml2_ValidationError.WRONG_AUDIENCE: "wrong_audience",
    OneLogin_Saml2_ValidationError.WRONG_DESTINATION: "wrong_destination",
    OneLogin_Saml2_ValidationError.WRONG_INRESPONSETO: "wrong_in_response_to",
    OneLogin_Saml2_ValidationError.WRONG_SUBJECTCONFIRMATION: "subject_confirmation",
    OneLogin_Saml2_ValidationError.STATUS_CODE_IS_NOT_SUCCESS: "idp_status_not_success",
    OneLogin_Saml2_ValidationError.DEPRECATED_SIGNATURE_METHOD: "sha1",
    OneLogin_Saml2_ValidationError.DEPRECATED_DIGEST_METHOD: "sha1",
    OneLogin_Saml2_ValidationError.INVALID_XML_FORMAT: "schema_invalid",
}


def _validation_code(exc: OneLogin_Saml2_ValidationError) -> str:
    return _VALIDATION_CODES.get(getattr(exc, "code", None), "invalid_response")


def parse_idp_metadata(xml: str) -> dict:
    """IdP entity ID, SSO URL (HTTP-Redirect), SLO URL and signing certificates from metadata XML."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml, required_sso_binding=OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT)
    except Exception as exc:  # noqa: BLE001 — any parse failure is the administrator's input
        raise ValueError(f"The metadata could not be read: {type(exc).__name__}.") from None
    idp = parsed.get("idp") or {}
    certs = []
    if idp.get("x509certMulti"):
        certs = list(idp["x509certMulti"].get("signing") or [])
    elif idp.get("x509cert"):
        certs = [idp["x509cert"]]
    return {
        "idp_entity_id": idp.get("entityId") or "",
        "idp_sso_url": (idp.get("singleSignOnService") or {}).get("url") or "",
        "idp_slo_url": (idp.get("singleLogoutService") or {}).get("url") or "",
        "certificates": [OneLogin_Saml2_Utils.format_cert(c) for c in certs],
    }


# Single logout ---------------------------------------------------------------
#
# /sso/<org>/sls/ takes LogoutRequests (IdP-initiated) and LogoutResponses (to our
# own LogoutRequest), in the HTTP-Redirect binding (GET, deflated, signed over the
# query string) and the HTTP-POST binding (an enveloped XML signature). python3-saml
# reads the Redirect binding only, compares Destination by prefix, takes a missing
# Issuer and signature, and inflates without a cap; so the checks are ours, with the
# ACS's helpers, and the library builds and signs what we send.

MAX_LOGOUT_BYTES = 64 * 1024  # decoded or inflated: a LogoutRequest is a few hundred bytes
MAX_QUERY_LENGTH = 16 * 1024
MAX_RELAY_STATE = 1024
LOGOUT_CLOCK_SKEW_SECONDS = 180
# IssueInstant may be at most this old; the replay cache keeps message IDs longer (sso.state).
LOGOUT_MAX_AGE_SECONDS = 10 * 60
SIGNATURE_ALGORITHMS = frozenset({
    OneLogin_Saml2_Constants.RSA_SHA256, OneLogin_Saml2_Constants.RSA_SHA384, OneLogin_Saml2_Constants.RSA_SHA512,
})
LOGOUT_REQUEST, LOGOUT_RESPONSE = "SAMLRequest", "SAMLResponse"
_LOGOUT_ROOTS = {LOGOUT_REQUEST: f"{{{NS['samlp']}}}LogoutRequest", LOGOUT_RESPONSE: f"{{{NS['samlp']}}}LogoutResponse"}


def _now() -> float:
    """The clock logout messages are judged by."""
    return time.time()


@dataclass(frozen=True)
class LogoutMessage:
    """A logout message as received, decoded and parsed (read_logout), not yet trusted."""
    kind: str  # LOGOUT_REQUEST or LOGOUT_RESPONSE
    binding: str  # "redirect" or "post"
    root: etree._Element
    relay_state: str = ""
    # HTTP-Redirect only: the octets the IdP signed, as received, and its signature.
    signed_octets: bytes = b""
    sig_alg: str | None = None
    signature: str | None = None


@dataclass(frozen=True)
class ValidLogout:
    """What validate_logout found true of a LogoutMessage."""
    kind: str
    message_id: str
    relay_state: str
    issue_instant: float
    # LogoutRequest
    name_id: str = ""
    session_indexes: tuple = ()
    # LogoutResponse
    in_response_to: str = ""
    status: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == OneLogin_Saml2_Constants.STATUS_SUCCESS


def _query_parameters(query_string: str) -> dict[str, str]:
    """The raw (still percent-encoded) values of a query string; a SAML parameter given
    twice is refused, as either copy could be the one the signature covers."""
    if len(query_string) > MAX_QUERY_LENGTH:
        raise SAMLRejected("too_large", f"The query string is {len(query_string)} characters; the limit is "
                                        f"{MAX_QUERY_LENGTH}.")
    raw = {}
    for part in query_string.split("&"):
        name, _, value = part.partition("=")
        if name in raw and name in (LOGOUT_REQUEST, LOGOUT_RESPONSE, "RelayState", "SigAlg", "Signature"):
            raise SAMLRejected("duplicate_parameter", f"The query string carries {name} more than once.")
        raw[name] = value
    return raw


def _inflate(data: bytes, field: str) -> bytes:
    """Raw DEFLATE (the HTTP-Redirect binding), with the output capped: a deflate bomb
    stops at MAX_LOGOUT_BYTES instead of filling memory."""
    inflater = zlib.decompressobj(-15)
    try:
        raw = inflater.decompress(data, MAX_LOGOUT_BYTES + 1)
    except zlib.error as exc:
        raise SAMLRejected("not_deflated", f"{field} is not DEFLATE-compressed: {exc}") from None
    if len(raw) > MAX_LOGOUT_BYTES or inflater.unconsumed_tail:
        raise SAMLRejected("too_large", f"{field} inflates to more than {MAX_LOGOUT_BYTES} bytes.")
    if not inflater.eof:
        raise SAMLRejected("not_deflated", f"{field} is a truncated DEFLATE stream.")
    return raw


def _relay_state(value: str) -> str:
    if len(value) > MAX_RELAY_STATE:
        raise SAMLRejected("too_large", f"RelayState is {len(value)} characters; the limit is {MAX_RELAY_STATE}.")
    return value


def read_logout(*, method: str, query_string: str = "", post=None) -> LogoutMessage:
    """Size, base64, inflation, DTD and well-formedness of a message at the SLS, before
    anything else. GET: the HTTP-Redirect binding, read from the raw query string (whose
    exact octets the signature covers). POST: the HTTP-POST binding (a form body)."""
    if method == "GET":
        params = _query_parameters(query_string)
        kinds = [kind for kind in (LOGOUT_REQUEST, LOGOUT_RESPONSE) if kind in params]
        if len(kinds) != 1:
            raise SAMLRejected("missing_response", "The query string must carry exactly one of SAMLRequest and "
                                                   "SAMLResponse.")
        kind = kinds[0]
        decoded = decode_response(unquote_plus(params[kind]), field=kind, limit=MAX_LOGOUT_BYTES)
        root = _parse_hardened(_inflate(decoded, kind), "logout message")
        # The signed octets are the parameters as received, in the order the binding fixes.
        signed = "&".join(f"{name}={params[name]}" for name in (kind, "RelayState", "SigAlg") if name in params)
        return LogoutMessage(
            kind=kind, binding="redirect", root=root,
            relay_state=_relay_state(unquote_plus(params.get("RelayState", ""))),
            signed_octets=signed.encode("latin-1", "replace"),
            sig_alg=unquote_plus(params["SigAlg"]) if "SigAlg" in params else None,
            signature=unquote_plus(params["Signature"]) if "Signature" in params else None,
        )
    kinds = [kind for kind in (LOGOUT_REQUEST, LOGOUT_RESPONSE) if post.get(kind)]
    if len(kinds) != 1:
        raise SAMLRejected("missing_response", "The POST body must carry exactly one of SAMLRequest and SAMLResponse.")
    kind = kinds[0]
    raw = decode_response(post.get(kind), field=kind, limit=MAX_LOGOUT_BYTES)
    return LogoutMessage(kind=kind, binding="post", root=_parse_hardened(raw, "logout message"),
                         relay_state=_relay_state(post.get("RelayState") or ""))


def _saml_time(value: str | None, name: str) -> float:
    try:
        return float(OneLogin_Saml2_Utils.parse_SAML_to_time(value or ""))
    except Exception:  # noqa: BLE001 — the library raises a plain Exception for a bad format
        raise SAMLRejected("bad_timestamp", f"{name} {value!r} is not a SAML UTC timestamp.") from None


def _verify_redirect_signature(message: LogoutMessage, certificates: list[str]) -> None:
    if not message.signature or not message.sig_alg:
        raise SAMLRejected("unsigned", f"The {message.kind} carries no Signature and SigAlg.")
    if message.sig_alg in SHA1_ALGORITHMS:
        raise SAMLRejected("sha1", f"SHA-1 ({message.sig_alg}) is refused.")
    if message.sig_alg not in SIGNATURE_ALGORITHMS:
        raise SAMLRejected("signature_algorithm", f"SigAlg {message.sig_alg[:200]!r} is not RSA-SHA256/384/512.")
    signature = decode_response(message.signature, field="Signature", limit=4096)
    for certificate in certificates:
        if OneLogin_Saml2_Utils.validate_binary_sign(message.signed_octets, signature, certificate,
                                                     message.sig_alg):
            return
    raise SAMLRejected("invalid_signature", f"The {message.kind}'s query-string signature does not verify "
                                            "against this organization's IdP certificates.")


def _verify_post_signature(message: LogoutMessage, certificates: list[str]) -> None:
    root = message.root
    signatures = root.findall(".//ds:Signature", NS)
    if not signatures:
        raise SAMLRejected("unsigned", f"The {message.kind} has no XML signature.")
    if len(signatures) != 1 or signatures[0].getparent() is not root:
        raise SAMLRejected("xsw_signature_position", "Exactly one signature is allowed, directly under the root "
                                                     "element.")
    _check_enveloped_signature(signatures[0])
    try:
        # Without raise_exceptions the library answers False for a bad signature instead of raising.
        verified = OneLogin_Saml2_Utils.validate_sign(
            root, xpath=f"/samlp:{etree.QName(root).localname}/ds:Signature", multicerts=certificates,
            raise_exceptions=True)
    except Exception as exc:  # noqa: BLE001 — xmlsec and the library raise several kinds
        raise SAMLRejected("invalid_signature", f"The {message.kind}'s XML signature does not verify against this "
                                                f"organization's IdP certificates: {exc}") from None
    if verified is not True:
        raise SAMLRejected("invalid_signature", f"The {message.kind}'s XML signature does not verify against this "
                                                "organization's IdP certificates.")


def validate_logout(connection, certificates: list[str], message: LogoutMessage) -> ValidLogout:
    """Everything a logout message must be for `connection`, the organization in the
    URL: the expected root element, schema-valid, unique IDs, Issuer equal to the IdP's
    entity ID, Destination exactly this organization's SLS URL, IssueInstant recent,
    NotOnOrAfter not passed, and signed by one of THIS organization's IdP certificates
    (SHA-1 refused). A LogoutRequest names exactly one NameID, without child nodes.
    The message ID's single use and InResponseTo's match are the caller's (sso.state)."""
    if not certificates:
        raise SAMLRejected("no_certificate", "The connection has no IdP signing certificate.")
    root, kind = message.root, message.kind
    if root.tag != _LOGOUT_ROOTS[kind]:
        raise SAMLRejected("wrong_message", f"{kind} holds {root.tag}, not samlp:{_LOGOUT_ROOTS[kind].split('}')[1]}.")
    ids = [el.get("ID") for el in root.iter(etree.Element) if el.get("ID") is not None]
    if len(ids) != len(set(ids)):
        raise SAMLRejected("xsw_duplicate_id", f"The {kind} contains duplicate ID attributes.")
    if isinstance(OneLogin_Saml2_XML.validate_xml(root, "saml-schema-protocol-2.0.xsd"), str):
        raise SAMLRejected("schema_invalid", f"The {kind} does not match the SAML protocol schema.")
    if root.get("Version") != "2.0":
        raise SAMLRejected("schema_invalid", f"The {kind} is not SAML 2.0.")

    issuers = root.findall("saml:Issuer", NS)
    issuer = (issuers[0].text or "").strip() if len(issuers) == 1 and not len(issuers[0]) else None
    if issuer != connection.idp_entity_id:
        raise SAMLRejected("wrong_issuer", f"The {kind}'s Issuer {issuer!r} is not this organization's IdP "
                                           f"{connection.idp_entity_id!r}.")
    expected = sls_url(connection.org.slug)
    if root.get("Destination") != expected:
        raise SAMLRejected("wrong_destination", f"Destination {root.get('Destination')!r} is not exactly "
                                                f"{expected!r}.")
    now = _now()
    issued = _saml_time(root.get("IssueInstant"), "IssueInstant")
    if issued > now + LOGOUT_CLOCK_SKEW_SECONDS:
        raise SAMLRejected("not_yet_valid", f"IssueInstant {root.get('IssueInstant')} is in the future.")
    if issued < now - LOGOUT_MAX_AGE_SECONDS - LOGOUT_CLOCK_SKEW_SECONDS:
        raise SAMLRejected("expired", f"IssueInstant {root.get('IssueInstant')} is more than "
                                      f"{LOGOUT_MAX_AGE_SECONDS} seconds old.")
    if root.get("NotOnOrAfter") is not None:
        if _saml_time(root.get("NotOnOrAfter"), "NotOnOrAfter") <= now - LOGOUT_CLOCK_SKEW_SECONDS:
            raise SAMLRejected("expired", f"NotOnOrAfter {root.get('NotOnOrAfter')} has passed.")

    if kind == LOGOUT_REQUEST:
        name_id = _one_name_id(root, "saml:NameID", "The LogoutRequest must name exactly one NameID (an encrypted "
                                                    "or base identifier is not accepted).")
        indexes = []
        for node in root.findall("samlp:SessionIndex", NS):
            if len(node) or not (node.text or "").strip():
                raise SAMLRejected("session_index", "A SessionIndex contains child nodes or is empty.")
            indexes.append(node.text.strip())
        details = {"name_id": name_id, "session_indexes": tuple(indexes)}
    else:
        codes = root.findall("samlp:Status/samlp:StatusCode", NS)
        details = {"in_response_to": root.get("InResponseTo") or "",
                   "status": (codes[0].get("Value") or "") if codes else ""}

    # Last, as it is the costly step: the signature, against this organization's certificates only.
    if message.binding == "redirect":
        _verify_redirect_signature(message, certificates)
    else:
        _verify_post_signature(message, certificates)
    return ValidLogout(kind=kind, message_id=root.get("ID"), relay_state=message.relay_state, issue_instant=issued,
                       **details)


def _logout_auth(connection, certificates: list[str], sp_key: tuple[str, str]) -> OneLogin_Saml2_Auth:
    return OneLogin_Saml2_Auth(_request_data(connection.org.slug, path_suffix="sls/"),
                               _settings_for(connection, certificates, sp_key))


def logout_request_url(connection, certificates: list[str], sp_key: tuple[str, str], *, name_id: str,
                       session_index: str | None, relay_state: str) -> tuple[str, str]:
    """The IdP's SLO URL carrying a new LogoutRequest (HTTP-Redirect binding, signed with
    RSA-SHA256 by the SP key: Okta's "signed requests"), and the request's ID."""
    auth = _logout_auth(connection, certificates, sp_key)
    # python3-saml puts the SessionIndex into its XML template as it is.
    url = auth.logout(return_to=relay_state, name_id=name_id,
                      session_index=xml_escape(session_index) if session_index else None)
    return url, auth.get_last_request_id()


def logout_response_url(connection, certificates: list[str], sp_key: tuple[str, str], *, in_response_to: str,
                        relay_state: str) -> str:
    """The IdP's SLO URL carrying our signed LogoutResponse (Success) to its LogoutRequest
    `in_response_to` (an xs:ID the schema check let through), RelayState echoed."""
    auth = _logout_auth(connection, certificates, sp_key)
    response = OneLogin_Saml2_Logout_Response(auth.get_settings())
    response.build(in_response_to)
    parameters = {"SAMLResponse": response.get_response()}
    if relay_state:
        parameters["RelayState"] = relay_state
    auth.add_response_signature(parameters, OneLogin_Saml2_Constants.RSA_SHA256)
    return OneLogin_Saml2_Utils.redirect(auth.get_slo_response_url(), parameters)
