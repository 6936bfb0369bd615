"""A URLconf with a view that fails holding buyer data (tests/monitoring/test_sentry.py)."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def boom(request):
    # A local variable holding buyer data (built at run time: not in the source lines Sentry sends).
    address = request.POST["gift_message"].replace("GIFT", "ADDRESS")
    raise ValueError(f"failed for order {request.method}; {len(address)}")


urlpatterns = [path("boom/", boom)]
