"""OAuth codes and merchant-link tokens stay out of request logs (issue 16 item 14):
the dev server's access log (`django.server`) and `django.request` records, as
configured in fulfillment/settings.py LOGGING."""

from __future__ import annotations

import io
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from connections.merchant_links import store_send_authorization_link
from connections.models import Store
from tests.connections.test_authorization import _consent, _start_self_flow
from tests.factories import make_store


class _Unclosable(io.BytesIO):
    def close(self) -> None:  # the handler closes its files; the test still reads them
        pass


class _Stub:
    def __init__(self, **kwargs) -> None:
        self.__dict__.update(kwargs)

    def sendall(self, data: bytes) -> None:
        self.makefile("wb").write(data)


def dev_server_request(path: str, *, cookie: str = "") -> bytes:
    """One request through the dev server's own request handler (runserver's access
    log), served by the project's WSGI app in this thread and test transaction."""
    raw = f"GET {path} HTTP/1.1\r\nHost: testserver\r\n"
    if cookie:
        raw += f"Cookie: {cookie}\r\n"
    rfile, wfile = io.BytesIO((raw + "\r\n").encode()), _Unclosable()
    socket = _Stub(makefile=lambda mode, *a, **kw: rfile if mode == "rb" else wfile)
    server = _Stub(base_environ={}, get_app=WSGIHandler)
    had_started = request_started.disconnect(close_old_connections)
    had_finished = request_finished.disconnect(close_old_connections)
    try:
        WSGIRequestHandler(socket, ("127.0.0.1", 0), server)  # handles the request on creation
    finally:
        if had_started:
            request_started.connect(close_old_connections)
        if had_finished:
            request_finished.connect(close_old_connections)
    return wfile.getvalue()


@pytest.fixture
def access_log():
    """Records of the dev server's logger as its own handler receives them."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("django.server")
    handler = Keep()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _everything_logged(records: list[logging.LogRecord]) -> str:
    formatter = logging.getLogger("django.server").handlers[0].formatter
    return "\n".join([formatter.format(r) for r in records] + [repr(r.__dict__) for r in records])


@pytest.fixture
def new_store(db, warehouse, us_marketplace) -> Store:
    return make_store(
        name="Acme new",
        warehouse=warehouse,
        marketplace=us_marketplace,
        selling_partner_id="",
        authorization_status=Store.Authorization.NOT_CONNECTED,
        refresh_token="",
    )


def test_the_dev_servers_access_log_keeps_no_oauth_code_or_state(
    admin_client, new_store, sandbox_seller, access_log
):
    # given: Amazon's answer to a consent, as the browser brings it back
    callback = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    query = parse_qs(urlsplit(callback).query)
    secrets = [query["spapi_oauth_code"][0], query["state"][0]]

    # when: it reaches the dev server
    answer = dev_server_request(
        urlsplit(callback).path + "?" + urlsplit(callback).query,
        cookie=f"sessionid={admin_client.cookies['sessionid'].value}",
    )

    # then: the store is connected, and the logged line has the path but no query string
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    new_store.refresh_from_db()
    assert new_store.is_connected
    logged = _everything_logged(access_log)
    assert "GET /connections/oauth/callback/?[redacted] HTTP/1.1" in logged
    for secret in secrets:
        assert secret not in logged


def test_the_dev_servers_access_log_keeps_no_link_token(new_store, access_log):
    link = store_send_authorization_link(store=new_store, email="owner@acme.test")
    token = parse_qs(urlsplit(link).query)["token"][0]

    page = dev_server_request(f"/connections/authorize/?token={token}")
    retired = dev_server_request(f"/connections/authorize/{token}/")  # the earlier format

    assert page.startswith(b"HTTP/1.1 200")
    assert retired.startswith(b"HTTP/1.1 410")
    logged = _everything_logged(access_log)
    assert token not in logged
    assert "/connections/authorize/[redacted]/" in logged


def test_django_request_records_carry_no_query_string_or_token(client, new_store, caplog):
    # given
    link = store_send_authorization_link(store=new_store, email="owner@acme.test")
    token = parse_qs(urlsplit(link).query)["token"][0]
    Store.objects.filter(pk=new_store.pk).update(is_active=False)  # the link now answers 410
    caplog.set_level(logging.INFO, logger="django.request")

    # when: requests that Django logs as 4xx, with secrets in the URL
    client.get("/connections/oauth/callback/?state=forged&spapi_oauth_code=SECRET-CODE&selling_partner_id=A1")
    client.get(link)
    client.get(f"/connections/authorize/{token}/")

    # then: the records (and the request a handler such as the admins' email reads) hold none
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 3
    for record in records:
        text = record.getMessage() + record.request.get_full_path() + repr(dict(record.request.GET))
        text += record.request.META.get("QUERY_STRING", "")
        assert "SECRET-CODE" not in text
        assert token not in text
    assert "SECRET-CODE" not in caplog.text and token not in caplog.text


def test_an_error_report_of_a_callback_shows_no_code_or_token(
    admin_client, new_store, sandbox_seller, monkeypatch, caplog
):
    """A callback that crashes after the code exchange: the admins' error email
    (AdminEmailHandler's text report) and the local variables a reporter reads
    from our frames hold neither the code, the state nor the new refresh token."""
    from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

    callback = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    query = parse_qs(urlsplit(callback).query)
    secrets = (query["spapi_oauth_code"][0], query["state"][0], "Atzr|")

    def crash(**kwargs):
        raise RuntimeError("bug after the exchange")

    monkeypatch.setattr("connections.services.seller_participation_check", crash)
    admin_client.raise_request_exception = False
    assert admin_client.get(callback).status_code == 500

    (record,) = [r for r in caplog.records if r.name == "django.request" and r.exc_info]
    report = ExceptionReporter(record.request, *record.exc_info).get_traceback_text()
    assert "bug after the exchange" in report
    tb, ours = record.exc_info[2], {}
    while tb is not None:
        if tb.tb_frame.f_code.co_name in ("oauth_callback", "oauth_callback_complete"):
            variables = SafeExceptionReporterFilter().get_traceback_frame_variables(
                record.request, tb.tb_frame
            )
            # (`request` is every Django frame's; the text report prints its redacted copy)
            ours[tb.tb_frame.f_code.co_name] = repr({k: v for k, v in variables if k != "request"})
        tb = tb.tb_next
    assert set(ours) == {"oauth_callback", "oauth_callback_complete"}
    assert "refresh_token" in ours["oauth_callback_complete"]  # listed, its value hidden
    for secret in secrets:
        assert secret not in report
        assert all(secret not in text for text in ours.values()), secret
