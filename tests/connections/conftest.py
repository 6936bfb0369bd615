from tests.connections.fake_amazon import fake_amazon, no_sleep  # noqa: F401
