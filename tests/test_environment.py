"""pyproject.toml and environment.yml describe one environment."""

import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI ones
CONDA_TO_PYPI = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _normalise(name: str) -> str:
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PYPI.get(name, name)


def _split(requirement: str, separator: str) -> tuple[str, str]:
    name, _, version = requirement.partition(separator)
    return _normalise(name.strip()), version.strip()


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in project["optional-dependencies"].values():
        requirements += group
    pins = {}
    for requirement in requirements:
        assert "==" in requirement, f"pyproject pins every package exactly, got {requirement!r}"
        name, version = _split(requirement, "==")
        pins[name] = version
    return pins


def environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            for requirement in entry["pip"]:
                if requirement.startswith("-"):  # pip options and the editable package
                    continue
                name, version = _split(requirement, "==")
                pins[name] = version
        else:
            name, version = _split(entry, "=")
            if name not in NOT_PACKAGES:
                pins[name] = version
    return pins


def test_the_two_files_pin_the_same_packages_and_versions():
    assert environment_pins() == pyproject_pins()


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_python = next(
        e for e in env["dependencies"] if isinstance(e, str) and e.startswith("python=")
    )
    assert project["requires-python"] == ">=3.11"
    assert conda_python == "python=3.11"


def test_environment_installs_the_book_package_itself():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(e["pip"] for e in env["dependencies"] if isinstance(e, dict))
    assert "-e ." in pip_section


def test_a_disagreement_is_detected(monkeypatch, tmp_path):
    """The comparison above can fail: a changed pin in one file shows up."""
    text = (ROOT / "environment.yml").read_text().replace("sympy=1.14.0", "sympy=1.13.0")
    (tmp_path / "environment.yml").write_text(text)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert environment_pins() != pyproject_pins()
