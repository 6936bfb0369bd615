from tests.ops.conftest import staff_client, staff_user  # noqa: F401  (fixtures)
