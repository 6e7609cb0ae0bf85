"""The OpenAPI document and the interactive docs, which load nothing from a CDN."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_openapi_document_is_public_and_describes_token_auth() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Cadency API"
    assert schema["components"]["securitySchemes"] == {
        "TokenAuth": {"type": "http", "scheme": "bearer"}
    }
    assert "/api/v1/enrollments/{enrollment_id}/unenroll" in schema["paths"]


def test_operation_ids_are_plain_and_unique() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert "unenroll_in_bulk" in ids and "list_enrollments" in ids


def test_every_operation_documents_its_errors() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert {"400", "401"} <= set(op["responses"]), (method, path)


def test_the_docs_page_loads_swagger_ui_from_this_server() -> None:
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/api/docs/assets/") for s in sources), sources
    assert '"/api/v1/openapi.json"' in html


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"])
def test_the_docs_assets_are_served(name: str) -> None:
    response = Client().get(f"/api/docs/assets/{name}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


def test_only_the_docs_assets_are_served() -> None:
    assert Client().get("/api/docs/assets/..%2F..%2Fsettings.py").status_code == 404
    assert Client().get("/api/docs/assets/redoc.standalone.js.map").status_code == 404
