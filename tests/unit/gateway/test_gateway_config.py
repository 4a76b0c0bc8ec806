"""Configuration: what the gateway reads from the environment, what it refuses, and its gunicorn settings."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import SimpleNamespace

import jwt
import pytest

from gateway.app import create_app
from gateway.rpc import RpcPool

GUNICORN_CONF = Path(__file__).resolve().parents[3] / "gateway" / "gunicorn.conf.py"
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


def test_rpc_pool_has_one_proxy_per_gunicorn_thread_by_default(monkeypatch):
    monkeypatch.setenv("GATEWAY_THREADS", "12")

    app = create_app({"TESTING": True})

    assert app.extensions["gateway.rpc"].size == 12


def _load_gunicorn_conf(monkeypatch, **env):
    for name in ("GATEWAY_BIND", "GATEWAY_PORT", "GATEWAY_WORKERS", "GATEWAY_THREADS"):
        monkeypatch.delenv(name, raising=False)
    # Set (even empty) so monkeypatch removes whatever the file writes there.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", env.pop("PROMETHEUS_MULTIPROC_DIR", ""))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_defaults_to_two_gthread_workers_on_localhost_8000(monkeypatch, tmp_path):
    conf = _load_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))

    assert (conf["bind"], conf["worker_class"], conf["workers"], conf["threads"]) == (
        "127.0.0.1:8000",
        "gthread",
        2,
        8,
    )


def test_gunicorn_binds_to_gateway_port(monkeypatch, tmp_path):
    conf = _load_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path), GATEWAY_PORT="9000")

    assert conf["bind"] == "127.0.0.1:9000"


def test_gunicorn_bind_overrides_the_port(monkeypatch, tmp_path):
    conf = _load_gunicorn_conf(
        monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path), GATEWAY_PORT="9000", GATEWAY_BIND="0.0.0.0:8080"
    )

    assert conf["bind"] == "0.0.0.0:8080"


def test_gunicorn_makes_a_metrics_directory_for_several_workers(monkeypatch):
    conf = _load_gunicorn_conf(monkeypatch, GATEWAY_WORKERS="3")
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])

    try:
        assert directory.is_dir()
    finally:
        conf["on_exit"](None)
    assert not directory.exists()


def test_gunicorn_start_removes_stale_metrics_files(monkeypatch, tmp_path):
    stale = tmp_path / "counter_123.db"
    stale.write_bytes(b"old")
    conf = _load_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))

    conf["on_starting"](None)

    assert not stale.exists()


def test_gunicorn_marks_an_exited_worker_dead(monkeypatch, tmp_path):
    live_gauge = tmp_path / "gauge_liveall_4242.db"
    live_gauge.write_bytes(b"")
    conf = _load_gunicorn_conf(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))

    conf["child_exit"](None, SimpleNamespace(pid=4242))

    assert not live_gauge.exists()
