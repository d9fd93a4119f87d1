"""Checkout benchmark: reserve three lines, then commit the reservation; this service vs the baseline.

    .venv/bin/python -m bench.checkout                      # about 2 minutes
    .venv/bin/python -m bench.checkout --rounds 3           # every run three times (about 5.5 minutes)

16 client threads (Python, ``http.client``), each looping: POST /api/reservations/ with three
distinct random products of the variant's set (quantity 1 each, location main); on a 201, POST
the reservation's ``commit/``. Variants: ``plenty`` (1,000 products with 100,000 units each:
every checkout should succeed) and ``scarce`` (50 products with 10 units each: stock runs out
within seconds and reservations are refused with 409). Servers: the service and the plain-DRF
baseline (bench/baseline: select_for_update in one transaction) and the floor (bench/floor.py:
the same locking in bare SQL, two statements per request), same gunicorn settings, on fresh
copies of the seeded databases. Oversold units are counted from the database.
See bench/README.md ("Checkout benchmark").
"""

import argparse
import datetime
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from bench import seed
from bench.run import DATA, RESULTS, Server, load_average, log, machine, save_results, settled
from bench.write import SPREAD, code_version, product_numbers, service_ids, single_env

SERVERS = ["service", "baseline", "floor"]
# The database each server works on: the floor runs its SQL on the baseline's tables (its own runs).
DATABASE_OF = {"service": "service", "baseline": "baseline", "floor": "baseline"}
# variant: (products, units each at the start of every run)
VARIANTS = {"plenty": (SPREAD, 100_000), "scarce": (50, 10)}
CLIENTS = 16
LINES = 3
# What the database must not show (units, summed over products); see account().
CHECKS = ("oversold_units", "negative_on_hand_units", "stock_change_not_committed", "commits_missing")
HEADERS = {"Authorization": f"Token {seed.TOKEN}", "Content-Type": "application/json"}


def copy_name(kind, size):
    return f"bench_checkout_{kind}_{size}"


def server_env(name, size):
    """The environment of server ``name`` with its database switched to this benchmark's copy."""
    url = f"{seed.SERVER_URL}/{copy_name(DATABASE_OF[name], size)}"
    if name == "service":
        return {**single_env(size), "DATABASE_URL": url}
    if name == "floor":
        # Reads (only its readiness check here) stay on the seeded service database.
        return {**os.environ, "FLOOR_DATABASE_URL": seed.database_url("service", size), "FLOOR_WRITE_DATABASE_URL": url}
    return {**seed.baseline_env(size), "BASELINE_DATABASE_URL": url}


# ---------------------------------------------------------------- the database's view

# Per product (seed number i): on-hand quantity at main, units of committed reservations, units
# held by active unexpired reservations.
STATE_SQL = {
    "baseline": """
        SELECT p.id, p.quantity,
               coalesce(sum(l.quantity) FILTER (WHERE r.status = 'committed'), 0),
               coalesce(sum(l.quantity) FILTER (WHERE r.status = 'active' AND r.expires_at > now()), 0)
          FROM shop_product p
          LEFT JOIN shop_reservationline l ON l.product_id = p.id
          LEFT JOIN shop_reservation r ON r.id = l.reservation_id
         WHERE p.id = ANY(%(n)s)
         GROUP BY p.id, p.quantity""",
    # A line holds stock while its held_until is to come (set NULL when the reservation ends).
    "service": """
        WITH ids AS (SELECT i, md5('product-' || i)::uuid AS id FROM unnest(%(n)s::int[]) AS i),
             main AS (SELECT id FROM products_location WHERE code = 'main'),
             lines AS (
                 SELECT l.product_id,
                        sum(l.quantity) FILTER (WHERE r.status = 'committed') AS committed,
                        sum(l.quantity) FILTER (WHERE l.held_until > clock_timestamp()) AS held
                   FROM products_reservationline l JOIN products_reservation r ON r.id = l.reservation_id
                  WHERE l.product_id IN (SELECT id FROM ids) AND l.location_id = (SELECT id FROM main)
                  GROUP BY l.product_id)
        SELECT ids.i, s.quantity, coalesce(lines.committed, 0), coalesce(lines.held, 0)
          FROM ids JOIN products_stocklevel s ON s.product_id = ids.id AND s.location_id = (SELECT id FROM main)
          LEFT JOIN lines ON lines.product_id = ids.id""",
}


def stock_state(kind, size, numbers):
    """Return {seed number: (on hand, units committed, units held)} for the products, read from the write tables."""
    with seed.connect(f"{seed.SERVER_URL}/{copy_name(kind, size)}") as connection, connection.cursor() as cursor:
        cursor.execute(STATE_SQL[kind], {"n": numbers})
        return {row[0]: tuple(int(value) for value in row[1:]) for row in cursor.fetchall()}


def account(result, before, after):
    """Add what the database shows about a run to ``result``.

    Per product: the units committed during the run plus those still held at its end must not exceed
    the stock at its start (oversold units); the on-hand quantity must not go below 0; and the stock
    that left must be the units committed (no unit leaves without a committed line, no committed
    line without its unit leaving).
    """
    committed = oversold = negative = mismatch = held = 0
    for number, (quantity_before, committed_before, _) in before.items():
        quantity_after, committed_after, held_after = after[number]
        units = committed_after - committed_before
        committed += units
        held += held_after
        oversold += max(0, units + held_after - quantity_before)
        negative += max(0, -quantity_after)
        mismatch += abs((quantity_before - quantity_after) - units)
    result.update(
        units_at_start=sum(state[0] for state in before.values()),
        units_left=sum(state[0] for state in after.values()),
        units_committed=committed,
        units_held_at_end=held,
        oversold_units=oversold,
        negative_on_hand_units=negative,
        stock_change_not_committed=mismatch,
        # Every commit the clients saw answered 200 must be in the database, line by line.
        commits_missing=max(0, result["committed"] * LINES - committed),
    )


# ---------------------------------------------------------------- stock


def post(connection, path, body):
    """POST on a keep-alive connection; return (status, Location path, body). http.client reconnects
    by itself after a response that closes the connection (gunicorn's sync workers close every one)."""
    connection.request("POST", path, body, HEADERS)
    response = connection.getresponse()
    data = response.read()
    return response.status, response.getheader("Location"), data


def set_stock(server, kind, size, numbers, ids, target):
    """Bring every product's quantity at main to ``target`` through the server's own stock endpoint."""
    state = stock_state(kind, size, numbers)
    changes = [(ids[k], target - state[n][0]) for k, n in enumerate(numbers) if state[n][0] != target]
    local = threading.local()

    def adjust(change):
        product, delta = change
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        body = json.dumps({"delta": delta, "reason": "bench checkout stock"})
        status, _, data = post(local.connection, f"/api/products/{product}/stock/", body)
        if status != 200:
            raise RuntimeError(f"{server.name}: setting the stock of {product} answered {status}: {data[:300]}")

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(adjust, changes))


# ---------------------------------------------------------------- the load


def client(port, ids, deadline, seed_value, out):
    """One client: checkouts back to back until the deadline; the one under way when it passes is finished."""
    rng = random.Random(seed_value)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    tally = {"reserved": 0, "refused": 0, "committed": 0, "other": {}, "errors": 0}
    checkout_ms, reserve_ms, commit_ms = [], [], []
    number = 0
    while time.monotonic() < deadline:
        number += 1
        lines = [{"product": product, "quantity": 1, "location": "main"} for product in rng.sample(ids, LINES)]
        body = json.dumps({"lines": lines, "expires_in": 900, "reference": f"bench-{seed_value}-{number}"})
        started = time.perf_counter()
        try:
            status, location, data = post(connection, "/api/reservations/", body)
            reserved = time.perf_counter()
            reserve_ms.append((reserved - started) * 1000)
            if status == 201:
                tally["reserved"] += 1
                path = urlsplit(location).path if location else f"/api/reservations/{json.loads(data)['id']}/"
                status, _, data = post(connection, path + "commit/", b"")
                done = time.perf_counter()
                commit_ms.append((done - reserved) * 1000)
                if status == 200:
                    tally["committed"] += 1
                    checkout_ms.append((done - started) * 1000)
                else:
                    key = f"commit {status}"
                    tally["other"][key] = tally["other"].get(key, 0) + 1
            elif status == 409:
                tally["refused"] += 1
            else:
                key = f"reserve {status}"
                tally["other"][key] = tally["other"].get(key, 0) + 1
        except (OSError, http.client.HTTPException):
            tally["errors"] += 1
            connection.close()
    connection.close()
    out.append((tally, checkout_ms, reserve_ms, commit_ms))


def cpu_s(pids):
    """Return {pid: user + system CPU seconds used so far} of the processes still there."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / 100  # utime, stime (clock ticks)
    return used


def backend_pids(database):
    """The PostgreSQL backends connected to ``database`` (the server's persistent connections)."""
    with seed.connect(f"{seed.SERVER_URL}/{database}") as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'"
        )
        return [row[0] for row in cursor.fetchall()]


def used_since(before, pids):
    """CPU seconds ``pids`` used since ``before`` (a cpu_s() reading; a pid not in it started at 0)."""
    return sum(seconds - before.get(pid, 0) for pid, seconds in cpu_s(pids).items())


def machine_cpu_s():
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / 100  # all but idle and iowait


def percentile(values, share):
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def load(server, database, ids, seconds, round_seed):
    """Run CLIENTS clients for ``seconds``; return the tallies, latencies and CPU used."""
    out, threads = [], []
    workers, backends = server.worker_pids(), backend_pids(database)
    cpu_client, cpu_machine = time.process_time(), machine_cpu_s()
    cpu_workers, cpu_backends = cpu_s(workers), cpu_s(backends)
    started = time.monotonic()
    deadline = started + seconds
    for k in range(CLIENTS):
        thread = threading.Thread(target=client, args=(server.port, ids, deadline, round_seed * 100 + k, out))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu_client = time.process_time() - cpu_client
    cpu_machine = machine_cpu_s() - cpu_machine
    cpu_workers = used_since(cpu_workers, workers)
    # Backends opened during the run count from 0; the warm-up has opened them all already.
    cpu_backends = used_since(cpu_backends, set(backends) | set(backend_pids(database)))
    result = {"elapsed_s": elapsed, "reserved": 0, "refused": 0, "committed": 0, "other": {}, "errors": 0}
    checkout_ms, reserve_ms, commit_ms = [], [], []
    for tally, checkouts, reserves, commits in out:
        for key in ("reserved", "refused", "committed", "errors"):
            result[key] += tally[key]
        for key, count in tally["other"].items():
            result["other"][key] = result["other"].get(key, 0) + count
        checkout_ms += checkouts
        reserve_ms += reserves
        commit_ms += commits
    attempts = result["reserved"] + result["refused"] + sum(result["other"].values()) + result["errors"]
    result.update(
        attempts=attempts,
        checkouts_per_s=result["committed"] / elapsed,
        attempts_per_s=attempts / elapsed,
        checkout_p50_ms=statistics.median(checkout_ms) if checkout_ms else 0,
        checkout_p99_ms=percentile(checkout_ms, 0.99),
        reserve_p50_ms=statistics.median(reserve_ms) if reserve_ms else 0,
        reserve_p99_ms=percentile(reserve_ms, 0.99),
        commit_p50_ms=statistics.median(commit_ms) if commit_ms else 0,
        commit_p99_ms=percentile(commit_ms, 0.99),
        # Cores used: the client (this process, all its threads), the two gunicorn workers, the whole machine.
        client_cores=cpu_client / elapsed,
        worker_cores=cpu_workers / elapsed,
        postgres_cores=cpu_backends / elapsed,
        machine_cores=cpu_machine / elapsed,
        # What one checkout costs the server and its database in CPU, whatever else the machine runs.
        server_cpu_ms_per_checkout=(cpu_workers + cpu_backends) * 1000 / result["committed"]
        if result["committed"]
        else 0,
    )
    return result


def measure(server, name, size, variant, options, round_number):
    kind = DATABASE_OF[name]
    count, units = VARIANTS[variant]
    numbers = product_numbers("spread", size)[:count]
    ids = service_ids(f"{seed.SERVER_URL}/{copy_name(kind, size)}", numbers) if kind == "service" else numbers
    if options.warmup:
        set_stock(server, kind, size, numbers, ids, units)
        load(server, copy_name(kind, size), ids, options.warmup, round_seed=1000 + round_number)
    set_stock(server, kind, size, numbers, ids, units)
    before = settled(lambda: stock_state(kind, size, numbers))
    load_avg = load_average()
    result = load(server, copy_name(kind, size), ids, options.duration, round_seed=round_number)
    result["load_before"] = load_avg
    account(result, before, settled(lambda: stock_state(kind, size, numbers)))
    other = ", ".join(f"{key}: {count}" for key, count in result["other"].items()) or "0"
    log(
        f"    {variant:6s} {server.name:8s} {result['checkouts_per_s']:7.1f} checkouts/s"
        f"  p50 {result['checkout_p50_ms']:6.1f} ms p99 {result['checkout_p99_ms']:6.1f} ms"
        f"  201 {result['reserved']} 409 {result['refused']} commit-200 {result['committed']} other {other}"
        f" errors {result['errors']}  oversold {result['oversold_units']} negative {result['negative_on_hand_units']}"
        f" mismatch {result['stock_change_not_committed']} missing {result['commits_missing']}"
        f"  cores: client {result['client_cores']:.2f} workers {result['worker_cores']:.2f}"
        f" postgres {result['postgres_cores']:.2f} machine {result['machine_cores']:.2f}"
        f"  cpu/checkout {result['server_cpu_ms_per_checkout']:.1f} ms  load {load_avg}"
    )
    return result


def bench_all(size, names, options):
    """Copy the databases, start the servers, then load each variant on each server in turn."""
    for kind in sorted({DATABASE_OF[name] for name in names}):
        seed.copy_database(f"bench_{kind}_{size}", copy_name(kind, size))
    servers, runs = {}, {name: {variant: [] for variant in options.variants} for name in names}
    try:
        for name in names:
            log(f"  starting {name} (gunicorn) on {copy_name(name, size)}")
            servers[name] = Server(f"checkout-{name}", size, kind=name, env=server_env(name, size))
        for server in servers.values():
            server.wait_ready("/api/products/")
        for variant in options.variants:
            for round_number in range(options.rounds):
                # Alternate who goes first, so neither always meets the machine in the same state.
                for name in names if round_number % 2 == 0 else names[::-1]:
                    if servers[name].process.poll() is not None:
                        log(f"  {name} exited (code {servers[name].process.returncode}); restarting it")
                        servers[name] = Server(f"checkout-{name}", size, kind=name, env=server_env(name, size))
                        servers[name].wait_ready("/api/products/")
                    runs[name][variant].append(measure(servers[name], name, size, variant, options, round_number))
    finally:
        for server in servers.values():
            server.stop()
    results = {name: {} for name in names}
    for name, variants in runs.items():
        for variant, rounds in variants.items():
            # The best round by checkouts/s (the one least disturbed by the rest of the machine); what the
            # database shows is added up over every round.
            best = dict(max(rounds, key=lambda r: r["checkouts_per_s"]))
            best["rounds"] = [
                {key: r[key] for key in ("checkouts_per_s", "server_cpu_ms_per_checkout", "load_before")}
                for r in rounds
            ]
            for key in CHECKS:
                best[key + "_all_rounds"] = sum(r[key] for r in rounds)
            results[name][variant] = best
    return results


# ---------------------------------------------------------------- report


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def all_rounds(result, key):
    return result[key + "_all_rounds"]


def render(data):
    results, m, o = data["results"], data["machine"], data["options"]
    names = [name for name in SERVERS if name in results]
    lines = [
        f"# Checkout benchmark: reserve 3 lines, then commit, {data['size']:,} products, {data['date']}",
        "",
        f"Code: `{data['code']}`. Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM;"
        f" PostgreSQL {m['postgresql']}; Python {m['python']}.",
        f"Load average before / after the run: {data['load_before']} / {data['load_after']} (shared machine:"
        " the client, gunicorn, PostgreSQL and other work on the same cores; read the ratios, measured seconds"
        " apart in this run).",
        f"Each run: {CLIENTS} client threads (Python, http.client) doing checkouts back to back for"
        f" {o['duration']} s after a {o['warmup']} s warm-up; a checkout is POST /api/reservations/ with"
        f" {LINES} distinct random products of the variant's set (quantity 1, location main), then POST"
        " .../commit/ on a 201. Stock is set through each server's stock endpoint before the warm-up and"
        " again before the run. gunicorn 2 sync workers (bench/gunicorn_bench.py) for every server,"
        f" on fresh copies of the seeded databases. Rounds: {o['rounds']} (the order reverses every other"
        " round; the table shows each server's best round by checkouts/s, the database checks add up over"
        " all rounds, and the ratios below pair the servers' runs of the same round).",
        "",
        "| variant | server | checkouts/s | attempts/s | reserve 201 | reserve 409 | commit 200 | other | p50 ms"
        " | p99 ms | reserve p50 | commit p50 | cores: client / workers / postgres / machine"
        " | server CPU ms per checkout | service/this |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for variant in VARIANTS:
        service = results.get("service", {}).get(variant)
        for name in names:
            r = results[name].get(variant)
            if not r:
                continue
            other = sum(r["other"].values()) + r["errors"]
            versus = ratio(service["checkouts_per_s"], r["checkouts_per_s"]) if service and name != "service" else ""
            lines.append(
                f"| {variant} | {name} | {r['checkouts_per_s']:.1f} | {r['attempts_per_s']:.1f} | {r['reserved']}"
                f" | {r['refused']} | {r['committed']} | {other} | {r['checkout_p50_ms']:.1f}"
                f" | {r['checkout_p99_ms']:.1f} | {r['reserve_p50_ms']:.1f} | {r['commit_p50_ms']:.1f}"
                f" | {r['client_cores']:.2f} / {r['worker_cores']:.2f} / {r['postgres_cores']:.2f}"
                f" / {r['machine_cores']:.2f} | {r['server_cpu_ms_per_checkout']:.1f} | {versus} |"
            )
    lines += [
        "",
        "Counted from the database (per product at main, before the run and after it settles: on-hand"
        " quantity, units of committed reservations, units held by active ones):",
        "",
        "| variant | server | units at start | units committed | units left | held at end | commits x 3 seen"
        " by clients | oversold | on hand < 0 | stock change != committed |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for variant in VARIANTS:
        for name in names:
            r = results[name].get(variant)
            if r:
                lines.append(
                    f"| {variant} | {name} | {r['units_at_start']} | {r['units_committed']} | {r['units_left']}"
                    f" | {r['units_held_at_end']} | {r['committed'] * LINES} | {all_rounds(r, 'oversold_units')}"
                    f" | {all_rounds(r, 'negative_on_hand_units')} | {all_rounds(r, 'stock_change_not_committed')} |"
                )
    lines += [
        "",
        "Oversold = per product, max(0, units committed during the run + units still held at its end - on hand"
        " at its start), summed; the last two columns are also summed over products. Cores: CPU seconds"
        " per second of the run used by the client process (all 16 threads), by the two gunicorn workers,"
        " by the PostgreSQL backends connected to the server's database, and by the whole machine (anything"
        " else included). Server CPU per checkout = (workers + backends) / commits: what a checkout costs,"
        " whatever else the machine runs.",
        "",
        "In the scarce variant the stock (500 units, at most 166 checkouts) runs out within the run, so its"
        " checkouts/s say how fast the stock went, not what a server can do; its point is the 409s and the"
        " database checks under contention for the last units.",
        "",
        "Paired by round (runs seconds apart):",
        "",
        "| variant | round | load before (service) | service/baseline checkouts/s | baseline/service CPU per checkout"
        " | service/floor checkouts/s |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for variant in VARIANTS:
        for number, pair in enumerate(paired(results, variant), 1):
            lines.append(
                f"| {variant} | {number} | {pair['load']} | {ratio(*pair['throughput'])} | {ratio(*pair['cpu'])}"
                f" | {ratio(*pair['floor'])} |"
            )
    lines += [
        "",
        "Against the targets:",
        "",
    ]
    lines += targets(results)
    return "\n".join(lines) + "\n"


def paired(results, variant):
    """Per round: (service, baseline) checkouts/s, (baseline, service) CPU per checkout, (service, floor)."""
    rounds = {name: results.get(name, {}).get(variant, {}).get("rounds", []) for name in SERVERS}
    pairs = []
    for number, service in enumerate(rounds["service"]):
        baseline = rounds["baseline"][number] if number < len(rounds["baseline"]) else {}
        floor = rounds["floor"][number] if number < len(rounds["floor"]) else {}
        pairs.append(
            {
                "load": service["load_before"],
                "throughput": (service["checkouts_per_s"], baseline.get("checkouts_per_s")),
                "cpu": (baseline.get("server_cpu_ms_per_checkout"), service["server_cpu_ms_per_checkout"]),
                "floor": (service["checkouts_per_s"], floor.get("checkouts_per_s")),
            }
        )
    return pairs


def median_ratio(pairs, key):
    values = [pair[key][0] / pair[key][1] for pair in pairs if pair[key][0] and pair[key][1]]
    return statistics.median(values) if values else None


def targets(results):
    def check(label, value, goal, ok):
        return f"- {label}: {value} (target {goal}) {'met' if ok else 'NOT met'}"

    out = []
    pairs = paired(results, "plenty")
    value = median_ratio(pairs, "throughput")
    if value:
        label = "plenty: service vs baseline checkouts/s, median of the rounds' pairs"
        out.append(check(label, f"{value:.2f}x", ">= 1.5x", value >= 1.5))
    value = median_ratio(pairs, "cpu")
    if value:
        out.append(f"- plenty: baseline/service server CPU per checkout, median: {value:.2f}x (no target)")
    value = median_ratio(pairs, "floor")
    if value:
        out.append(f"- plenty: service vs floor checkouts/s, median: {value:.2f}x (no target: the SQL alone)")
    for name in SERVERS:
        for variant, r in results.get(name, {}).items():
            bad = sum(all_rounds(r, key) for key in CHECKS)
            out.append(check(f"{variant}: {name} oversold, negative, unaccounted or missing units", bad, "0", bad == 0))
    return out


def rerender(path):
    data = json.loads(Path(path).read_text())
    Path(path).with_suffix(".md").write_text(render(data))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10000, help="products in the seeded databases (10000; >= 2000)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="subset of " + ",".join(SERVERS))
    parser.add_argument("--variants", default=",".join(VARIANTS), help="subset of " + ",".join(VARIANTS))
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load before each run (2)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every run, alternating the order (1)")
    parser.add_argument("--reseed", action="store_true", help="seed again even when the counts match")
    parser.add_argument("--rerender", metavar="JSON", help="write the .md of a saved run again, and stop")
    options = parser.parse_args(argv)
    if options.rerender:
        rerender(options.rerender)
        return 0
    if options.size < 2 * SPREAD:
        parser.error(f"--size must be at least {2 * SPREAD}: the products are every (size / {SPREAD})th")
    options.variants = [v for v in VARIANTS if v in options.variants.split(",")]
    names = [name for name in SERVERS if name in options.servers.split(",")]
    RESULTS.mkdir(parents=True, exist_ok=True)
    DATA.mkdir(exist_ok=True)
    size = options.size
    data = {
        "size": size,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": code_version(),
        "machine": machine(),
        "options": {k: getattr(options, k) for k in ("duration", "warmup", "rounds")},
        "variants": {name: {"products": count, "units_each": units} for name, (count, units) in VARIANTS.items()},
    }
    log(f"== checkout benchmark, {size:,} products ({data['code']})")
    seed.ensure_seeded(size, log=log, force=options.reseed)
    data["load_before"] = load_average()
    data["results"] = bench_all(size, names, options)
    data["load_after"] = load_average()
    stem = f"{datetime.date.today().isoformat()}-checkout"
    save_results(stem, data, render(data))
    print("\n".join(targets(data["results"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
