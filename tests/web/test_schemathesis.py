"""Property-based run of the whole API against its OpenAPI document (schemathesis, in process):
no 500s, every response in its documented status, content type and shape, with an admin token.

The world is built when the module is collected, because the schema must exist before the test
is parametrized (``schemathesis.pytest.from_fixture`` does not work with this pytest).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    import schemathesis
from hypothesis import HealthCheck, settings

from tests.web.conftest import build_world

_FOLDER = tempfile.TemporaryDirectory(prefix="cruce-schemathesis-")
# The API's answers only: the jobs it starts (imports, resolution runs) wait in the queue. Run in
# the background, a resolution's sampling drew on the global ``random`` module while Hypothesis
# drew a case, which Hypothesis refuses (HypothesisDeprecationWarning, an error here).
WORLD = build_world(str(Path(_FOLDER.name) / "api.duckdb"), Path(_FOLDER.name), run_jobs=False)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", WORLD.app)


@pytest.fixture(scope="module", autouse=True)
def _close_world() -> Iterator[None]:
    yield
    WORLD.app.state.services.close()
    _FOLDER.cleanup()


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms(case: schemathesis.Case) -> None:
    if case.headers and "Authorization" in case.headers:  # a real token where the case sends one
        case.headers["Authorization"] = WORLD.api("admin")["Authorization"]
    excluded = []
    uploads = ("/api/v1/imports", "/api/v1/investigations/{case_id}/attachments")
    if case.operation.method.upper() == "POST" and case.operation.path in uploads:
        # an upload's file type (by extension and content) cannot be written in OpenAPI: a schema-valid
        # upload of a random file is refused with 415, which is right
        excluded.append(schemathesis.specs.openapi.checks.positive_data_acceptance)
    if case.operation.method.upper() == "POST" and case.operation.path == "/api/v1/watches":
        # what a watch's target must be depends on its kind (a record's UUID, a name, a state or
        # municipality, a search's words), which OpenAPI cannot say: a schema-valid target that is
        # none of these is refused with 422 and the reason, which is right
        excluded.append(schemathesis.specs.openapi.checks.positive_data_acceptance)
    case.call_and_validate(excluded_checks=excluded)
