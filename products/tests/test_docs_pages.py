"""Swagger UI and ReDoc load nothing from outside the app: no URL to another host in their
pages, nor in the stylesheets those pages link."""

import re
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = pytest.mark.django_db

APP_HOST = "testserver"
# Where a page or a stylesheet makes the browser fetch something.
ATTRIBUTE_URL = re.compile(r"""\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
CSS_URL = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])([^"')\s]+)""", re.IGNORECASE)


def _foreign(urls, base):
    """Return the URLs that point to a host other than the app's (scheme-relative ones included)."""
    foreign = []
    for url in urls:
        absolute = urlsplit(urljoin(base, url))
        if absolute.scheme in {"http", "https"} and absolute.hostname != APP_HOST:
            foreign.append(url)
    return foreign


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_reference_no_other_host(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    base = f"http://{APP_HOST}{path}"

    page_urls = ATTRIBUTE_URL.findall(html) + CSS_URL.findall(html)
    assert any(url.endswith(".js") for url in page_urls), page_urls  # the scan did find the assets
    assert _foreign(page_urls, base) == []
    # Any absolute http(s) URL at all in the page is a foreign one unless it names the app.
    assert _foreign(re.findall(r"""(?:https?:)?//[^\s"'<>()]+""", html), base) == []

    for stylesheet in [url for url in page_urls if url.split("?")[0].endswith(".css")]:
        css = anon_client.get(urljoin(base, stylesheet))
        assert css.status_code == 200, stylesheet
        body = b"".join(css.streaming_content) if css.streaming else css.content
        assert _foreign(CSS_URL.findall(body.decode()), base) == [], stylesheet


def test_the_scan_sees_a_foreign_font_link():
    html = '<link rel="stylesheet" href="https://fonts.googleapis.com/css2?family=Roboto">'
    assert _foreign(ATTRIBUTE_URL.findall(html), "http://testserver/api/redoc/") == [
        "https://fonts.googleapis.com/css2?family=Roboto"
    ]
    assert _foreign(
        CSS_URL.findall("@import '//cdn.example/x.css'; a { b: url(/static/ok.png) }"), "http://testserver/"
    ) == ["//cdn.example/x.css"]
