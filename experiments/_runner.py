"""What every experiment script shares: its command line, its runs in parallel, its CSV.

Each script defines ``configurations(quick)`` (a list of settings) and ``run(config)``
(one deterministic run); the runs may go to parallel processes (``--jobs``) without
changing a number, since each depends only on its own settings and seed.
"""

import argparse
import csv
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


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


def run_all(run, configs: list, jobs: int) -> list:
    """``[run(c) for c in configs]``, in ``jobs`` processes when ``jobs`` > 1, in order."""
    if jobs == 1:
        return [run(c) for c in configs]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(run, configs))


def write_csv(out: Path, fields, rows) -> None:
    """Write ``rows`` (dicts keyed by ``fields``) to ``out``, with a header, "\\n" line ends."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
