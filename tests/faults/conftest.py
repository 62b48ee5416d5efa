from tests.e2e.conftest import initialised, intake, sandbox  # noqa: F401  (shared fixtures)
