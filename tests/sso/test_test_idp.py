"""The built-in test IdP (off by default) and the demo configuration, end to end through the SP."""
import io
import re
from html import unescape
from urllib.parse import urlsplit

import pytest

from orgs.models import Membership
from sso.models import SSOConnection
from sso.services import sso_enable

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp_on(settings, tmp_path):
    settings.SAML_TEST_IDP = True
    settings.SAML_TEST_IDP_DIR = tmp_path


def test_test_idp_is_off_by_default(client, settings):
    settings.SAML_TEST_IDP = False
    assert client.get("/sso/test-idp/metadata/").status_code == 404
    assert client.get("/sso/test-idp/sso/").status_code == 404


def test_demo_config_and_full_sp_initiated_flow(client, idp_on, org, admin_user, member,
                                                django_capture_on_commit_callbacks):
    from demo.sso import configure_test_idp

    out = io.StringIO()
    configure_test_idp(org=org, admins=[admin_user], members=[member.user], stdout=out)
    assert "test IdP" in out.getvalue()
    assert SSOConnection.objects.get(org=org).allow_idp_initiated
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    assert not Membership.objects.filter(org=org, user=member.user).exists()

    start = client.get("/sso/acme/login/?next=/orgs/acme/settings/members/")
    idp_url = urlsplit(start["Location"])
    assert idp_url.path == "/sso/test-idp/sso/"
    page = client.get(f"{idp_url.path}?{idp_url.query}")
    assert page.status_code == 200 and b"max@acme.test" in page.content
    form = page.content.decode()
    saml_request = unescape(re.search(r'name="SAMLRequest" value="([^"]+)"', form).group(1))
    relay_state = unescape(re.search(r'name="RelayState" value="([^"]+)"', form).group(1))
    posted = client.post("/sso/test-idp/sso/", {"SAMLRequest": saml_request, "RelayState": relay_state,
                                                "email": "max@acme.test"})
    html = posted.content.decode()
    acs = re.search(r'action="([^"]+)"', html).group(1)
    body = re.search(r'name="SAMLResponse" value="([^"]+)"', html).group(1)
    relay = unescape(re.search(r'name="RelayState" value="([^"]*)"', html).group(1))
    assert acs == "http://testserver/sso/acme/acs/"
    done = client.post("/sso/acme/acs/", {"SAMLResponse": body, "RelayState": relay})
    assert done.status_code == 302 and done["Location"] == "/orgs/acme/settings/members/"
    m = Membership.objects.get(org=org, user=member.user)
    assert m.role == "member" and not m.is_database_admin


def test_idp_initiated_through_test_idp(client, idp_on, org, admin_user, member):
    from demo.sso import configure_test_idp

    configure_test_idp(org=org, admins=[admin_user], members=[], stdout=io.StringIO())
    sso_enable(org=org, actor=admin_user)
    html = client.post("/sso/test-idp/initiate/acme/", {"email": "ada@acme.test"}).content.decode()
    body = re.search(r'name="SAMLResponse" value="([^"]+)"', html).group(1)
    assert client.post("/sso/acme/acs/", {"SAMLResponse": body, "RelayState": ""}).status_code == 302
    assert "_auth_user_id" in client.session


def test_test_idp_rejects_bad_requests(client, idp_on):
    assert client.get("/sso/test-idp/sso/?SAMLRequest=garbage").status_code == 400
    assert client.get("/sso/test-idp/metadata/").status_code == 200


def test_test_connection_shows_attributes_and_changes_nothing(admin_client, idp_on, org, admin_user):
    from demo.sso import configure_test_idp
    from orgs.models import AuditEvent
    from sso.events import SSOEvents

    configure_test_idp(org=org, admins=[admin_user], members=[], stdout=io.StringIO())
    start = admin_client.get("/sso/acme/test/")
    assert start.status_code == 302
    idp_url = urlsplit(start["Location"])
    page = admin_client.get(f"{idp_url.path}?{idp_url.query}").content.decode()
    saml_request = unescape(re.search(r'name="SAMLRequest" value="([^"]+)"', page).group(1))
    relay_state = unescape(re.search(r'name="RelayState" value="([^"]+)"', page).group(1))
    html = admin_client.post("/sso/test-idp/sso/", {"SAMLRequest": saml_request, "RelayState": relay_state,
                                                    "email": "newbie@acme.test"}).content.decode()
    body = re.search(r'name="SAMLResponse" value="([^"]+)"', html).group(1)
    relay = unescape(re.search(r'name="RelayState" value="([^"]*)"', html).group(1))
    result = admin_client.post("/sso/acme/acs/", {"SAMLResponse": body, "RelayState": relay})
    assert result.status_code == 200 and b"Test sign-in succeeded" in result.content
    assert b"newbie@acme.test is not a member of" in result.content and b"just in time" in result.content
    assert not Membership.objects.filter(org=org, user__email="newbie@acme.test").exists()
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.TEST_LOGIN).exists()


def test_member_cannot_start_test_connection(member_client, org, member):
    assert member_client.get("/sso/acme/test/").status_code == 403


def _through_the_test_idp(client, form: dict):
    """SP-initiated: the test IdP's page, its form posted with `form`, the answer posted to the ACS."""
    start = client.get("/sso/acme/login/?next=/orgs/acme/")
    idp_url = urlsplit(start["Location"])
    page = client.get(f"{idp_url.path}?{idp_url.query}").content.decode()
    saml_request = unescape(re.search(r'name="SAMLRequest" value="([^"]+)"', page).group(1))
    relay_state = unescape(re.search(r'name="RelayState" value="([^"]+)"', page).group(1))
    html = client.post("/sso/test-idp/sso/", {"SAMLRequest": saml_request, "RelayState": relay_state,
                                              **form}).content.decode()
    body = re.search(r'name="SAMLResponse" value="([^"]+)"', html).group(1)
    relay = unescape(re.search(r'name="RelayState" value="([^"]*)"', html).group(1))
    return page, client.post("/sso/acme/acs/", {"SAMLResponse": body, "RelayState": relay})


def test_the_person_signing_in_picks_a_role_and_groups(client, idp_on, org, admin_user, member):
    """Issue 12 item 5: the page's optional role and groups go out under the attribute names
    the organization reads, so a demo (and a browser test) exercises DS4 and group rules."""
    from demo.sso import configure_test_idp
    from sso.models import GroupRule, SSOIdentity
    from sso.services import sso_set_role_management

    configure_test_idp(org=org, admins=[admin_user], members=[member.user], stdout=io.StringIO())
    sso_enable(org=org, actor=admin_user)
    sso_set_role_management(org=org, actor=admin_user, value=True, role_attribute="gh_role",
                            groups_attribute="memberOf")
    GroupRule.objects.create(org=org, group_name="DBAs", database_admin=True)
    page, done = _through_the_test_idp(client, {"email": "max@acme.test", "role": "admin",
                                                "groups": "DBAs, Backend"})
    assert 'name="role"' in page and 'name="groups"' in page and 'data-email="max@acme.test"' in page
    assert done.status_code == 302
    membership = Membership.objects.get(org=org, user=member.user)
    assert membership.role == "admin" and membership.is_database_admin
    identity = SSOIdentity.objects.get(user=member.user)
    assert identity.idp_attributes["gh_role"] == ["admin"] and identity.idp_groups == ["DBAs", "Backend"]
    # The account's names are sent when the button does not post them; nothing extra when nothing is picked.
    assert identity.idp_attributes["firstName"] == [member.user.first_name]
    _, again = _through_the_test_idp(client, {"email": "max@acme.test"})
    identity.refresh_from_db()
    assert again.status_code == 302 and "gh_role" not in identity.idp_attributes
    assert "memberOf" not in identity.idp_attributes


def test_an_unknown_role_picked_at_the_test_idp_is_refused(client, idp_on, org, admin_user, member):
    from demo.sso import configure_test_idp
    from sso.services import sso_set_role_management

    configure_test_idp(org=org, admins=[admin_user], members=[member.user], stdout=io.StringIO())
    sso_enable(org=org, actor=admin_user)
    sso_set_role_management(org=org, actor=admin_user, value=True)
    _, refused = _through_the_test_idp(client, {"other_email": "max@acme.test", "role": "owner"})
    assert refused.status_code == 400
    assert "planetscale_role" in refused.content.decode() and "owner" in refused.content.decode()
