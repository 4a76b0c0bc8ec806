"""Ticket figures for ``make bench``: creates per second through the gateway at 16 and 64 clients, and
list / search latency with 10k and then 100k tickets loaded (how each figure moves between the two)."""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import insert
from sqlalchemy.orm import Session

from helpdesk_common.db import make_engine
from services.tickets.adapters.orm import tickets
from services.tickets.adapters.repository import SqlAlchemyTicketRepository
from services.tickets.adapters.search.embedded import embedded_index

WORDS = ("impresora red vpn correo servidor portátil pantalla contraseña licencia base datos wifi cámara "
         "printer network email server laptop screen password license database backup outlook teams").split()
STATUSES = ("new", "open", "in_progress", "waiting", "resolved", "closed")
PRIORITIES = ("low", "medium", "high", "urgent")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def login(base: str, email: str, password: str) -> dict:
    return requests.post(f"{base}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30).json()["data"]


def bench_creates(base: str, token: str, *, clients: int, seconds: float) -> tuple[float, list[float], int]:
    """Create tickets from ``clients`` threads for ``seconds``; return rate, latencies and errors."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while time.monotonic() < stop:
            body = {"title": f"Bench {random.choice(WORDS)} {uuid.uuid4().hex[:6]}",
                    "description": " ".join(random.choices(WORDS, k=20)), "priority": random.choice(PRIORITIES)}
            started = time.perf_counter()
            response = session.post(f"{base}/api/v1/tickets", json=body, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                if response.status_code == 201:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    began = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    return len(latencies) / (time.monotonic() - began), latencies, errors[0]


def load_tickets(url: str, *, count: int, requester_ids: list[str], department_ids: list[str]) -> None:
    """Insert ``count`` tickets straight into the tickets database, then rebuild its search index."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        start = SqlAlchemyTicketRepository(session).reserve_numbers(count) - 1
        batch = []
        for i in range(count):
            created = now - timedelta(minutes=random.randint(0, 60 * 24 * 365))
            batch.append({
                "id": str(uuid.uuid4()), "number": f"TKT-{start + i + 1:06d}",
                "title": " ".join(random.choices(WORDS, k=5)).capitalize(),
                "description": " ".join(random.choices(WORDS, k=40)), "status": random.choice(STATUSES),
                "priority": random.choice(PRIORITIES), "urgency": None, "impact": None, "category": None,
                "tags": random.sample(WORDS[:8], 2), "requester_id": random.choice(requester_ids), "assignee_id": None,
                "department_id": random.choice(department_ids), "organization_id": None, "source": "web",
                "metadata_": {}, "created_by": None, "created_at": created, "updated_at": created,
                "first_response_at": None, "resolved_at": None, "closed_at": None, "resolution": None,
                "reopen_count": 0, "deleted_at": None, "version": 1,
            })
            if len(batch) == 2000:
                session.execute(insert(tickets), batch)
                batch = []
        if batch:
            session.execute(insert(tickets), batch)
        session.commit()
        embedded_index(session).rebuild(batch_size=2000)
        session.commit()
    engine.dispose()


def bench_reads(base: str, token: str, path: str, params: dict, *, requests_count: int) -> list[float]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for _ in range(5):
        session.get(f"{base}{path}", params=params, timeout=30)
    latencies = []
    for _ in range(requests_count):
        started = time.perf_counter()
        response = session.get(f"{base}{path}", params=params, timeout=30)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
    return latencies


def run(base: str, tickets_url: str, args) -> dict:
    """Print and return the ticket figures."""
    figures: dict = {}
    ana = login(base, "ana@example.com", "ana123")
    admin = login(base, "admin@example.com", "admin123")
    carlos = login(base, "carlos@example.com", "carlos123")
    for clients in (16, 64):
        rate, lat, errors = bench_creates(base, ana["access_token"], clients=clients, seconds=args.seconds)
        print(f"ticket creates via gateway ({clients} clients, {args.seconds:.0f} s): {rate:.1f}/s, "
              f"p50 {ms(pct(lat, 50))}, p99 {ms(pct(lat, 99))}, errors {errors}   (target ≥250/s; p99 ≤150 ms at 64)")
        figures[f"creates_per_second_{clients}"] = rate
        figures[f"create_p99_ms_{clients}"] = pct(lat, 99) * 1000

    departments = requests.get(f"{base}/api/v1/departments", headers={"Authorization": f"Bearer {admin['access_token']}"},
                               timeout=30).json()["data"]["items"]
    department_ids = [d["id"] for d in departments]
    customers = [ana["user"]["id"]] + [str(uuid.uuid4()) for _ in range(199)]
    loaded = 0
    for size in (10_000, 100_000):
        started = time.monotonic()
        load_tickets(tickets_url, count=size - loaded, requester_ids=customers, department_ids=department_ids)
        loaded = size
        print(f"loaded {size} tickets (+ search index) in {time.monotonic() - started:.0f} s")
        cases = {
            "list (admin, 20 newest)": (admin, "/api/v1/tickets", {"limit": 20}),
            "list (admin, status=open, priority=high)": (admin, "/api/v1/tickets", {"status": "open", "priority": "high"}),
            "list (agent, own department)": (carlos, "/api/v1/tickets", {"limit": 20}),
            "list (customer, own tickets)": (ana, "/api/v1/tickets", {"limit": 20}),
            "search (admin, 'impresora red')": (admin, "/api/v1/tickets/search", {"q": "impresora red"}),
            "search (admin, prefix 'serv*')": (admin, "/api/v1/tickets/search", {"q": "serv*"}),
            "search (customer, 'vpn')": (ana, "/api/v1/tickets/search", {"q": "vpn"}),
        }
        for name, (who, path, params) in cases.items():
            lat = bench_reads(base, who["access_token"], path, params, requests_count=args.reads)
            print(f"  {size:>7} tickets · {name}: p50 {ms(pct(lat, 50))}, p95 {ms(pct(lat, 95))}")
            figures[f"{name} @{size} p95_ms"] = pct(lat, 95) * 1000
    print("  (target: embedded PostgreSQL search p95 ≤ 50 ms at 100k)")
    return figures
