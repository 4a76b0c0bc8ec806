"""What operators and integrators rely on: health, metrics, the OpenAPI document and docs, correlation ids, CORS."""

from __future__ import annotations

import re

from swagger_ui_bundle import swagger_ui_path

from helpdesk_common.context import get_correlation_id


def test_live_is_200(client):
    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.get_json()["success"] is True


def test_ready_is_200_when_every_service_answers(make_app):
    client = make_app(SERVICES="users").test_client()

    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.get_json()["data"] == {"services": {"users": "ok"}}


def test_ready_is_503_naming_the_service_that_does_not_answer(make_app):
    client = make_app(SERVICES="users,conversations").test_client()

    response = client.get("/health/ready")

    body = response.get_json()
    assert response.status_code == 503
    assert "conversations" in body["message"] and "users" not in body["message"]
    assert list(body["errors"]) == ["conversations"]


def test_metrics_expose_the_request_counter(client):
    client.get("/health/live")

    response = client.get("/metrics")

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'helpdesk_gateway_requests_total\{endpoint="/health/live",method="GET",status="200"\} \d', text)
    assert "helpdesk_gateway_request_duration_seconds_bucket" in text


def test_metrics_label_routes_by_rule_not_by_id(client, auth_headers, accounts):
    client.get(f"/api/v1/users/{accounts['agent']['id']}", headers=auth_headers("admin"))

    text = client.get("/metrics").get_data(as_text=True)

    assert 'endpoint="/api/v1/users/<uuid:user_id>"' in text
    assert accounts["agent"]["id"] not in text


def test_openapi_document_lists_the_routes(client):
    response = client.get("/api/v1/openapi.json")

    spec = response.get_json()
    assert response.status_code == 200
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["version"] == "v1"
    assert {
        "/api/v1/auth/login",
        "/api/v1/auth/refresh-token",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/users/agents/available",
        "/api/v1/departments/{department_id}",
        "/api/v1/organizations",
    } <= set(spec["paths"])


def test_openapi_document_marks_protected_operations_with_the_bearer_scheme(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert spec["paths"]["/api/v1/auth/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/api/v1/auth/login"]["post"]


def test_openapi_document_describes_the_error_envelope(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    assert set(spec["components"]["schemas"]["ErrorEnvelope"]["properties"]) == {"success", "message", "errors"}


def test_docs_page_loads_nothing_from_outside(client):
    response = client.get("/api/v1/docs")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page and "//cdn" not in page


def test_docs_assets_are_the_swagger_ui_bundle_files(client):
    response = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")

    assert response.status_code == 200
    assert response.data == (swagger_ui_path / "swagger-ui-bundle.js").read_bytes()


def test_favicon_is_swagger_uis_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data == (swagger_ui_path / "favicon-32x32.png").read_bytes()


def test_correlation_id_is_echoed(client):
    response = client.get("/health/live", headers={"X-Correlation-ID": "abc-123"})

    assert response.headers["X-Correlation-ID"] == "abc-123"


def test_correlation_id_is_made_when_missing(client):
    response = client.get("/health/live")

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Correlation-ID"])


def test_correlation_id_with_unsafe_characters_is_replaced(client):
    response = client.get("/health/live", headers={"X-Correlation-ID": "evil\tvalue"})

    assert response.headers["X-Correlation-ID"] != "evil\tvalue"


def test_correlation_id_follows_the_request_into_rpc_calls(client, fake_rpc, password):
    client.post(
        "/api/v1/auth/login",
        json={"email": "agent@example.com", "password": password},
        headers={"X-Correlation-ID": "trace-42"},
    )

    assert [call.correlation_id for call in fake_rpc.calls] == ["trace-42", "trace-42"]


def test_correlation_id_is_unbound_after_the_request(client):
    client.get("/health/live", headers={"X-Correlation-ID": "short-lived"})

    assert get_correlation_id() is None


def test_correlation_id_is_echoed_on_errors(client):
    response = client.get("/api/v1/auth/me", headers={"X-Correlation-ID": "failing-1"})

    assert response.status_code == 401
    assert response.headers["X-Correlation-ID"] == "failing-1"


def test_cors_allows_a_configured_origin(make_app):
    client = make_app(CORS_ORIGINS="https://app.example.com, https://admin.example.com").test_client()

    response = client.options(
        "/api/v1/auth/login",
        headers={"Origin": "https://admin.example.com", "Access-Control-Request-Method": "POST"},
    )

    assert response.headers["Access-Control-Allow-Origin"] == "https://admin.example.com"


def test_cors_ignores_other_origins(make_app):
    client = make_app(CORS_ORIGINS="https://app.example.com").test_client()

    allowed = client.get("/api/v1/openapi.json", headers={"Origin": "https://app.example.com"})
    refused = client.get("/api/v1/openapi.json", headers={"Origin": "https://evil.example.com"})

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_cors_is_off_by_default(client):
    response = client.get("/api/v1/openapi.json", headers={"Origin": "https://app.example.com"})

    assert "Access-Control-Allow-Origin" not in response.headers
