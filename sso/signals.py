"""Signals other apps listen to, so sso does not import them.

`sso_disabled` is sent INSIDE the `sso_disable` transaction: a receiver's writes
(Directory Sync turned off, D2) commit or roll back with it:
`sso_disabled.send(sender=SSOConnection, org=org, actor=actor)`.

`sso_member_joined` is sent inside the sign-in's transaction when a sign-in through
the IdP adds a membership just in time (E3): `send(sender=SSOConnection, org=org,
user=user, membership=membership)`; Directory Sync ties it to its directory user (E16).

`role_management_enabled` is sent INSIDE the `sso_set_role_management` transaction when
"Manage roles through identity provider" (DS4) is turned on: `send(sender=SSOConnection,
org=org, actor=actor)`; Directory Sync applies the role each directory user last sent.

`domain_verified` is sent INSIDE the `domain_verify` transaction once the organization
verified a domain: `send(sender=SSOConnection, org=org, domain=domain)`; Directory Sync
retries the email changes that waited for it.

`connection_tested` is sent after a test of the connection (issue 7) reached the ACS, with
what it found: `send(sender=SSOConnection, org=org, tester=sso.views.Tester, result=dict)`;
a setup link keeps its last result for its page (setuplinks.receivers).

Rule ids: docs/rules.md.
"""
import django.dispatch

sso_disabled = django.dispatch.Signal()
sso_member_joined = django.dispatch.Signal()
role_management_enabled = django.dispatch.Signal()
domain_verified = django.dispatch.Signal()
connection_tested = django.dispatch.Signal()
