"""Several processes of one service on one host: each serves /metrics, the later ones on the next free port."""

import socket

import requests

from helpdesk_common.nameko_ext import _serve_metrics
from helpdesk_common.stack import free_port


def test_a_taken_metrics_port_moves_the_server_to_the_next_free_one():
    port = free_port()
    with socket.socket() as holder:  # another process of the service holds the configured port
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen()

        served = _serve_metrics(port, "127.0.0.1")

        assert served > port
        response = requests.get(f"http://127.0.0.1:{served}/metrics", timeout=5)
        assert response.status_code == 200
        assert "helpdesk_rpc_requests_total" in response.text
