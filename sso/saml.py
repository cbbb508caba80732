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
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone
from os.path import dirname, join

from django.conf import settings as django_settings
from lxml import etree
from onelogin.saml2 import xml_utils as onelogin_xml_utils
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

MAX_RESPONSE_BYTES = 256 * 1024
# Base64 grows the body by 4/3; allow line breaks on top.
MAX_ENCODED_LENGTH = MAX_RESPONSE_BYTES * 4 // 3 + 8 * 1024

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
}
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
    """Installed at import: the compiled XSD schema and XPath expressions above.
    bench/acs.py turns them off to measure the difference."""
    OneLogin_Saml2_XML.validate_xml = staticmethod(
        _validate_xml_with_cached_schema if enabled else _original_validate_xml
    )
    OneLogin_Saml2_XML.query = staticmethod(_query_with_compiled_xpath if enabled else _original_query)


use_schema_cache(True)


# Settings --------------------------------------------------------------------


def sp_entity_id(org_slug: str) -> str:
    return f"{django_settings.BASE_URL}/sso/{org_slug}/metadata/"


def acs_url(org_slug: str) -> str:
    return f"{django_settings.BASE_URL}/sso/{org_slug}/acs/"


def sls_url(org_slug: str) -> str:
    return f"{django_settings.BASE_URL}/sso/{org_slug}/sls/"


def _strip_pem(pem: str) -> str:
    return "".join(
        line.strip() for line in pem.strip().splitlines() if line.strip() and not line.startswith("-----")
    )


_settings_cache: dict = {}
_settings_lock = threading.Lock()


def _settings_for(connection, certificates: list[str]) -> OneLogin_Saml2_Settings:
    """Built from this organization's connection only; cached by its exact content."""
    org_slug = connection.org.slug
    key = (
        org_slug, django_settings.BASE_URL, connection.idp_entity_id, connection.idp_sso_url,
        connection.idp_slo_url, tuple(certificates),
    )
    cached = _settings_cache.get(key)
    if cached is not None:
        return cached
    certs = [_strip_pem(pem) for pem in certificates]
    idp = {
        "entityId": connection.idp_entity_id,
        "singleSignOnService": {"url": connection.idp_sso_url,
                                "binding": OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT},
        # Full certificates only; never a fingerprint (SPEC §7).
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


def sp_metadata_xml(org_slug: str) -> str:
    data = {
        "strict": True,
        "sp": {
            "entityId": sp_entity_id(org_slug),
            "assertionConsumerService": {"url": acs_url(org_slug),
                                         "binding": OneLogin_Saml2_Constants.BINDING_HTTP_POST},
            "NameIDFormat": OneLogin_Saml2_Constants.NAMEID_EMAIL_ADDRESS,
        },
        "security": {"wantAssertionsSigned": True, "authnRequestsSigned": False, "allowSingleLabelDomains": True},
    }
    sp_settings = OneLogin_Saml2_Settings(data, sp_validation_only=True)
    return sp_settings.get_sp_metadata().decode() if isinstance(sp_settings.get_sp_metadata(), bytes) \
        else sp_settings.get_sp_metadata()


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


def decode_response(encoded) -> bytes:
    """Size cap before decoding; strict base64 (whitespace allowed, as IdPs wrap lines)."""
    if encoded is None or encoded == "":
        raise SAMLRejected("missing_response", "No SAMLResponse in the POST body.")
    if isinstance(encoded, str):
        try:
            encoded = encoded.encode("ascii")
        except UnicodeEncodeError:
            raise SAMLRejected("not_base64", "SAMLResponse is not base64 (non-ASCII characters).") from None
    if len(encoded) > MAX_ENCODED_LENGTH:
        raise SAMLRejected("too_large", f"SAMLResponse is {len(encoded)} bytes encoded; the limit is "
                                        f"{MAX_ENCODED_LENGTH}.")
    compact = b"".join(encoded.split())
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise SAMLRejected("not_base64", "SAMLResponse is not valid base64.") from None
    if len(raw) > MAX_RESPONSE_BYTES:
        raise SAMLRejected("too_large", f"SAMLResponse is {len(raw)} bytes; the limit is {MAX_RESPONSE_BYTES}.")
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
        if parent is assertion:
            own_signature = signature
    if own_signature is None:
        raise SAMLRejected("assertion_unsigned", "The assertion is not signed.")

    name_ids = assertion.findall("saml:Subject/saml:NameID", NS)
    if len(name_ids) != 1:
        raise SAMLRejected("name_id_missing", "The assertion must have exactly one Subject NameID.")
    name_id = name_ids[0]
    # A comment inside the NameID makes some readers see only the text before it
    # (user@evil.com<!---->.example.com). Any child node at all is refused.
    if len(name_id) or not (name_id.text or "").strip():
        raise SAMLRejected("name_id_comment", "The NameID contains comments or child nodes, or is empty.")

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
    if b"<!doctype" in raw[:4096].lower() or b"<!entity" in raw.lower():
        raise SAMLRejected("dtd", "The response contains a DTD or entity declaration.")
    try:
        root = etree.fromstring(raw, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        raise SAMLRejected("malformed_xml", f"The response is not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise SAMLRejected("dtd", "The response contains a DTD.")
    return Posted(raw=raw, root=root, in_response_to=root.get("InResponseTo"))


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
        attributes={k: list(v) for k, v in (attributes or {}).items()},
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
