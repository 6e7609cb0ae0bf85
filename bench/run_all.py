"""Run every benchmark, print one table, write bench/results.json.

Usage: python bench/run_all.py [--quick] [--only NAME,NAME]

Each benchmark prints its result as the last line of its output (one JSON
object; some hold several ``rows``). The table has one line per figure: the
figure, its goal, the ratio to the peer or limit measured in the same run, and
whether the goal is met. ``--quick`` runs the long benchmarks (crash, race,
scale) at their small sizes. A benchmark that fails is reported in the table
and makes the exit status non-zero; the others still run. With ``--only``
the results replace every earlier line of those benchmarks in the last
results.json and the table shows the whole file; the exit status is still
that of the benchmarks just run.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

BENCHMARKS = [
    ["classify.py"],
    ["send_throughput.py", "--database", "sqlite"],
    ["send_throughput.py", "--database", "postgres"],
    ["reply_latency.py", "--database", "sqlite"],
    ["reply_latency.py", "--database", "postgres"],
    ["pages.py", "--database", "sqlite"],
    ["pages.py", "--database", "postgres"],
    ["crash.py"],
    ["race.py"],
    ["scale.py"],
]
HAVE_QUICK = {"crash.py", "race.py", "scale.py"}


def run(name: str, args: list[str], quick: bool) -> dict[str, Any]:
    command = [sys.executable, str(HERE / name), *args]
    if quick and name in HAVE_QUICK:
        command.append("--quick")
    print(f"== {' '.join(command[1:])}", file=sys.stderr, flush=True)
    started = time.monotonic()
    # stderr (progress, details) goes to the terminal; stdout ends with the result.
    finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    seconds = round(time.monotonic() - started, 1)
    lines = finished.stdout.strip().splitlines()
    if finished.returncode != 0 or not lines:
        failure = {
            "benchmark": name.removesuffix(".py"),
            "error": f"exit status {finished.returncode}",
            "seconds": seconds,
        }
        if "--database" in args:
            failure["database"] = args[args.index("--database") + 1]
        return failure
    result: dict[str, Any] = json.loads(lines[-1])
    result.setdefault("seconds", seconds)
    return result


def merged(new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """With ``--only``: the new results replace every earlier result of the same
    benchmarks in the last results.json (all of them: a failed run's entry has no
    ``database`` to match a later success by), in their place."""
    path = HERE / "results.json"
    old: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    ran = {result["benchmark"] for result in new}
    kept: list[dict[str, Any]] = []
    for result in old:
        name = result["benchmark"]
        if name not in ran:
            kept.append(result)
        elif not any(r["benchmark"] == name for r in kept):
            kept.extend(r for r in new if r["benchmark"] == name)
    return kept + [r for r in new if not any(k is r for k in kept)]


def table_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: a benchmark's own rows, or the benchmark itself."""
    name = result["benchmark"]
    if result.get("database") and "rows" not in result:
        name += f" ({result['database']})"
    if "error" in result:
        return [{"name": name, "figure": "FAILED: " + result["error"], "met": False}]
    return result.get("rows") or [{**result, "name": name}]


def show(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    columns = [("benchmark", "name"), ("goal", "goal"), ("ratio", "ratio"), ("met", "met")]
    widths = {
        key: max(len(title), *(len(show(r.get(key))) for r in rows)) for title, key in columns
    }
    header = "  ".join(title.ljust(widths[key]) for title, key in columns) + "  figure"
    print(header)
    print("-" * len(header))
    for row in rows:
        cells = "  ".join(show(row.get(key)).ljust(widths[key]) for _, key in columns)
        print(f"{cells}  {show(row.get('figure'))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small crash, race and scale runs")
    parser.add_argument("--only", default="", help="e.g. crash,race (file names without .py)")
    args = parser.parse_args()
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    results = [
        run(name, rest, args.quick)
        for name, *rest in BENCHMARKS
        if not wanted or name.removesuffix(".py") in wanted
    ]
    # The exit status is this run's: an earlier failure kept in results.json is not.
    failed = any("error" in result for result in results)
    if wanted:
        results = merged(results)
    (HERE / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    rows = [row for result in results for row in table_rows(result)]
    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
