import pytest

from connections.models import AcceptedCarrier, Marketplace


@pytest.mark.django_db
def test_it_ships_every_amazon_marketplace():
    codes = set(Marketplace.objects.values_list("code", flat=True))

    assert {"US", "CA", "MX", "BR", "GB", "DE", "FR", "IT", "ES", "NL", "SE", "PL", "BE", "IE", "TR",
            "AE", "SA", "EG", "IN", "ZA", "JP", "AU", "SG"} <= codes  # fmt: skip


@pytest.mark.django_db
def test_every_marketplace_has_id_endpoint_region_and_consent_host():
    for m in Marketplace.objects.all():
        assert m.marketplace_id.isalnum() and m.marketplace_id.isupper(), m
        assert m.sp_api_endpoint.startswith("https://sellingpartnerapi-"), m
        assert m.region in {"NA", "EU", "FE"}, m
        assert m.sp_api_endpoint.endswith(f"-{m.region.lower()}.amazon.com"), m
        assert m.seller_central_url.startswith("https://sellercentral"), m
        assert len(m.currency) == 3 and m.default_language, m


@pytest.mark.django_db
def test_us_marketplace_is_the_known_one():
    us = Marketplace.objects.get(code="US")

    assert us.marketplace_id == "ATVPDKIKX0DER"
    assert us.aws_region == "us-east-1"


@pytest.mark.django_db
def test_every_marketplace_accepts_other_and_its_own_carriers():
    for m in Marketplace.objects.prefetch_related("accepted_carriers"):
        assert "Other" in {c.code for c in m.accepted_carriers.all()}, m

    au = set(AcceptedCarrier.objects.filter(marketplace__code="AU").values_list("code", flat=True))
    us = set(AcceptedCarrier.objects.filter(marketplace__code="US").values_list("code", flat=True))
    assert "Australia Post-ArticleId" in au and "Australia Post-ArticleId" not in us
    assert {"USPS", "UPS", "FedEx"} <= us
