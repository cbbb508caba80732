"""The issue's end-to-end scenario in a real browser: sign up → create an organization → invite →
accept in a second browser → team → service token used against the API → remove the member →
their credential is still listed as active."""
import json
import re
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.core import mail

PASSWORD = "a long enough passphrase 42"


def sign_up(page, base, email, first_name, next_path=None):
    page.goto(base + "/accounts/signup/" + (f"?next={next_path}" if next_path else ""))
    if next_path is None:
        page.fill("#id_email", email)
    else:
        assert page.input_value("#id_email") == email and page.is_disabled("#id_email")
    page.fill("#id_first_name", first_name)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Create account')")


def api_user(base, token):
    request = urllib.request.Request(base + "/api/v1/user", headers={"Authorization": f"Bearer {token}",
                                                                      "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.mark.django_db(transaction=True)
def test_sign_up_invite_accept_team_token_remove(live_server, new_context, eager_celery):
    base = live_server.url
    mail.outbox.clear()

    # The administrator signs up and creates an organization.
    admin = new_context().new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    sign_up(admin, base, "alice@example.test", "Alice")
    # …confirms her address with the emailed link (E14: GET shows a button, the POST verifies)…
    admin.wait_for_url(re.compile(r"/accounts/verify-email/$"))
    assert "Check your email" in admin.inner_text("h1")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.test"]
    verify_link = re.search(r"https?://\S+/accounts/verify-email/\S+/", mail.outbox[0].body).group(0)
    admin.goto(base + urlsplit(verify_link).path)
    admin.click("button:has-text('Verify alice@example.test')")
    assert "is verified" in admin.inner_text(".messages")
    mail.outbox.clear()
    admin.click("text=Create an organization")
    admin.fill("#id_name", "Browser Co")
    admin.fill("#id_slug", "browser-co")
    admin.click("button:has-text('Create organization')")
    admin.wait_for_url(re.compile(r"/orgs/browser-co/settings/members/$"))
    assert "alice@example.test" in admin.inner_text("table")

    # …invites someone; the link comes by email.
    admin.click("nav.sidebar-nav >> text=Invitations")
    admin.fill("#id_email", "bob@example.test")
    admin.select_option("#id_role", "member")
    admin.click("button:has-text('Send invitation')")
    admin.wait_for_selector("text=Invitation sent to bob@example.test")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["bob@example.test"]
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[0].body).group(0)
    invitation_path = urlsplit(link).path

    # The invitee, in another browser context, signs up from the link and accepts.
    bob = new_context().new_page()
    bob.on("dialog", lambda dialog: dialog.accept())
    bob.goto(base + invitation_path)
    assert "Join Browser Co" in bob.inner_text("h1")
    bob.click("text=Create an account")
    sign_up(bob, base, "bob@example.test", "Bob", next_path=invitation_path)
    bob.wait_for_url(re.compile(re.escape(invitation_path) + "$"))
    bob.click("button:has-text('Accept invitation')")
    bob.wait_for_url(re.compile(r"/orgs/browser-co/settings/members/$"))
    assert "Welcome to Browser Co" in bob.inner_text(".messages")

    # The administrator creates a team and adds the new member.
    admin.click("nav.sidebar-nav >> text=Teams")
    admin.fill("#id_name", "Backend")
    admin.click("button:has-text('Create team')")
    admin.wait_for_url(re.compile(r"/settings/teams/\d+/$"))
    admin.select_option("#id_membership", label="Bob <bob@example.test>")
    admin.click("button:has-text('Add to team')")
    admin.wait_for_selector("tr[data-member='bob@example.test']")
    admin.click("nav.sidebar-nav >> text=Members")
    assert "Backend" in admin.inner_text("tr[data-member='bob@example.test']")

    # The member creates a service token, copies it from the page and calls the API with it.
    bob.click("nav.sidebar-nav >> text=Service tokens")
    bob.fill("#id_name", "bob-ci")
    bob.click("button:has-text('Create token')")
    token = bob.input_value("[data-testid=secret]")
    assert token.startswith("ghst_")
    status, body = api_user(base, token)
    assert status == 200 and "bob@example.test" in json.dumps(body)
    bob.reload()  # a GET of the list: the secret is not shown again
    assert token not in bob.content()

    # The administrator removes the member; the member's token stays listed and active.
    admin.click("tr[data-member='bob@example.test'] >> button:has-text('Remove')")
    admin.wait_for_selector("text=Removed bob@example.test")
    assert admin.locator("tr[data-member='bob@example.test']").count() == 0
    admin.click("nav.sidebar-nav >> text=Service tokens")
    row = admin.inner_text("tr[data-credential='bob-ci']")
    assert "bob@example.test" in row and "creator left" in row and "Active" in row
    status, _ = api_user(base, token)
    assert status == 200

    # The removed member's access to the organization ended at once.
    response = bob.goto(base + "/orgs/browser-co/settings/members/")
    assert response.status == 404
