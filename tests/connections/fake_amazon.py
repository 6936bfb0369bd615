"""A scripted stand-in for Amazon on host `amazon.test`, for unit tests of the
client's error handling that the sandbox cannot easily produce (HTML 503,
dropped connections, exact header checks). End-to-end tests use the sandbox."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable

import httpx
import pytest

ENDPOINT = "http://amazon.test/spapi"
LWA_URL = "http://amazon.test/lwa/token"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


def json_reply(status: int, body, **headers) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **headers}
    )


class FakeAmazon:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self.lwa_replies: deque[Reply] = deque()

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts[path].extend(replies)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/lwa/token":
            reply: Reply = (
                self.lwa_replies.popleft()
                if self.lwa_replies
                else json_reply(
                    200, {"access_token": "Atza|fake-access", "token_type": "bearer", "expires_in": 3600}
                )
            )
        else:
            queue = self.scripts.get(path.removeprefix("/spapi"))
            reply = queue.popleft() if queue else json_reply(200, {"payload": {}})
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(request)
        return reply

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/spapi")]


@pytest.fixture
def fake_amazon(monkeypatch, settings):
    fake = FakeAmazon()
    settings.SP_API_ENDPOINT = ENDPOINT
    settings.LWA_TOKEN_URL = LWA_URL
    previous = httpx.HTTPTransport.handle_request

    def handle_request(self, request):
        if request.url.host == "amazon.test":
            response = fake.handle(request)
            response.request = request
            return response
        return previous(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    return fake


@pytest.fixture
def no_sleep(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("connections.ratelimit.sleep", slept.append)
    return slept
