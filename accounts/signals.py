"""Signals accounts sends to the apps above it ("this happened"), so it imports none of them.

`account_claimed` is sent INSIDE `accounts.services.user_claim`'s transaction, before
the account is marked claimed: `account_claimed.send(sender=User, user=user)`. The
owner of the address has proved it, so every tie an organization's IdP or directory
made to this unclaimed account ends (E14): each receiver ends the ties its app owns
(orgs: every membership; sso and scim: their links), and its writes commit or roll
back with the claim. Receivers run in app order (orgs first, so memberships are gone
when sso and scim run): find what you own by user, not through the membership.

Rule ids: docs/rules.md.
"""
import django.dispatch

account_claimed = django.dispatch.Signal()
