from sandbox.sellers import lwa_token_grant


def access_token_for(refresh_token: str = "Atzr|acme-refresh-token") -> str:
    return lwa_token_grant(
        grant_type="refresh_token",
        client_id="amzn1.application-oa2-client.sandbox",
        client_secret="sandbox-client-secret",
        refresh_token=refresh_token,
    )["access_token"]
