"""Measure the split-mode worker catching up on a bulk import: events/s, against a baseline and a floor.

    .venv/bin/python -m bench.worker [--rows 100000] [--batch-size 5000]

On fresh databases of the local PostgreSQL (BENCH_POSTGRES_URL; it needs wal_level=logical):
a write database and a read database, migrated; the worker runs once (its slot and position
exist, as in a running deployment); then ``import_products --bulk`` writes ``--rows`` new
products (bench/.data/bulk-<n>.csv, as bench.bulk_import makes it) and their events, and in
one process, one after the other:

1. reading and decoding the whole feed, applying nothing (what any consumer of the slot pays
   before it writes a row);
2. **worker**: ``worker.run``, as ``project_events`` runs it: the feed, runs of events applied
   set-based, the position stored and the slot advanced after each batch; the read store is
   then compared with the write tables (it must have no difference);
3. the rows it wrote, copied aside, the tables emptied, and the copies inserted back bare
   (``INSERT … SELECT``, one transaction): the database's own cost of those rows. The
   **floor** is 1 + 3: no worker can do less;
4. **baseline**: the tables emptied again, and the same events applied as the worker did
   before it applied runs: one upsert per row, each batch's statements in one round trip.

Prints events/s and the ratios, where the worker's time went (wall seconds per phase; CPU
seconds of this process and of the two server backends, from /proc: the server must run on
this machine), and writes bench/results/<date>-worker.md. ``--no-baseline`` skips step 4.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys

from bench import bulk_import, seed

DATABASE = f"bench_worker_{os.getpid()}"

_MEASURE = """
import json, os, sys, time
import django
django.setup()
import orjson
from django.db import connections, transaction
from products import events
from products.events import feed
from products.read import projections, rebuild, worker
from products.read.tables import MOVEMENTS, PRODUCTS, READ_TABLES, SEARCH, STOCK_LEVELS
from products.sql import fetch_dicts

batch_size, with_baseline = int(sys.argv[1]), sys.argv[2] == "1"
read = connections["read"]
tables = ", ".join(table.name for table in READ_TABLES)
started = time.perf_counter()
decoded = feed.read(worker.slot(), changes=10**9)
decode = time.perf_counter() - started
events_count = len(decoded.events)
del decoded

# Where the worker's time goes: wall seconds per phase, and the CPU seconds of this process,
# of the write database's backend (decoding the slot) and of the read database's (applying).
phases = {"read": 0.0, "apply": 0.0, "acknowledge": 0.0}
def timed(function, phase):
    def call(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            phases[phase] += time.perf_counter() - started
    return call
feed.read, feed.acknowledge = timed(feed.read, "read"), timed(feed.acknowledge, "acknowledge")
worker.apply_events = timed(worker.apply_events, "apply")
def backend_pid(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]
def cpu_seconds(pid=None):
    if pid is None:
        return time.process_time()
    try:  # a backend of a server on this machine, seen in this pid namespace (not a container's)
        with open(f"/proc/{pid}/stat") as stat:
            name, fields = stat.read().split(" (", 1)[1].rsplit(")", 1)
    except OSError:
        return None
    if not name.startswith("postgres"):
        return None
    fields = fields.split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
pids = {"python": None, "write_backend": backend_pid("default"), "read_backend": backend_pid("read")}
cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}

started = time.perf_counter()
applied = worker.run(batch_size=batch_size)
seconds = time.perf_counter() - started
cpu = {name: None if cpu[name] is None else cpu_seconds(pid) - cpu[name] for name, pid in pids.items()}
phases["other"] = seconds - sum(phases.values())
assert applied == events_count, (applied, events_count)
differences = len(rebuild.differences())

# The database's own cost of these rows: copies of them inserted back, bare, in one transaction.
with read.cursor() as cursor:
    for table in READ_TABLES:
        cursor.execute(f"CREATE TEMPORARY TABLE copy_{table.name} AS SELECT * FROM {table.name}")
    cursor.execute(f"TRUNCATE {tables}")
started = time.perf_counter()
with transaction.atomic(using="read"), read.cursor() as cursor:
    for table in READ_TABLES:
        cursor.execute(f"INSERT INTO {table.name} SELECT * FROM copy_{table.name}")
insert = time.perf_counter() - started

# The worker as it was: one upsert per row, each batch's statements in one round trip.
SEARCH_SQL = SEARCH.upsert_sql(when="EXISTS (SELECT FROM applied)")
PRODUCT_SQL = f"WITH applied AS ({PRODUCTS.upsert_sql()} RETURNING id) {SEARCH_SQL}"
def one_by_one(statements, record):
    data = orjson.loads(record["payload"]) if isinstance(record["payload"], str) else record["payload"]
    if record["type"] != "ProductCreated":
        return projections.PROJECTIONS[events.by_name(record["type"])](statements, [data])
    statements.execute(PRODUCT_SQL, {"reorder_point": 0, **data["product"]})
    for movement in data["movements"]:
        movement = {"location": "main", "reference": None, **movement, "product_id": data["product_id"]}
        statements.execute(MOVEMENTS.upsert_sql(), movement)
        statements.execute(STOCK_LEVELS.upsert_sql(), movement)

def run_baseline():
    with read.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")
    records = fetch_dicts("SELECT id, type, payload FROM products_event ORDER BY xact_id, id")
    started = time.perf_counter()
    for start in range(0, len(records), batch_size):
        with transaction.atomic(using="read"), read.cursor() as cursor:
            statements = worker.Statements(cursor)
            statements.SEND_BYTES = float("inf")  # one round trip per batch, as it was
            for record in records[start : start + batch_size]:
                one_by_one(statements, record)
            statements.send()
    return time.perf_counter() - started

baseline = run_baseline() if with_baseline else None
print(json.dumps({"events": events_count, "worker": seconds, "baseline": baseline, "decode": decode,
                  "insert": insert, "floor": decode + insert, "differences": differences,
                  "phases": phases, "cpu": cpu}))
"""


def _environment():
    return {
        **seed.service_env(0),
        "DATABASE_URL": f"{seed.SERVER_URL}/{DATABASE}",
        "READ_DATABASE_URL": f"{seed.SERVER_URL}/{DATABASE}_read",
    }


def _drop_databases():
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        for name in (DATABASE, f"{DATABASE}_read"):
            seed.drop_database(cursor, name)


def measure(rows, batch_size, baseline=True):
    """Import ``rows`` products with the worker stopped, then time it, the baseline and the floor on their events."""
    path = seed.ROOT / "bench" / ".data" / f"bulk-{rows}.csv"
    path.parent.mkdir(exist_ok=True)
    if not path.exists():
        bulk_import.write_csv(path, rows)
    env = _environment()
    _drop_databases()
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute("SHOW wal_level")
        if cursor.fetchone()[0] != "logical":
            raise SystemExit(f"{seed.SERVER_URL} has no wal_level=logical: the worker's feed needs it.")
        for name in (DATABASE, f"{DATABASE}_read"):
            cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        bulk_import._manage(env, "migrate", "-v0")
        bulk_import._manage(env, "migrate", "--database", "read", "-v0")
        bulk_import._manage(env, "project_events")  # the slot and the position, as in a running deployment
        imported = bulk_import._import(path, env)
        result = subprocess.run(
            [seed.PYTHON, "-c", _MEASURE, str(batch_size), "1" if baseline else "0"],
            cwd=seed.ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        _drop_databases()
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if measured["differences"]:
        raise SystemExit(f"the read store differs from the write tables: {measured}")
    return {"rows": rows, "import_seconds": imported["seconds"], **measured}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline (saves its minute)")
    options = parser.parse_args(argv)
    load_before = os.getloadavg()
    result = measure(options.rows, options.batch_size, baseline=not options.no_baseline)
    load_after = os.getloadavg()
    events = result["events"]
    rates = {name: events / result[name] for name in ("worker", "baseline", "floor") if result[name]}
    now = datetime.datetime.now(datetime.UTC)
    server = seed.scalar(f"{seed.SERVER_URL}/postgres", "SHOW server_version")
    lines = [
        f"# Split-mode worker catching up on a bulk import, {now:%Y-%m-%d %H:%M} UTC\n",
        f"Machine: {os.cpu_count()} cores, shared with other work; PostgreSQL {server} on 127.0.0.1.",
        f"Load average (1, 5, 15 min): {' / '.join(f'{v:.2f}' for v in load_before)} before,"
        f" {' / '.join(f'{v:.2f}' for v in load_after)} after.\n",
        f"{options.rows:,} products imported (`import_products --bulk`, {result['import_seconds']} s) with the worker"
        f" stopped: {events:,} events in its slot; batches of {options.batch_size:,}.\n",
        "| | seconds | events/s | worker vs it |",
        "| --- | ---: | ---: | ---: |",
        f"| worker (runs applied set-based) | {result['worker']:.2f} | {rates['worker']:,.0f} | |",
        *(
            [
                f"| baseline (one statement per event) | {result['baseline']:.2f} | {rates['baseline']:,.0f} |"
                f" {rates['worker'] / rates['baseline']:.2f}x faster |"
            ]
            if result["baseline"]
            else []
        ),
        f"| floor (decode the feed, {result['decode']:.2f} s, + insert the rows bare, {result['insert']:.2f} s)"
        f" | {result['floor']:.2f} | {rates['floor']:,.0f} | {rates['worker'] / rates['floor']:.2f}x its rate |",
        "",
        "Where the worker's time went (wall seconds): "
        + ", ".join(f"{phase} {seconds:.2f}" for phase, seconds in result["phases"].items())
        + " (read: reading and decoding the slot; apply: building and running the statements; acknowledge:"
        " advancing the slot; other: the position, commits). CPU seconds meanwhile: "
        + ", ".join(
            f"{name.replace('_', ' ')} {'n/a' if seconds is None else f'{seconds:.2f}'}"
            for name, seconds in result["cpu"].items()
        )
        + " (the write database's backend decodes the slot, the read database's applies).\n",
        "Target: >= 20,000 events/s catching up on a 100,000-product bulk import. The read store",
        "matched the write tables afterwards (`rebuild.differences()`).",
    ]
    seed.RESULTS.mkdir(parents=True, exist_ok=True)
    path = seed.RESULTS / f"{now:%Y-%m-%d}-worker.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
