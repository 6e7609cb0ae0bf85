"""Run every benchmark, print one table, write bench/results.json.

Usage: python bench/run_all.py [--quick] [--only NAME,NAME]

Each benchmark prints its result as the last line of its output (one JSON
object; some hold several ``rows``). The table has one line per figure: the
figure, its goal, the ratio to the peer or limit measured in the same run, and
whether the goal is met. ``--quick`` runs the long benchmarks (crash, race,
scale) at their small sizes. A benchmark that fails is reported in the table
and makes the exit status non-zero; the others still run. With ``--only``
the results replace their own lines in the last results.json and the table
shows the whole file.
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
        return {
            "benchmark": name.removesuffix(".py"),
            "error": f"exit status {finished.returncode}",
            "seconds": seconds,
        }
    result: dict[str, Any] = json.loads(lines[-1])
    result.setdefault("seconds", seconds)
    return result


def key(result: dict[str, Any]) -> tuple[str, str]:
    return result["benchmark"], result.get("database", "")


def merged(new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """With ``--only``: the new results replace theirs in the last results.json."""
    path = HERE / "results.json"
    old: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []
    fresh = {key(result): result for result in new}
    kept = [fresh.pop(key(result), result) for result in old]
    return kept + list(fresh.values())


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
    if wanted:
        results = merged(results)
    (HERE / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    rows = [row for result in results for row in table_rows(result)]
    print_table(rows)
    return 0 if all("error" not in result for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
