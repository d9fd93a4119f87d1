"""Load this service, a plain-DRF baseline and a bare-SQL floor in turn with wrk; write a table.

    .venv/bin/python -m bench.run --sizes 10000            # about 5 minutes
    .venv/bin/python -m bench.run --sizes 10000,1000000    # seeds the million once (minutes)

See bench/README.md for what is measured and how to read the results.
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from bench import seed

ROOT = seed.ROOT
BENCH = ROOT / "bench"
DATA = BENCH / ".data"
RESULTS = seed.RESULTS
WRK_DIR = BENCH / "wrk"
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")

SERVERS = {
    # name: (port, WSGI application, environment builder)
    "service": (9101, "cqrs_demo.wsgi:application", seed.service_env),
    "baseline": (9102, "bench.baseline.wsgi:application", seed.baseline_env),
    "floor": (
        9103,
        "bench.floor:application",
        lambda size: {
            **os.environ,
            "FLOOR_DATABASE_URL": seed.database_url("service", size),
            # Stock writes (bench/write.py) go to the baseline's plain tables.
            "FLOOR_WRITE_DATABASE_URL": seed.database_url("baseline", size),
        },
    ),
}
SCENARIOS = ["detail", "list", "filtered", "search", "page50", "stock"]
SCENARIO_TITLES = {
    "detail": "product detail (random of 1,000)",
    "list": "list, first page of 20",
    "filtered": f"list, category={seed.FILTER_CATEGORY}, ordering=price",
    "search": f"search={seed.SEARCH_WORD}",
    "page50": "page 50 (service: 49 x next; baseline: ?page=50)",
    "stock": "stock adjust, one hot product (POST)",
}


def log(message):
    print(message, flush=True)


# ---------------------------------------------------------------- wrk


def load_average():
    """Return the machine's 1, 5 and 15 minute load averages, as /proc/loadavg shows them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def save_results(stem, data, markdown):
    """Write ``data`` to bench/results/<stem>.json and ``markdown`` to <stem>.md."""
    (RESULTS / f"{stem}.json").write_text(json.dumps(data, indent=1) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown)
    log(f"  wrote bench/results/{stem}.md")


def require_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing; installing the Debian package")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        return
    sys.exit("wrk is required: apt-get install -y wrk (Debian), or put it on PATH.")


def wrk_command(url, script, args, *, threads, connections, duration, timeout=10):
    """Return the wrk command line of one run; ``timeout`` (s): a request slower than it counts as an error."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        f"{timeout}s",
        "-s",
        str(WRK_DIR / script),
        url,
    ]
    return [*command, "--", *args] if args else command


def wrk_env(env=None):
    return {**os.environ, "BENCH_WRK_DIR": str(WRK_DIR), **(env or {})}


def wrk_result(url, returncode, output, errors=""):
    """Return the numbers report.lua printed (and req/s), or raise with wrk's output."""
    match = re.search(r"^BENCH_JSON (.*)$", output, re.MULTILINE)
    if returncode or not match:
        raise RuntimeError(f"wrk failed ({returncode}) on {url}:\n{output}{errors}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def run_wrk(url, script, args, *, threads, connections, duration, env=None):
    command = wrk_command(url, script, args, threads=threads, connections=connections, duration=duration)
    completed = subprocess.run(command, capture_output=True, text=True, env=wrk_env(env))
    return wrk_result(url, completed.returncode, completed.stdout, completed.stderr)


def settled(read, timeout=15):
    """Call ``read`` until it returns the same twice in a row: requests queued when the load stopped are
    still served after it."""
    state = read()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = read()
        if again == state:
            return state
        state = again
    return state


# ---------------------------------------------------------------- servers


class Server:
    def __init__(self, name, size, *, kind=None, port=None, env=None):
        """Start ``kind`` (a key of SERVERS, default ``name``), optionally on another port or environment."""
        self.name = name
        default_port, self.app, env_for = SERVERS[kind or name]
        self.port = port or default_port
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(env or env_for(size))
        env.pop("GUNICORN_CMD_ARGS", None)
        DATA.mkdir(exist_ok=True)
        self.log_path = DATA / f"{name}-{size}.log"
        self.process = subprocess.Popen(
            [GUNICORN, "-c", str(BENCH / "gunicorn_bench.py"), "-b", f"127.0.0.1:{self.port}", self.app],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout}s; see {self.log_path}")

    def get_json(self, url):
        with urllib.request.urlopen(url if url.startswith("http") else self.base + url, timeout=30) as response:
            return json.load(response)

    def worker_pids(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            return [int(pid) for pid in children.read_text().split()]
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(stat.parent.name))
            except (OSError, IndexError, ValueError):
                continue
        return pids

    def peak_rss_mib(self):
        """Return VmHWM (peak resident set) of each worker, in MiB."""
        peaks = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return peaks

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---------------------------------------------------------------- scenario targets


def detail_paths(name, size, count=1000):
    """Write 1,000 random product paths for ``name`` to a file wrk reads; the same products each time."""
    rng = random.Random(42)
    numbers = [rng.randint(1, size) for _ in range(count)]
    if name == "baseline":
        paths = [f"/api/products/{number}/" for number in numbers]
    else:
        with seed.connect(seed.database_url("service", size)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT md5('product-' || i)::uuid FROM unnest(%s) AS i", [numbers])
            paths = [f"/api/products/{row[0]}/" for row in cursor.fetchall()]
    path_file = DATA / f"detail-{name}-{size}.txt"
    path_file.write_text("\n".join(paths) + "\n")
    return path_file


def page50_query(server, size):
    """Return the query string of page 50: followed by ``next`` on the service, computed for the floor."""
    if server.name == "service":
        url = "/api/products/"
        for _ in range(49):
            url = server.get_json(url)["next"]
        return urlsplit(url).query
    if server.name == "baseline":
        return "page=50"
    with seed.connect(seed.database_url("service", size)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sku, id::text FROM read_product ORDER BY sku, id OFFSET 979 LIMIT 1")
        sku, row_id = cursor.fetchone()
    import base64

    payload = json.dumps(["sku", "next", sku, row_id], separators=(",", ":")).encode()
    return "cursor=" + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def stock_state(name, size):
    """Return (quantity, ledger rows, ledger sum) of the hot product, read from the write tables."""
    if name == "service":
        url = seed.database_url("service", size)
        sql = """SELECT s.quantity, count(m.id), coalesce(sum(m.delta), 0)
                   FROM products_stocklevel s LEFT JOIN products_stockmovement m ON m.product_id = s.product_id
                  WHERE s.product_id = md5('product-' || %s)::uuid GROUP BY s.quantity"""
    else:
        url = seed.database_url("baseline", size)
        sql = """SELECT p.quantity, count(m.id), coalesce(sum(m.delta), 0)
                   FROM shop_product p LEFT JOIN shop_stockmovement m ON m.product_id = p.id
                  WHERE p.id = %s GROUP BY p.quantity"""
    with seed.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, [seed.HOT_PRODUCT])
        return cursor.fetchone()


def stock_path(name, size):
    if name == "baseline":
        return f"/api/products/{seed.HOT_PRODUCT}/stock/"
    with seed.connect(seed.database_url("service", size)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT md5('product-' || %s)::uuid::text", [seed.HOT_PRODUCT])
        return f"/api/products/{cursor.fetchone()[0]}/stock/"


# ---------------------------------------------------------------- the load


def server_targets(server, size):
    """Return {scenario: (path, wrk script, script args)} for one server."""
    targets = {
        "detail": ("/", "get.lua", [str(detail_paths(server.name, size))]),
        "list": ("/api/products/", "get.lua", []),
        "filtered": (f"/api/products/?category={seed.FILTER_CATEGORY}&ordering=price", "get.lua", []),
        "search": (f"/api/products/?search={seed.SEARCH_WORD}", "get.lua", []),
        "page50": (f"/api/products/?{page50_query(server, size)}", "get.lua", []),
    }
    if server.name != "floor":
        targets["stock"] = (stock_path(server.name, size), "stock.lua", [])
    for scenario, (path, _, _) in targets.items():
        if scenario in ("detail", "stock"):
            continue
        # A wrong URL would benchmark an error page: each must answer 200 with rows.
        body = server.get_json(path)
        if not (body["results"] if isinstance(body, dict) else body):
            raise RuntimeError(f"{server.name} {scenario}: {path} returned no rows")
    return targets


def load(server, size, scenario, target, options):
    path, script, args = target
    wrk = {"threads": options.threads, "connections": options.connections, "env": {"BENCH_TOKEN": seed.TOKEN}}
    if options.warmup:
        run_wrk(server.base + path, script, args, duration=options.warmup, **wrk)
    if scenario == "stock":
        time.sleep(1)  # requests queued when the warm-up stopped are still served; let them commit
        before = stock_state(server.name, size)
    load_avg = load_average()
    result = run_wrk(server.base + path, script, args, duration=options.duration, **wrk)
    result["load_before"] = load_avg
    if not result["requests"] and scenario != "stock":
        # Nothing finished within wrk's timeout: time one request alone to say how slow it is.
        started = time.perf_counter()
        with urllib.request.urlopen(server.base + path, timeout=300) as response:
            response.read()
        result["lone_request_s"] = time.perf_counter() - started
        # With 2 sync workers and nothing else queued, at most 2 such requests run at once.
        result["rps_upper_bound"] = 2 / result["lone_request_s"]
    if scenario == "stock":
        time.sleep(1)
        after = stock_state(server.name, size)
        quantity_delta, ledger_added = after[0] - before[0], after[1] - before[1]
        result.update(
            accepted=result["ok"],
            quantity_delta=quantity_delta,
            ledger_added=ledger_added,
            ledger_matches_quantity=after[2] == after[0],
            # An accepted +1 the quantity does not show, or a ledger row without its change, is lost.
            lost_updates=max(0, result["ok"] - quantity_delta) + abs(ledger_added - quantity_delta),
        )
    log(
        f"    {scenario:9s} {server.name:9s} {result['rps']:8.1f} req/s  p50 {result['p50_us'] / 1000:7.2f} ms"
        f"  p99 {result['p99_us'] / 1000:7.2f} ms  non-2xx {result['non_2xx']}  errors {result['socket_errors']}"
        f"  load {load_avg}" + (f"  lost {result['lost_updates']}" if scenario == "stock" else "")
    )
    return result


def bench_size(size, names, options):
    """Start every server, then load each scenario on each server in turn, back to back.

    Interleaving by scenario keeps the servers being compared minutes apart at most, so a
    change in what else the shared machine runs moves all three alike.
    """
    servers = {}
    results = {name: {} for name in names}
    try:
        for name in names:
            log(f"  starting {name} (gunicorn, 127.0.0.1:{SERVERS[name][0]})")
            servers[name] = Server(name, size)
        for server in servers.values():
            server.wait_ready("/api/products/")
        targets = {name: server_targets(server, size) for name, server in servers.items()}
        for round_number in range(options.rounds):
            order = names if round_number % 2 == 0 else names[::-1]
            for scenario in options.scenarios:
                for name in order:
                    if scenario not in targets[name]:
                        continue
                    if servers[name].process.poll() is not None:
                        # Something else on the shared machine stopped it; start it again.
                        log(f"  {name} exited (code {servers[name].process.returncode}); restarting it")
                        servers[name] = Server(name, size)
                        servers[name].wait_ready("/api/products/")
                    result = load(servers[name], size, scenario, targets[name][scenario], options)
                    best = results[name].get(scenario)
                    if best:
                        # Best of the rounds: the one least disturbed by the rest of the machine.
                        result["lost_updates"] = result.get("lost_updates", 0) + best.get("lost_updates", 0)
                    if not best or result["rps"] > best["rps"]:
                        results[name][scenario] = result
        for name, server in servers.items():
            results[name]["_peak_rss_mib"] = server.peak_rss_mib()
    finally:
        for server in servers.values():
            server.stop()
    return results


# ---------------------------------------------------------------- report


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    pg = seed.scalar(f"{seed.SERVER_URL}/postgres", "SHOW server_version")
    wrk_version = (
        subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].strip()
        if shutil.which("wrk")
        else "no wrk"
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "postgresql": pg,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version,
    }


def rps_of(result):
    """Return measured req/s, or the upper bound when no request finished within the timeout."""
    return result["rps"] or result.get("rps_upper_bound", 0)


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "-"


def earlier_result(size):
    """Return the newest saved results for ``size`` (to compare 1M latencies with 10k)."""
    files = sorted(RESULTS.glob(f"*-{size}.json"))
    return json.loads(files[-1].read_text()) if files else None


def render(size, data, small=None):
    results = data["results"]
    m = data["machine"]
    lines = [
        f"# Benchmark: {size:,} products, {data['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; PostgreSQL {m['postgresql']};"
        f" Python {m['python']}; kernel {m['kernel']}; {m['wrk']}.",
        f"Load average before / after the run: {data['load_before']} / {data['load_after']}"
        " (the machine is shared with other processes, e.g. test suites; wrk, gunicorn and PostgreSQL"
        " all run on the same cores, so absolute numbers are low and ratios are what to read).",
        f"wrk -t{data['options']['threads']} -c{data['options']['connections']} -d{data['options']['duration']}s"
        f" per scenario after a {data['options']['warmup']}s warm-up; gunicorn 2 sync workers, no access log,"
        " no worker recycling, identical for all three servers (bench/gunicorn_bench.py).",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | non-2xx | this/baseline | this/floor |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scenario in SCENARIOS:
        row = {name: results.get(name, {}).get(scenario) for name in SERVERS}
        if not any(row.values()):
            continue
        this = row["service"]["rps"] if row["service"] else None
        for name, result in row.items():
            if not result:
                continue
            vs_baseline = ratio(this, rps_of(row["baseline"])) if name == "service" and row["baseline"] else ""
            if name == "service" and row["baseline"].get("rps_upper_bound") and vs_baseline != "-":
                vs_baseline = ">= " + vs_baseline
            vs_floor = ratio(this, row["floor"]["rps"]) if name == "service" and row["floor"] else ""
            if result.get("lone_request_s"):
                lines.append(
                    f"| {SCENARIO_TITLES[scenario]} | {name} | 0 (none within wrk's 10 s timeout; one request alone"
                    f" took {result['lone_request_s']:.1f} s, so <= {result['rps_upper_bound']:.2f}) | - | - | - |"
                    f" | |"
                )
                continue
            lines.append(
                f"| {SCENARIO_TITLES[scenario]} | {name} | {result['rps']:.0f} | {result['p50_us'] / 1000:.2f}"
                f" | {result['p99_us'] / 1000:.2f} | {result['non_2xx'] + result['socket_errors']}"
                f" | {vs_baseline} | {vs_floor} |"
            )
    lines += ["", "Stock adjust (16 connections, one product, +1 each):", ""]
    lines += ["| server | accepted 200s | quantity change | ledger rows added | ledger sum = quantity | lost updates |"]
    lines += ["| --- | ---: | ---: | ---: | --- | ---: |"]
    for name in ("service", "baseline"):
        result = results.get(name, {}).get("stock")
        if result:
            lines.append(
                f"| {name} | {result['accepted']} | {result['quantity_delta']} | {result['ledger_added']}"
                f" | {'yes' if result['ledger_matches_quantity'] else 'NO'} | {result['lost_updates']} |"
            )
    lines += ["", "Peak RSS per gunicorn worker (VmHWM, MiB):", ""]
    for name in SERVERS:
        peaks = results.get(name, {}).get("_peak_rss_mib")
        if peaks is not None:
            lines.append(f"- {name}: " + ", ".join(f"{peak:.1f}" for peak in peaks))
    rebuild = data.get("rebuild")
    if rebuild:
        lines += [
            "",
            f"Read-model rebuild at {size:,} products: `rebuild.rebuild_all()` (fill copies without indexes,"
            " index them, swap them in) over"
            f" {rebuild.get('rebuild_on', 'full read tables')} {rebuild['rebuild_s']:.2f} s;"
            " a bare `INSERT ... SELECT` of the same rows into empty copies"
            f" of the read tables with the same indexes {rebuild['bare_insert_s']:.2f} s"
            f" (ratio {rebuild['rebuild_s'] / rebuild['bare_insert_s']:.2f}x, target <= 2x); into copies without"
            f" indexes {rebuild['bare_insert_no_index_s']:.2f} s"
            f" (ratio {rebuild['rebuild_s'] / rebuild['bare_insert_no_index_s']:.2f}x)."
            + (f" (Measured in the run of {rebuild['measured']}.)" if rebuild.get("measured") else "")
            + (
                " The DELETE + `INSERT ... ON CONFLICT` rebuild it replaced, same run:"
                f" {rebuild['delete_rebuild_s']:.2f} s"
                f" (swap / delete: {rebuild['rebuild_s'] / rebuild['delete_rebuild_s']:.2f}x, target <= 0.5x)."
                if rebuild.get("delete_rebuild_s")
                else ""
            ),
        ]
    seeded = data.get("last_seed") or {}
    parts = []
    if "service_write_seed_s" in seeded:
        parts.append(f"service write tables {seeded['service_write_seed_s']:.1f} s")
        parts.append(f"then rebuild() on empty read tables {seeded['service_first_rebuild']['rebuild_s']:.1f} s")
    if "baseline_seed_s" in seeded:
        parts.append(f"baseline tables {seeded['baseline_seed_s']:.1f} s")
    if parts:
        lines += ["", "Seeding (set-based, when the databases were last filled): " + "; ".join(parts) + "."]
    lines += ["", "Against the targets:", ""]
    lines += targets(size, results, small)
    return "\n".join(lines) + "\n"


def targets(size, results, small):
    def rps(name, scenario):
        result = results.get(name, {}).get(scenario)
        return rps_of(result) if result else None

    def check(label, value, goal, ok):
        return f"- {label}: {value} (target {goal}) {'met' if ok else 'NOT met'}"

    out = []
    for scenario, vs_base, vs_floor in (("list", 5, 0.5), ("detail", 2, 0.6)):
        this, base, floor = rps("service", scenario), rps("baseline", scenario), rps("floor", scenario)
        if this and base:
            value = this / base
            out.append(check(f"{scenario} vs baseline", f"{value:.2f}x", f">= {vs_base}x", value >= vs_base))
        if this and floor:
            value = this / floor
            out.append(check(f"{scenario} vs floor", f"{value:.2f}x", f">= {vs_floor}x", value >= vs_floor))
    this, base = rps("service", "stock"), rps("baseline", "stock")
    if this and base:
        lost = results["service"]["stock"]["lost_updates"]
        out.append(
            check(
                "hot stock adjust vs baseline",
                f"{this / base:.2f}x, {lost} lost",
                ">= 1.5x, 0 lost",
                this / base >= 1.5 and lost == 0,
            )
        )
    this, base = rps("service", "search"), rps("baseline", "search")
    if this and base:
        goal = ">= 20x at 1M" if size >= 1_000_000 else ">= 20x at 1M; informative at this size"
        bound = ">= " if results["baseline"]["search"].get("rps_upper_bound") else ""
        out.append(check("search vs baseline", f"{bound}{this / base:.2f}x", goal, this / base >= 20))
    if small and size > small["size"]:
        for scenario in ("page50", "filtered"):
            big = results.get("service", {}).get(scenario)
            little = small["results"].get("service", {}).get(scenario)
            if big and little:
                value = big["p50_us"] / little["p50_us"]
                label = f"{scenario} p50 latency {size:,} vs {small['size']:,}"
                out.append(check(label, f"{value:.2f}x", "<= 1.3x", value <= 1.3))
    return out


# ---------------------------------------------------------------- main


def rerender(path):
    """Write the markdown of a saved JSON result again (after a change to the report's layout)."""
    data = json.loads(Path(path).read_text())
    small = earlier_result(10000) if data["size"] > 10000 else None
    Path(path).with_suffix(".md").write_text(render(data["size"], data, small))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000", help="comma-separated product counts (10000,1000000)")
    parser.add_argument("--servers", default=",".join(SERVERS), help="subset of service,baseline,floor")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="subset of " + ",".join(SCENARIOS))
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load before each run (2)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every run; the best round is kept (1)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--no-rebuild", action="store_true", help="skip timing rebuild() against a bare insert")
    parser.add_argument(
        "--bare-only",
        action="store_true",
        help="time only the bare inserts; compare with rebuild() as timed at seeding (saves a rebuild at 1M)",
    )
    parser.add_argument("--reseed", action="store_true", help="seed again even when the counts match")
    options = parser.parse_args(argv)
    options.scenarios = options.scenarios.split(",")
    require_wrk()
    RESULTS.mkdir(parents=True, exist_ok=True)
    DATA.mkdir(exist_ok=True)
    info = machine()
    for size in (int(value) for value in options.sizes.split(",")):
        log(f"== {size:,} products")
        data = {
            "size": size,
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": info,
            "options": {k: getattr(options, k) for k in ("threads", "connections", "duration", "warmup", "rounds")},
        }
        data["seed"] = seed.ensure_seeded(size, log=log, force=options.reseed)
        data["last_seed"] = seed.last_seed_timings(size)
        if not options.no_rebuild:
            log("  timing rebuild() against a bare INSERT ... SELECT")
            data["rebuild"] = seed.time_rebuild(size, with_rebuild=not options.bare_only)
            if options.bare_only:
                # rebuild() as timed when the read tables were first filled (empty tables).
                data["rebuild"]["rebuild_s"] = data["last_seed"]["service_first_rebuild"]["rebuild_s"]
                data["rebuild"]["rebuild_on"] = "empty read tables, when seeded"
            log(
                f"    rebuild {data['rebuild']['rebuild_s']:.2f} s, bare {data['rebuild']['bare_insert_s']:.2f} s,"
                f" bare without indexes {data['rebuild']['bare_insert_no_index_s']:.2f} s"
            )
        elif earlier_result(size) and earlier_result(size).get("rebuild"):
            data["rebuild"] = earlier_result(size)["rebuild"]
            data["rebuild"]["measured"] = earlier_result(size)["date"]
        # Rebuilds and earlier stock runs leave dead rows; every server starts from clean statistics.
        seed.vacuum(seed.database_url("service", size))
        seed.vacuum(seed.database_url("baseline", size))
        data["load_before"] = load_average()
        data["results"] = bench_size(size, options.servers.split(","), options)
        data["load_after"] = load_average()
        small = earlier_result(10000) if size > 10000 else None
        stem = f"{datetime.date.today().isoformat()}-{size}"
        save_results(stem, data, render(size, data, small))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--rerender"]:
        for result_file in sys.argv[2:]:
            rerender(result_file)
    else:
        main()
