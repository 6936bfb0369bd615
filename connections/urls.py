"""Pages outside the admin for Amazon's authorization workflow."""

from django.urls import path

from . import views

app_name = "connections"
urlpatterns = [
    # Amazon redirects here after consent; SP-API app settings name this exact path.
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("stores/<int:store_id>/authorize/", views.store_authorize, name="store_authorize"),
    path("authorize/<str:token>/", views.merchant_authorize, name="merchant_authorize"),
]
