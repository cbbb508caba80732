"""The sso endpoints of the JSON API."""
import pytest

from orgs.models import AuditEvent, Membership
from sso.events import SSOEvents
from sso.models import SSOConnection

pytestmark = pytest.mark.django_db
BASE = "/api/v1/organizations/acme/sso"


def test_state_for_members_and_admins(admin_client, member_client, org, member, connection):
    for client in (admin_client, member_client):
        data = client.get(BASE).json()
        assert data["state"] == "configured"
        assert data["acs_url"] == "http://testserver/sso/acme/acs/"
        assert data["sp_entity_id"] == "http://testserver/sso/acme/metadata/"
        assert len(data["certificates"]) == 1


def test_other_org_is_404(outsider_client, org, other_org, connection):
    assert outsider_client.get(BASE).status_code == 404
    assert outsider_client.post(BASE + "/enable", content_type="application/json").status_code == 404
    assert outsider_client.put(BASE, {"idp_entity_id": "x"}, content_type="application/json").status_code == 404
    connection.refresh_from_db()
    assert connection.state == "configured" and connection.idp_entity_id != "x"


def test_configure_from_fields(admin_client, org, idp):
    response = admin_client.put(BASE, {"idp_entity_id": idp.entity_id, "idp_sso_url": "https://idp.test/sso",
                                       "certificates": [idp.cert_pem], "attribute_preset": "entra"},
                                content_type="application/json")
    assert response.status_code == 200, response.json()
    assert response.json()["email_attribute"].endswith("/emailaddress")
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.CONFIGURED).exists()


@pytest.mark.parametrize("body", [
    {"idp_entity_id": "x", "idp_sso_url": "https://idp.test/sso", "certificates": ["not a cert"]},
    {"metadata_xml": "<nope"},
    {"metadata_xml": "<a/>", "metadata_url": "https://x.test/"},
    {"metadata_url": "https://127.0.0.1/metadata"},
    {"bogus": 1},
    {},
])
def test_configure_bad_input_is_400_and_changes_nothing(admin_client, org, body):
    response = admin_client.put(BASE, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "code" in response.json() or "error" in response.json()
    assert not SSOConnection.objects.filter(org=org).exists()


def test_preview_enable_disable(admin_client, org, member, connection, django_capture_on_commit_callbacks):
    preview = admin_client.post(BASE + "/enable/preview", content_type="application/json").json()
    assert preview["remove_count"] == 1 and preview["admins"] == ["ada@acme.test"]
    with django_capture_on_commit_callbacks(execute=True):
        enabled = admin_client.post(BASE + "/enable", content_type="application/json")
    assert enabled.status_code == 200 and enabled.json()["state"] == "enabled"
    assert not Membership.objects.filter(org=org, user=member.user).exists()
    disabled = admin_client.post(BASE + "/disable", content_type="application/json")
    assert disabled.json()["state"] == "configured"


def test_members_cannot_enable_or_preview(member_client, org, member, connection):
    assert member_client.post(BASE + "/enable", content_type="application/json").status_code == 403
    assert member_client.post(BASE + "/enable/preview", content_type="application/json").status_code == 403
    assert member_client.put(BASE, {"allow_idp_initiated": True}, content_type="application/json").status_code == 403
    connection.refresh_from_db()
    assert connection.state == "configured" and not connection.allow_idp_initiated


def test_enable_unconfigured_is_409(admin_client, org):
    response = admin_client.post(BASE + "/enable", content_type="application/json")
    assert response.status_code == 409
