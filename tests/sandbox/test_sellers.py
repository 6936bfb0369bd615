from tests.sandbox.helpers import access_token_for
from tests.sandbox.schemas import assert_valid_response


def test_it_lists_the_sellers_marketplace_participations(client, sandbox_seller):
    response = client.get(
        "/sandbox/sellers/v1/marketplaceParticipations", HTTP_X_AMZ_ACCESS_TOKEN=access_token_for()
    )

    assert_valid_response(response, model_file="sellers.json", path="/sellers/v1/marketplaceParticipations")
    assert response.status_code == 200
    [participation] = response.json()["payload"]
    assert participation["marketplace"]["id"] == "ATVPDKIKX0DER"
    assert participation["marketplace"]["domainName"] == "www.amazon.com"
    assert participation["participation"]["isParticipating"] is True
    assert response["x-amzn-RateLimit-Limit"] == "0.016"
