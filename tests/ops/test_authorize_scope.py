"""The Authorize link outside the admin respects merchant scoping too."""

from django.urls import reverse


def test_a_merchant_user_cannot_authorize_another_merchants_store(merchant_client, store_a, store_b):
    # when
    other = merchant_client.get(reverse("connections:store_authorize", args=[store_b.pk]))
    own = merchant_client.get(reverse("connections:store_authorize", args=[store_a.pk]))

    # then: another merchant's store does not exist for them; their own goes to Amazon
    assert other.status_code == 404
    assert own.status_code == 302
    assert "/apps/authorize/consent" in own["Location"]
