"""Write benchmark: stock adjustments on this service vs the plain-DRF baseline vs a bare floor vs pgbench.

    .venv/bin/python -m bench.write            # about 2 minutes
    .venv/bin/python -m bench.write --split    # also split mode and its projection lag (under 3 minutes)

Two scenarios, 16 connections each: ``hot`` (every request adds 1 to one product) and
``spread`` (to a random one of 1,000 products). Servers: the service, the baseline, the floor
(one statement, bench/floor.py) under the same gunicorn settings and loaded by wrk, and pgbench
running the floor's statement with no HTTP at all. Lost updates are counted from the database.
See bench/README.md ("Write benchmark").
"""

import argparse
import datetime
import json
import re
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

from bench import floor, seed
from bench.projection_lag import LagProbe
from bench.run import DATA, RESULTS, Server, load_average, log, machine, require_wrk, run_wrk, save_results, settled

SCENARIOS = ["hot", "spread"]
SERVERS = ["service", "baseline", "floor", "pgbench"]
SPREAD = 1000  # products in the spread scenario
PROBE_PRODUCT = 2  # split mode's lag probe writes here: never one of the spread products
SPLIT_PORT = 9104
TITLES = {"hot": "hot: one product", "spread": f"spread: random of {SPREAD:,}"}
# Split-mode environment variables a developer's shell may hold; the single-mode servers must not see them.
SPLIT_VARIABLES = ("READ_DATABASE_URL", "READ_REPLICA_URLS")


# ---------------------------------------------------------------- targets of the load


def product_numbers(scenario, size):
    """Return the product numbers (seed.py's i) a scenario writes to: 1, or 1,000 spread over the table."""
    if scenario == "hot":
        return [seed.HOT_PRODUCT]
    step = size // SPREAD
    return [1 + k * step for k in range(SPREAD)]


def service_ids(url, numbers):
    with seed.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT md5('product-' || i)::uuid::text FROM unnest(%s::int[]) AS i", [numbers])
        return [row[0] for row in cursor.fetchall()]


def wrk_target(kind, url, scenario, size):
    """Return (path, script args): the one product's URL for hot, a file of 1,000 URLs for spread."""
    numbers = product_numbers(scenario, size)
    ids = service_ids(url, numbers) if kind == "service" else numbers
    paths = [f"/api/products/{product_id}/stock/" for product_id in ids]
    if len(paths) == 1:
        return paths[0], []
    path_file = DATA / f"write-{kind}-{size}.txt"
    path_file.write_text("\n".join(paths) + "\n")
    return "/", [str(path_file)]


def stock_state(kind, url, numbers):
    """Return (sum of quantities, ledger rows, sum of ledger deltas) of the products, from the write tables."""
    if kind == "service":
        sql = """WITH ids AS (SELECT md5('product-' || i)::uuid AS id FROM unnest(%(n)s::int[]) AS i)
                 SELECT (SELECT sum(quantity) FROM products_stocklevel WHERE product_id IN (SELECT id FROM ids)),
                        count(*), coalesce(sum(delta), 0)
                   FROM products_stockmovement WHERE product_id IN (SELECT id FROM ids)"""
    else:
        sql = """SELECT (SELECT sum(quantity) FROM shop_product WHERE id = ANY(%(n)s)),
                        count(*), coalesce(sum(delta), 0)
                   FROM shop_stockmovement WHERE product_id = ANY(%(n)s)"""
    with seed.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, {"n": numbers})
        return tuple(int(value) for value in cursor.fetchone())


def settled_state(kind, url, numbers):
    """Read the state until it stops changing: requests queued when the load stopped are still served."""
    return settled(lambda: stock_state(kind, url, numbers))


def account(result, before, after):
    """Add the database's view of a run to ``result``: what changed, and how many 2xx it does not show."""
    quantity_delta, ledger_added = after[0] - before[0], after[1] - before[1]
    result.update(
        quantity_before=before[0],
        quantity_delta=quantity_delta,
        ledger_added=ledger_added,
        ledger_matches_quantity=after[0] == after[2],
        # An accepted +1 the quantities do not show, or a ledger row without its change, is lost.
        # Requests still queued when the load stopped are served after it (served_after_stop).
        lost_updates=max(0, result["ok"] - quantity_delta) + abs(ledger_added - quantity_delta),
        served_after_stop=max(0, quantity_delta - result["ok"]),
    )


# ---------------------------------------------------------------- pgbench


def require_pgbench():
    if shutil.which("pgbench"):
        return True
    log("pgbench is not on PATH (Debian: it comes with the server package postgresql-15); skipping pgbench")
    return False


def pgbench_script():
    """Write the floor's statement as a pgbench script: same SQL, same token, delta 1."""
    sql = floor.ADJUST_STOCK.strip()
    for name, value in (("token", f"'{seed.TOKEN}'"), ("delta", "1"), ("id", ":id"), ("reason", "'bench'")):
        sql = sql.replace(f"%({name})s", value)
    script = DATA / "write-pgbench.sql"
    script.write_text("\\set id 1 + random(0, :count - 1) * :step\n" + sql + ";\n")
    return script


def run_pgbench(url, scenario, size, *, clients, threads, duration):
    numbers = product_numbers(scenario, size)
    step = numbers[1] - numbers[0] if len(numbers) > 1 else 1
    prefix = DATA / "write-pgbench-log"
    for old in DATA.glob(prefix.name + ".*"):
        old.unlink()
    command = ["pgbench", "-n", "-f", str(pgbench_script()), "-D", f"count={len(numbers)}", "-D", f"step={step}"]
    command += [f"-c{clients}", f"-j{threads}", f"-T{duration}", "-l", f"--log-prefix={prefix}", url]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=DATA)
    output = completed.stdout + completed.stderr
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    tps = re.search(r"^tps = ([\d.]+)", output, re.MULTILINE)
    if completed.returncode or not (processed and tps):
        raise RuntimeError(f"pgbench failed ({completed.returncode}):\n{output}")
    failed = re.search(r"number of failed transactions: (\d+)", output)
    latencies = sorted(int(line.split()[2]) for log_file in DATA.glob(prefix.name + ".*") for line in log_file.open())
    for log_file in DATA.glob(prefix.name + ".*"):
        log_file.unlink()

    def percentile(share):
        return latencies[min(len(latencies) - 1, int(len(latencies) * share))] if latencies else 0

    requests = int(processed.group(1))
    return {
        "requests": requests,
        "duration_us": duration * 1_000_000,
        "rps": float(tps.group(1)),
        "p50_us": percentile(0.50),
        "p90_us": percentile(0.90),
        "p99_us": percentile(0.99),
        "max_us": latencies[-1] if latencies else 0,
        "non_2xx": int(failed.group(1)) if failed else 0,  # failed transactions
        "socket_errors": 0,
        "ok": requests,  # pgbench counts committed transactions; each adds 1 or the script fails
    }


# ---------------------------------------------------------------- one run


def measure(name, kind, url, scenario, size, options, run, probe=None):
    """Warm up, read the state, load, read it again; return the load's numbers with the accounting."""
    numbers = product_numbers(scenario, size)
    if options.warmup:
        run(options.warmup)
    before = settled_state(kind, url, numbers)
    load_avg = load_average()
    if probe:
        probe.start()
    try:
        result = run(options.duration)
    finally:
        if probe:
            probe.stop()
    result["load_before"] = load_avg
    if probe:
        result["projection_lag"] = probe.result(options.duration)
    account(result, before, settled_state(kind, url, numbers))
    log(
        f"    {scenario:6s} {name:13s} {result['rps']:8.1f} req/s  p50 {result['p50_us'] / 1000:7.2f} ms"
        f"  p99 {result['p99_us'] / 1000:7.2f} ms  non-2xx {result['non_2xx']}  errors {result['socket_errors']}"
        f"  2xx {result['ok']}  +quantity {result['quantity_delta']}  lost {result['lost_updates']}  load {load_avg}"
        + (
            f"  lag p50 {result['projection_lag']['lag_p50_ms']} ms p99 {result['projection_lag']['lag_p99_ms']} ms"
            if probe
            else ""
        )
    )
    return result


def wrk_runner(server, path, args, options):
    wrk = {"threads": options.threads, "connections": options.connections, "env": {"BENCH_TOKEN": seed.TOKEN}}
    return lambda seconds: run_wrk(server.base + path, "stock.lua", args, duration=seconds, **wrk)


def single_env(size):
    env = seed.service_env(size)
    for variable in SPLIT_VARIABLES:
        env.pop(variable, None)
    return env


def split_env(size):
    env = single_env(size)
    env["DATABASE_URL"] = f"{seed.SERVER_URL}/bench_split_{size}"
    env["READ_DATABASE_URL"] = f"{seed.SERVER_URL}/bench_split_{size}_read"
    return env


def prepare_split(size):
    """Copy bench_service_<n>'s write side into a fresh database, and rebuild a separate read database from it."""
    env = split_env(size)
    seed.copy_database(f"bench_service_{size}", f"bench_split_{size}")
    with seed.connect(f"{seed.SERVER_URL}/postgres") as connection, connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "bench_split_{size}_read" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "bench_split_{size}_read"')
    for command in (["migrate", "--noinput", "-v0", "--database", "read"], ["rebuild_read_models"]):
        subprocess.run(
            [seed.PYTHON, "manage.py", *command], cwd=seed.ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
    return env


@contextmanager
def projector(env, size):
    """Run `project_events --follow` for the split server's runs only: idle, it polls every 5 ms,
    which would load the shared cores while the other servers are measured."""
    with (DATA / f"projector-{size}.log").open("a") as projector_log:
        process = subprocess.Popen(
            [seed.PYTHON, "manage.py", "project_events", "--follow", "--poll-interval", "0.005"],
            cwd=seed.ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=projector_log,
        )
        try:
            yield
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            # Its slot would keep the server's WAL from now on: the next run starts a new one.
            drop = [seed.PYTHON, "manage.py", "drop_feed_slot"]
            subprocess.run(drop, cwd=seed.ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def bench_all(size, names, options):
    """Start the HTTP servers, then load each scenario on each server in turn, back to back.

    Interleaving by scenario keeps the runs being compared seconds apart, so a change in
    what else the shared machine runs moves them all alike.
    """
    baseline_url = seed.database_url("baseline", size)
    envs = {"service": single_env(size)}
    urls = {"service": envs["service"]["DATABASE_URL"], "baseline": baseline_url, "floor": baseline_url}
    urls["pgbench"] = baseline_url
    if "service-split" in names:
        log("  split mode: copying the write tables, rebuilding a separate read database")
        envs["service-split"] = prepare_split(size)
        urls["service-split"] = envs["service-split"]["DATABASE_URL"]
    kinds = {name: "service" if name.startswith("service") else "baseline" for name in names}

    def start(name):
        log(f"  starting {name} (gunicorn)")
        if name == "service-split":
            return Server(name, size, kind="service", port=SPLIT_PORT, env=envs[name])
        return Server(name, size, env=envs.get(name))

    servers, results = {}, {name: {} for name in names}
    try:
        for name in names:
            if name != "pgbench":
                servers[name] = start(name)
        for server in servers.values():
            server.wait_ready("/api/products/")
        for scenario in options.scenarios:
            for name in names:
                probe, during = None, nullcontext()
                if name == "pgbench":
                    pgbench = {"clients": options.connections, "threads": options.threads}
                    run = lambda seconds, s=scenario, p=pgbench: run_pgbench(  # noqa: E731
                        baseline_url, s, size, duration=seconds, **p
                    )
                else:
                    if servers[name].process.poll() is not None:
                        # Something else on the shared machine stopped it; start it again.
                        log(f"  {name} exited (code {servers[name].process.returncode}); restarting it")
                        servers[name] = start(name)
                        servers[name].wait_ready("/api/products/")
                    path, args = wrk_target(kinds[name], urls[name], scenario, size)
                    run = wrk_runner(servers[name], path, args, options)
                if name == "service-split":
                    during = projector(envs[name], size)
                    if scenario == "spread":
                        probe_id = service_ids(urls[name], [PROBE_PRODUCT])[0]
                        probe = LagProbe(SPLIT_PORT, probe_id, envs[name]["READ_DATABASE_URL"])
                with during:
                    results[name][scenario] = measure(
                        name, kinds[name], urls[name], scenario, size, options, run, probe
                    )
    finally:
        for server in servers.values():
            server.stop()
    return results


# ---------------------------------------------------------------- report


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def render(data):
    results, m, o = data["results"], data["machine"], data["options"]
    lines = [
        f"# Write benchmark: stock adjustments, {data['size']:,} products, {data['date']}",
        "",
        f"Code: `{data['code']}`. Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM;"
        f" PostgreSQL {m['postgresql']}; Python {m['python']}; {m['wrk']}; {data.get('pgbench', 'no pgbench')}.",
        f"Load average before / after the run: {data['load_before']} / {data['load_after']} (shared machine:"
        " wrk, gunicorn, PostgreSQL and other work such as test suites on the same cores, so absolute numbers"
        " are low and noisy; read the ratios, measured seconds apart in this run). The load average before"
        " each run is in the JSON.",
        f'Each run: POST `{{"delta": 1}}` with `Authorization: Token ...`, wrk -t{o["threads"]} -c{o["connections"]}'
        f" -d{o['duration']}s after a {o['warmup']}s warm-up; gunicorn 2 sync workers (bench/gunicorn_bench.py)"
        f" for every HTTP server; pgbench -c{o['connections']} -j{o['threads']} -T{o['duration']} running the"
        " floor's statement, no HTTP.",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | non-2xx | service/this |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = [name for name in ["service", "service-split", *SERVERS[1:]] if name in results]
    for scenario in SCENARIOS:
        service = results.get("service", {}).get(scenario)
        for name in names:
            result = results[name].get(scenario)
            if not result:
                continue
            versus = ratio(service["rps"], result["rps"]) if service and name not in ("service",) else ""
            lines.append(
                f"| {TITLES[scenario]} | {name} | {result['rps']:.0f} | {result['p50_us'] / 1000:.2f}"
                f" | {result['p99_us'] / 1000:.2f} | {result['non_2xx'] + result['socket_errors']} | {versus} |"
            )
    lines += [
        "",
        "Ratios (req/s over req/s, same run):",
        "",
        "| scenario | service/baseline | service/floor | service/pgbench | service-split/baseline |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for scenario in SCENARIOS:

        def rps(name, scenario=scenario):
            return results.get(name, {}).get(scenario, {}).get("rps")

        lines.append(
            f"| {TITLES[scenario]} | {ratio(rps('service'), rps('baseline'))} | {ratio(rps('service'), rps('floor'))}"
            f" | {ratio(rps('service'), rps('pgbench'))} | {ratio(rps('service-split'), rps('baseline'))} |"
        )
    lines += [
        "",
        "Counted from the database (write tables; quantities and ledger rows of the scenario's products"
        " before the run and after it settles):",
        "",
        "| scenario | server | 2xx counted | quantity change | ledger rows added | ledger sum = quantity"
        " | served after wrk stopped | lost updates |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for scenario in SCENARIOS:
        for name in names:
            result = results[name].get(scenario)
            if result:
                lines.append(
                    f"| {scenario} | {name} | {result['ok']} | {result['quantity_delta']} | {result['ledger_added']}"
                    f" | {'yes' if result['ledger_matches_quantity'] else 'NO'} | {result['served_after_stop']}"
                    f" | {result['lost_updates']} |"
                )
    lag = results.get("service-split", {}).get("spread", {}).get("projection_lag")
    if lag:
        lines += [
            "",
            "Split mode (service-split: the service with READ_DATABASE_URL set, on a copy of its write tables and"
            " a read database rebuilt from them; `project_events --follow --poll-interval 0.005` runs during"
            " service-split's own runs only, so its polling does not load the others'):"
            f" projection lag under the spread load, p50 {lag['lag_p50_ms']} ms, p99 {lag['lag_p99_ms']}"
            f" ms, max {lag['lag_max_ms']} ms, over {lag['writes']} probe writes (one extra client adjusting a"
            " product outside the spread set; lag = first read of the read database showing the write's version"
            f" minus the write's response; {lag['probes']} reads, one every {lag['probe_interval_ms']} ms).",
        ]
    lines += ["", "Against the targets (issue 9):", ""]
    lines += targets(results)
    return "\n".join(lines) + "\n"


def targets(results):
    def rps(name, scenario):
        result = results.get(name, {}).get(scenario)
        return result["rps"] if result else None

    def check(label, value, goal, ok):
        return f"- {label}: {value} (target {goal}) {'met' if ok else 'NOT met'}"

    out = []
    for scenario, other, goal in (("hot", "baseline", 1.5), ("spread", "baseline", 1.5), ("spread", "floor", 0.5)):
        this, that = rps("service", scenario), rps(other, scenario)
        if this and that:
            value = this / that
            out.append(check(f"{scenario} vs {other}", f"{value:.2f}x", f">= {goal}x", value >= goal))
    for name in ("service", "service-split"):
        runs = results.get(name, {})
        if runs:
            lost = sum(result["lost_updates"] for result in runs.values())
            failed = sum(result["non_2xx"] + result["socket_errors"] for result in runs.values())
            out.append(check(f"{name} lost updates", lost, "0", lost == 0))
            out.append(check(f"{name} non-2xx and socket errors", failed, "0", failed == 0))
    return out


def code_version():
    def git(*args):
        return subprocess.run(["git", *args], cwd=seed.ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "products", "cqrs_demo")
    return commit + (" + uncommitted changes in products/ or cqrs_demo/" if dirty else "")


def rerender(path):
    data = json.loads(Path(path).read_text())
    Path(path).with_suffix(".md").write_text(render(data))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10000, help="products in the databases (10000; >= 2000)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="subset of " + ",".join(SERVERS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="subset of " + ",".join(SCENARIOS))
    parser.add_argument("--split", action="store_true", help="also run the service in split mode, with its lag")
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load before each run (2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16, help="wrk connections and pgbench clients (16)")
    parser.add_argument("--reseed", action="store_true", help="seed again even when the counts match")
    parser.add_argument("--rerender", metavar="JSON", help="write the .md of a saved run again, and stop")
    options = parser.parse_args(argv)
    if options.rerender:
        rerender(options.rerender)
        return 0
    if options.size < 2 * SPREAD:
        parser.error(f"--size must be at least {2 * SPREAD}: the spread products are every (size / {SPREAD})th")
    options.scenarios = [s for s in SCENARIOS if s in options.scenarios.split(",")]
    names = [name for name in SERVERS if name in options.servers.split(",")]
    if options.split:
        names.insert(1 if "service" in names else 0, "service-split")
    require_wrk()
    if "pgbench" in names and not require_pgbench():
        names.remove("pgbench")
    RESULTS.mkdir(parents=True, exist_ok=True)
    DATA.mkdir(exist_ok=True)
    size = options.size
    data = {
        "size": size,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": code_version(),
        "machine": machine(),
        "options": {k: getattr(options, k) for k in ("threads", "connections", "duration", "warmup", "split")},
    }
    if "pgbench" in names:
        data["pgbench"] = subprocess.run(["pgbench", "--version"], capture_output=True, text=True).stdout.strip()
    log(f"== write benchmark, {size:,} products ({data['code']})")
    seed.ensure_seeded(size, log=log, force=options.reseed)
    # Earlier runs leave dead rows and a longer ledger; every server starts from fresh statistics.
    seed.vacuum(seed.database_url("service", size))
    seed.vacuum(seed.database_url("baseline", size))
    data["load_before"] = load_average()
    data["results"] = bench_all(size, names, options)
    data["load_after"] = load_average()
    stem = f"{datetime.date.today().isoformat()}-write"
    save_results(stem, data, render(data))
    print("\n".join(targets(data["results"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
