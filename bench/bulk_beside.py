"""API traffic beside `import_products --bulk`: what each does to the other, on one database.

    .venv/bin/python -m bench.bulk_beside                   # 100,000 imported beside 10,000 (about 6 minutes)
    .venv/bin/python -m bench.bulk_beside --small           # the smoke run's size (seconds)

On a fresh database of its own (bench_beside_<pid> on BENCH_POSTGRES_URL, dropped at the end),
single-database mode, ``--seed`` products with stock at main, a third also at east and a quarter
at west, each level with its opening ledger row, the read tables rebuilt from them. The service
runs under gunicorn (2 sync workers, bench/gunicorn_bench.py). Two wrk processes make the traffic:
reads (a product's detail, a list's first page, filtered by category or by a location's stock),
and stock POSTs with a token, each to a random one of 1,000 products (every seed/1,000th) at a
random one of the three locations. Then, in order:

1. traffic alone, ``--duration`` seconds;
2. the same traffic while ``import_products --bulk`` imports ``--products`` new products (the
   seed's shape: a row at main, some at east and west) plus, unless ``--new-only``, new stock
   counts of a tenth of the existing products (never the traffic's) at main and east or west,
   as a stock-take file would; the traffic runs from just before the import starts until it has
   finished (wrk is stopped a second after it, so requests the import held up are counted);
3. the same import alone, of another ``--products`` new products and other counts;
4. traffic alone again, on the grown table.

During 2, the sessions waiting on a lock in PostgreSQL are sampled (pg_stat_activity, every 0.2 s).
Afterwards, for every traffic run, the stock POSTs answered 2xx are counted against the
products' quantities and ledger (bench.write.account: no lost update), and
``verify_read_models`` must find no difference. Writes
bench/results/<date>-bulk-beside-traffic[-new-only][-pg<major>].md and .json (-pg<major> when
BENCH_POSTGRES_URL names the server). See bench/README.md.
"""

import argparse
import csv
import datetime
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import bulk_import, seed
from bench.run import (
    DATA,
    RESULTS,
    Server,
    load_average,
    log,
    machine,
    require_wrk,
    save_results,
    wrk_command,
    wrk_env,
    wrk_result,
)
from bench.write import SPREAD, account, settled_state

DATABASE = f"bench_beside_{os.getpid()}"  # its own: other benchmarks may share the server
PORT = 9105
LOCATIONS = ("main", "east", "west")
# Besides main, as seed_products spreads stock: (code, one product in every n).
OTHER_LOCATIONS = {"east": 3, "west": 4}
WRK_TIMEOUT = 300  # s: a request held up by the import counts as slow, not as a timeout error
GRACE = 1.0  # s of traffic after the import ends: what it held up is served and counted
READ_LISTS = (
    "/api/products/",
    f"/api/products/?category={seed.FILTER_CATEGORY}&ordering=price",
    "/api/products/?location=east",
)

# The seed's stock at east and west (main is bench.seed's), each level with its opening ledger row.
OTHER_STOCK = [
    """INSERT INTO products_location (code, name, is_active, created_at, updated_at)
       VALUES ('east', 'East warehouse', true, now(), now()), ('west', 'West warehouse', true, now(), now())""",
    """INSERT INTO products_stocklevel (product_id, location_id, quantity)
       SELECT md5('product-' || i)::uuid, l.id, 10 + i %% 40
         FROM generate_series(1, %(n)s) AS i JOIN products_location l
           ON (l.code = 'east' AND i %% 3 = 0) OR (l.code = 'west' AND i %% 4 = 0)""",
    """INSERT INTO products_stockmovement (product_id, location_id, delta, quantity_after, reason, created_at)
       SELECT s.product_id, s.location_id, s.quantity, s.quantity, 'initial stock', now() - interval '1 day'
         FROM products_stocklevel s JOIN products_location l ON l.id = s.location_id WHERE l.code <> 'main'""",
]


def url():
    return f"{seed.SERVER_URL}/{DATABASE}"


def service_env(seed_size):
    env = {**seed.service_env(seed_size), "DATABASE_URL": url()}
    for variable in ("READ_DATABASE_URL", "READ_REPLICA_URLS"):  # single-database mode
        env.pop(variable, None)
    return env


def manage(env, *arguments, check=True):
    return subprocess.run(
        [seed.PYTHON, "manage.py", *arguments], cwd=seed.ROOT, env=env, check=check, capture_output=True, text=True
    )


def create_database(seed_size, env):
    """Create, migrate and seed the database; rebuild its read tables from the write tables."""
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        seed.drop_database(cursor, DATABASE)
        cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    manage(env, "migrate", "--noinput", "-v0")
    seed._run_sql(url(), seed.SERVICE_SEED + OTHER_STOCK, seed_size, lambda message: None)
    manage(env, "rebuild_read_models")
    seed.vacuum(url())


def drop_database():
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        seed.drop_database(cursor, DATABASE)


# ---------------------------------------------------------------- what is loaded


def spread_numbers(seed_size):
    """The traffic's products (bench.seed's numbers): 1,000, every seed/1,000th, as bench.write's spread."""
    step = seed_size // SPREAD
    return [1 + k * step for k in range(SPREAD)]


def counted_numbers(seed_size):
    """The existing products the import sets new counts of: one in every seed/1,000, none of the traffic's."""
    step = seed_size // SPREAD
    return [1 + step // 2 + k * step for k in range(SPREAD)]


def traffic_files(seed_size):
    """Write wrk's path files: reads (details of the 1,000, and the lists) and stock POSTs (path, location)."""
    with seed.connect(url()) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT md5('product-' || i)::uuid::text FROM unnest(%s::int[]) AS i", [spread_numbers(seed_size)]
        )
        ids = [row[0] for row in cursor.fetchall()]
    DATA.mkdir(exist_ok=True)
    # A read in four is a list page: the lists cost more than a detail, and a shop's pages ask for both.
    reads = [f"/api/products/{product_id}/" for product_id in ids]
    reads += [READ_LISTS[k % len(READ_LISTS)] for k in range(len(ids) // 3)]
    writes = [f"/api/products/{product_id}/stock/ {location}" for product_id in ids for location in LOCATIONS]
    read_file, write_file = DATA / f"beside-reads-{seed_size}.txt", DATA / f"beside-writes-{seed_size}.txt"
    read_file.write_text("\n".join(reads) + "\n")
    write_file.write_text("\n".join(writes) + "\n")
    return read_file, write_file


def write_import_csv(path, products, prefix, seed_size, generation, new_only):
    """Write the import's file: ``products`` new ones (``prefix``) in the seed's shape, then new counts.

    The counts: each of ``counted_numbers`` at main and at east or west, its details unchanged, the
    quantity 1,000 x ``generation`` plus a little (never a quantity it has, so each is a change).
    """
    bulk_import.write_csv(path, products, OTHER_LOCATIONS, prefix=prefix)
    if new_only:
        return
    with seed.connect(url()) as connection, connection.cursor() as cursor:
        cursor.execute(
            """SELECT i, p.sku, p.name, p.description, c.slug, c.name, p.price::text
                 FROM unnest(%s::int[]) AS i JOIN products_product p ON p.id = md5('product-' || i)::uuid
                 JOIN products_category c ON c.id = p.category_id ORDER BY i""",
            [counted_numbers(seed_size)],
        )
        rows = cursor.fetchall()
    with path.open("a", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        for number, *details in rows:
            quantity = 1000 * generation + number % 97
            writer.writerow([*details, quantity, "main"])
            writer.writerow([*details, quantity + 1, "east" if number % 2 else "west"])


# ---------------------------------------------------------------- the load


class Traffic:
    """The two wrk processes, started together; ``finish`` stops them (SIGINT: wrk reports what it did)."""

    def __init__(self, server, read_file, write_file, options, duration):
        self.url = server.base + "/"
        env = wrk_env({"BENCH_TOKEN": seed.TOKEN})
        self.processes = {}
        for kind, script, path_file, connections in (
            ("reads", "get.lua", read_file, options.read_connections),
            ("writes", "stock.lua", write_file, options.write_connections),
        ):
            command = wrk_command(
                self.url,
                script,
                [str(path_file)],
                threads=1,
                connections=connections,
                duration=duration,
                timeout=WRK_TIMEOUT,
            )
            self.processes[kind] = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )

    def finish(self, stop=False):
        results = {}
        for kind, process in self.processes.items():
            if stop:
                process.send_signal(signal.SIGINT)
            output, errors = process.communicate()
            results[kind] = wrk_result(self.url, process.returncode, output, errors)
        return results


IMPORT_APPLICATION = "bench-bulk-import"  # the import's application_name (PGAPPNAME), to tell its session


class LockWaits:
    """Sample the database's sessions waiting on a lock (a thread, every 0.2 s) while the import runs:
    how many at once, the longest wait seen (and on what), and which sessions, themselves not waiting,
    held up the others (the import's, or a request's)."""

    WAITING = """SELECT count(*) OVER (), extract(epoch FROM now() - query_start), wait_event,
                        left(regexp_replace(query, '\\s+', ' ', 'g'), 90)
                   FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'
                  ORDER BY query_start LIMIT 1"""
    ROOTS = """SELECT application_name = %s, count(*) FROM pg_stat_activity
                WHERE datname = %s AND wait_event_type IS DISTINCT FROM 'Lock'
                  AND pid IN (SELECT unnest(pg_blocking_pids(pid)) FROM pg_stat_activity
                               WHERE datname = %s AND wait_event_type = 'Lock')
                GROUP BY 1"""

    def __init__(self):
        self.samples = self.samples_waiting = self.most = 0
        self.longest, self.longest_on = 0.0, None
        self.roots = {"the import": 0, "another request": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        with seed.connect(url()) as connection, connection.cursor() as cursor:
            while not self._stop.wait(0.2):
                self.samples += 1
                cursor.execute(self.WAITING, [DATABASE])
                row = cursor.fetchone()
                if not row:
                    continue
                count, waited, wait_event, query = row
                self.samples_waiting += 1
                self.most = max(self.most, count)
                if waited is not None and float(waited) >= self.longest:
                    self.longest, self.longest_on = float(waited), f"{wait_event}: {query}"
                cursor.execute(self.ROOTS, [IMPORT_APPLICATION, DATABASE, DATABASE])
                for is_import, sessions in cursor.fetchall():
                    self.roots["the import" if is_import else "another request"] += sessions

    def stop(self):
        self._stop.set()
        self._thread.join()
        return {
            "samples": self.samples,
            "samples_waiting": self.samples_waiting,
            "most_waiting": self.most,
            "longest_wait_s": round(self.longest, 2),
            "longest_wait_on": self.longest_on,
            # Per sample, the sessions not waiting themselves that others waited for, summed.
            "held_up_by": self.roots,
        }


def start_import(path, env):
    return subprocess.Popen(
        [seed.PYTHON, "-c", bulk_import._PROBE, str(path)],
        cwd=seed.ROOT,
        env={**env, "PGAPPNAME": IMPORT_APPLICATION},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def import_result(process, products):
    output, errors = process.communicate()
    if process.returncode:
        raise RuntimeError(f"the import failed ({process.returncode}):\n{output}{errors}")
    result = json.loads(output.strip().splitlines()[-1])
    result["rate"] = products / result["seconds"]
    return result


def report_traffic(label, traffic):
    for kind, result in traffic.items():
        log(
            f"    {label:14s} {kind:6s} {result['rps']:7.1f} req/s  p50 {result['p50_us'] / 1000:7.2f} ms"
            f"  p99 {result['p99_us'] / 1000:8.2f} ms  max {result['max_us'] / 1000:8.2f} ms"
            f"  non-2xx {result['non_2xx']}  errors {result['socket_errors']}"
            + (f"  lost {result['lost_updates']}" if kind == "writes" else "")
        )


def traffic_run(server, files, options, seed_size, label, during=None):
    """Run the traffic for ``--duration`` s, or while ``during()`` (a callable returning the import's
    process) runs; return its numbers, each with the database's account of the stock POSTs."""
    numbers = spread_numbers(seed_size)
    before = settled_state("service", url(), numbers)
    load_before = load_average()
    if during is None:
        traffic = Traffic(server, *files, options, options.duration).finish()
        extra = {}
    else:
        traffic = Traffic(server, *files, options, 24 * 3600)
        time.sleep(0.5)  # both wrk processes connected and loading
        waits = LockWaits()
        started = time.perf_counter()
        process = during()
        extra = {"import": process}
        process.wait()
        extra["import_wall_s"] = round(time.perf_counter() - started, 2)
        time.sleep(GRACE)
        extra["lock_waits"] = waits.stop()
        traffic = traffic.finish(stop=True)
    traffic["load_before"], traffic["load_after"] = load_before, load_average()
    account(traffic["writes"], before, settled_state("service", url(), numbers))
    report_traffic(label, {kind: traffic[kind] for kind in ("reads", "writes")})
    return traffic, extra


# ---------------------------------------------------------------- report


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def render(data):
    m, o, runs = data["machine"], data["options"], data["runs"]
    alone, beside, after = runs["traffic alone"], runs["beside the import"], runs["traffic alone, after"]
    imports = data["imports"]
    waits = data["lock_waits"]
    lines = [
        f"# API traffic beside `import_products --bulk`, {data['date']}",
        "",
        f"Code: `{data['code']}`. Machine: {m['cpu']}, {m['cores']} cores (shared with other work), {m['ram_gib']}"
        f" GiB RAM; PostgreSQL {m['postgresql']}; Python {m['python']}; {m['wrk']}.",
        f"Load average before / after the whole run: {data['load_before']} / {data['load_after']} (wrk, gunicorn,"
        " the import and PostgreSQL share the cores with other work: read the ratios, measured minutes apart).",
        f"One fresh database, single-database mode: {o['seed']:,} products (stock at main, a third also at east,"
        f" a quarter at west). The import: {o['products']:,} new products in the seed's shape"
        + (
            "."
            if o["new_only"]
            else f" plus new stock counts of {SPREAD:,} existing products (none of the traffic's) at main and at"
            " east or west (2 rows each)."
        ),
        f"Traffic: gunicorn, 2 sync workers; wrk reads (-t1 -c{o['read_connections']}: a random product's detail of"
        f" {SPREAD:,}, or in one read of four a list page: {', '.join(f'`{p}`' for p in READ_LISTS)}) beside wrk"
        f' stock POSTs (-t1 -c{o["write_connections"]}, token, `{{"delta": 1}}` to a random one of the same'
        f" {SPREAD:,} products at a random one of main, east, west); wrk's timeout {WRK_TIMEOUT} s. Alone:"
        f" {o['duration']} s; beside the import: from 0.5 s before it starts until {GRACE:.0f} s after it ends.",
        "",
        "| run | traffic | req/s | p50 ms | p99 ms | max ms | non-2xx + errors | load before |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, run in runs.items():
        for kind in ("reads", "writes"):
            r = run[kind]
            lines.append(
                f"| {label} | {kind} | {r['rps']:.1f} | {r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f}"
                f" | {r['max_us'] / 1000:.0f} | {r['non_2xx'] + r['socket_errors']} | {run['load_before']} |"
            )
    lines += [
        "",
        "| import | seconds (in the process) | products/s | wall s (process) | events in the log after it"
        " | ledger rows after it |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, result in imports.items():
        lines.append(
            f"| {label} | {result['seconds']} | {result['rate']:,.0f} | {result['wall_s']}"
            f" | {result['events']:,} | {result['movements']:,} |"
        )
    lines += ["", "Ratios (same run; alone before the import / alone after it, on the grown table):", ""]
    for kind in ("reads", "writes"):
        b = beside[kind]
        lines.append(
            f"- API {kind} beside the import / alone: throughput {ratio(b['rps'], alone[kind]['rps'])}"
            f" / {ratio(b['rps'], after[kind]['rps'])}, p99 {ratio(b['p99_us'], alone[kind]['p99_us'])}"
            f" / {ratio(b['p99_us'], after[kind]['p99_us'])}, max {ratio(b['max_us'], alone[kind]['max_us'])}"
            f" / {ratio(b['max_us'], after[kind]['max_us'])}."
        )
    lines.append(
        f"- Import beside the traffic / alone: products/s"
        f" {ratio(imports['beside the traffic']['rate'], imports['alone']['rate'])}."
    )
    longest = max(beside[kind]["max_us"] for kind in ("reads", "writes")) / 1e6
    lines += [
        "",
        f"Longest wait of any API request during the import: {longest:.2f} s (wrk's max latency);"
        f" the import itself took {imports['beside the traffic']['seconds']} s.",
        f"PostgreSQL sessions of this database waiting on a lock during the import (pg_stat_activity every 0.2 s):"
        f" in {waits['samples_waiting']} of {waits['samples']} samples; at most {waits['most_waiting']} at once;"
        f" the longest wait seen {waits['longest_wait_s']} s"
        + (f" (`{waits['longest_wait_on']}`)" if waits["longest_wait_on"] else "")
        + f". The sessions, not waiting themselves, that the waiting ones waited for, summed over the samples:"
        f" the import's {waits['held_up_by']['the import']}, a request's {waits['held_up_by']['another request']}.",
        "",
        "Correctness:",
        "",
        "| run | stock POSTs 2xx | quantity change | ledger rows added | ledger sum = quantity"
        " | applied without a 2xx counted | lost updates |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for label, run in runs.items():
        w = run["writes"]
        lines.append(
            f"| {label} | {w['ok']} | {w['quantity_delta']} | {w['ledger_added']}"
            f" | {'yes' if w['ledger_matches_quantity'] else 'NO'} | {w['served_after_stop']} | {w['lost_updates']} |"
        )
    verify = data["verify"]
    lines += [
        "",
        "Applied without a 2xx counted: POSTs in flight when wrk stopped (at most one per connection,"
        f" {o['write_connections']}), and POSTs whose client got a socket error but whose statement committed.",
        f"gunicorn killed {data.get('worker_timeouts', 0)} worker(s) for a request over its timeout"
        " (`WORKER TIMEOUT` in the server's log; bench/gunicorn_bench.py: 60 s): the socket errors above.",
        "",
        f"`verify_read_models` afterwards: {'no difference' if verify['ok'] else verify['output']}.",
        "",
        "Checks:",
        "",
        *checks(data),
    ]
    return "\n".join(lines) + "\n"


def checks(data):
    runs = data["runs"]
    beside = runs["beside the import"]
    lost = sum(run["writes"]["lost_updates"] for run in runs.values())
    failed = sum(beside[kind]["non_2xx"] + beside[kind]["socket_errors"] for kind in ("reads", "writes"))
    verified = data["verify"]["ok"]

    def check(label, value, goal, ok):
        return f"- {label}: {value} (target {goal}) {'met' if ok else 'NOT met'}"

    return [
        check("lost updates, every run", lost, "0", lost == 0),
        check("non-2xx and socket errors during the import", failed, "0", failed == 0),
        check("read-model differences afterwards", "none" if verified else "some", "none", verified),
    ]


# ---------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=100_000, help="new products per import (100,000)")
    parser.add_argument("--seed", type=int, default=10_000, help="existing products (10,000; at least 2,000)")
    parser.add_argument("--duration", type=int, default=30, help="seconds of traffic alone (30)")
    parser.add_argument("--read-connections", type=int, default=12)
    parser.add_argument("--write-connections", type=int, default=4)
    parser.add_argument("--new-only", action="store_true", help="the import sets no stock of existing products")
    parser.add_argument("--small", action="store_true", help="the smoke run: 2,000 + 2,000 products, 2 s")
    options = parser.parse_args(argv)
    if options.small:
        options.products, options.seed, options.duration = 2000, 2000, 2
    if options.seed < 2 * SPREAD:
        parser.error(f"--seed must be at least {2 * SPREAD:,}")
    require_wrk()
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = service_env(options.seed)
    data = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "code": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=seed.ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "options": vars(options),
        "load_before": load_average(),
        "runs": {},
        "imports": {},
    }
    log(f"== {DATABASE}: {options.seed:,} products, importing {options.products:,} beside the traffic")
    server = None
    try:
        create_database(options.seed, env)
        DATA.mkdir(exist_ok=True)
        csvs = {}
        for label, prefix, generation in (("beside the traffic", "BESIDE", 1), ("alone", "ALONE", 2)):
            csvs[label] = DATA / f"beside-import-{prefix.lower()}-{options.products}-{options.seed}.csv"
            write_import_csv(csvs[label], options.products, prefix, options.seed, generation, options.new_only)
        files = traffic_files(options.seed)
        server = Server("beside", options.seed, kind="service", port=PORT, env=env)
        server.wait_ready("/api/products/")
        Traffic(server, *files, options, 2).finish()  # warm-up: connections, caches, plans

        data["runs"]["traffic alone"], _ = traffic_run(server, files, options, options.seed, "alone")
        data["runs"]["beside the import"], extra = traffic_run(
            server,
            files,
            options,
            options.seed,
            "beside import",
            during=lambda: start_import(csvs["beside the traffic"], env),
        )
        data["imports"]["beside the traffic"] = {
            **import_result(extra["import"], options.products),
            "wall_s": extra["import_wall_s"],
        }
        data["lock_waits"] = extra["lock_waits"]
        log(f"    import beside the traffic: {data['imports']['beside the traffic']}")
        log(f"    lock waits: {data['lock_waits']}")

        load_before = load_average()
        started = time.perf_counter()
        process = start_import(csvs["alone"], env)
        process.wait()
        data["imports"]["alone"] = {
            **import_result(process, options.products),
            "wall_s": round(time.perf_counter() - started, 2),
            "load_before": load_before,
        }
        log(f"    import alone: {data['imports']['alone']}")
        data["runs"]["traffic alone, after"], _ = traffic_run(server, files, options, options.seed, "alone, after")

        server.stop()
        data["worker_timeouts"] = server.log_path.read_text().count("WORKER TIMEOUT")
        server = None
        verify = manage(env, "verify_read_models", check=False)
        data["verify"] = {"ok": verify.returncode == 0, "output": (verify.stdout + verify.stderr).strip()[-2000:]}
        log(f"    verify_read_models: {'no difference' if data['verify']['ok'] else data['verify']['output']}")
    finally:
        if server:
            server.stop()
        drop_database()
    data["load_after"] = load_average()
    for label in ("beside the traffic", "alone"):
        csvs[label].unlink(missing_ok=True)
    stem = f"{datetime.date.today().isoformat()}-bulk-beside-traffic" + ("-new-only" if options.new_only else "")
    if os.environ.get("BENCH_POSTGRES_URL"):  # another server than the local PostgreSQL 15: say which
        stem += "-pg" + data["machine"]["postgresql"].split(".")[0]
    save_results(stem, data, render(data))
    print("\n".join(checks(data)))
    return 0 if all(line.endswith(" met") for line in checks(data)) else 1


def rerender(path):
    """Write the markdown of a saved JSON result again (after a change to the report's layout)."""
    data = json.loads(Path(path).read_text())
    Path(path).with_suffix(".md").write_text(render(data))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rerender"]:
        for result_file in sys.argv[2:]:
            rerender(result_file)
    else:
        sys.exit(main())
