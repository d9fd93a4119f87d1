"""Swagger UI in a real browser, served as the Docker image serves it: DEBUG off, gunicorn, and the
assets that collectstatic wrote for WhiteNoise's manifest storage, with nothing from a CDN."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from cqrs_demo.bus import bus
from products.tests.support import database_url, free_port, require
from products.write import commands

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
STARTUP_TIMEOUT = 60  # seconds; two workers importing Django on a busy 2-core machine
UI_TIMEOUT_MS = 30_000
SCREENSHOT = Path("/tmp/swagger.png")

pytestmark = pytest.mark.slow


def _require_chromium():
    """Skip without Chromium, except in CI, where a missing browser is a broken setup."""
    installed = Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)
    require(installed, f"{CHROMIUM} is missing: run .ci/install-chromium (Debian's chromium package).")


def _production_environment(database_url, static_root):
    """Return the image's environment (DEBUG off, manifest storage), minus TLS, which nothing here terminates."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "cqrs_demo.settings.base",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "swagger-ui-browser-test-" + "s3cr3t-k3y-" * 5,
        "DEBUG": "false",
        "STATIC_ROOT": str(static_root),
        "WHITENOISE_USE_FINDERS": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "THROTTLE_ANON_RATE": "off",
        "THROTTLE_USER_RATE": "off",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "false",
    }


def _get(url, timeout=10):
    """Return the status and body of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def gunicorn_server(transactional_db, tmp_path):
    """Collect the static files into a temporary STATIC_ROOT and serve the test database with gunicorn."""
    env = _production_environment(database_url(connection.settings_dict), tmp_path / "static")
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stdout + collect.stderr
    assert (tmp_path / "static" / "staticfiles.json").is_file(), "collectstatic wrote no manifest"

    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "cqrs_demo.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.poll() is None, f"gunicorn exited early:\n{log_path.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"/health/live never answered:\n{log_path.read_text(errors='replace')}"
            try:
                if _get(f"{url}/health/live", timeout=5)[0] == 200:
                    break
            except OSError:
                pass  # not listening yet
            time.sleep(0.2)
        yield url
    finally:
        # Before pytest-django flushes the database under the workers' connections.
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _schema_operations(base_url):
    """Return {operationId: (METHOD, path, tags)} of the schema the server publishes."""
    status, body = _get(f"{base_url}/api/schema/?format=json")
    assert status == 200, body[:500]
    schema = json.loads(body)
    return {
        operation["operationId"]: (method.upper(), path, tuple(operation.get("tags", ["default"])))
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    }


def _rendered_operations(page):
    """Return the (dom id, METHOD, path) of every operation block Swagger UI rendered."""
    return page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(block => [
            block.id,
            block.querySelector('.opblock-summary-method').textContent.trim(),
            block.querySelector('.opblock-summary-path').getAttribute('data-path'),
        ])""",
    )


def _is_local(url):
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and (parts.hostname or "") in LOCAL_HOSTS


@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_from_own_static_files_authorizes_and_executes(gunicorn_server, django_user_model):
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # The default of 5 s is short for a 2-core machine shared with the server and the workers.
    expect.set_options(timeout=UI_TIMEOUT_MS)

    admin = django_user_model.objects.create_superuser("swagger-admin", "admin@example.com", "pw")
    token = Token.objects.create(user=admin).key
    skus = ["SWAGGER-A1", "SWAGGER-B2"]
    for sku in skus:
        bus.dispatch(commands.CreateProduct(sku=sku, name=f"Product {sku}", price=Decimal("4.50")))
    operations = _schema_operations(gunicorn_server)
    assert "products_list" in operations

    requests = []
    console_errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 2000})
            context.on("request", lambda request: requests.append((request.method, request.url, request.headers)))
            page = context.new_page()
            page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
            page.on("pageerror", lambda error: console_errors.append(str(error)))
            page.set_default_timeout(UI_TIMEOUT_MS)

            response = page.goto(f"{gunicorn_server}/api/docs/")
            assert response.status == 200
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("Product inventory API")
            expect(page.locator(".opblock")).to_have_count(sum(len(tags) for *_, tags in operations.values()))

            # The assets are the hashed names from collectstatic's manifest, served by WhiteNoise.
            assets = [url for _, url, _ in requests if "/static/" in url]
            assert any("swagger-ui-bundle." in url and url.endswith(".js") for url in assets), assets
            assert all(urlsplit(url).hostname == "127.0.0.1" for url in assets), assets

            rendered = _rendered_operations(page)
            # Swagger UI names each block operations-<tag>-<operationId>.
            expected = {
                (f"operations-{tag}-{operation_id}", method, path)
                for operation_id, (method, path, tags) in operations.items()
                for tag in tags
            }
            assert set(map(tuple, rendered)) == expected
            assert len(rendered) == len(expected)

            page.get_by_role("button", name="Authorize").first.click()
            dialog = page.locator(".dialog-ux .modal-ux")
            token_form = dialog.locator(".auth-container").filter(has_text="tokenAuth")
            token_form.locator("input").fill(f"Token {token}")
            token_form.locator("button.authorize").click()
            # The form turns into a logout button once the key is accepted.
            expect(token_form.locator("button", has_text="Logout")).to_be_visible()
            token_form.locator("button.btn-done").click()
            expect(dialog).to_have_count(0)

            block = page.locator("#operations-products-products_list")
            block.locator(".opblock-summary").click()
            block.get_by_role("button", name="Try it out").click()
            sent_before = len(requests)
            block.get_by_role("button", name="Execute").click()
            expect(block.locator(".live-responses-table, .validation-errors").first).to_be_visible()
            refused = block.locator(".validation-errors")
            assert refused.count() == 0, f"Swagger UI refused to send the request: {refused.inner_text()}"

            sent = [request for request in requests[sent_before:] if "/api/products/" in request[1]]
            assert len(sent) == 1, sent
            method, url, headers = sent[0]
            assert method == "GET"
            assert headers.get("authorization") == f"Token {token}"
            # A filter filled in from a schema example would hide the products from a first Execute.
            assert not {"min_price", "max_price"} & set(parse_qs(urlsplit(url).query)), url

            live = block.locator(".live-responses-table")
            expect(live.locator("tr.response .response-col_status")).to_have_text("200")
            body = live.locator("tr.response .response-col_description pre").first
            for sku in skus:
                expect(body).to_contain_text(sku)
            block.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOT), full_page=False)
        finally:
            browser.close()

    assert requests, "the browser recorded no requests"
    assert [url for _, url, _ in requests if not _is_local(url)] == []
    assert console_errors == []
