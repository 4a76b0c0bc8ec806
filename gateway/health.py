"""``/health/live`` (the process answers) and ``/health/ready`` (every service answers over RPC)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from gateway.envelope import success
from gateway.errors import error_response
from gateway.rpc import rpc

blp = Blueprint("health", __name__, url_prefix="/health")


@blp.get("/live")
def live():
    """Answer 200 while the process is up."""
    return jsonify(success({"status": "alive"}, "alive"))


@blp.get("/ready")
def ready():
    """Answer 200 when every service in ``SERVICES`` answers ``ping``, 503 naming the others."""
    services = current_app.config["SERVICES"]
    states = rpc().ping_all(services, timeout=current_app.config["READINESS_TIMEOUT"])
    missing = [name for name in services if states.get(name) != "ok"]
    if missing:
        return error_response(
            503,
            f"Not ready: no answer from {', '.join(missing)}.",
            {name: [states.get(name) or "no answer"] for name in missing},
        )
    return jsonify(success({"services": states}, "ready"))
