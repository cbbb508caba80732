"""A built-in SAML identity provider for `demo` and development (issue item 8).

Enabled only when settings.SAML_TEST_IDP is true (dev.py sets it; production
default is off: every view answers 404). It signs real responses with signxml,
not python3-saml, so it is independent of the SP code. Its key and certificate
are generated at first use and kept under var/ (gitignored), never committed.
Anyone can sign in as anyone here: that is the point of a test IdP, and why it
is off by default.
"""
import base64
import html
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from lxml import etree

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def entity_id() -> str:
    return f"{settings.BASE_URL}/sso/test-idp/metadata/"


def sso_url() -> str:
    return f"{settings.BASE_URL}/sso/test-idp/sso/"


def slo_url() -> str:
    return f"{settings.BASE_URL}/sso/test-idp/slo/"


def _key_dir() -> Path:
    return Path(getattr(settings, "SAML_TEST_IDP_DIR", settings.BASE_DIR / "var" / "test_idp"))


def keypair() -> tuple[bytes, str]:
    """(private key PEM, certificate PEM), created once and kept under var/."""
    directory = _key_dir()
    key_file, cert_file = directory / "idp.key", directory / "idp.crt"
    if key_file.exists() and cert_file.exists():
        return key_file.read_bytes(), cert_file.read_text()
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Gatehouse test IdP")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650)).sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    key_file.write_bytes(key_pem)
    key_file.chmod(0o600)
    cert_file.write_text(cert.public_bytes(serialization.Encoding.PEM).decode())
    return key_pem, cert_file.read_text()


def _require_enabled():
    if not getattr(settings, "SAML_TEST_IDP", False):
        raise Http404("The test identity provider is disabled.")


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_response(*, acs: str, audience: str, email: str, first_name: str, last_name: str,
                   in_response_to: str | None, extra_attributes: dict[str, list[str]] | None = None) -> bytes:
    """A signed Response for `email`; `extra_attributes` (name → values) are sent after the
    email and names (the role and groups picked on the page)."""
    from signxml import XMLSigner
    from signxml.algorithms import DigestAlgorithm, SignatureMethod

    now = datetime.now(timezone.utc)
    later = now + timedelta(minutes=5)
    assertion = etree.Element(f"{{{SAML}}}Assertion", nsmap={"saml": SAML}, ID=f"_{uuid.uuid4().hex}",
                              Version="2.0", IssueInstant=_ts(now))
    etree.SubElement(assertion, f"{{{SAML}}}Issuer").text = entity_id()
    etree.SubElement(assertion, f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder")
    subject = etree.SubElement(assertion, f"{{{SAML}}}Subject")
    etree.SubElement(subject, f"{{{SAML}}}NameID",
                     Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress").text = email
    confirmation = etree.SubElement(subject, f"{{{SAML}}}SubjectConfirmation",
                                    Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    data = {"NotOnOrAfter": _ts(later), "Recipient": acs}
    if in_response_to:
        data["InResponseTo"] = in_response_to
    etree.SubElement(confirmation, f"{{{SAML}}}SubjectConfirmationData", **data)
    conditions = etree.SubElement(assertion, f"{{{SAML}}}Conditions", NotBefore=_ts(now - timedelta(minutes=1)),
                                  NotOnOrAfter=_ts(later))
    restriction = etree.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
    etree.SubElement(restriction, f"{{{SAML}}}Audience").text = audience
    statement = etree.SubElement(assertion, f"{{{SAML}}}AuthnStatement", AuthnInstant=_ts(now),
                                 SessionIndex=f"_{uuid.uuid4().hex}")
    context = etree.SubElement(statement, f"{{{SAML}}}AuthnContext")
    etree.SubElement(context, f"{{{SAML}}}AuthnContextClassRef").text = (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
    attributes = etree.SubElement(assertion, f"{{{SAML}}}AttributeStatement")
    sent = [("email", [email]), ("firstName", [first_name]), ("lastName", [last_name]),
            *(extra_attributes or {}).items()]
    for name, values in sent:
        attribute = etree.SubElement(attributes, f"{{{SAML}}}Attribute", Name=name)
        for value in values:
            etree.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value
    key_pem, cert_pem = keypair()
    signed = XMLSigner(signature_algorithm=SignatureMethod.RSA_SHA256, digest_algorithm=DigestAlgorithm.SHA256,
                       c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#").sign(
        assertion, key=key_pem, cert=cert_pem, reference_uri=assertion.get("ID"))
    attrs = {"ID": f"_{uuid.uuid4().hex}", "Version": "2.0", "IssueInstant": _ts(now), "Destination": acs}
    if in_response_to:
        attrs["InResponseTo"] = in_response_to
    response = etree.Element(f"{{{SAMLP}}}Response", nsmap={"samlp": SAMLP, "saml": SAML}, **attrs)
    etree.SubElement(response, f"{{{SAML}}}Issuer").text = entity_id()
    status = etree.SubElement(response, f"{{{SAMLP}}}Status")
    etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
    response.append(signed)
    return etree.tostring(response)


def metadata_xml() -> str:
    _, cert_pem = keypair()
    body = "".join(line for line in cert_pem.splitlines() if "-----" not in line)
    return (
        f'<?xml version="1.0"?>\n<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" '
        f'entityID="{html.escape(entity_id())}">\n'
        f'  <md:IDPSSODescriptor protocolSupportEnumeration="{SAMLP}" WantAuthnRequestsSigned="false">\n'
        f'    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body}'
        f'</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n'
        f'    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="{html.escape(slo_url())}"/>\n'
        f'    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>\n'
        f'    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="{html.escape(sso_url())}"/>\n'
        f'  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n'
    )


def _demo_users() -> list:
    """Accounts of organizations configured against this IdP (members and those the SSO enable removed)."""
    from accounts.models import User
    from django.db.models import Q

    from .models import SSOConnection

    orgs = SSOConnection.objects.filter(idp_entity_id=entity_id()).values_list("org_id", flat=True)
    from .models import SSORemoval

    removed = SSORemoval.objects.filter(org_id__in=orgs).values_list("user_id", flat=True)
    return list(User.objects.filter(Q(memberships__org_id__in=orgs) | Q(pk__in=removed)).distinct()
                .order_by("email")[:50])


def _acs_for(request_xml) -> tuple[str, str, str]:
    """(ACS URL, audience, request ID) from an AuthnRequest, limited to this site's ACS URLs."""
    acs = request_xml.get("AssertionConsumerServiceURL") or ""
    issuer = request_xml.findtext(f"{{{SAML}}}Issuer") or ""
    prefix = f"{settings.BASE_URL}/sso/"
    if not (acs.startswith(prefix) and acs.endswith("/acs/") and issuer.startswith(prefix)):
        raise ValueError("This test IdP serves this Gatehouse site only.")
    return acs, issuer, request_xml.get("ID") or ""


def _picked(request, acs: str) -> tuple[str, str, str, dict[str, list[str]]] | None:
    """(email, first name, last name, extra attributes) from the page's form: a user's button
    (its value the email) or any email typed in; names not posted are the account's, if
    any. The role and groups picked are sent under the attribute names the organization
    behind `acs` reads (DS4's role attribute, the groups attribute), so a demo exercises
    roles and group rules as a real IdP would."""
    email = (request.POST.get("email") or request.POST.get("other_email") or "").strip().lower()
    if "@" not in email or len(email) > 254:
        return None
    first_name, last_name = request.POST.get("first_name"), request.POST.get("last_name")
    if first_name is None and last_name is None:
        from accounts.models import User

        account = User.objects.filter(email=email).first()
        first_name, last_name = (account.first_name, account.last_name) if account else ("", "")
    extra = {}
    role = (request.POST.get("role") or "").strip()[:64]
    groups = [group.strip()[:255] for group in (request.POST.get("groups") or "").replace("\n", ",").split(",")
              if group.strip()][:50]
    if role or groups:
        from .models import DEFAULT_GROUPS_ATTRIBUTE, DEFAULT_ROLE_ATTRIBUTE, SSOConnection

        slug = acs.removeprefix(f"{settings.BASE_URL}/sso/").removesuffix("/acs/")
        names = SSOConnection.objects.filter(org__slug=slug).values_list("role_attribute", "groups_attribute").first()
        role_attribute, groups_attribute = names or (DEFAULT_ROLE_ATTRIBUTE, DEFAULT_GROUPS_ATTRIBUTE)
        if role:
            extra[role_attribute] = [role]
        if groups:
            extra[groups_attribute] = groups
    return email, (first_name or "")[:150], (last_name or "")[:150], extra


def _auto_post(acs: str, saml_response: bytes, relay_state: str) -> HttpResponse:
    encoded = base64.b64encode(saml_response).decode()
    return HttpResponse(
        "<!doctype html><html><head><title>Signing in…</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="post" action="{html.escape(acs)}">'
        f'<input type="hidden" name="SAMLResponse" value="{encoded}">'
        f'<input type="hidden" name="RelayState" value="{html.escape(relay_state)}">'
        "<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>"
    )


def metadata_view(request):
    _require_enabled()
    return HttpResponse(metadata_xml(), content_type="application/samlmetadata+xml")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def sso_view(request):
    """GET: the SP's AuthnRequest (HTTP-Redirect) → pick a user. POST: sign and auto-post to the ACS."""
    _require_enabled()
    source = request.POST if request.method == "POST" else request.GET
    saml_request = source.get("SAMLRequest", "")
    relay_state = source.get("RelayState", "")
    try:
        xml = zlib.decompress(base64.b64decode(saml_request), -15)
        parsed = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        acs, audience, request_id = _acs_for(parsed)
    except Exception as exc:  # noqa: BLE001 — any bad request is the caller's input
        return HttpResponseBadRequest(f"Not a valid AuthnRequest: {html.escape(str(exc))}")
    if request.method == "POST":
        picked = _picked(request, acs)
        if picked is None:
            return HttpResponseBadRequest("Enter an email address.")
        email, first_name, last_name, extra = picked
        body = build_response(acs=acs, audience=audience, email=email, first_name=first_name, last_name=last_name,
                              in_response_to=request_id, extra_attributes=extra)
        return _auto_post(acs, body, relay_state)
    return render(request, "sso/test_idp.html", {
        "users": _demo_users(), "saml_request": saml_request, "relay_state": relay_state, "acs": acs,
    })


@csrf_exempt
@require_http_methods(["GET", "POST"])
def initiate_view(request, org_slug):
    """IdP-initiated sign-in (like an Okta tile) to an organization that allows it."""
    _require_enabled()
    acs = f"{settings.BASE_URL}/sso/{org_slug}/acs/"
    if request.method == "POST":
        picked = _picked(request, acs)
        if picked is None:
            return HttpResponseBadRequest("Enter an email address.")
        email, _, _, extra = picked
        body = build_response(acs=acs, audience=f"{settings.BASE_URL}/sso/{org_slug}/metadata/", email=email,
                              first_name="", last_name="", in_response_to=None, extra_attributes=extra)
        return _auto_post(acs, body, "")
    return render(request, "sso/test_idp.html", {"users": _demo_users(), "initiate": True, "acs": acs})


# Single logout ----------------------------------------------------------------
#
# The SP's LogoutRequest arrives in the HTTP-Redirect binding, signed over the query
# string with the SP's key (its certificate is the one in the SP's metadata; this IdP,
# living in the same project, reads it where the metadata does). The answer is a
# LogoutResponse in the same binding, signed with this IdP's key by `cryptography`.

RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
_MAX_LOGOUT_BYTES = 64 * 1024


def _sp_of(issuer: str) -> tuple[str, str]:
    """(organization slug, the SP's signing certificate PEM) for an SP entity ID of this site."""
    from .models import SPKey

    prefix, suffix = f"{settings.BASE_URL}/sso/", "/metadata/"
    slug = issuer[len(prefix):-len(suffix)] if issuer.startswith(prefix) and issuer.endswith(suffix) else ""
    if not slug or "/" in slug:
        raise ValueError("This test IdP serves this Gatehouse site only.")
    key = SPKey.objects.filter(org__slug=slug).first()
    if key is None:
        raise ValueError("The SP has no signing certificate yet.")
    return slug, key.certificate_pem


def _signed_query_parts(query_string: str, kind: str) -> tuple[bytes, dict]:
    """The octets a Redirect-binding signature covers, as received, and the decoded parameters."""
    from urllib.parse import unquote_plus

    raw = {}
    for part in query_string.split("&"):
        name, _, value = part.partition("=")
        if name in raw:
            raise ValueError(f"{name} appears twice.")
        raw[name] = value
    signed = "&".join(f"{name}={raw[name]}" for name in (kind, "RelayState", "SigAlg") if name in raw)
    return signed.encode("latin-1"), {name: unquote_plus(value) for name, value in raw.items()}


def verify_logout_request(query_string: str) -> dict:
    """The SP's signed LogoutRequest: (slug, request ID, NameID, SessionIndex, RelayState)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signed, params = _signed_query_parts(query_string, "SAMLRequest")
    if params.get("SigAlg") != RSA_SHA256 or not params.get("Signature"):
        raise ValueError("The LogoutRequest must be signed with RSA-SHA256.")
    inflater = zlib.decompressobj(-15)
    xml = inflater.decompress(base64.b64decode(params["SAMLRequest"], validate=True), _MAX_LOGOUT_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError("The LogoutRequest is too large.")
    parsed = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    if parsed.tag != f"{{{SAMLP}}}LogoutRequest" or parsed.get("Destination") != slo_url():
        raise ValueError("Not a LogoutRequest for this IdP.")
    slug, certificate = _sp_of(parsed.findtext(f"{{{SAML}}}Issuer") or "")
    x509.load_pem_x509_certificate(certificate.encode()).public_key().verify(
        base64.b64decode(params["Signature"], validate=True), signed, padding.PKCS1v15(), hashes.SHA256())
    return {"slug": slug, "request_id": parsed.get("ID") or "", "name_id": parsed.findtext(f"{{{SAML}}}NameID") or "",
            "session_index": parsed.findtext(f"{{{SAMLP}}}SessionIndex") or "",
            "relay_state": params.get("RelayState", "")}


def build_logout_response(*, destination: str, in_response_to: str) -> bytes:
    now = datetime.now(timezone.utc)
    response = etree.Element(f"{{{SAMLP}}}LogoutResponse", nsmap={"samlp": SAMLP, "saml": SAML},
                             ID=f"_{uuid.uuid4().hex}", Version="2.0", IssueInstant=_ts(now),
                             Destination=destination, InResponseTo=in_response_to)
    etree.SubElement(response, f"{{{SAML}}}Issuer").text = entity_id()
    status = etree.SubElement(response, f"{{{SAMLP}}}Status")
    etree.SubElement(status, f"{{{SAMLP}}}StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
    return etree.tostring(response)


def redirect_binding_query(kind: str, xml: bytes, relay_state: str) -> str:
    """`kind=…&RelayState=…&SigAlg=…&Signature=…`: deflated, base64, signed with this IdP's key."""
    from urllib.parse import quote_plus

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    deflater = zlib.compressobj(wbits=-15)
    encoded = base64.b64encode(deflater.compress(xml) + deflater.flush()).decode()
    query = f"{kind}={quote_plus(encoded)}"
    if relay_state:
        query += f"&RelayState={quote_plus(relay_state)}"
    query += f"&SigAlg={quote_plus(RSA_SHA256)}"
    key = serialization.load_pem_private_key(keypair()[0], password=None)
    signature = key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{query}&Signature={quote_plus(base64.b64encode(signature).decode())}"


@require_http_methods(["GET"])
def slo_view(request):
    """The SP's LogoutRequest → "Signed out at the test IdP", and a link back to the SP's
    single logout URL carrying this IdP's signed LogoutResponse."""
    _require_enabled()
    try:
        logout = verify_logout_request(request.META.get("QUERY_STRING", ""))
    except Exception as exc:  # noqa: BLE001 — any bad request is the caller's input
        return HttpResponseBadRequest(f"Not a valid LogoutRequest: {html.escape(str(exc))}")
    sls = f"{settings.BASE_URL}/sso/{logout['slug']}/sls/"
    query = redirect_binding_query("SAMLResponse", build_logout_response(destination=sls,
                                                                         in_response_to=logout["request_id"]),
                                   logout["relay_state"])
    return render(request, "sso/test_idp_logout.html", {"logout": logout, "return_url": f"{sls}?{query}"})
