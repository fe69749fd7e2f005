"""What every experiment script shares: its command line, its runs in parallel, its CSV.

Each script defines ``configurations(quick)`` (a list of settings) and ``run(config)``
(one deterministic run); the runs may go to parallel processes (``--jobs``) without
changing a number, since each depends only on its own settings and seed. Every run uses one
PyTorch thread, whatever ``OMP_NUM_THREADS`` says: a matrix product or a convolution split
over threads adds its terms in another order, and training amplifies the last bit.
"""

import argparse
import csv
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import rnnbook  # noqa: F401  (before NumPy: its OpenBLAS kernels are pinned, rnnbook._numerics)


def parse_args(argv, doc: str, quick_help: str):
    """``--quick`` (a reduced rerun), ``--jobs`` (parallel processes) and ``--out``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--jobs", type=int, default=2, help="parallel processes")
    parser.add_argument("--out", type=Path, default=None, help="the file to write")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        raise ValueError(f"--jobs must be an int >= 1, got {args.jobs}")
    return args


def _one_thread() -> int:
    """Set PyTorch to one thread (where it is installed); return the count it had."""
    try:
        import torch
    except ImportError:
        return 1
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    return before


def run_all(run, configs: list, jobs: int) -> list:
    """``[run(c) for c in configs]``, in ``jobs`` processes when ``jobs`` > 1, in order."""
    if jobs == 1:
        before = _one_thread()
        try:
            return [run(c) for c in configs]
        finally:
            if before != 1:
                import torch

                torch.set_num_threads(before)
    with ProcessPoolExecutor(jobs, initializer=_one_thread) as pool:
        return list(pool.map(run, configs))


def write_csv(out: Path, fields, rows) -> None:
    """Write ``rows`` (dicts keyed by ``fields``) to ``out``, with a header, "\\n" line ends."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
