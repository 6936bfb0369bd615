"""Users with their second-factor and lockout state; reset MFA and unlock from the list."""

from __future__ import annotations

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django.template.response import TemplateResponse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from fulfillment.accounts.services import mfa_reset

User = get_user_model()

# django-otp's own admins show and edit the TOTP secret and recovery codes in
# clear: devices are managed through the user list's actions instead.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class MfaEnrolledFilter(admin.SimpleListFilter):
    title = "two-factor authentication"
    parameter_name = "mfa"

    def lookups(self, request, model_admin):
        return [("yes", "Enrolled"), ("no", "Not enrolled")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(mfa_enrolled=self.value() == "yes")
        return queryset


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AccountUserAdmin(UserAdmin):
    list_display = (
        "username",
        "email",
        "is_active",
        "is_staff",
        "is_superuser",
        "mfa",
        "locked_out",
        "last_login",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", MfaEnrolledFilter, "groups")
    actions = ["unlock_login", "reset_mfa"]

    def get_queryset(self, request):
        locked = AccessAttempt.objects.filter(
            username=OuterRef("username"), failures_since_start__gte=settings.AXES_FAILURE_LIMIT
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                mfa_enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
                is_locked_out=Exists(locked),
            )
        )

    @admin.display(boolean=True, description="2FA", ordering="mfa_enrolled")
    def mfa(self, obj) -> bool:
        return obj.mfa_enrolled

    @admin.display(boolean=True, description="locked out", ordering="is_locked_out")
    def locked_out(self, obj) -> bool:
        return obj.is_locked_out

    @admin.action(description="Unlock login (clear failed attempts)", permissions=["change"])
    def unlock_login(self, request, queryset):
        cleared = sum(axes_reset(username=user.get_username()) for user in queryset)
        self.message_user(request, f"Cleared {cleared} lockout record(s) for {queryset.count()} user(s).")

    @admin.action(
        description="Reset two-factor authentication (user enrols again at next login)",
        permissions=["change"],
    )
    def reset_mfa(self, request, queryset):
        if request.POST.get("confirm") != "yes":
            # Destructive (the user must enrol again): ask first, naming who.
            return TemplateResponse(
                request,
                "accounts/reset_mfa_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Reset two-factor authentication?",
                    "users": queryset,
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        for user in queryset:
            mfa_reset(user=user)
        self.message_user(
            request,
            f"Two-factor authentication reset for {queryset.count()} user(s); "
            "they enrol again at next login.",
            messages.WARNING,
        )
