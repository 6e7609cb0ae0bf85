"""Coverage-guided fuzzing (atheris + libFuzzer) of the classifier and the inbound pipeline.

Usage: python fuzz/inbound_atheris.py [--target classifier|pipeline|both]
       [--corpus-dir DIR]... [--crash-dir DIR] [--quiet] [--parallel]
       [--replay FILE...] [libFuzzer flags, e.g. -runs=N -max_total_time=S -seed=N]

Each target runs in its own process (libFuzzer owns the process it fuzzes), with
the libFuzzer flags given, over a seed corpus written at start (``fuzz/seeds.py``)
plus every ``*.eml`` under each ``--corpus-dir``. An input that breaks a promise
(``fuzz/targets.py``) is saved once per kind of failure under ``--crash-dir`` with
what went wrong, and fuzzing goes on; libFuzzer's own findings (timeouts, out of
memory) are saved there too. The last line of output is one JSON object: inputs
executed, crashes, seconds, exec/s, per target. Exit status 0 when no crash.
"""

import argparse
import hashlib
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("classifier", "pipeline")
# Whose branches guide the fuzzer (checked at start): the inbound stages, the parsers.
INSTRUMENTED = [
    "email.feedparser",
    "email._header_value_parser",
    "cadency.inbound.classifier.parsing",
    "cadency.inbound.pipeline",
    "cadency.inbound.identity",
    "icalendar.cal.component",
    "flufl.bounce._scan",
]
EMAIL_MODULES = ["email.parser", "email.policy", "email.utils", "email.header", "email.iterators"]
DEFAULT_FLAGS = {
    "-timeout": "30",  # seconds for one input: a slower one is a hang, saved as a crash
    "-max_len": "65536",
    "-dict": str(Path(__file__).with_name("mail.dict")),
    "-print_final_stats": "1",
}
EXECUTED = re.compile(r"^stat::number_of_executed_units:\s*(\d+)", re.MULTILINE)
DONE = re.compile(r"^Done (\d+) runs", re.MULTILINE)
LIBFUZZER_FINDING = re.compile(r"^(crash|timeout|oom|leak)-")  # slow units: SLOW_SECONDS
# An input taking longer is a finding: normal messages take well under 0.1 s, and the
# watcher processes a mailbox's messages one at a time (a reply must act within 1 s).
SLOW_SECONDS = 10.0


# --- the worker: one target, in the process libFuzzer runs ----------------------------


class SlowInput(Exception):
    """One input took longer than SLOW_SECONDS: the watcher would stall on it."""


class Worker:
    """Runs one target on each input, tallies outcomes, saves each new kind of failure."""

    def __init__(self, target: str, stats: Path, crash_dir: Path, stats_every: float) -> None:
        self.target = target
        self.stats_every = stats_every
        self.slow = SLOW_SECONDS
        self.stats = stats
        self.crash_dir = crash_dir
        self.executions = 0
        self.crashing_inputs = 0
        self.kinds: dict[str, str] = {}  # kind of failure → reproducer file
        self.outcomes: Counter[str] = Counter()
        self.started_at = time.time()
        self.written = 0.0
        self.check: Callable[[bytes], str] = lambda raw: ""

    def one_input(self, data: bytes) -> None:
        self.executions += 1
        started = time.monotonic()
        try:
            self.outcomes[self.check(data)] += 1
        except Exception as exc:  # every escape is a finding, recorded, and fuzzing goes on
            self.record(data, exc)
        took = time.monotonic() - started
        if took > self.slow:
            self.record(data, SlowInput(f"slow input: more than {self.slow:g} s ({took:.1f} s)"))
        if time.monotonic() - self.written >= self.stats_every:
            self.write_stats()

    def record(self, data: bytes, exc: Exception) -> None:
        from fuzz.targets import Broken

        self.crashing_inputs += 1
        if isinstance(exc, Broken):
            kind, detail = exc.promise, exc.detail
        elif isinstance(exc, SlowInput):
            kind, detail = f"slow input: more than {self.slow:g} s", str(exc)
        else:
            frames = traceback.extract_tb(exc.__traceback__)
            where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
            kind = f"exception escaped: {type(exc).__name__} at {where}"
            detail = "".join(traceback.format_exception(exc))
        kind = re.sub(r"\d{3,}", "N", kind)[:300]
        if kind in self.kinds:
            return
        name = f"{self.target}-{hashlib.sha256(data).hexdigest()[:12]}"
        self.crash_dir.mkdir(parents=True, exist_ok=True)
        (self.crash_dir / f"{name}.eml").write_bytes(data)
        (self.crash_dir / f"{name}.txt").write_text(
            f"target: {self.target}\nkind: {kind}\ninput: {name}.eml ({len(data)} bytes)\n\n"
            f"{detail}\n",
            encoding="utf-8",
        )
        self.kinds[kind] = f"{name}.eml"
        print(f"\n== {self.target}: {kind} → {self.crash_dir / name}.eml", file=sys.stderr)
        self.write_stats()

    def write_stats(self) -> None:
        self.written = time.monotonic()
        data = {
            "executions": self.executions,
            "crashing_inputs": self.crashing_inputs,
            "kinds": self.kinds,
            "outcomes": dict(self.outcomes.most_common()),
            "started_at": self.started_at,
        }
        partial = self.stats.with_suffix(".part")
        partial.write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, self.stats)


def load_target(target: str, work: Path) -> Callable[[bytes], str]:
    """Django set up on a temporary SQLite database, the code under test instrumented.

    atheris instruments whole top-level packages, so the email parser is imported
    first under its hook, Django and the rest of Cadency without it, and then, under
    it again, the inbound stages Django has not loaded (classifier, identify, decide,
    act and the pipeline) with the calendar and bounce parsers they use.
    """
    import atheris  # type: ignore[import-untyped]

    os.environ.update(
        DJANGO_SETTINGS_MODULE="cadency.settings",
        CADENCY_VAR_DIR=str(work),
        DATABASE_URL=f"sqlite:///{work / 'fuzz.sqlite3'}",
        CADENCY_ALLOW_TEST_DOMAINS="1",
        CADENCY_LOG_LEVEL="CRITICAL",
    )
    with atheris.instrument_imports(include=["email"]):
        for module in EMAIL_MODULES:
            importlib.import_module(module)
    import django

    django.setup()
    with atheris.instrument_imports(include=["cadency", "icalendar", "flufl"]):
        from fuzz import targets
    missed = [name for name in INSTRUMENTED if not_instrumented(name)]
    if missed:  # imported before the hook: their branches would not guide the fuzzer
        print(f"warning: not instrumented: {missed}", file=sys.stderr)
    if target == "classifier":
        return targets.classifier_target
    mailbox = targets.prepare_database()
    return lambda raw: targets.pipeline_target(mailbox, raw)


def not_instrumented(module: str) -> bool:
    loader = getattr(sys.modules.get(module), "__loader__", None)
    return "Atheris" not in type(loader).__name__


def run_worker(args: argparse.Namespace, libfuzzer_args: list[str]) -> None:
    import atheris

    from fuzz.mutations import mutate

    worker = Worker(args.worker, args.work_dir / "stats.json", args.crash_dir, args.stats_every)
    worker.check = load_target(args.worker, args.work_dir)
    worker.started_at = time.time()
    worker.write_stats()

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        return mutate(data, max_size, seed, atheris.Mutate)

    atheris.Setup([sys.argv[0], *libfuzzer_args], worker.one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


# --- the driver: seeds, one worker process per target, the summary ---------------------


def write_seeds(folder: Path, corpus_dirs: list[Path]) -> int:
    from fuzz.seeds import SEEDS

    folder.mkdir(parents=True)
    for name, raw in SEEDS.items():
        (folder / f"{name}.eml").write_bytes(raw)
    count = len(SEEDS)
    for corpus in corpus_dirs:
        for path in sorted(corpus.rglob("*.eml")):
            count += 1
            shutil.copyfile(path, folder / f"extra-{count:05d}-{path.name}")
    return count


def libfuzzer_flags(given: list[str]) -> list[str]:
    named = {flag.split("=", 1)[0] for flag in given}
    return [*given, *(f"{k}={v}" for k, v in DEFAULT_FLAGS.items() if k not in named)]


def worker_command(
    target: str, work: Path, crash_dir: Path, args: argparse.Namespace, given: list[str]
) -> list[str]:
    inputs = [work / "corpus", work / "seeds"]  # libFuzzer adds the inputs it finds to the first
    return [
        sys.executable,
        str(Path(__file__).resolve()),
        *("--worker", target, "--work-dir", str(work), "--crash-dir", str(crash_dir)),
        *("--stats-every", "0" if args.replay else "1"),
        f"-artifact_prefix={crash_dir}/{target}-",
        *libfuzzer_flags(given),
        *(str(path.resolve()) for path in args.replay or inputs),
    ]


def run_target(target: str, args: argparse.Namespace, given: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"cadency-fuzz-{target}-") as temp:
        work = Path(temp)
        # Replaying: each file once, its findings kept apart from the saved reproducers.
        crash_dir: Path = work / "replayed" if args.replay else args.crash_dir.resolve()
        crash_dir.mkdir(parents=True, exist_ok=True)
        before = set(os.listdir(crash_dir))
        seeds = write_seeds(work / "seeds", args.corpus_dir)
        (work / "corpus").mkdir()
        started = time.time()
        command = worker_command(target, work, crash_dir, args, given)
        output = run_echoing(command, quiet=args.quiet, prefix=f"[{target}] " * args.parallel)
        ended = time.time()
        stats_file = work / "stats.json"
        stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
        grown = len(os.listdir(work / "corpus"))
        findings = sorted(
            name
            for name in set(os.listdir(crash_dir)) - before
            if LIBFUZZER_FINDING.match(name.removeprefix(f"{target}-"))
        )
    executed = EXECUTED.search(output) or DONE.search(output)
    executions = int(executed.group(1)) if executed else int(stats.get("executions", 0))
    fuzz_seconds = ended - float(stats.get("started_at", started))
    kinds: dict[str, str] = stats.get("kinds", {})
    return {
        "executions": executions,
        "crashes": len(kinds) + len(findings),
        "crashing_inputs": int(stats.get("crashing_inputs", 0)) + len(findings),
        "kinds": {**kinds, **{f"libFuzzer {name}": name for name in findings}},
        "seconds": round(ended - started, 1),  # with the set-up (Django, migrations)
        "fuzz_seconds": round(fuzz_seconds, 1),
        "exec_per_second": round(executions / fuzz_seconds, 1) if fuzz_seconds else 0.0,
        "seeds": seeds,
        "corpus_grown": grown,
        "outcomes": stats.get("outcomes", {}),
        "exit_code": output_code(output),
    }


def run_echoing(command: list[str], *, quiet: bool, prefix: str) -> str:
    """Run the worker; its output (libFuzzer's) goes to stderr unless quiet; returned."""
    process = subprocess.Popen(  # noqa: S603 (our own script, with sys.executable)
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if not quiet:
            sys.stderr.write(prefix + line)
    code = process.wait()
    return "".join(lines) + f"\nworker exit code: {code}\n"


def output_code(output: str) -> int:
    found = re.search(r"worker exit code: (-?\d+)\n$", output)
    return int(found.group(1)) if found else -1


def summary(results: dict[str, dict[str, Any]], seconds: float) -> dict[str, Any]:
    executions = sum(r["executions"] for r in results.values())
    crashes = sum(r["crashes"] for r in results.values())
    fuzz_seconds = sum(r["fuzz_seconds"] for r in results.values())
    per_target = ", ".join(
        f"{name} {r['executions']} inputs {r['exec_per_second']:.0f}/s {r['crashes']} crashes"
        for name, r in results.items()
    )
    return {
        "benchmark": "atheris_inbound",
        "executions": executions,
        "crashes": crashes,
        "seconds": round(seconds, 1),
        "exec_per_second": round(executions / fuzz_seconds, 1) if fuzz_seconds else 0.0,
        "targets": results,
        "figure": per_target,
        "goal": "0 crashes",
        "met": crashes == 0 and all(r["exit_code"] == 0 for r in results.values()),
    }


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=[*TARGETS, "both"], default="both")
    parser.add_argument("--corpus-dir", type=Path, action="append", default=[])
    parser.add_argument("--crash-dir", type=Path, default=ROOT / "fuzz" / "crashes")
    parser.add_argument("--quiet", action="store_true", help="hide libFuzzer's progress")
    parser.add_argument("--parallel", action="store_true", help="run both targets at once")
    parser.add_argument(
        "--replay", type=Path, nargs="+", help="run these inputs once each, no fuzzing"
    )
    parser.add_argument("--worker", choices=TARGETS, help=argparse.SUPPRESS)
    parser.add_argument("--work-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stats-every", type=float, default=1.0, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    unknown = [arg for arg in rest if arg.startswith("--")]
    if unknown and not args.worker:
        parser.error(f"unknown options: {' '.join(unknown)} (libFuzzer flags take one dash)")
    return args, rest


def main(argv: list[str]) -> int:
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [str(ROOT), str(ROOT / "src"), *(p for p in sys.path if p != here)]
    args, rest = parse_args(argv)
    if args.worker:
        run_worker(args, rest)
        return 0  # not reached: libFuzzer exits the process
    missing = [str(d) for d in args.corpus_dir if not d.is_dir()]
    if missing:
        print(f"no such corpus directory: {', '.join(missing)}", file=sys.stderr)
        return 2
    started = time.monotonic()
    targets = TARGETS if args.target == "both" else (args.target,)
    with ThreadPoolExecutor(max_workers=len(targets) if args.parallel else 1) as pool:
        running = {target: pool.submit(run_target, target, args, rest) for target in targets}
        results = {target: future.result() for target, future in running.items()}
    result = summary(results, time.monotonic() - started)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
