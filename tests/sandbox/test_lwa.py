"""LWA token grants and the consent page, as Amazon's LWA answers them."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from sandbox.models import SandboxAccessToken, SandboxAuthorizationCode, SandboxRefreshToken

TOKEN_URL = "/sandbox/auth/o2/token"
CLIENT = {"client_id": "amzn1.application-oa2-client.sandbox", "client_secret": "sandbox-client-secret"}


def _grant(client, **form):
    return client.post(TOKEN_URL, {**CLIENT, **form})


def test_it_exchanges_a_refresh_token_for_an_hour_long_access_token(client, sandbox_seller):
    # when
    response = _grant(client, grant_type="refresh_token", refresh_token="Atzr|acme-refresh-token")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] == "Atzr|acme-refresh-token"
    token = SandboxAccessToken.objects.get(token=body["access_token"])
    assert token.seller == sandbox_seller
    assert dt.timedelta(minutes=59) < token.expires_at - timezone.now() <= dt.timedelta(hours=1)


def test_it_refuses_an_unknown_or_revoked_refresh_token_with_invalid_grant(client, sandbox_seller):
    unknown = _grant(client, grant_type="refresh_token", refresh_token="Atzr|nope")
    SandboxRefreshToken.objects.filter(token="Atzr|acme-refresh-token").update(revoked_at=timezone.now())
    revoked = _grant(client, grant_type="refresh_token", refresh_token="Atzr|acme-refresh-token")

    for response in (unknown, revoked):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"
        assert response.json()["error_description"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"client_id": "amzn1.application-oa2-client.other", "client_secret": "sandbox-client-secret"},
        {"client_id": "amzn1.application-oa2-client.sandbox", "client_secret": "wrong"},
    ],
    ids=["unknown client", "bad secret"],
)
def test_it_refuses_bad_client_credentials_with_invalid_client(client, sandbox_seller, credentials):
    response = client.post(
        TOKEN_URL, {**credentials, "grant_type": "refresh_token", "refresh_token": "Atzr|acme-refresh-token"}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_it_grants_client_credentials_without_a_seller(client, sandbox_app):
    response = _grant(client, grant_type="client_credentials", scope="sellingpartnerapi::notifications")

    assert response.status_code == 200
    assert "refresh_token" not in response.json()
    assert SandboxAccessToken.objects.get(token=response.json()["access_token"]).seller is None


def _consent(client, sandbox_seller, **params):
    query = {"application_id": "amzn1.sp.solution.sandbox", "state": "signed-state", **params}
    page = client.get("/sandbox/apps/authorize/consent", query)
    assert page.status_code == 200
    assert b"A1ACMESELLER" in page.content
    return client.post(
        "/sandbox/apps/authorize/consent", {**query, "seller": sandbox_seller.pk, "confirm": "1"}
    )


def test_it_redirects_consent_to_the_registered_redirect_uri_with_a_code(client, sandbox_seller):
    # when
    response = _consent(client, sandbox_seller)

    # then
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}"
        == "http://testserver/connections/oauth/callback/"
    )
    query = parse_qs(location.query)
    assert query["state"] == ["signed-state"]
    assert query["selling_partner_id"] == ["A1ACMESELLER"]
    assert SandboxAuthorizationCode.objects.filter(code=query["spapi_oauth_code"][0], used_at=None).exists()


def test_it_redirects_a_denied_consent_with_access_denied(client, sandbox_seller):
    response = client.post(
        "/sandbox/apps/authorize/consent",
        {
            "application_id": "amzn1.sp.solution.sandbox",
            "state": "s1",
            "deny": "1",
            "redirect_uri": "http://x.test/cb",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "http://x.test/cb?error=access_denied&state=s1"


def test_it_refuses_consent_for_an_unknown_application(client, sandbox_seller):
    response = client.get("/sandbox/apps/authorize/consent", {"application_id": "amzn1.sp.solution.other"})

    assert response.status_code == 400


def test_it_exchanges_an_authorization_code_once(client, sandbox_seller):
    # given
    location = _consent(client, sandbox_seller)["Location"]
    code = parse_qs(urlsplit(location).query)["spapi_oauth_code"][0]

    # when
    first = _grant(client, grant_type="authorization_code", code=code)
    again = _grant(client, grant_type="authorization_code", code=code)

    # then
    assert first.status_code == 200
    refresh = first.json()["refresh_token"]
    assert refresh.startswith("Atzr|")
    assert SandboxRefreshToken.objects.get(token=refresh).seller == sandbox_seller
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_it_refuses_an_expired_authorization_code(client, sandbox_seller):
    location = _consent(client, sandbox_seller)["Location"]
    code = parse_qs(urlsplit(location).query)["spapi_oauth_code"][0]
    SandboxAuthorizationCode.objects.filter(code=code).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    response = _grant(client, grant_type="authorization_code", code=code)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_authorization_codes_last_five_minutes(client, sandbox_seller):
    location = _consent(client, sandbox_seller)["Location"]
    code = SandboxAuthorizationCode.objects.get(
        code=parse_qs(urlsplit(location).query)["spapi_oauth_code"][0]
    )

    assert code.expires_at - code.created_at == pytest.approx(
        dt.timedelta(minutes=5), abs=dt.timedelta(seconds=1)
    )
