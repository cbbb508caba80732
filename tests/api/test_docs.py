"""/api/v1/docs/: the OpenAPI description rendered by Swagger UI, public as the schema is,
loading nothing from another origin: every script, stylesheet and icon it names is one of
our static files (drf-spectacular-sidecar), and each is served as production serves it
(collectstatic with the manifest storage, then whitenoise)."""
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client

from .conftest import API

pytestmark = pytest.mark.django_db
DOCS = f"{API}/docs/"


class _Assets(HTMLParser):
    """The URLs a page makes the browser fetch by itself: script src, link href, img src."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def test_the_docs_are_public_like_the_schema():
    anonymous = Client()
    docs, schema = anonymous.get(DOCS), anonymous.get(f"{API}/openapi.json")
    assert docs.status_code == schema.status_code == 200
    assert docs["Content-Type"].startswith("text/html")
    body = docs.content.decode()
    assert "<title>Gatehouse API reference</title>" in body and 'id="swagger-ui"' in body
    assert f'url: "{API}/openapi.json"' in body  # the schema it renders, same origin


def test_the_page_names_only_same_origin_static_files():
    body = Client().get(DOCS).content.decode()
    urls = _assets(body)
    assert len(urls) == 4, urls  # icon, stylesheet, Swagger UI's two scripts
    assert all(url.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/") for url in urls), urls
    # Nor does the inline script reach out: no absolute URL at all, and no validator badge.
    assert not re.search(r"https?://|//cdn|jsdelivr|unpkg", body), re.findall(r"\S*https?://\S*", body)
    assert '"validatorUrl": null' in body
    assert "Content-Security-Policy" not in Client().get(DOCS)  # nothing to allow: the project sets none


def test_the_dashboard_footer_links_the_reference(admin_client, org):
    page = admin_client.get("/orgs/acme/settings/members/").content.decode()
    assert f'<a href="{DOCS}">API reference</a>' in page
    assert f'href="{DOCS}"' in Client().get("/accounts/login/").content.decode()


def test_collectstatic_then_whitenoise_serve_every_file_the_page_names(tmp_path, settings):
    """The Dockerfile's step (collectstatic, production's manifest storage) and what
    production then serves: each URL the page names answers 200 with the file."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--no-input", verbosity=0)
    client = Client()  # a new handler: whitenoise reads the new STATIC_ROOT
    urls = _assets(client.get(DOCS).content.decode())
    assert len(urls) == 4 and all(re.search(r"\.[0-9a-f]{12}\.(js|css|png)$", url) for url in urls), urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        served = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(served) > 500, url
