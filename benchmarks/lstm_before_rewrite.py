"""Time rnnbook.scratch.lstm against the same code before the step-function rewrite.

    python benchmarks/lstm_before_rewrite.py [REVISION]   (about a minute; needs git)

The package at REVISION (default 8155109, the last commit before the LSTM was rewritten
as step_forward and step_backward) is exported with ``git archive`` into a temporary
folder and imported under the name ``rnnbook_before`` beside today's ``rnnbook``, so
both run in one process, interleaved, on the same arrays: forward + backward at B=32,
T=100, D=64, H=128 in float32, one thread. Both gradients are compared first. Prints
the medians and their ratio, with and without a rest before each call.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import importlib  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from rnnbook.scratch import lstm as lstm_now  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
B, T, D, H = 32, 100, 64, 128


def import_revision(revision, folder):
    """Export src/rnnbook at ``revision`` as the package rnnbook_before and import its LSTM."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src/rnnbook"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    package = Path(folder) / "rnnbook_before"
    (Path(folder) / "src" / "rnnbook").rename(package)
    for path in package.rglob("*.py"):
        path.write_text(re.sub(r"\brnnbook\b", "rnnbook_before", path.read_text()))
    sys.path.insert(0, folder)
    return importlib.import_module("rnnbook_before.scratch.lstm")


def main():
    revision = sys.argv[1] if len(sys.argv) > 1 else "8155109"
    with tempfile.TemporaryDirectory() as folder:
        lstm_before = import_revision(revision, folder)
        rng = np.random.default_rng(0)
        params = lstm_now.init_params(D, H, rng, dtype=np.float32)
        x = rng.standard_normal((T, B, D)).astype(np.float32)
        d_outputs = rng.standard_normal((T, B, H)).astype(np.float32)

        def run(module):
            _, cache = module.forward(x, None, params)
            return module.backward(d_outputs, cache)

        now, before = run(lstm_now)[2], run(lstm_before)[2]
        worst = max(float(np.abs(now[k] - before[k]).max()) for k in now)
        print(f"largest difference between the two gradients: {worst:.2e}")
        for rest in (0.0, 0.2):
            times = {"now": [], "before": []}
            for _ in range(3):
                run(lstm_now), run(lstm_before)
            for r in range(40):
                order = [("now", lstm_now), ("before", lstm_before)][:: 1 if r % 2 else -1]
                for name, module in order:
                    time.sleep(rest)
                    start = time.perf_counter()
                    run(module)
                    times[name].append(time.perf_counter() - start)
            now_ms, before_ms = (1e3 * statistics.median(times[k]) for k in ("now", "before"))
            print(
                f"rest {rest} s: before {before_ms:.1f} ms, now {now_ms:.1f} ms, "
                f"ratio {now_ms / before_ms:.3f} (median of 40 each)"
            )


if __name__ == "__main__":
    main()
