"""Ticket figures for ``make bench``: creates per second through the gateway at 16 and 64 clients, and
list / search latency with 10k and then 100k tickets loaded (how each figure moves between the two)."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import insert
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from helpdesk_common.db import make_engine
from helpdesk_contracts.vocabulary import PRIORITIES
from helpdesk_contracts.vocabulary import TICKET_STATUSES as STATUSES
from services.tickets.adapters.orm import tickets
from services.tickets.adapters.repository import SqlAlchemyTicketRepository
from services.tickets.adapters.search.embedded import embedded_index

WORDS = ("impresora red vpn correo servidor portátil pantalla contraseña licencia base datos wifi cámara "
         "printer network email server laptop screen password license database backup outlook teams").split()


def _vocabulary(size: int = 4000, seed: int = 7) -> list[str]:
    """Words in frequency order, as text has them (Zipf): made-up words, with the support words above
    spread between rank 30 and rank 990, so that a support word is in roughly 1 to 14 % of tickets."""
    rng = random.Random(seed)
    syllables = "ta te ti to tu ra re ri ro ru la le li lo lu na ne ni no nu ca co cu pa pe po sa se si so mo ma".split()
    made_up: list[str] = []
    seen = set(WORDS)
    while len(made_up) < size - len(WORDS):
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            made_up.append(word)
    for i, word in enumerate(WORDS):
        made_up.insert(30 + i * 40, word)
    return made_up


VOCABULARY = _vocabulary()
_ZIPF = list(itertools.accumulate(1 / rank for rank in range(1, len(VOCABULARY) + 1)))


def text(k: int) -> str:
    """``k`` words drawn with Zipf's law from ``VOCABULARY``."""
    return " ".join(random.choices(VOCABULARY, cum_weights=_ZIPF, k=k))


TAGS = "hardware software acceso facturación urgente cliente-vip remoto oficina".split()


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
            body = {"title": f"Bench {text(4)}", "description": text(20), "priority": random.choice(PRIORITIES)}
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


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local words = {%(words)s}
local priorities = {%(priorities)s}
local function text(k)
  local out = {}
  for i = 1, k do out[i] = words[math.random(#words)] end
  return table.concat(out, " ")
end
local pace_ms = %(pace_ms)s
delay = function()
  if pace_ms <= 0 then return 0 end
  return -math.log(1 - math.random()) * pace_ms  -- exponential gaps: each client sends like a person would
end
request = function()
  local body = '{"title":"Bench ' .. text(4) .. '","description":"' .. text(20) .. '","priority":"'
    .. priorities[math.random(4)] .. '"}'
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH %%d %%d %%f %%f %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status + summary.errors.connect
    + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk_creates(base: str, token: str, *, clients: int, seconds: float, offered: float | None = None,
                answer_ms: float = 0.0) -> tuple[float, float, float, int]:
    """Create tickets with ``wrk`` (C, a few % of a core); return rate, p50 and p99 in seconds, errors.

    Without ``offered`` every client sends its next request as soon as the last one is answered: the
    rate is the most the stack can take, and latency is then mostly queueing (Little's law: 64 clients
    at 250/s wait 256 ms on average). With ``offered`` (creates per second across all clients) each
    client pauses between requests, with exponential gaps, so that the clients together offer about
    that rate: the latency a stack serving that load shows its users. A client's cycle is its pause
    plus its answer, so the pause leaves ``answer_ms`` for the answer.
    """
    words = ", ".join(f'"{w}"' for w in random.choices(VOCABULARY, cum_weights=_ZIPF, k=2000))
    pace_ms = 0.0 if not offered else _pause_ms(clients, offered, answer_ms)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % {"words": words, "priorities": ", ".join(f'"{p}"' for p in PRIORITIES), "pace_ms": f"{pace_ms:.1f}"})
    try:
        done = subprocess.run(
            ["wrk", "-t2", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "30s", "-s", script.name,
             "-H", f"Authorization: Bearer {token}", f"{base}/api/v1/tickets"],
            capture_output=True, text=True, timeout=seconds + 60,
        )
    finally:
        os.unlink(script.name)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    count, duration_us, p50_us, p99_us, errors = line.split()[1:]
    return int(count) / (int(duration_us) / 1e6), float(p50_us) / 1e6, float(p99_us) / 1e6, int(errors)


def cpu_seconds(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each group of process groups, plus PostgreSQL and RabbitMQ by name."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {name: 0.0 for name in [*groups, "postgresql", "rabbitmq"]}
    owner = {pgid: name for name, pgids in groups.items() for pgid in pgids}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick
        name = owner.get(int(fields[2]))  # the process group: a service and its children
        if name is None:
            name = "postgresql" if b"postgres" in command else "rabbitmq" if b"beam" in command else None
        if name is not None:
            totals[name] += used
    return totals


PACED_ANSWER_MS = 25.0  # a first guess of a paced answer's time; measured and corrected before the run


def _pause_ms(clients: int, offered: float, answer_ms: float) -> float:
    return max(1.0, clients / offered * 1000 - answer_ms)


def calibrated_answer_ms(base: str, token: str, *, clients: int, offered: float, tries: int = 3) -> float:
    """Return how long answers take at the ``offered`` rate, measured in short paced runs, so that the paced
    run's clients really offer that rate together (a stack that cannot serve it stays below it)."""
    answer_ms = PACED_ANSWER_MS
    for _ in range(tries):
        rate, _, _, _ = wrk_creates(base, token, clients=clients, seconds=4, offered=offered, answer_ms=answer_ms)
        if rate >= offered * 0.97:
            break
        # each client's cycle (clients / rate) was its pause plus its answer
        answer_ms = max(0.0, clients / max(rate, 1.0) * 1000 - _pause_ms(clients, offered, answer_ms))
    return answer_ms


def measure_creates(base: str, token: str, stack, *, clients: int, seconds: float, offered: float | None = None) -> dict:
    """Run one create load and return its figures, with the CPU each part spent per create."""
    groups: dict[str, list[int]] = {}
    for name, proc in stack.processes.items():
        groups.setdefault(name.split(".")[0], []).append(proc.pid)
    answer_ms = 0.0
    if offered and shutil.which("wrk"):
        answer_ms = calibrated_answer_ms(base, token, clients=clients, offered=offered)
    before = cpu_seconds(groups)
    if shutil.which("wrk"):
        rate, p50, p99, errors = wrk_creates(base, token, clients=clients, seconds=seconds, offered=offered,
                                             answer_ms=answer_ms)
        tool = "wrk"
    elif offered:
        return {}  # pacing needs wrk
    else:
        rate, lat, errors = bench_creates(base, token, clients=clients, seconds=seconds)
        p50, p99, tool = pct(lat, 50), pct(lat, 99), "python threads (install wrk for a lighter client)"
    after = cpu_seconds(groups)
    creates = max(1.0, rate * seconds)
    cpu = {name: (after[name] - before[name]) / creates * 1000 for name in after}
    return {"rate": rate, "p50": p50, "p99": p99, "errors": errors, "tool": tool, "cpu_ms": cpu}


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
                "title": text(5).capitalize(), "description": text(40), "status": random.choice(STATUSES),
                "priority": random.choice(PRIORITIES), "urgency": None, "impact": None, "category": None,
                "tags": random.sample(TAGS, 2), "requester_id": random.choice(requester_ids), "assignee_id": None,
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
    if engine.dialect.name == "postgresql":
        # a table that grew over months has been vacuumed and analysed by autovacuum long since: do it now,
        # so the reads are measured in that steady state (index-only counts need the visibility map), not
        # against an autovacuum worker busy with the rows just loaded
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sql_text("VACUUM ANALYZE tickets, ticket_search"))
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
    return latencies, response.json()["data"]["pagination"]


def run(base: str, tickets_url: str, args, stack) -> dict:
    """Print and return the ticket figures."""
    figures: dict = {}
    ana = login(base, "ana@example.com", "ana123")
    admin = login(base, "admin@example.com", "admin123")
    carlos = login(base, "carlos@example.com", "carlos123")
    processes = getattr(args, "tickets_processes", 1)
    # warm up first: connection pools, prepared statements and caches of every process fill on first use
    # creates come from an integration-like account of their own, so that ana stays a typical customer
    # (a few hundred tickets at 100k); its thousands of tickets are a case of their own below
    requests.post(f"{base}/api/v1/auth/register", json={"email": "bench.api@example.com", "name": "Bench API",
                                                         "password": "bench-api-123"}, timeout=30)
    api = login(base, "bench.api@example.com", "bench-api-123")
    measure_creates(base, api["access_token"], stack, clients=16, seconds=3)
    for clients in (16, 64):
        got = measure_creates(base, api["access_token"], stack, clients=clients, seconds=args.seconds)
        print(f"ticket creates via gateway ({clients} clients, {args.seconds:.0f} s, {got['tool']}, "
              f"{processes} tickets process(es)): {got['rate']:.1f}/s, p50 {ms(got['p50'])}, p99 {ms(got['p99'])}, "
              f"errors {got['errors']}   (target ≥250/s; flat out, latency is queueing: about {clients} / rate)")
        print("  CPU per create: " + ", ".join(f"{name} {value:.1f} ms" for name, value in got["cpu_ms"].items())
              + f"; total {sum(got['cpu_ms'].values()):.1f} ms on {os.cpu_count()} cores")
        figures[f"creates_per_second_{clients}"] = got["rate"]
        figures[f"create_p99_ms_{clients}"] = got["p99"] * 1000
        figures[f"create_cpu_ms_{clients}"] = got["cpu_ms"]
    offered = getattr(args, "offered_rate", 250.0)
    got = measure_creates(base, api["access_token"], stack, clients=64, seconds=args.seconds, offered=offered)
    if got:
        print(f"ticket creates via gateway (64 clients offering about {offered:.0f}/s together, paced): "
              f"served {got['rate']:.1f}/s, p50 {ms(got['p50'])}, p99 {ms(got['p99'])}, errors {got['errors']}   "
              f"(target p99 ≤150 ms for 64 clients at the 250/s target)")
        figures["create_paced_rate"] = got["rate"]
        figures["create_paced_p99_ms"] = got["p99"] * 1000

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
            "search (API account with the bench's creates, 'vpn')": (api, "/api/v1/tickets/search", {"q": "vpn"}),
            f"search (admin, '{VOCABULARY[0]}': in ~all tickets)": (admin, "/api/v1/tickets/search", {"q": VOCABULARY[0]}),
        }
        for name, (who, path, params) in cases.items():
            lat, pagination = bench_reads(base, who["access_token"], path, params, requests_count=args.reads)
            found = f"{pagination['total']}{'' if pagination.get('total_exact', True) else '+'} found"
            print(f"  {size:>7} tickets · {name}: p50 {ms(pct(lat, 50))}, p95 {ms(pct(lat, 95))}  ({found})")
            figures[f"{name} @{size} p95_ms"] = pct(lat, 95) * 1000
    print("  (target: embedded PostgreSQL search p95 ≤ 50 ms at 100k)")
    return figures
