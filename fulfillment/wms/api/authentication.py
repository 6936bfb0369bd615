"""`Authorization: Bearer wms_<prefix>_<secret>`: one indexed lookup by hash."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from fulfillment.wms.models import WmsApiKey
from fulfillment.wms.services import KEY_PREFIX, wms_key_hash, wms_key_touch


class WmsKeyAuthentication(authentication.BaseAuthentication):
    """`request.auth` is the WmsApiKey (with its warehouse); there is no user."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        key = key.strip()
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        found = WmsApiKey.objects.select_related("warehouse").filter(key_hash=wms_key_hash(key)).first()
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if found.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        wms_key_touch(key=found)
        return AnonymousUser(), found

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate), not 403, without a key.
        return f'{self.keyword} realm="wms"'


class HasWmsKey(permissions.BasePermission):
    message = "An API key is required: Authorization: Bearer <key>."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, WmsApiKey)


class WmsKeyScheme(OpenApiAuthenticationExtension):
    target_class = "fulfillment.wms.api.authentication.WmsKeyAuthentication"
    name = "wmsKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A warehouse's API key (`create_wms_key` or the admin).",
        }
