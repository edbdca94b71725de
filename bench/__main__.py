"""The benchmark (make bench): the project's assistant against stock Rasa 3.6, same machine, same run. A report.

    python -m bench [--levels 1,20,100] [--turns 10] [--rounds 5] [--profile SECONDS]

1. Trains both, timed: the assistant (config.yml, `rasa train --force`) and a `rasa init --no-prompt` project
   (Rasa's default pipeline and policies), both from scratch, in var/bench/ (never committed).
2. Process against process (the headline): one Rasa server of ours as `make run` starts it (bot.rasa.cli, the
   SQLite tracker store of endpoints.yml, its action server) against one stock `rasa run` of the `rasa init` bot,
   both up at once, measured with the same harness in alternating order (ours, stock, ours, stock, ...), --rounds
   rounds at 1 and 20 concurrent conversations of 20 turns: the median and the spread (min-max) of the rounds.
   Then the cost of a turn against the length of the conversation: one conversation of 50 turns at a time, the
   latency of turns 2, 10, 25 and 50 (median over --rounds conversations per bot, alternating). Then the resident
   memory (RSS now and peak) of each of the two processes.
3. Starts the production profile (scripts/prod/stack.py: PostgreSQL tracker store, Redis lock store, 2 Rasa servers
   behind nginx) with the fresh model and measures, at each level of concurrent conversations (closed loop, no think
   time), per-turn latency p50/p95/p99 and throughput over the REST channel: on one Rasa server directly, through
   nginx's load balancer over both (the REST channel, as stock Rasa is measured), and through the public nginx over
   both (the widget's path: its rate limit and CORS, then the Rasa servers).
   Then stock Rasa set up the same way: 2 `rasa run` servers of the
   `rasa init` project on the same PostgreSQL (Rasa's SQL tracker store) and Redis (Rasa's lock store), behind a
   listener of the same nginx configured as ours (replicas against replicas); and one stock `rasa run` with its
   in-memory tracker store, directly. Message mix: the held-out family questions (tests/nlu_holdout.yml) for the
   assistant, the stock project's own greet/mood examples for stock Rasa.
4. Peak memory: the peak RSS (VmHWM) of each Rasa server process.
5. --profile N: py-spy samples the assistant's Rasa server for N seconds at 20 concurrent conversations and the
   report lists where the time goes.
6. Fairness: through the public nginx, six families at a message a second in alternating rounds with and without
   a client flooding at ten times that rate: the families' p95 in each kind of round (tests/test_prod.py checks
   that every family message is answered and the flood is refused beyond nginx's limit; the ratio is a figure).
Writes results/bench/report.md and report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from bench import load
from bot.processes import BIN, ROOT, Service, action_service, base_env, free_port, rasa_service
from scripts.prod.stack import Stack, test_settings
from tools.training import train

WORKDIR = ROOT / "var" / "bench"
RESULTS = ROOT / "results" / "bench"


@dataclass
class Row:
    bot: str
    setup: str
    concurrency: int
    stats: load.Stats


def peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    """VmHWM: the highest resident set size the process has had (VmRSS: the current one)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(cmd: List[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=base_env())
    return time.perf_counter() - start


def stock_project(workdir: Path) -> float:
    """`rasa init --no-prompt` (scaffold + training with Rasa's defaults); its wall-clock seconds."""
    (workdir / "stock").mkdir()
    return timed([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", "stock"], workdir)


def stock_server(project: Path, endpoints: Optional[Path] = None, port: Optional[int] = None) -> Service:
    """`rasa run` on the stock project: its model, its REST channel, its (in-memory) tracker store, or the endpoints
    given (the production profile's PostgreSQL and Redis)."""
    port = port or free_port()
    return Service(
        f"stock rasa {port}",
        [
            str(BIN / "rasa"), "run", "--model", str(project / "models"), "--port", str(port),
            "--credentials", str(project / "credentials.yml"),
            "--endpoints", str(endpoints or project / "endpoints.yml"),
        ],
        port,
        "/webhooks/rest/",
        project.parent / f"stock-rasa-{port}.log",
    )


def stock_replicas(stack: Stack, project: Path, ports: Sequence[int]) -> List[Service]:
    """Stock Rasa set up as our production profile is: its servers on the profile's PostgreSQL (Rasa's SQL tracker
    store, the same database) and Redis (Rasa's Redis lock store, a database of its own)."""
    s, secrets = stack.settings, stack.settings.secrets()
    endpoints = {
        "tracker_store": {"type": "sql", "dialect": "postgresql", "url": "127.0.0.1", "port": s.port("PG_PORT"),
                          "db": s["PG_DB"], "username": s["PG_USER"], "password": secrets["PG_PASSWORD"]},
        "lock_store": {"type": "redis", "url": "127.0.0.1", "port": s.port("REDIS_PORT"),
                       "password": secrets["REDIS_PASSWORD"], "db": 2, "key_prefix": "stock"},
    }
    path = WORKDIR / "stock-prod-endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    path.chmod(0o600)
    return [stock_server(project, path, port) for port in ports]


def stock_balancer(stack: Stack, ports: Sequence[int], balancer_port: int) -> None:
    """A listener of the profile's nginx over the stock servers, configured as its balancer over ours (least_conn,
    keep-alive, the same timeouts): nginx includes $PROD_DIR/nginx/conf.d/*.conf."""
    servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports)
    conf = stack.nginx.dir / "conf.d"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "stock.conf").write_text(f"""
    upstream stock_rasa {{
        least_conn;
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{balancer_port};
        location = /webhooks/rest/webhook {{
            proxy_pass http://stock_rasa;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
        location = /webhooks/rest/ {{
            proxy_pass http://stock_rasa;
        }}
    }}
""")


def make_run_server(workdir: Path, model: Path) -> List[Service]:
    """One Rasa server and its action server as `make run` starts them (scripts/dev.py): bot.rasa.cli, endpoints.yml
    with its SQLite tracker store (here a file of its own in `workdir`); the action server first."""
    actions_port = free_port()
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://localhost:{actions_port}/webhook"
    endpoints["tracker_store"]["db"] = str(workdir / "ours.db")
    path = workdir / "ours-endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    actions = action_service(actions_port, workdir / "ours-actions.log").start(timeout=300)
    return [actions, rasa_service(free_port(), path, workdir / "ours-rasa.log", model).start(timeout=300)]


@dataclass
class Spread:
    median: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.median:.1f} ({self.low:.1f}-{self.high:.1f})"


def spread(values: Sequence[float]) -> Spread:
    return Spread(statistics.median(values), min(values), max(values))


def process_rounds(
    servers: Dict[str, str], pools: Dict[str, Sequence[str]], levels: Sequence[int], rounds: int
) -> Dict[str, Any]:
    """Each bot's one process at each level, `rounds` times, bots alternating within each round and the first bot
    alternating between rounds; per bot and level the median and spread of throughput, p50 and p95."""
    runs: Dict[str, Dict[int, List[load.Stats]]] = {bot: {level: [] for level in levels} for bot in servers}
    order = list(servers)
    for bot, url in servers.items():
        load.run(url, load.scripts(pools[bot], 4, 10, prefix="warmup"), 4)
    for number in range(rounds):
        for bot in order if number % 2 == 0 else order[::-1]:
            for level in levels:
                result = load.run(servers[bot], load.scripts(pools[bot], level, 20, seed=number,
                                                             prefix=f"proc{level}"), level)
                runs[bot][level].append(load.stats(result))
                print(f"  round {number + 1} {bot:6} {level:3} concurrent: {runs[bot][level][-1]}", flush=True)
    return {
        bot: {level: {"throughput": spread([s.throughput for s in stats]), "p50_ms": spread([s.p50_ms for s in stats]),
                      "p95_ms": spread([s.p95_ms for s in stats]), "errors": sum(s.errors for s in stats)}
              for level, stats in per_level.items()}
        for bot, per_level in runs.items()
    }


TURNS_MEASURED = (2, 10, 25, 50)


def turn_costs(servers: Dict[str, str], pools: Dict[str, Sequence[str]], rounds: int) -> Dict[str, Dict[int, Spread]]:
    """Latency (ms) of turns 2, 10, 25 and 50 of one 50-turn conversation, alone on the server; `rounds`
    conversations per bot (at least 5), alternating; the median and spread per turn."""
    seconds: Dict[str, Dict[int, List[float]]] = {bot: {n: [] for n in TURNS_MEASURED} for bot in servers}
    for number in range(max(rounds, 5)):
        for bot in servers:
            result = load.run(servers[bot], load.scripts(pools[bot], 1, 50, seed=number, prefix="long"), 1)
            turns = result.conversations[0].turns
            for n in TURNS_MEASURED:
                seconds[bot][n].append(turns[n - 1].seconds * 1000 if turns[n - 1].ok else float("nan"))
    return {bot: {n: spread(values) for n, values in per_turn.items()} for bot, per_turn in seconds.items()}


def process_report(rounds: Dict[str, Any], costs: Dict[str, Dict[int, Spread]], rss: Dict[str, Dict[str, float]],
                   count: int) -> str:
    lines = [
        f"One process against one process: median (min-max) of {count} alternating rounds, 20 turns per conversation",
        "",
        "| bot | concurrent | turns/s | p50 ms | p95 ms | errors | throughput vs stock | p95 vs stock |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for bot, per_level in rounds.items():
        for level, row in per_level.items():
            base = rounds["stock"][level]
            ratio = f"{row['throughput'].median / base['throughput'].median:.2f}x" if bot != "stock" else ""
            p95 = f"{row['p95_ms'].median / base['p95_ms'].median:.2f}" if bot != "stock" else ""
            lines.append(f"| {bot} | {level} | {row['throughput']} | {row['p50_ms']} | {row['p95_ms']} |"
                         f" {row['errors']} | {ratio} | {p95} |")
    lines += ["", "Cost of a turn against the length of the conversation (one conversation alone on the server, ms, "
              f"median (min-max) of {max(count, 5)})", "",
              "| bot | " + " | ".join(f"turn {n}" for n in TURNS_MEASURED) + " | turn 50 / turn 2 |",
              "|---|" + "---|" * (len(TURNS_MEASURED) + 1)]
    for bot, per_turn in costs.items():
        ratio = per_turn[50].median / per_turn[2].median
        lines.append(f"| {bot} | " + " | ".join(str(per_turn[n]) for n in TURNS_MEASURED) + f" | {ratio:.2f} |")
    lines += ["", "| Rasa process | RSS now (MB) | peak RSS (MB) |", "|---|---|---|"]
    lines += [f"| {bot} | {value['rss']:.0f} | {value['peak']:.0f} |" for bot, value in rss.items()]
    return "\n".join(lines)


def stock_messages(project: Path) -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [message.get("text") for message in load_data(str(project / "data" / "nlu.yml")).intent_examples]


def family_messages() -> List[str]:
    from tools.evaluate import holdout_examples

    return [text for text, _ in holdout_examples()]


_clients = [0]  # client addresses used so far: each conversation of the production runs talks from a new one


def _new_clients(count: int) -> int:
    """The first of `count` client numbers not used yet (nginx limits each address: 180 messages a minute, 20 at
    once; a family, not a benchmark, is what the limit is for)."""
    first = _clients[0]
    _clients[0] += count
    return first


def measure(bot: str, setup: str, url: str, pool: Sequence[str], levels: Sequence[int], turns: int) -> List[Row]:
    load.run(url, load.scripts(pool, 2, 10, prefix="warmup"), 2, first_client=_new_clients(2))
    rows = []
    for level in levels:
        count = max(2 * level, 10)
        result = load.run(url, load.scripts(pool, count, turns, prefix=f"bench{level}"), level,
                          first_client=_new_clients(count))
        rows.append(Row(bot, setup, level, load.stats(result)))
        print(f"  {bot:6} {setup:28} {level:4} concurrent: {rows[-1].stats}", flush=True)
    return rows


def profile(pid: int, seconds: int, url: str, pool: Sequence[str], out: Path) -> List[str]:
    """py-spy while 20 conversations talk to the server; the busiest functions (share of samples on the stack)."""
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        return ["py-spy is not installed (python3 -m pip install py-spy)"]
    raw = out / "profile.txt"
    spy = subprocess.Popen(
        # blocking mode: --nonblocking reads the stacks while they change and attributes samples to wrong frames
        [py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "100", "-f", "raw", "-o", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        load.run(url, load.scripts(pool, 20, 10, prefix="profile"), 20)
    spy.wait()
    return summarize_profile(raw)


# Where a turn's time goes: a sample counts for a part when one of its frames matches (parts may nest).
PROFILE_PARTS = {
    "whole turn (REST channel handler)": "receive (bot/rasa/channels/rest.py",
    "tracker store: read (PostgreSQL)": "retrieve (bot/rasa/tracker_store.py",
    "tracker store: write (PostgreSQL)": "save (bot/rasa/tracker_store.py",
    "NLU pipeline (parse_message)": "parse_message (rasa/core/processor.py",
    "dialogue policies (predict next action)": "_predict_next_with_tracker (rasa/core/processor.py",
    "custom actions (call to the action server)": "run (rasa/core/actions/action.py",
    "  of which: response validation (jsonschema)": "(jsonschema/",
    "conversation lock (Redis)": "(redis/",
}


def summarize_profile(raw: Path, top: int = 10) -> List[str]:
    """Share of py-spy samples (collapsed stacks, "frame;frame;... count") per part of a turn, and the functions
    with the most samples of their own."""
    parts: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        own[stack.split(";")[-1]] += int(count)
        for part, pattern in PROFILE_PARTS.items():
            if pattern in stack:
                parts[part] += int(count)
    lines = [f"{100 * parts[part] / total:5.1f}%  {part}" for part in PROFILE_PARTS]
    lines += ["", "functions with the most samples of their own:"]
    lines += [f"{100 * count / total:5.1f}%  {frame}" for frame, count in own.most_common(top)]
    return lines


REPLICAS = "2 Rasa servers, nginx"
PUBLIC = "2 Rasa servers, public nginx"  # the widget's path: rate limit, CORS, then the Rasa servers


def baseline(row: Row, rows: List[Row]) -> Optional[load.Stats]:
    """What a row of ours is compared with: stock set up the same way (its replicas behind nginx for both of our
    set-ups through nginx), at the same level."""
    setup = "1 Rasa server, direct" if row.setup == "1 Rasa server, direct" else REPLICAS
    found = [r.stats for r in rows if r.bot == "stock" and r.setup == setup and r.concurrency == row.concurrency]
    return found[0] if found else None


def table(rows: List[Row], memory: Dict[str, float], training: Dict[str, float]) -> str:
    lines = [
        "| bot | set-up | concurrent | turns | errors | p50 ms | p95 ms | p99 ms | turns/s | throughput vs stock"
        " | p95 vs stock |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s, base = row.stats, baseline(row, rows)
        ratio = f"{s.throughput / base.throughput:.1f}x" if base and row.bot != "stock" else ""
        p95 = f"{s.p95_ms / base.p95_ms:.2f}" if base and row.bot != "stock" else ""
        lines.append(
            f"| {row.bot} | {row.setup} | {row.concurrency} | {s.turns} | {s.errors} | {s.p50_ms:.0f} | {s.p95_ms:.0f}"
            f" | {s.p99_ms:.0f} | {s.throughput:.1f} | {ratio} | {p95} |"
        )
    lines += ["", "| bot | training (s) | peak RSS per Rasa server (MB) |", "|---|---|---|"]
    for bot in ("ours", "stock"):
        rss = ", ".join(f"{key.split(' ', 1)[1]}: {value:.0f}" for key, value in memory.items() if key.startswith(bot))
        seconds = f"{training[bot]:.0f}" if bot in training else ""
        lines.append(f"| {bot} | {seconds} | {rss} |")
    return "\n".join(lines)


def compare_processes(model: Path, project: Path, count: int) -> Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]:
    """Item 2 of the module's description: rounds, cost per turn and memory of one process against one process."""
    pools = {"ours": family_messages(), "stock": stock_messages(project)}
    (WORKDIR / "ours.db").unlink(missing_ok=True)
    started = make_run_server(WORKDIR, model)
    try:
        started.append(stock_server(project).start(timeout=300))
        servers = {"ours": started[1].url, "stock": started[2].url}
        rounds = process_rounds(servers, pools, [1, 20], count)
        costs = turn_costs(servers, pools, count)
        rss = {}
        for bot, service in (("ours", started[1]), ("stock", started[2])):
            assert service.proc is not None
            rss[bot] = {"rss": peak_rss_mb(service.proc.pid, "VmRSS"), "peak": peak_rss_mb(service.proc.pid)}
    finally:
        for service in reversed(started):
            service.stop()
    return rounds, costs, rss


def processes_only(count: int) -> None:
    """The process comparison alone, on the models the last full run trained (for measuring a change quickly)."""
    model, project = WORKDIR / "models" / "benzo-family.tar.gz", WORKDIR / "stock"
    if not model.exists() or not (project / "models").exists():
        sys.exit("--processes-only needs the models of a full `python -m bench` run in var/bench/")
    start_load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    rounds, costs, rss = compare_processes(model, project, count)
    end_load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average at the start {start_load}, at the end {end_load}\n")
    print(process_report(rounds, costs, rss, count), flush=True)


def fairness_report(url: str, pool: Sequence[str]) -> str:
    """Item 6: the families' p95 in rounds with and without a flooding client (bench.load.fairness)."""
    result = load.fairness(url, pool)
    quiet, busy = result.p95_ms(False), result.p95_ms(True)
    refused = sum(turn.status == 429 for turn in result.flood)
    unanswered = sum(not turn.ok for turn in result.quiet + result.flooded)
    return (f"A flooding client (public nginx, 6 families at a message a second, 6 alternating rounds of 10 s, every "
            f"other one with a client at ten times that rate): families' p95 {quiet:.0f} ms unflooded, {busy:.0f} ms "
            f"flooded ({busy / quiet:.2f}x); {unanswered} family turns unanswered; the flood's {len(result.flood)} "
            f"messages: {refused} refused with 429.")


def compare_production(
    model: Path, project: Path, levels: Sequence[int], turns: int, profile_seconds: int
) -> Tuple[List[Row], Dict[str, float], Optional[List[str]], str]:
    """Items 3, 4 and 6 of the module's description: the production profile against stock set up the same way."""
    rows: List[Row] = []
    memory: Dict[str, float] = {}
    findings: Optional[List[str]] = None
    stack = Stack(test_settings(WORKDIR / "stack", MODEL=str(model)))
    stock_ports, stock_lb = [free_port() for _ in stack.rasa], free_port()
    stock_balancer(stack, stock_ports, stock_lb)
    stack.start()
    try:
        pool = family_messages()
        rows += measure("ours", "1 Rasa server, direct", stack.rasa[0].url, pool, levels, turns)
        balancer = f"http://127.0.0.1:{stack.settings['RASA_LB_PORT']}"
        rows += measure("ours", REPLICAS, balancer, pool, levels, turns)
        rows += measure("ours", PUBLIC, stack.url, pool, levels, turns)
        fairness = fairness_report(stack.url, pool)
        if profile_seconds:
            findings = profile(stack.pid(stack.rasa[0].name), profile_seconds, stack.rasa[0].url, pool, RESULTS)
        for server in stack.rasa:
            memory[f"ours {server.name}"] = peak_rss_mb(stack.pid(server.name))
        for server in stack.rasa:  # idle from here on; stopped so that stock's replicas have the machine alone
            stack.stop_service(server.name)
        replicas: List[Service] = []
        try:
            for service in stock_replicas(stack, project, stock_ports):
                replicas.append(service.start(timeout=300))
            rows += measure("stock", REPLICAS, f"http://127.0.0.1:{stock_lb}", stock_messages(project), levels,
                            turns)
            for service in replicas:
                assert service.proc is not None
                memory[f"stock {service.name}"] = peak_rss_mb(service.proc.pid)
        finally:
            for service in replicas:
                service.stop()
    finally:
        stack.stop()

    stock = stock_server(project).start(timeout=300)
    try:
        rows += measure("stock", "1 Rasa server, direct", stock.url, stock_messages(project), levels, turns)
        assert stock.proc is not None
        memory["stock rasa (in-memory store)"] = peak_rss_mb(stock.proc.pid)
    finally:
        stock.stop()

    return rows, memory, findings, fairness


def production_only(levels: Sequence[int], turns: int) -> None:
    """The production comparison alone, on the models of the last full run (for measuring a change quickly)."""
    model, project = WORKDIR / "models" / "benzo-family.tar.gz", WORKDIR / "stock"
    if not model.exists() or not (project / "models").exists():
        sys.exit("--production-only needs the models of a full `python -m bench` run in var/bench/")
    shutil.rmtree(WORKDIR / "stack", ignore_errors=True)
    (WORKDIR / "stack").mkdir()
    (WORKDIR / "stack").chmod(0o755)
    start_load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    rows, memory, _, fairness = compare_production(model, project, levels, turns, 0)
    end_load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average at the start {start_load}, at the end {end_load}\n")
    print(table(rows, memory, {}), flush=True)
    print(f"\n{fairness}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,20,100", help="concurrent conversations, comma-separated")
    parser.add_argument("--turns", type=int, default=10, help="turns per conversation")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of the process comparison")
    parser.add_argument("--profile", type=int, default=0, metavar="SECONDS", help="py-spy the assistant's server")
    parser.add_argument("--processes-only", action="store_true",
                        help="only the process comparison, on the models of the last run (var/bench; while working)")
    parser.add_argument("--production-only", action="store_true",
                        help="only the production comparison, on the models of the last run (var/bench)")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    if args.processes_only:
        processes_only(args.rounds)
        return
    if args.production_only:
        production_only(levels, args.turns)
        return
    start_load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    shutil.rmtree(WORKDIR, ignore_errors=True)
    (WORKDIR / "stack").mkdir(parents=True)
    for directory in (WORKDIR, WORKDIR / "stack"):
        directory.chmod(0o755)  # PostgreSQL runs as its own user
    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"

    print("training the assistant and the stock `rasa init` project ...", flush=True)
    model, ours_seconds = train(ROOT / "config.yml", WORKDIR / "models", "benzo-family")
    training = {"ours": ours_seconds, "stock": stock_project(WORKDIR)}
    print("one process against one process ...", flush=True)
    project = WORKDIR / "stock"
    rounds, costs, rss = compare_processes(model, project, args.rounds)
    processes = process_report(rounds, costs, rss, args.rounds)
    print(processes, flush=True)

    rows, memory, findings, fairness = compare_production(model, project, levels, args.turns, args.profile)

    report = table(rows, memory, training)
    command = " ".join(["python -m bench", *sys.argv[1:]])
    load_average = " ".join(f"{value:.2f}" for value in os.getloadavg())
    text = (f"`{command}` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}, load average at the start "
            f"{start_load}, at the end {load_average}\n\n{processes}\n\nThe production profile against stock Rasa:\n\n"
            f"{report}\n\n{fairness}\n")
    if findings:
        text += "\nWhere the assistant's Rasa server spends its time (py-spy, share of samples):\n\n```\n"
        text += "\n".join(findings) + "\n```\n"
    (RESULTS / "report.md").write_text(text)
    (RESULTS / "report.json").write_text(
        json.dumps({"rows": [asdict(row) for row in rows], "memory_mb": memory, "training_s": training,
                    "processes": json.loads(json.dumps(rounds, default=asdict)),
                    "turn_costs_ms": json.loads(json.dumps(costs, default=asdict)), "process_rss_mb": rss},
                   indent=2)
    )
    print(text)


if __name__ == "__main__":
    main()
