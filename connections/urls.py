"""Pages outside the admin for Amazon's authorization workflow."""

from django.urls import path

from . import views

app_name = "connections"
urlpatterns = [
    # Amazon redirects here after consent; SP-API app settings name this exact path.
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("stores/<int:store_id>/authorize/", views.store_authorize, name="store_authorize"),
    # The emailed link: /connections/authorize/?token=… (query strings stay out of access logs).
    path("authorize/", views.merchant_link, name="merchant_link"),
    path("authorize/<str:token>/", views.merchant_link_retired, name="merchant_link_retired"),
]
