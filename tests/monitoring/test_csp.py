"""The Content-Security-Policy the admin, our pages and the API docs work under
(the browser side: tests/e2e/test_csp.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(([*part.split(" ", 1), ""])[:2] for part in header.split("; "))


def test_swagger_ui_has_no_inline_script(client):
    page = client.get("/api/v1/docs/")
    body = page.content.decode()
    nonce = _policy(page)["style-src"].split("'nonce-")[1].rstrip("'")

    assert page.status_code == 200
    assert "<script>" not in body
    assert f'<style nonce="{nonce}">' in body
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_there_is_no_redoc_page_loading_from_cdns(client):
    assert client.get("/api/v1/redoc/").status_code == 404


def test_every_request_gets_its_own_nonce(admin_client):
    first = _policy(admin_client.get("/admin/"))["style-src"]
    second = _policy(admin_client.get("/admin/"))["style-src"]

    assert "'nonce-" in first and first != second
