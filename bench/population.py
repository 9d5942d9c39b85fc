"""Benchmark: `painplan population` end to end on synthetic exports, DuckDB against Spark local mode.

Prints, for 10,000 and 100,000 members: seconds, members per second (and per worker core), cohort patients, the
peak resident memory of the largest process, and the DuckDB ÷ Spark throughput ratio; both engines' tables are
compared and must be identical. Each run is a separate `painplan population` process.
Run: .venv/bin/python bench/population.py [--sizes 10000,100000] [--engines duckdb,spark] [--workers N]
     [--spark-max 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from synthetic_export import write_synthetic_export  # noqa: E402

TODAY = "2026-04-15"
PERIOD = "2026-01-01/2026-03-31"


def _run(source: Path, out: Path, engine: str, workers: int) -> tuple[float, float]:
    """(seconds, peak RSS in MB of the largest process) for one run in a fresh process."""
    # The synthetic export holds one malformed line on purpose: status 4 (lines not read) would stop the benchmark.
    command = [sys.executable, "-m", "smart_app.cli", "population", str(source), "--out", str(out), "--today", TODAY,
               "--period", PERIOD, "--engine", engine, "--quiet", "--malformed-lines-ok"]  # fmt: skip
    if engine == "duckdb":
        command += ["--workers", str(workers)]
    else:
        command += ["--master", f"local[{workers}]"]
    # A wrapper process per run: its RUSAGE_CHILDREN high-water mark is this run's alone (ours accumulates).
    wrapper = [sys.executable, "-c", _MEASURE, *command]
    started = time.perf_counter()
    done = subprocess.run(wrapper, check=True, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    return elapsed, int(done.stdout.strip().splitlines()[-1]) / 1024


_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _same_tables(first: Path, second: Path) -> bool:
    import duckdb

    con = duckdb.connect()
    return all(
        con.execute(f"SELECT * FROM '{first / name}.parquet'").fetchall()
        == con.execute(f"SELECT * FROM '{second / name}.parquet'").fetchall()
        for name in ("patients", "measures")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--spark-max", type=int, default=100_000, help="skip Spark above this many members")
    parser.add_argument("--keep", default=None, help="keep exports and outputs in this folder")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = args.engines.split(",")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="painplan-bench-"))
    print(f"painplan population benchmark: {args.workers} workers, period {PERIOD}, {os.cpu_count()} CPUs here")
    print(f"{'members':>9} {'engine':>7} {'seconds':>8} {'members/s':>10} {'per core':>9} {'peak MB':>8}")
    try:
        for size in sizes:
            source = work / f"export-{size}"
            if not source.exists():
                started = time.perf_counter()
                write_synthetic_export(source, size, seed=2026, gz=True)
                print(f"  (wrote {size:,} members in {time.perf_counter() - started:.0f}s)")
            rates: dict[str, float] = {}
            for engine in engines:
                if engine == "spark" and size > args.spark_max:
                    print(f"{size:>9,} {engine:>7}  skipped (above --spark-max {args.spark_max:,})")
                    continue
                elapsed, peak = _run(source, work / f"out-{size}-{engine}", engine, args.workers)
                rates[engine] = size / elapsed
                print(f"{size:>9,} {engine:>7} {elapsed:>8.1f} {rates[engine]:>10,.0f} "
                      f"{rates[engine] / args.workers:>9,.0f} {peak:>8,.0f}", flush=True)  # fmt: skip
            if "duckdb" in rates and "spark" in rates:
                same = _same_tables(work / f"out-{size}-duckdb", work / f"out-{size}-spark")
                print(f"{size:>9,} duckdb ÷ spark throughput: {rates['duckdb'] / rates['spark']:.2f}× "
                      f"(tables {'identical' if same else 'DIFFERENT'})", flush=True)  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
