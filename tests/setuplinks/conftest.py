"""Setup link fixtures: an organization on a plan with SSO (tests/conftest.py's `org`), a
live link of it and its secret, a browser without any account (the IdP administrator), and
the test IdP of tests/sso."""
from datetime import timedelta

import pytest
from django.test import Client

from setuplinks.services import setup_link_create
# The API's JSON clients, as fixtures here too (the API of setup links is tested here).
from tests.api.conftest import admin_api, anon_api, member_api, outsider_api
from tests.sso.idp import TestIdP

__all__ = ["admin_api", "anon_api", "member_api", "outsider_api"]


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.BASE_URL = "http://testserver"


@pytest.fixture
def idp():
    return TestIdP()


def make_link(org, actor, *, hours=24, note="Jane, Acme IT", allow_directory_sync=False):
    """A new link of `org`: (link, its page's path)."""
    link, secret = setup_link_create(org=org, actor=actor, lifetime=timedelta(hours=hours), note=note,
                                     allow_directory_sync=allow_directory_sync)
    return link, f"/setup/{secret}/"


@pytest.fixture
def link_and_path(org, admin_user):
    return make_link(org, admin_user)


@pytest.fixture
def link(link_and_path):
    return link_and_path[0]


@pytest.fixture
def page(link_and_path):
    """The link's page path, /setup/<secret>/."""
    return link_and_path[1]


@pytest.fixture
def browser_client():
    """The IdP administrator's browser: no account, no session."""
    return Client()
