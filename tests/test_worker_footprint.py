"""What a `painplan serve` worker loads: the hook path's needs, not the population review's data stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, os, sys, tempfile
from smart_app import create_app
from smart_app.server import preload
app = create_app({"instance_path": tempfile.mkdtemp(), "auth": "off", "today": "2026-06-15", "secret_key": "t"})
preload(app)
print(json.dumps({"modules": sorted(m for m in ("numpy", "pyarrow", "duckdb", "pyspark") if m in sys.modules),
                  "threads": len(os.listdir("/proc/self/task"))}))
"""


def test_a_preloaded_server_holds_no_dataframe_stack_and_no_thread_pools():
    # pyarrow brings numpy and its BLAS thread pool (~40 MB and idle threads in every worker); only the population
    # dashboard reads Parquet, and it imports pyarrow when it first does.
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["modules"] == []
    assert loaded["threads"] == 1
