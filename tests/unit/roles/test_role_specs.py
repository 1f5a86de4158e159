"""Each role's meta/argument_specs.yml is the single source of truth for its variables:
defaults/main.yml must define exactly the documented options with the documented
defaults, every variable must carry the role's prefix, and README.md must hold the
current generated tables."""

import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/meta/argument_specs.yml"))


def load(path):
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    options = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"][
        "main"
    ]["options"]
    defaults = load(ROOT / "roles" / role / "defaults" / "main.yml")

    assert sorted(defaults) == sorted(name for name, o in options.items() if not o.get("required"))
    for name, value in defaults.items():
        if isinstance(value, str) and "{{" in value:
            continue  # templated defaults are described, not compared
        assert options[name].get("default") == value, name


@pytest.mark.parametrize("role", ROLES)
def test_variables_carry_the_role_prefix(role):
    options = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"][
        "main"
    ]["options"]
    assert [name for name in options if not name.startswith(role + "_")] == []


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_described(role):
    options = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"][
        "main"
    ]["options"]
    assert [name for name, o in options.items() if not o.get("description")] == []


def test_readme_role_variables_are_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "role-docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
