"""The studio fuzzed from its own OpenAPI document (Schemathesis), on the tiny network.

Every operation gets a bounded number of generated requests, valid and invalid; each answer
must be no server error, a status the document declares for that operation, and a body of
the declared schema, and a request the schema refuses must be refused. A refused request's
body is ``{"detail": str}`` as the document says.
"""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings

from conftest import SMALL_LIMITS, make_tiny_net
from inceptionism.web.app import create_app
from inceptionism.web.catalog import ModelCatalog
from inceptionism.web.config import ServerSettings

LOOPBACK = {"host": "127.0.0.1:8000"}  # the Host check answers 400 to any other
EXAMPLES = 25  # per operation (18 of them): a bounded run of about half a minute
TINY = make_tiny_net()
APP = create_app(
    ServerSettings(data_dir=tempfile.mkdtemp(prefix="inceptionism-fuzz-"), **{**SMALL_LIMITS, "queue_limit": 2}),
    catalog=ModelCatalog({"tiny": lambda: TINY}),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, headers=LOOPBACK)


@pytest.fixture(scope="module", autouse=True)
def started():
    """The studio's workers run while it is fuzzed: submitted jobs are dreamed, and the queue fills."""
    with TestClient(APP):
        yield


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_document_says(case):
    # Every default check but one: a schema-valid request may still name a layer or model the network
    # does not have (text the schema cannot list), and that is rightly a 422.
    case.call_and_validate(headers=LOOPBACK, excluded_checks=[schemathesis.checks.positive_data_acceptance])
