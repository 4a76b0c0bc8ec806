"""Print the foundation's performance figures (``make bench``; not a test).

- login throughput through the gateway (Argon2id-bound);
- ``GET /api/v1/auth/me`` p50/p99 through the gateway next to a bare Nameko RPC round trip
  (``users.get_user``) measured in the same run, and their ratio (target: within 2x);
- outbox relay latency, from the event's commit to its delivery to a consumer, p50/p99.

The stack runs as real processes (the Procfile's commands) on PostgreSQL by default, in the test vhost
of RabbitMQ so a running ``make run`` is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bench import automation as automation_bench
from bench import tickets as tickets_bench
from helpdesk_common.stack import SERVICES, launch, migrate_and_seed
from helpdesk_common.testing import private_vhost

DEFAULT_PG = "postgresql+psycopg://helpdesk:helpdesk@127.0.0.1:5432/helpdesk"
DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/helpdesk_test"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def create_database(backend: str, var_dir: Path, service: str) -> tuple[str, callable]:
    if backend == "sqlite":
        return f"sqlite:///{var_dir / f'{service}.db'}", lambda: None
    admin = os.environ.get("HELPDESK_BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"bench_{service}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        # FORCE ends the bench's own connections, but not an autovacuum worker busy on the freshly loaded
        # tables (it is not ours to signal): wait for it to finish rather than leave the database behind
        deadline = time.monotonic() + 120
        try:
            while True:
                try:
                    with engine.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    return
                except DBAPIError as error:
                    if time.monotonic() > deadline:
                        print(f"could not drop the bench database {name} ({error.orig}); drop it by hand",
                              file=sys.stderr)
                        return
                    threading.Event().wait(1.0)
        finally:
            engine.dispose()

    return make_url(admin).set(database=name).render_as_string(hide_password=False), drop


def bench_logins(base: str, *, seconds: float, concurrency: int) -> tuple[float, list[float]]:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    lock = threading.Lock()

    def worker():
        session = requests.Session()
        while time.monotonic() < stop:
            started = time.perf_counter()
            response = session.post(f"{base}/api/v1/auth/login",
                                    json={"email": "admin@example.com", "password": "admin123"}, timeout=30)
            if response.status_code == 200:
                with lock:
                    latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    return len(latencies) / (time.monotonic() - began), latencies


def bench_me(base: str, token: str, *, requests_count: int) -> list[float]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for _ in range(20):  # warm connections and caches
        session.get(f"{base}/api/v1/auth/me", timeout=10)
    latencies = []
    for _ in range(requests_count):
        started = time.perf_counter()
        response = session.get(f"{base}/api/v1/auth/me", timeout=10)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return latencies


def bench_bare_rpc(amqp_uri: str, user_id: str, *, calls: int) -> list[float]:
    latencies = []
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as rpc:
        for _ in range(20):
            rpc.users.get_user(user_id)
        for _ in range(calls):
            started = time.perf_counter()
            rpc.users.get_user(user_id)
            latencies.append(time.perf_counter() - started)
    return latencies


def bench_outbox(amqp_uri: str, agent_id: str, *, events: int) -> list[float]:
    """Toggle an agent's availability; time each event from its commit to its arrival at a consumer."""
    latencies: list[float] = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        queue = Queue(f"bench-outbox-{uuid.uuid4().hex[:6]}", exclusive=True, auto_delete=True, channel=channel)
        queue.declare()
        queue.bind_to(Exchange("users.events", type="topic", durable=True, channel=channel),
                      routing_key="agent.availability_changed")
        arrived = []

        def on_message(body, message):
            arrived.append((time.time(), body))
            message.ack()

        consumer = conn.Consumer(queue, callbacks=[on_message], accept=["json"])
        consumer.consume()
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=10) as rpc:
            for i in range(events):
                rpc.users.set_availability(agent_id, "online" if i % 2 == 0 else "away")
                deadline = time.monotonic() + 10
                while len(arrived) <= i and time.monotonic() < deadline:
                    conn.drain_events(timeout=10)
        for received_at, body in arrived:
            committed = datetime.fromisoformat(body["occurred_at"]).timestamp()
            latencies.append(max(0.0, received_at - committed))
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of the login throughput run")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1000, help="sequential /auth/me and bare RPC calls")
    parser.add_argument("--events", type=int, default=300, help="events for the outbox latency")
    parser.add_argument("--reads", type=int, default=200, help="requests per list/search case")
    parser.add_argument("--only", choices=["foundation", "tickets", "automation"], help="run one part only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--offered-rate", type=float, default=250.0,
                        help="creates per second the 64 paced clients offer together (the p99 target's load)")
    parser.add_argument("--tickets-processes", type=int, default=2,
                        help="tickets service processes (PostgreSQL only; SQLite takes one writer at a time)")
    args = parser.parse_args()

    # a virtual host of its own: nothing left on the broker by other runs takes (or slows) its events
    with private_vhost(os.environ.get("HELPDESK_TEST_AMQP_URI", DEFAULT_AMQP)) as amqp_uri, \
            tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as tmp:
        var_dir = Path(tmp)
        urls, drops = {}, []
        try:
            for service in SERVICES:
                urls[service], drop = create_database(args.backend, var_dir, service)
                drops.append(drop)
                migrate_and_seed(service, urls[service])
            processes = {"tickets": args.tickets_processes} if args.backend == "postgresql" else {}
            stack = launch(var_dir=var_dir, amqp_uri=amqp_uri, database_urls=urls, processes=processes,
                           extra_env={"GATEWAY_LOGIN_RATE_LIMIT": "1000000/minute",
                                      "GATEWAY_LOGIN_ADDRESS_RATE_LIMIT": "1000000/minute", "LOG_LEVEL": "WARNING",
                                      "GATEWAY_WORKERS": "2", "GATEWAY_THREADS": "8"})
            try:
                figures = {}
                if args.only in (None, "foundation"):
                    figures.update(run(stack.base_url, amqp_uri, args))
                if args.only in (None, "tickets"):
                    figures.update(tickets_bench.run(stack.base_url, urls["tickets"], args, stack))
                if args.only in (None, "automation"):  # on a database of its own: the running router's is left alone
                    url, drop = create_database(args.backend, var_dir, "automation_bench")
                    drops.append(drop)
                    migrate_and_seed("automation", url)
                    figures.update(automation_bench.run(url))
                    figures.update(automation_bench.run_live(stack.base_url, amqp_uri, stack, args))
            finally:
                stack.stop_all()
        finally:
            for drop in drops:
                drop()
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


def run(base: str, amqp_uri: str, args) -> dict:
    started = datetime.now(UTC)
    print(f"helpdesk bench — {started:%Y-%m-%d %H:%M} UTC, backend {args.backend}, {os.cpu_count()} cores")
    admin = requests.post(f"{base}/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin123"},
                          timeout=30).json()["data"]
    carlos = requests.post(f"{base}/api/v1/auth/login", json={"email": "carlos@example.com", "password": "carlos123"},
                           timeout=30).json()["data"]

    rate, login_lat = bench_logins(base, seconds=args.seconds, concurrency=args.concurrency)
    print(f"login throughput ({args.concurrency} clients, {args.seconds:.0f} s): {rate:.1f} logins/s, "
          f"p50 {ms(pct(login_lat, 50))}, p99 {ms(pct(login_lat, 99))}")

    me = bench_me(base, admin["access_token"], requests_count=args.requests)
    bare = bench_bare_rpc(amqp_uri, admin["user"]["id"], calls=args.requests)
    ratio50 = pct(me, 50) / pct(bare, 50)
    ratio99 = pct(me, 99) / pct(bare, 99)
    print(f"GET /api/v1/auth/me via gateway ({args.requests} sequential): p50 {ms(pct(me, 50))}, p99 {ms(pct(me, 99))}")
    print(f"bare nameko RPC users.get_user ({args.requests} sequential): p50 {ms(pct(bare, 50))}, "
          f"p99 {ms(pct(bare, 99))}")
    print(f"gateway / bare RPC: p50 x{ratio50:.2f}, p99 x{ratio99:.2f} (target: within x2)")

    outbox = bench_outbox(amqp_uri, carlos["user"]["id"], events=args.events)
    print(f"outbox relay, commit to delivery ({len(outbox)} events): p50 {ms(pct(outbox, 50))}, "
          f"p99 {ms(pct(outbox, 99))}, mean {ms(statistics.fmean(outbox) if outbox else float('nan'))}")
    return {
        "backend": args.backend,
        "login_per_second": rate,
        "me_p50_ms": pct(me, 50) * 1000,
        "me_p99_ms": pct(me, 99) * 1000,
        "bare_rpc_p50_ms": pct(bare, 50) * 1000,
        "bare_rpc_p99_ms": pct(bare, 99) * 1000,
        "gateway_over_rpc_p50": ratio50,
        "gateway_over_rpc_p99": ratio99,
        "outbox_p50_ms": pct(outbox, 50) * 1000,
        "outbox_p99_ms": pct(outbox, 99) * 1000,
    }


if __name__ == "__main__":
    raise SystemExit(main())
