"""Schemathesis against the JSON routes' OpenAPI schema: generated requests, real app, real SQLite.

Every generated request must get an answer that is not a server error and, when it is
a 200 JSON answer, matches the documented schema.  Few examples per route keep it fast.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from newswatch.web.app import create_app
from storage.db import open_readonly
from tests.web.conftest import Seeded


@pytest.fixture(scope="module")
def web_app(seeded: Seeded):  # type: ignore[no-untyped-def]
    db = open_readonly(seeded.url)
    yield create_app(db)
    db.dispose()


def _operations(web_app):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", web_app)
    return [result.ok() for result in schema.get_all_operations()]


# schemathesis's own pytest integration does not run under pytest 9 (it reaches into
# pytest internals), so each operation's hypothesis strategy is driven here directly.
def test_json_routes_answer_as_documented(web_app) -> None:  # type: ignore[no-untyped-def]
    operations = _operations(web_app)
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call()
            case.validate_response(response, checks=(not_a_server_error, response_schema_conformance))

        check()


def test_schema_documents_every_json_twin(web_app) -> None:  # type: ignore[no-untyped-def]
    paths = set(web_app.openapi()["paths"])
    assert {
        "/search.json", "/search.csv", "/search.jsonl", "/stories.json", "/articles/{article_id}.json",
        "/articles/{article_id}/history.json", "/articles/{article_id}/diff/{a}..{b}.json",
        "/articles/{article_id}/diff/{a}..{b}.patch", "/runs.json", "/runs.csv", "/runs/{run_id}.json",
        "/outlets.json", "/watches.json", "/watches/{name}.json", "/watches/{name}/feed.atom",
    } <= paths
