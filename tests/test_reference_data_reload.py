import pytest

from connections.models import AcceptedCarrier, Marketplace


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_sees_the_reference_data():
    # Runs after other transactional tests whose flush emptied these tables.
    assert Marketplace.objects.filter(code="US").exists()
    assert AcceptedCarrier.objects.filter(marketplace__code="US", code="UPS").exists()


@pytest.mark.django_db(transaction=True)
def test_reloading_reference_data_is_idempotent():
    from connections.reference_data import reference_data_load

    before = AcceptedCarrier.objects.count()
    reference_data_load(Marketplace, AcceptedCarrier)

    assert AcceptedCarrier.objects.count() == before
