"""Coverage-guided fuzzing (atheris) of the classifier and the whole inbound pipeline,
for a bounded budget: no input may break a promise (``fuzz/targets.py``).

The harness runs as a subprocess (libFuzzer owns the process it fuzzes and ends it),
each target on its own temporary SQLite database; longer runs: ``fuzz/README.md``.
A fixed libFuzzer seed and a run count keep the inputs the same from run to run; the
time limit bounds the test on a slow machine.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "fuzz" / "inbound_atheris.py"
BUDGET = ["-seed=1", "-runs=200", "-max_total_time=12"]


def test_fuzzing_the_classifier_and_the_pipeline_finds_no_crash(tmp_path: Path) -> None:
    crashes = tmp_path / "crashes"
    result = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            "--quiet",
            "--parallel",
            "--crash-dir",
            str(crashes),
            *BUDGET,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.stdout.strip(), result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    found = {path.name: path.read_text() for path in sorted(crashes.glob("*.txt"))}
    assert summary["crashes"] == 0, found or summary
    assert result.returncode == 0, result.stderr[-3000:]
    for target in ("classifier", "pipeline"):
        ran = summary["targets"][target]
        assert ran["exit_code"] == 0
        assert ran["executions"] > ran["seeds"], ran  # it fuzzed, beyond reading the seeds
