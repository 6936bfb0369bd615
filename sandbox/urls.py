"""URLs of the SP-API emulator, mounted under /sandbox/ when SANDBOX_ENABLED."""

app_name = "sandbox"
urlpatterns: list = []
