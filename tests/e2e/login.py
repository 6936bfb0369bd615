"""Log in to the admin in the browser as a person does: password, then the code
their authenticator app shows, computed here from the user's enrolled TOTP key
(the live server and the test share the database)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from fulfillment.accounts.selectors import mfa_device_for
from fulfillment.accounts.services import mfa_device_ensure


def enrol(user: User) -> None:
    """Enrol `user`'s authenticator app (as the first-login page does, without the page)."""
    mfa_device_ensure(user=user)


def current_code(user: User) -> str:
    device = mfa_device_for(user=user)
    assert device is not None, f"{user} has no authenticator app enrolled"
    return _code(device)


def enrolment_code(user: User) -> str:
    """The code an app shows after scanning the enrolment page's QR code."""
    return _code(TOTPDevice.objects.get(user=user, confirmed=False))


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def log_in(browser, base: str, username: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{base}/admin/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    # The second step: the code page (ADMIN_MFA_REQUIRED).
    WebDriverWait(browser, 15).until(
        expected_conditions.presence_of_element_located((By.ID, "mfa-verify-form"))
    )
    browser.find_element(By.NAME, "token").send_keys(current_code(User.objects.get(username=username)))
    browser.find_element(By.CSS_SELECTOR, "#mfa-verify-form input[type=submit]").click()
