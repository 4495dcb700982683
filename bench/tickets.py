"""Ticket store at scale: bulk-generate N tickets, then measure the normal paths.

    python -m bench.tickets [--n 5000000] [--inserts 2000] [--lookups 2000]
                            [--sqlite PATH] [--pg-url URL] [--only sqlite|postgresql]

1. Generation: set-based INSERT ... SELECT inside the database (SQLite: a recursive CTE;
   PostgreSQL: generate_series), secondary indexes dropped first and rebuilt after, so
   5 million rows take minutes, not hours. Rows cover the two years before yesterday, one
   caller in five withheld-free keys shared by ~4 tickets each (N/4 distinct callers).
   Generated deadlines are approximate (created + sla days); only the measured create
   path uses the working-day calendar.
2. Insert throughput: `TicketStore.create_ticket` one ticket per transaction, as the IVR
   does (number allocation, repeat-caller count, audit entry included).
3. Repeat-caller lookups on the full table: `is_repeat_caller(key, 30 days, 2)` and
   `history_for_caller(key, 365 days)` for random callers; p50/p99 in ms.

The PostgreSQL URL defaults to $HOTLINE_TEST_PG_URL with the database replaced by
`hotline_bench` (created if missing, its schema reset).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, Table, text
from sqlalchemy.engine import make_url

from tickets.commands import NewTicket
from tickets.engine import make_engine
from tickets.migrate import upgrade
from tickets.models import Base
from tickets.store import TicketStore
from tickets.vocab import Channel
from tickets.workcalendar import WorkCalendar

TICKETS: Table = Base.metadata.tables["tickets"]
DAYS = 730
CHUNK = 500_000
LINES = ("property", "enterprise", "hr_social_security", "womens_rights", "market_regulation",
         "general", "police_110")
KINDS = (("consultation", 1), ("complaint", 7), ("report", 7), ("help", 1), ("suggestion", 7),
         ("consultation", 3), ("praise", 7))


@dataclass
class Result:
    backend: str
    rows: int = 0
    generate_s: float = 0.0
    index_s: float = 0.0
    size_mb: float = 0.0
    insert_per_s: float = 0.0
    insert_p50_ms: float = 0.0
    insert_p99_ms: float = 0.0
    repeat_p50_ms: float = 0.0
    repeat_p99_ms: float = 0.0
    history_p50_ms: float = 0.0
    history_p99_ms: float = 0.0


def _case(expr: str, values: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expr} {whens} END"


def _plan(n: int, today: dt.date) -> tuple[int, int, int]:
    """(t0 = Beijing midnight DAYS+1 days ago as a UTC epoch, rows per day, callers)."""
    start = today - dt.timedelta(days=DAYS + 1)
    t0 = int(dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))
             .timestamp())
    per_day = -(-n // DAYS)
    return t0, per_day, max(n // 4, 1)


def _common_exprs(per_day: int, callers: int) -> dict[str, str]:
    # x is the 0-based row index; h a cheap deterministic hash of it.
    h = "((x * 2654435761) % 4294967296)"
    return {
        "day": f"(x / {per_day})",
        "k": f"(x % {per_day})",
        "h": h,
        "line": _case("(x % 7)", LINES),
        "kind": _case(f"({h} % 7)", tuple(k for k, _ in KINDS)),
        "sla": "CASE (" + h + " % 7) " + " ".join(
            f"WHEN {i} THEN {s}" for i, (_, s) in enumerate(KINDS)) + " END",
        # 1 ticket in 20 from a withheld number.
        "caller": "CASE WHEN x % 20 = 0 THEN NULL ELSE '139' || %s END",
        "callers": str(callers),
    }


def generate_sqlite(engine: Engine, n: int, today: dt.date) -> tuple[float, float]:
    # Bulk load only: no fsync until the end (a crash here just means re-running).
    engine = make_engine(engine.url, sqlite_synchronous="OFF")
    t0, per_day, callers = _plan(n, today)
    e = _common_exprs(per_day, callers)
    step = 86400 / per_day
    ts = f"({t0} + {e['day']} * 86400 + CAST({e['k']} * {step} AS INTEGER))"
    created = f"strftime('%Y-%m-%d %H:%M:%S', {ts}, 'unixepoch') || '.000000'"
    due = f"strftime('%Y-%m-%d %H:%M:%S', {ts} + {e['sla']} * 120960, 'unixepoch') || '.000000'"
    number = (f"strftime('%Y%m%d', {t0} + {e['day']} * 86400 + 43200, 'unixepoch') || '-' || "
              f"printf('%04d', {e['k']} + 1)")
    caller = e["caller"].replace("%s", f"printf('%08d', ({e['h']} / 7) % {callers})")
    columns = ("number, channel, call_id, caller_number, caller_key, transcript, "
               "normalized_text, line, kind, sla_days, due_at, status, ivr_path, explanation, "
               "entities, repeat_caller, petition, enterprise_escalation, emergency, "
               "low_confidence, created_at, updated_at")
    select = (f"SELECT {number}, 'phone', printf('%d.%d', {ts}, x % 1000), {caller}, {caller}, "
              f"'生成的测试工单 ' || x, '生成的测试工单' || x, {e['line']}, {e['kind']}, "
              f"{e['sla']}, {due}, CASE WHEN x < :closed THEN 'closed' ELSE 'new' END, "
              f"'[]', '{{}}', '{{}}', 0, 0, 0, 0, 0, {created}, {created} FROM c")
    with engine.begin() as conn:
        for index in TICKETS.indexes:
            conn.exec_driver_sql(f"DROP INDEX {index.name}")
    began = time.perf_counter()
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
            conn.execute(text(
                f"WITH RECURSIVE c(x) AS (SELECT {lo} UNION ALL SELECT x + 1 FROM c "
                f"WHERE x + 1 < {hi}) INSERT INTO tickets ({columns}) {select}"),
                {"closed": int(n * 0.97)})
        print(f"  sqlite: {hi:,} rows, {time.perf_counter() - began:.0f} s", flush=True)
    generate_s = time.perf_counter() - began
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA cache_size=-1000000")
        for index in TICKETS.indexes:
            index.create(conn)
        conn.exec_driver_sql("ANALYZE")
    index_s = time.perf_counter() - began
    engine.dispose()
    return generate_s, index_s


def generate_postgresql(engine: Engine, n: int, today: dt.date) -> tuple[float, float]:
    t0, per_day, callers = _plan(n, today)
    e = _common_exprs(per_day, callers)
    step = 86400 / per_day
    ts = f"to_timestamp({t0} + {e['day']} * 86400 + floor({e['k']} * {step}))"
    number = (f"to_char(to_timestamp({t0} + {e['day']} * 86400 + 43200) AT TIME ZONE "
              f"'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(({e['k']} + 1)::text, 4, '0')")
    caller = e["caller"].replace("%s", f"lpad(((({e['h']}) / 7) % {callers})::text, 8, '0')")
    columns = ("number, channel, call_id, caller_number, caller_key, transcript, "
               "normalized_text, line, kind, sla_days, due_at, status, ivr_path, explanation, "
               "entities, repeat_caller, petition, enterprise_escalation, emergency, "
               "low_confidence, created_at, updated_at")
    select = (f"SELECT {number}, 'phone', ({t0} + x) || '.' || (x % 1000), {caller}, {caller}, "
              f"'生成的测试工单 ' || x, '生成的测试工单' || x, {e['line']}, {e['kind']}, "
              f"{e['sla']}, {ts} + make_interval(hours => 29 * {e['sla']}), "
              f"CASE WHEN x < :closed THEN 'closed' ELSE 'new' END, "
              f"'[]', '{{}}', '{{}}', false, false, false, false, false, {ts}, {ts} "
              f"FROM generate_series(CAST(:lo AS bigint), CAST(:hi AS bigint) - 1) AS x")
    with engine.begin() as conn:
        for index in TICKETS.indexes:
            conn.exec_driver_sql(f"DROP INDEX {index.name}")
    began = time.perf_counter()
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            conn.execute(text(f"INSERT INTO tickets ({columns}) {select}"),
                         {"lo": lo, "hi": hi, "closed": int(n * 0.97)})
        print(f"  postgresql: {hi:,} rows, {time.perf_counter() - began:.0f} s", flush=True)
    generate_s = time.perf_counter() - began
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        for index in TICKETS.indexes:
            index.create(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE tickets")
    return generate_s, time.perf_counter() - began


def check_generated(engine: Engine, store: TicketStore) -> None:
    """Generated rows must read back through the ORM like real ones (dates, numbers)."""
    with engine.connect() as conn:
        numbers = list(conn.execute(text(
            "SELECT number FROM tickets ORDER BY id LIMIT 3")).scalars())
        numbers += list(conn.execute(text(
            "SELECT number FROM tickets ORDER BY id DESC LIMIT 3")).scalars())
    for number in numbers:
        t = store.get(number)
        beijing_day = t.created_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
        if beijing_day.strftime("%Y%m%d") != number[:8] or t.due_at <= t.created_at:
            raise SystemExit(f"generated ticket {number} inconsistent: {t.created_at}")


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(store: TicketStore, result: Result, inserts: int, lookups: int, callers: int,
            rng: random.Random) -> None:
    # Inserts, through the path the IVR uses.
    times: list[float] = []
    began = time.perf_counter()
    for i in range(inserts):
        caller = f"+86 139{rng.randrange(callers):08d}"
        t = time.perf_counter()
        store.create_ticket(NewTicket(
            channel=Channel.PHONE, line=LINES[i % 7], kind="complaint", sla_days=7,
            call_id=f"bench.{i}", caller_number=caller, transcript="物业 电梯 坏 了 没 人 修",
            normalized_text="物业电梯坏了没人修", ivr_path=("main", "speech"),
            explanation={"rules": ["bench"]}, confidence=0.9, entities={"address": "谯城区"}))
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - began
    result.insert_per_s = inserts / total
    result.insert_p50_ms = _pct(times, 0.5) * 1000
    result.insert_p99_ms = _pct(times, 0.99) * 1000
    # Lookups by random callers (most have tickets; a few have none).
    keys = [f"139{rng.randrange(callers):08d}" for _ in range(lookups)]
    for key in keys[:50]:  # warm the cache and the pool
        store.is_repeat_caller(key, 30, 2)
    rep: list[float] = []
    hist: list[float] = []
    found = 0
    for key in keys:
        t = time.perf_counter()
        store.is_repeat_caller(key, 30, 2)
        rep.append(time.perf_counter() - t)
        t = time.perf_counter()
        found += len(store.history_for_caller(key, 365))
        hist.append(time.perf_counter() - t)
    if found == 0:
        raise SystemExit(f"{result.backend}: no history found for any caller: generator broken")
    result.repeat_p50_ms = _pct(rep, 0.5) * 1000
    result.repeat_p99_ms = _pct(rep, 0.99) * 1000
    result.history_p50_ms = _pct(hist, 0.5) * 1000
    result.history_p99_ms = _pct(hist, 0.99) * 1000


def run_backend(name: str, engine: Engine, generate: Callable[[Engine, int, dt.date],
                tuple[float, float]], size: Callable[[Engine], float], args: argparse.Namespace,
                ) -> Result:
    print(f"{name}: schema, then {args.n:,} generated tickets", flush=True)
    upgrade(engine)
    result = Result(name)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    if args.reuse:
        print(f"{name}: reusing the existing tickets", flush=True)
    elif args.n:
        result.generate_s, result.index_s = generate(engine, args.n, today)
    with engine.connect() as conn:
        result.rows = int(conn.execute(text("SELECT count(*) FROM tickets")).scalar_one())
    store = TicketStore(engine, WorkCalendar())
    check_generated(engine, store)
    measure(store, result, args.inserts, args.lookups, max(args.n // 4, 1), random.Random(7))
    result.size_mb = size(engine)
    store.close()
    return result


def sqlite_engine(path: Path, reuse: bool, synchronous: str) -> Engine:
    if reuse and path.exists():
        return make_engine(f"sqlite:///{path}", sqlite_synchronous=synchronous)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_engine(f"sqlite:///{path}", sqlite_synchronous=synchronous)


def pg_engine(url: str, reuse: bool) -> Engine:
    target = make_url(url)
    if reuse:
        return make_engine(target)
    admin = make_engine(target.set(database="postgres")).execution_options(
        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()
    return make_engine(target)


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}, "
            f"load average {load}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=5_000_000, help="tickets to generate")
    p.add_argument("--inserts", type=int, default=2000)
    p.add_argument("--lookups", type=int, default=2000)
    p.add_argument("--sqlite", type=Path, default=Path("/tmp/hotline-bench/tickets.db"))
    default_pg = os.environ.get("HOTLINE_BENCH_PG_URL", "")
    if not default_pg and os.environ.get("HOTLINE_TEST_PG_URL"):
        default_pg = make_url(os.environ["HOTLINE_TEST_PG_URL"]).set(
            database="hotline_bench").render_as_string(hide_password=False)
    p.add_argument("--pg-url", default=default_pg)
    p.add_argument("--only", choices=("sqlite", "postgresql"))
    p.add_argument("--sqlite-synchronous", default="FULL", choices=("FULL", "NORMAL"),
                   help="SQLite durability for the measured inserts (the store's default: FULL)")
    p.add_argument("--reuse", action="store_true",
                   help="keep the tickets of the previous run (skip generation)")
    args = p.parse_args()
    if args.only != "sqlite" and not args.pg_url:
        raise SystemExit("no PostgreSQL URL: pass --pg-url, set HOTLINE_TEST_PG_URL "
                         "(scripts/postgres-test.sh), or use --only sqlite")
    print(f"machine: {machine()}", flush=True)
    results: list[Result] = []
    if args.only in (None, "sqlite"):
        results.append(run_backend(
            f"sqlite ({args.sqlite_synchronous})",
            sqlite_engine(args.sqlite, args.reuse, args.sqlite_synchronous), generate_sqlite,
            lambda _e: sum(Path(f"{args.sqlite}{s}").stat().st_size for s in ("", "-wal")
                           if Path(f"{args.sqlite}{s}").exists()) / 1e6, args))
    if args.only in (None, "postgresql"):
        def pg_size(engine: Engine) -> float:
            with engine.connect() as conn:
                return int(conn.execute(text(
                    "SELECT pg_database_size(current_database())")).scalar_one()) / 1e6
        engine = pg_engine(args.pg_url, args.reuse)
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SHOW server_version").scalar_one()
        print(f"postgresql server {version}", flush=True)
        results.append(run_backend("postgresql", engine, generate_postgresql, pg_size, args))
    report(results, args)


def report(results: list[Result], args: argparse.Namespace) -> None:
    rows: list[tuple[str, Callable[[Result], str]]] = [
        ("tickets in table", lambda r: f"{r.rows:,}"),
        ("bulk generation (s)", lambda r: f"{r.generate_s:.1f}"),
        ("index build + analyze (s)", lambda r: f"{r.index_s:.1f}"),
        ("database size (MB)", lambda r: f"{r.size_mb:.0f}"),
        (f"create_ticket x{args.inserts} (tickets/s)", lambda r: f"{r.insert_per_s:.0f}"),
        ("create_ticket p50 / p99 (ms)",
         lambda r: f"{r.insert_p50_ms:.2f} / {r.insert_p99_ms:.2f}"),
        (f"is_repeat_caller x{args.lookups} p50 / p99 (ms)",
         lambda r: f"{r.repeat_p50_ms:.3f} / {r.repeat_p99_ms:.3f}"),
        (f"history_for_caller x{args.lookups} p50 / p99 (ms)",
         lambda r: f"{r.history_p50_ms:.3f} / {r.history_p99_ms:.3f}"),
    ]
    width = max(len(label) for label, _ in rows) + 2
    print()
    print(f"machine: {machine()}")
    print("".ljust(width) + "".join(r.backend.rjust(20) for r in results))
    for label, cell in rows:
        print(label.ljust(width) + "".join(cell(r).rjust(20) for r in results))


if __name__ == "__main__":
    main()
