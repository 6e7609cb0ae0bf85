"""Run every benchmark, print one table, write bench/results.json."""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = [
    ["classify.py"],
    ["send_throughput.py", "--database", "sqlite"],
    ["send_throughput.py", "--database", "postgres"],
    ["reply_latency.py", "--database", "sqlite"],
    ["reply_latency.py", "--database", "postgres"],
    ["pages.py", "--database", "sqlite"],
    ["pages.py", "--database", "postgres"],
]


def main() -> None:
    results = []
    for name, *args in BENCHMARKS:
        output = subprocess.run(
            [sys.executable, str(HERE / name), *args],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'benchmark':<32} {'figure':<44} {'goal':<8} ratio")
    for result in results:
        name = result["benchmark"]
        if result.get("database"):
            name += f" ({result['database']})"
        figure = result.get("figure", "")
        print(f"{name:<32} {figure:<44} {result.get('goal', ''):<8} {result.get('ratio', '')}")


if __name__ == "__main__":
    main()
