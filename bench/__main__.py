"""The benchmark (make bench): the project's assistant against stock Rasa 3.6, same machine, same run. A report.

    python -m bench [--levels 1,20,100] [--turns 10] [--profile SECONDS]

1. Trains both, timed: the assistant (config.yml, `rasa train --force`) and a `rasa init --no-prompt` project
   (Rasa's default pipeline and policies), both from scratch, in var/bench/ (never committed).
2. Starts the production profile (scripts/prod/stack.py: PostgreSQL tracker store, Redis lock store, 2 Rasa servers
   behind nginx) with the fresh model and measures, at each level of concurrent conversations (closed loop, no think
   time), per-turn latency p50/p95/p99 and throughput over the REST channel: on one Rasa server directly, through
   nginx's load balancer over both (the REST channel, as stock Rasa is measured), and through the public nginx and
   the web server's widget proxy over both. Then stock Rasa as `rasa run` serves a `rasa init` project (its in-memory
   tracker store), directly. Message mix: the held-out family questions (tests/nlu_holdout.yml) for the assistant,
   the stock project's own greet/mood examples for stock Rasa.
3. Peak memory: the peak RSS (VmHWM) of each Rasa server process.
4. --profile N: py-spy samples the assistant's Rasa server for N seconds at 20 concurrent conversations and the
   report lists where the time goes.
Writes results/bench/report.md and report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bench import load
from bot.processes import BIN, ROOT, Service, base_env, free_port
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


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the highest resident set size the process has had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
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


def stock_server(project: Path) -> Service:
    """`rasa run` on the stock project: its model, its REST channel, its (in-memory) tracker store."""
    port = free_port()
    return Service(
        "stock rasa",
        [
            str(BIN / "rasa"), "run", "--model", str(project / "models"), "--port", str(port),
            "--credentials", str(project / "credentials.yml"), "--endpoints", str(project / "endpoints.yml"),
        ],
        port,
        "/webhooks/rest/",
        project.parent / "stock-rasa.log",
    )


def stock_messages(project: Path) -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [message.get("text") for message in load_data(str(project / "data" / "nlu.yml")).intent_examples]


def family_messages() -> List[str]:
    from tools.evaluate import holdout_examples

    return [text for text, _ in holdout_examples()]


def measure(bot: str, setup: str, url: str, pool: Sequence[str], levels: Sequence[int], turns: int) -> List[Row]:
    load.run(url, load.scripts(pool, 2, 10, prefix="warmup"), 2)
    rows = []
    for level in levels:
        result = load.run(url, load.scripts(pool, max(2 * level, 10), turns, prefix=f"bench{level}"), level)
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


def table(rows: List[Row], memory: Dict[str, float], training: Dict[str, float]) -> str:
    stock = {row.concurrency: row.stats for row in rows if row.bot == "stock"}
    lines = [
        "| bot | set-up | concurrent | turns | errors | p50 ms | p95 ms | p99 ms | turns/s | throughput vs stock"
        " | p95 vs stock |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s, base = row.stats, stock.get(row.concurrency)
        ratio = f"{s.throughput / base.throughput:.1f}x" if base and row.bot != "stock" else ""
        p95 = f"{s.p95_ms / base.p95_ms:.2f}" if base and row.bot != "stock" else ""
        lines.append(
            f"| {row.bot} | {row.setup} | {row.concurrency} | {s.turns} | {s.errors} | {s.p50_ms:.0f} | {s.p95_ms:.0f}"
            f" | {s.p99_ms:.0f} | {s.throughput:.1f} | {ratio} | {p95} |"
        )
    lines += ["", "| bot | training (s) | peak RSS per Rasa server (MB) |", "|---|---|---|"]
    for bot in training:
        rss = ", ".join(f"{value:.0f}" for key, value in memory.items() if key.startswith(bot))
        lines.append(f"| {bot} | {training[bot]:.0f} | {rss} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,20,100", help="concurrent conversations, comma-separated")
    parser.add_argument("--turns", type=int, default=10, help="turns per conversation")
    parser.add_argument("--profile", type=int, default=0, metavar="SECONDS", help="py-spy the assistant's server")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    shutil.rmtree(WORKDIR, ignore_errors=True)
    (WORKDIR / "stack").mkdir(parents=True)
    for directory in (WORKDIR, WORKDIR / "stack"):
        directory.chmod(0o755)  # PostgreSQL runs as its own user
    RESULTS.mkdir(parents=True, exist_ok=True)
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"

    print("training the assistant and the stock `rasa init` project ...", flush=True)
    model, ours_seconds = train(ROOT / "config.yml", WORKDIR / "models", "benzo-family")
    training = {"ours": ours_seconds, "stock": stock_project(WORKDIR)}
    rows: List[Row] = []
    memory: Dict[str, float] = {}
    findings: Optional[List[str]] = None

    stack = Stack(test_settings(WORKDIR / "stack", MODEL=str(model)))
    stack.start()
    try:
        pool = family_messages()
        rows += measure("ours", "1 Rasa server, direct", stack.rasa[0].url, pool, levels, args.turns)
        balancer = f"http://127.0.0.1:{stack.settings['RASA_LB_PORT']}"
        rows += measure("ours", "2 Rasa servers, nginx", balancer, pool, levels, args.turns)
        rows += measure("ours", "2 Rasa servers, nginx + web", stack.url, pool, levels, args.turns)
        if args.profile:
            findings = profile(stack.pid(stack.rasa[0].name), args.profile, stack.rasa[0].url, pool, RESULTS)
        for server in stack.rasa:
            memory[f"ours {server.name}"] = peak_rss_mb(stack.pid(server.name))
    finally:
        stack.stop()

    project = WORKDIR / "stock"
    stock = stock_server(project).start(timeout=300)
    try:
        rows += measure("stock", "1 Rasa server, direct", stock.url, stock_messages(project), levels, args.turns)
        assert stock.proc is not None
        memory["stock rasa"] = peak_rss_mb(stock.proc.pid)
    finally:
        stock.stop()

    report = table(rows, memory, training)
    command = " ".join(["python -m bench", *sys.argv[1:]])
    text = f"`{command}` on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}\n\n{report}\n"
    if findings:
        text += "\nWhere the assistant's Rasa server spends its time (py-spy, share of samples):\n\n```\n"
        text += "\n".join(findings) + "\n```\n"
    (RESULTS / "report.md").write_text(text)
    (RESULTS / "report.json").write_text(
        json.dumps({"rows": [asdict(row) for row in rows], "memory_mb": memory, "training_s": training}, indent=2)
    )
    print(text)


if __name__ == "__main__":
    main()
