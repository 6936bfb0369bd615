"""Settings for the test suite: production settings with test secrets.

DEBUG stays off (as Django forces in tests anyway) so the suite runs the same
code paths as production. The sandbox is mounted and every SP-API/LWA URL
points at `testserver`, which tests/conftest.py routes into Django in-process:
no test can reach the network.
"""

import os

from cryptography.fernet import Fernet

_TEST_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdefghijklmnopqrstuv",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "SANDBOX_ENABLED": "1",
    # Production settings refuse the sandbox with DEBUG off unless told it is wanted.
    "SANDBOX_IN_PRODUCTION": "1",
    "SP_API_ENDPOINT": "http://testserver/sandbox",
    "LWA_TOKEN_URL": "http://testserver/sandbox/auth/o2/token",
    "SELLER_CENTRAL_URL": "http://testserver/sandbox",
    "LWA_CLIENT_ID": "amzn1.application-oa2-client.sandbox",
    "LWA_CLIENT_SECRET": "sandbox-client-secret",
    "SP_API_APP_ID": "amzn1.sp.solution.sandbox",
    "PUBLIC_BASE_URL": "http://testserver",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "Q_BROKER": "orm",
    # The suite's admin_client / force_login sessions have no second factor;
    # tests/accounts turn it on (settings fixture) and prove no admin page
    # opens without it, and the browser test logs in with a real TOTP code.
    "ADMIN_MFA_REQUIRED": "0",
    # The suite's packages carry short placeholder tracking numbers ("1ZFULL0001"):
    # tests/shipments/test_tracking_hold.py and the browser test turn the check on
    # (settings fixture) and prove the hold and Send anyway.
    "TRACKING_NUMBER_CHECK": "0",
}
for _key, _value in _TEST_ENV.items():
    os.environ.setdefault(_key, _value)

from fulfillment.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# No collectstatic in tests: WhiteNoise looks files up per request instead of
# indexing a STATIC_ROOT that does not exist (the live server serves static files).
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The suite runs with ADMIN_MFA_REQUIRED off and DEBUG off on purpose (see
# above); tests/accounts/test_mfa.py checks that this warning fires.
SILENCED_SYSTEM_CHECKS = ["accounts.W001"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's shared-cache in-memory database: threads and the live
    # server then open their own connections and wait for each other the way
    # the demo's web server and task cluster do (see fulfillment/settings.py).
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"fulfillment-test-{os.getpid()}.sqlite3")
    }
