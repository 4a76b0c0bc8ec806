"""Configuration: what the gateway reads from the environment, what it refuses, and its server's settings."""

from __future__ import annotations

import re
from pathlib import Path

import jwt
import pytest

from gateway import serve
from gateway.app import create_app
from gateway.rpc import RpcPool

LONG_SECRET = "x" * 40


def test_create_app_refuses_to_start_without_a_jwt_secret(fake_rpc):
    with pytest.raises(RuntimeError, match="JWT_SECRET"):
        create_app({"TESTING": False}, rpc=fake_rpc)


def test_create_app_refuses_a_jwt_secret_shorter_than_32_bytes(fake_rpc):
    with pytest.raises(RuntimeError, match="too short"):
        create_app({"TESTING": False, "JWT_SECRET": "s3cr3t"}, rpc=fake_rpc)


def test_create_app_signs_with_the_jwt_secret_from_the_environment(monkeypatch, fake_rpc):
    monkeypatch.setenv("JWT_SECRET", LONG_SECRET)
    app = create_app({"TESTING": True}, rpc=fake_rpc)

    token = app.extensions["gateway.tokens"].issue_access_token({"id": "u1", "role": "agent"})

    assert jwt.decode(token, LONG_SECRET, algorithms=["HS256"], audience="helpdesk-api")["sub"] == "u1"


def test_create_app_reads_gateway_prefixed_variables(monkeypatch, fake_rpc):
    monkeypatch.setenv("GATEWAY_LOGIN_RATE_LIMIT", "1/minute")
    client = create_app({"TESTING": True}, rpc=fake_rpc).test_client()
    wrong = {"email": "agent@example.com", "password": "Wrong-pass1"}
    client.post("/api/v1/auth/login", json=wrong)

    assert client.post("/api/v1/auth/login", json=wrong).status_code == 429


def test_prefixed_variable_wins_over_the_plain_one(monkeypatch, fake_rpc):
    monkeypatch.setenv("JWT_ISSUER", "plain")
    monkeypatch.setenv("GATEWAY_JWT_ISSUER", "prefixed")

    app = create_app({"TESTING": True}, rpc=fake_rpc)

    assert app.config["JWT_ISSUER"] == "prefixed"


def test_config_argument_wins_over_the_environment(monkeypatch, fake_rpc):
    monkeypatch.setenv("GATEWAY_SERVICES", "users,tickets")

    app = create_app({"TESTING": True, "SERVICES": "users"}, rpc=fake_rpc)

    assert app.config["SERVICES"] == ["users"]


def test_create_app_builds_an_rpc_pool_from_config_without_connecting():
    app = create_app({"TESTING": True, "AMQP_URI": "amqp://u:p@127.0.0.1:1/", "RPC_POOL_SIZE": 3, "RPC_TIMEOUT": 4})

    pool = app.extensions["gateway.rpc"]
    assert isinstance(pool, RpcPool)
    assert (pool.amqp_uri, pool.size, pool.timeout) == ("amqp://u:p@127.0.0.1:1/", 3, 4.0)


def test_rpc_pool_has_one_proxy_per_server_thread_by_default(monkeypatch):
    monkeypatch.setenv("GATEWAY_THREADS", "12")

    app = create_app({"TESTING": True})

    assert app.extensions["gateway.rpc"].size == 12


def test_the_server_defaults_to_two_workers_of_eight_threads_on_localhost_8000():
    assert serve.settings({}) == {"address": "127.0.0.1", "port": 8000, "workers": 2, "blocking_threads": 8,
                                  "workers_kill_timeout": 30}


def test_the_server_binds_to_gateway_port():
    assert (serve.settings({"GATEWAY_PORT": "9000"})["address"], serve.settings({"GATEWAY_PORT": "9000"})["port"]) == (
        "127.0.0.1", 9000)


@pytest.mark.parametrize(("bind", "address", "port"), [
    ("0.0.0.0:8080", "0.0.0.0", 8080),
    ("[::]:8443", "::", 8443),
    ("gateway.internal:80", "gateway.internal", 80),
])
def test_the_bind_overrides_the_port(bind, address, port):
    got = serve.settings({"GATEWAY_PORT": "9000", "GATEWAY_BIND": bind})

    assert (got["address"], got["port"]) == (address, port)


def test_workers_threads_and_timeout_come_from_the_environment():
    got = serve.settings({"GATEWAY_WORKERS": "3", "GATEWAY_THREADS": "16", "GATEWAY_TIMEOUT": "5"})

    assert (got["workers"], got["blocking_threads"], got["workers_kill_timeout"]) == (3, 16, 5)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("GATEWAY_WORKERS", "two", "GATEWAY_WORKERS must be a whole number, got 'two'"),
    ("GATEWAY_THREADS", "0", "GATEWAY_THREADS must be at least 1, got 0"),
    ("GATEWAY_TIMEOUT", "-3", "GATEWAY_TIMEOUT must be at least 1, got -3"),
    ("GATEWAY_BIND", "localhost", "GATEWAY_BIND must be host:port"),
    ("GATEWAY_BIND", "127.0.0.1:99999", "GATEWAY_BIND must be host:port"),
    ("GATEWAY_BIND", ":8000", "GATEWAY_BIND must be host:port"),
])
def test_bad_server_settings_are_refused_with_a_clear_message(name, value, message):
    with pytest.raises(serve.SettingsError, match=re.escape(message)):
        serve.settings({name: value})


def test_the_server_makes_a_private_metrics_directory_for_several_workers_and_removes_it():
    environ: dict[str, str] = {}
    metrics = serve.MetricsDirectory(environ, workers=3)
    directory = Path(environ["PROMETHEUS_MULTIPROC_DIR"])

    try:
        metrics.start()
        assert directory.is_dir()
    finally:
        metrics.stop()
    assert not directory.exists()


def test_one_worker_needs_no_metrics_directory():
    environ: dict[str, str] = {}

    serve.MetricsDirectory(environ, workers=1).start()

    assert "PROMETHEUS_MULTIPROC_DIR" not in environ


def test_a_metrics_directory_given_is_kept_but_emptied_of_stale_files(tmp_path):
    stale, other = tmp_path / "counter_123.db", tmp_path / "notes.txt"
    stale.write_bytes(b"old")
    other.write_text("kept")
    metrics = serve.MetricsDirectory({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, workers=2)

    metrics.start()
    metrics.stop()

    assert not stale.exists()
    assert other.exists() and tmp_path.is_dir()  # not ours: never removed
