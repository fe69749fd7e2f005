"""Time the book's implementations side by side; write results.md and results.csv.

    python benchmarks/run.py            (about a minute on two CPU cores)

1. LSTM forward + backward at B=32, T=100, D=64, H=128 in float32 on the CPU:
   rnnbook.scratch.lstm (NumPy, hand-written backward), rnnbook.nn.LSTM
   (PyTorch autograd through the book's step) and torch.nn.LSTM (PyTorch's own
   kernel), each the median of repeated runs after warm-up, taken in
   interleaved rounds so that a busy machine slows all of them alike. Ratios
   are to torch.nn.LSTM in the same run. On CUDA too, when there is a GPU. A last
   row times only the matrix products every LSTM layer's forward and backward
   compute at this size, through torch.mm: no module built from PyTorch
   operations can go below it.
2. RTRL against BPTT for the SRN (rnnbook.scratch.rtrl, rnnbook.scratch.bptt):
   time and peak memory (tracemalloc) as H grows and as T grows.

The tables also go to stdout. results.csv is tidy: one row per implementation
and size measured, with the machine in every row, ready for pandas.read_csv.
"""

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import torch

import rnnbook
from rnnbook import convert
from rnnbook.scratch import lstm as scratch_lstm

HERE = Path(__file__).resolve().parent
LSTM_SIZE = {"B": 32, "T": 100, "D": 64, "H": 128}
WARMUP, ROUNDS = 3, 15
SETTLE_S = 0.2  # seconds of rest before each timed call (see interleaved)


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (or what platform knows elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_threads():
    """The threads NumPy's OpenBLAS uses in this process (all cores unless told otherwise)."""
    return int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count()))


def numpy_blas():
    """The BLAS library NumPy was built with, e.g. 'scipy-openblas 0.3.31'."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas['version']}"
    except (KeyError, TypeError, AttributeError):
        return "unknown"


def machine(threads):
    info = {
        "cpu": cpu_model(),
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "torch_threads": threads,
        "load_average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": numpy_blas(),
        "torch": torch.__version__,
        "rnnbook": rnnbook.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }
    return info


def interleaved(fns, rounds=ROUNDS, warmup=WARMUP, sync=None, settle=SETTLE_S):
    """Median and minimum wall-clock seconds of each function, timed in interleaved rounds.

    Before each timed call the process sleeps ``settle`` seconds (not timed): the worker
    threads of OpenBLAS and OpenMP spin for a while after a call before they sleep, and
    spinning threads left by the previous function would steal the cores from the next.
    """
    for f in fns.values():
        for _ in range(warmup):
            f()
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, f in fns.items():
            if sync:
                sync()
            time.sleep(settle)
            t0 = time.perf_counter()
            f()
            if sync:
                sync()
            times[name].append(time.perf_counter() - t0)
    return {n: (statistics.median(ts), min(ts)) for n, ts in times.items()}


# ---- 1. LSTM forward + backward ----------------------------------------------------------


def lstm_functions(device):
    """Forward + backward closures of each implementation on the same weights and data."""
    B, T, D, H = (LSTM_SIZE[k] for k in "BTDH")
    rng = np.random.default_rng(0)
    params = scratch_lstm.init_params(D, H, rng, dtype=np.float32)
    x = rng.standard_normal((T, B, D)).astype(np.float32)
    d_out = rng.standard_normal((T, B, H)).astype(np.float32)
    ref = convert.to_torch(params, "lstm", device=device)
    ours = convert.to_nn(params, "lstm", device=device)
    xt = torch.from_numpy(x).to(device).requires_grad_()
    gt = torch.from_numpy(d_out).to(device)

    def numpy_scratch():
        outputs, cache = scratch_lstm.forward(x, None, params)
        scratch_lstm.backward(d_out, cache)

    def torch_module(m):
        def run():
            m.zero_grad(set_to_none=True)
            xt.grad = None
            out, _ = m(xt)
            out.backward(gt)

        return run

    def torch_without_onednn():
        with warnings.catch_warnings():
            # torch's flags() warns about Intel GPUs on every CPU-only build; nothing here
            warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
            with torch.backends.mkldnn.flags(enabled=False):
                torch_module(ref)()

    # The matrix products that forward + backward of any LSTM layer computes at this size,
    # through torch.addmm / torch.mm as rnnbook.nn.LSTM calls them, and nothing else: no
    # gates, no autograd. A module built from PyTorch operations cannot be faster.
    G = 4 * H
    mm = {k: torch.randn(*shape, device=device) for k, shape in (
        ("x", (T * B, D)), ("W", (G, D)), ("U", (G, H)), ("b", (G,)),
        ("h", (B, H)), ("g", (B, G)), ("hs", (T * B, H)), ("dG", (T * B, G)),
    )}  # fmt: skip

    def matrix_products_only():
        torch.addmm(mm["b"], mm["x"], mm["W"].T)  # W x_t + b for all t   (T*B, 4H)
        for _ in range(T):
            torch.addmm(mm["g"], mm["h"], mm["U"].T)  # forward: + U h_{t-1}   (B, 4H)
        for _ in range(T):
            torch.addmm(mm["h"], mm["g"], mm["U"])  # backward: dL/dh_{t-1} gets U^T delta_t
        mm["dG"].T @ mm["x"]  # dL/dW   (4H, D)
        mm["dG"].T @ mm["hs"]  # dL/dU   (4H, H)
        mm["dG"] @ mm["W"]  # dL/dx   (T*B, D)

    fns = {}
    if device == "cpu":
        fns["rnnbook.scratch.lstm (NumPy)"] = numpy_scratch
    fns["rnnbook.nn.LSTM"] = torch_module(ours)
    fns["torch.nn.LSTM"] = torch_module(ref)
    if device == "cpu":
        fns["torch.nn.LSTM, oneDNN off"] = torch_without_onednn
    fns["matrix products only (torch.mm)"] = matrix_products_only
    return fns


def bench_lstm(device, threads):
    sync = torch.cuda.synchronize if device == "cuda" else None
    result = interleaved(lstm_functions(device), sync=sync)
    base = result["torch.nn.LSTM"][0]
    rows = []
    for name, (median, best) in result.items():
        rows.append(
            {
                "benchmark": "lstm_forward_backward",
                "implementation": name,
                "device": device,
                "dtype": "float32",
                **LSTM_SIZE,
                "threads": threads,
                "numpy_threads": blas_threads(),
                "repeats": ROUNDS,
                "median_ms": round(1e3 * median, 3),
                "min_ms": round(1e3 * best, 3),
                "peak_mib": "",
                "ratio_to_torch": round(median / base, 3),
            }
        )
    return rows


# ---- 2. RTRL against BPTT ------------------------------------------------------------------


def bench_rtrl_bptt(threads):
    """Time and peak memory of RTRL and BPTT gradients of the SRN as H and T grow.

    The problem is the same for both: an SRN with an output layer of O=3 classes,
    cross-entropy at every step, float64; both return the exact gradient.
    """
    from rnnbook.scratch import bptt, rtrl, srn

    B, D, O = 4, 3, 3
    sizes = [("H", H, 50) for H in (4, 8, 16, 32, 64)] + [
        ("T", 8, T) for T in (10, 50, 100, 200, 400)
    ]
    rows = []
    for grows, H, T in sizes:
        rng = np.random.default_rng(1)
        params = srn.init_params(D, H, rng)
        params["V"] = rng.uniform(-0.5, 0.5, (O, H))
        params["c"] = np.zeros(O)
        x = rng.standard_normal((T, B, D))
        y = rng.integers(0, O, (T, B))
        fns = {
            "rnnbook.scratch.bptt": lambda p=params, x=x, y=y: bptt.full("srn", x, y, p),
            "rnnbook.scratch.rtrl": lambda p=params, x=x, y=y: rtrl.gradients("srn", x, y, p),
        }
        repeats = 5
        timing = interleaved(fns, rounds=repeats, warmup=1)
        for name, f in fns.items():
            tracemalloc.start()
            f()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            median, best = timing[name]
            rows.append(
                {
                    "benchmark": f"rtrl_vs_bptt_growing_{grows}",
                    "implementation": name,
                    "device": "cpu",
                    "dtype": "float64",
                    "B": B,
                    "T": T,
                    "D": D,
                    "H": H,
                    "threads": threads,
                    "numpy_threads": blas_threads(),
                    "repeats": repeats,
                    "median_ms": round(1e3 * median, 3),
                    "min_ms": round(1e3 * best, 3),
                    "peak_mib": round(peak / 2**20, 3),
                    "ratio_to_torch": "",
                }
            )
    return rows


# ---- output ---------------------------------------------------------------------------------


def markdown_table(rows, columns):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(str(r[c]) for c in columns) + " |")
    return "\n".join(lines)


def write(rows, info):
    columns = list(rows[0])
    machine_cols = list(info)
    with open(HERE / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns + machine_cols)
        w.writeheader()
        for r in rows:
            w.writerow({**r, **info})
    parts = [
        "# Benchmarks",
        "",
        "Written by `python benchmarks/run.py`; timings are wall-clock and vary from run to run",
        "and machine to machine. Machine of this run:",
        "",
        markdown_table([{"what": k, "value": v} for k, v in info.items()], ["what", "value"]),
    ]
    lstm_cols = ["implementation", "device", "threads", "numpy_threads", "median_ms", "min_ms"]
    lstm_cols.append("ratio_to_torch")
    for device in ("cpu", "cuda"):
        sel = [
            r for r in rows if r["benchmark"] == "lstm_forward_backward" and r["device"] == device
        ]
        if sel:
            size = ", ".join(f"{k}={v}" for k, v in LSTM_SIZE.items())
            parts += [
                "",
                f"## LSTM forward + backward, {device}, float32, {size}",
                "",
                f"Median and minimum of {ROUNDS} interleaved runs after {WARMUP} warm-up runs,"
                f" each after {SETTLE_S} s of rest (idle library threads go to sleep);",
                "ratio = median / median of torch.nn.LSTM with the same threads in this run.",
                "threads: PyTorch's (torch.set_num_threads); numpy_threads: NumPy's OpenBLAS.",
                "",
                markdown_table(sel, lstm_cols),
            ]
    rt_cols = ["implementation", "B", "T", "H", "median_ms", "peak_mib"]
    for grows in ("H", "T"):
        sel = [r for r in rows if r["benchmark"] == f"rtrl_vs_bptt_growing_{grows}"]
        if sel:
            parts += [
                "",
                f"## RTRL against BPTT for the SRN, growing {grows} (float64, D=3, B=4)",
                "",
                "Time of one full gradient (median); peak memory traced by tracemalloc.",
                "",
                markdown_table(sel, rt_cols),
            ]
    text = "\n".join(parts) + "\n"
    (HERE / "results.md").write_text(text)
    return text


def lstm_in_one_thread():
    """The CPU LSTM rows measured in a fresh process where PyTorch, MKL and OpenBLAS (NumPy)
    all use one thread (NumPy's BLAS threads can only be set before NumPy is imported)."""
    one = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    done = subprocess.run(
        [sys.executable, __file__, "--lstm-json"],
        env={**os.environ, **one},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lstm-json", action="store_true", help="only the CPU LSTM rows, as JSON on stdout"
    )
    args = parser.parse_args()
    if args.lstm_json:
        n = int(os.environ.get("OMP_NUM_THREADS", "1"))
        torch.set_num_threads(n)
        print(json.dumps(bench_lstm("cpu", n)))
        return
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads)
    info = machine(threads)
    rows = bench_lstm("cpu", threads)
    if threads > 1:
        # one thread as well: a recurrence is a chain of small products, which extra threads
        # help little and a busy core slows down
        rows += lstm_in_one_thread()
    if torch.cuda.is_available():
        rows += bench_lstm("cuda", threads)
    rows += bench_rtrl_bptt(threads)
    print(write(rows, info))


if __name__ == "__main__":
    main()
