"""Login with Amazon: sp_api's token client pointed at our LWA URL, and the
one-time exchange of a consent page's code for a refresh token."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError

from .errors import PermanentAmazonError, ReauthorizationRequired, TransientAmazonError, lwa_error


def credentials() -> dict[str, str]:
    return {"lwa_app_id": settings.LWA_CLIENT_ID, "lwa_client_secret": settings.LWA_CLIENT_SECRET}


class LwaClient(AccessTokenClient):
    """sp_api's LWA client, sent to settings.LWA_TOKEN_URL (the sandbox, a proxy)
    and made to fail with a status we can classify on a non-JSON answer."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        url = urlsplit(settings.LWA_TOKEN_URL)
        self.scheme = f"{url.scheme}://"
        self.host = url.netloc
        self.path = url.path or "/auth/o2/token"
        self._transport._client.timeout = httpx.Timeout(settings.SP_API_TIMEOUT)

    def _request(self, url, data, headers):
        response = self._transport.request("POST", url, data=data, headers=headers)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            body = body if isinstance(body, dict) else {}
            raise AuthorizationError(
                body.get("error") or "invalid_response",
                body.get("error_description") or f"LWA answered HTTP {response.status_code}",
                response.status_code,
            )
        return body


@sensitive_variables("code", "data", "body", "token")
def authorization_code_exchange(*, code: str, redirect_uri: str) -> str:
    """Trade the consent page's `spapi_oauth_code` for the store's refresh token."""
    lwa = LwaClient(refresh_token=None, credentials=_LwaCredentials())
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.LWA_CLIENT_ID,
        "client_secret": settings.LWA_CLIENT_SECRET,
    }
    try:
        body = lwa._request(lwa.scheme + lwa.host + lwa.path, data, lwa.headers)
    except AuthorizationError as exc:
        error = lwa_error(exc)
        if isinstance(error, ReauthorizationRequired):
            # For a code, invalid_grant means used, expired or not ours: not
            # the store's fault, and no store to mark.
            raise PermanentAmazonError(
                "Amazon did not accept the authorization code (expired or already used).",
                code="invalid_grant",
                status=exc.status_code,
            ) from exc
        raise error from exc
    except httpx.TimeoutException as exc:
        raise TransientAmazonError("Login with Amazon timed out.", code="timeout") from exc
    except httpx.TransportError as exc:
        raise TransientAmazonError("Could not reach Login with Amazon.") from exc
    finally:
        lwa._transport.close()
    token = body.get("refresh_token")
    if not token:
        raise PermanentAmazonError("Login with Amazon answered without a refresh token.")
    return token


class _LwaCredentials:
    """The shape sp_api's Credentials reads (app id and secret)."""

    @property
    def lwa_app_id(self) -> str:
        return settings.LWA_CLIENT_ID

    @property
    def lwa_client_secret(self) -> str:
        return settings.LWA_CLIENT_SECRET

    refresh_token = None
