"""System check: production without a second factor for the admin is an audit failure."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security)
def mfa_required_in_production(app_configs, **kwargs):
    if settings.DEBUG or settings.ADMIN_MFA_REQUIRED:
        return []
    return [
        Warning(
            "ADMIN_MFA_REQUIRED is off with DEBUG off: staff can open the admin, and buyer data, "
            "with a password alone.",
            hint="Unset ADMIN_MFA_REQUIRED (it defaults to on without DEBUG). Amazon's Data Protection "
            "Policy expects multi-factor authentication for every account that can see Amazon data.",
            id="accounts.W001",
        )
    ]
