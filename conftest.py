"""Session-wide settings and checks for `make test`.

Every notebook must run in under two minutes on two cores: nbval reports each
cell as a test item, so the time of a notebook is the sum of its items.
"""

import os
from collections import defaultdict

import pytest
from hypothesis import settings

# On CI, hypothesis draws the same examples on every run, so that a result
# there can be reproduced; on a reader's machine it explores new ones each run.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

NOTEBOOK_BUDGET_S = 120.0
_notebook_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _notebook_seconds or hasattr(config, "workerinput"):
        return
    terminalreporter.section("notebook run times")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "  OVER BUDGET" if seconds > NOTEBOOK_BUDGET_S else ""
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}{flag}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # only the controller judges
        return
    slow = [p for p, s in _notebook_seconds.items() if s > NOTEBOOK_BUDGET_S]
    if slow and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
