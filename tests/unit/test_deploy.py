"""The CPU-only deploy install, Dockerfile and .dockerignore agree with the pins and Procfile.

Read as text, no network: nothing here builds an image or installs a package.
"""

from __future__ import annotations

import json
import re
import shlex
from fnmatch import fnmatch
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements.txt"
DEPLOY_REQUIREMENTS = ROOT / "requirements-deploy.txt"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PROCFILE = ROOT / "Procfile"

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_BUILDS = {"torch", "torchvision"}
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def pins(path: Path) -> dict[str, Version]:
    """``name == version`` lines of a requirements file, by canonical name."""
    found: dict[str, Version] = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found[canonicalize_name(match[1])] = Version(match[2])
    return found


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def instruction_args(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile_instructions() if kw == keyword]


def procfile_web_argv() -> list[str]:
    web = next(ln for ln in PROCFILE.read_text().splitlines() if ln.startswith("web:"))
    return shlex.split(web.split(":", 1)[1])


def dockerignore_patterns() -> list[str]:
    lines = (ln.strip() for ln in DOCKERIGNORE.read_text().splitlines())
    return [ln.rstrip("/") for ln in lines if ln and not ln.startswith("#")]


def ignored(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the build context) out of the context.

    Patterns are anchored at the context root, except ``**/`` ones, which match at any
    depth; a directory's exclusion covers what is inside it; the last matching line wins.
    """
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in dockerignore_patterns():
        body = pattern.removeprefix("!")
        if body.startswith("**/"):
            hit = any(fnmatch(part, body[3:]) for part in parts)
        else:
            hit = any(fnmatch(prefix, body) for prefix in prefixes)
        if hit:
            excluded = not pattern.startswith("!")
    return excluded


def test_dep01_every_runtime_pin_is_deployed_at_the_same_version() -> None:
    dev, deploy = pins(REQUIREMENTS), pins(DEPLOY_REQUIREMENTS)
    assert dev.keys() >= CPU_BUILDS
    for name, version in dev.items():
        assert name in deploy, f"{name} is pinned in requirements.txt, not in the deploy file"
        assert deploy[name].public == version.public, name
        if name in CPU_BUILDS:
            assert deploy[name].local == "cpu", f"{name} must be the +cpu build"
        else:
            assert deploy[name] == version, name


def test_dep02_the_deploy_file_adds_nothing_and_does_not_include_the_dev_file() -> None:
    assert pins(DEPLOY_REQUIREMENTS).keys() == pins(REQUIREMENTS).keys()
    lines = [ln.split("#", 1)[0].strip() for ln in DEPLOY_REQUIREMENTS.read_text().splitlines()]
    for line in filter(None, lines):
        assert not re.match(r"(-r|--requirement|-c|--constraint)\b", line), line
        assert "nvidia" not in line.lower() and "triton" not in line.lower(), line


def test_dep03_the_deploy_file_names_the_cpu_index() -> None:
    options = [
        shlex.split(ln)
        for ln in DEPLOY_REQUIREMENTS.read_text().splitlines()
        if ln.strip().startswith("--")
    ]
    index_urls = [
        argv[-1]
        for argv in options
        if argv[0].split("=")[0] in {"--extra-index-url", "--index-url"}
    ]
    assert any(url.rstrip("/") == CPU_INDEX for url in index_urls), options
    if not any(argv[0].startswith("--extra-index-url") for argv in options):
        # the CPU index as --index-url alone would take dash & co. from it: PyPI must stay
        assert any("pypi.org/simple" in url for url in index_urls), options


def test_dep04_the_image_installs_the_deploy_file_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = instruction_args("RUN")
    install = next(run for run in runs if "pip install" in run)
    assert "-r requirements-deploy.txt" in install and "--no-cache-dir" in install
    assert "requirements.txt" not in install.replace("requirements-deploy.txt", "")
    copies = [args.split() for args in instruction_args("COPY")]
    copied = [src.rstrip("/") for argv in copies for src in argv[:-1]]
    for needed in ("requirements-deploy.txt", "dashboard", "assets", "Procfile"):
        assert needed in copied
    # the dependency layer comes before the code, so a code change reuses it
    order = [kw + " " + args for kw, args in instructions]
    assert next(i for i, s in enumerate(order) if "pip install" in s) < next(
        i for i, s in enumerate(order) if s.startswith("COPY dashboard")
    )
    users = instruction_args("USER")
    assert users and users[-1] not in {"root", "0"}
    env = " ".join(instruction_args("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env and re.search(r"\bPORT=8050\b", env)
    assert "8050" in " ".join(instruction_args("EXPOSE"))


def test_dep05_the_image_runs_the_procfile_command() -> None:
    cmd = instruction_args("CMD")
    assert len(cmd) == 1
    argv = json.loads(cmd[0])  # exec form: no extra shell between the platform and sh
    assert argv[:2] == ["sh", "-c"], argv
    script = shlex.split(argv[2])
    assert script[0] == "exec", "python must replace sh as PID 1 to receive SIGTERM"
    assert script[1:] == procfile_web_argv()


@pytest.mark.parametrize("path", [".git", ".git/config", "tests", "tests/unit/test_deploy.py"])
def test_dep06_dockerignore_keeps_git_and_tests_out(path: str) -> None:
    assert ignored(path)


@pytest.mark.parametrize(
    "path", ["requirements-deploy.txt", "dashboard/app.py", "assets/style.css", "Procfile"]
)
def test_dep07_dockerignore_keeps_what_the_image_copies(path: str) -> None:
    assert not ignored(path)


def test_dep08_dockerignore_drops_caches_anywhere() -> None:
    for path in (
        "dashboard/__pycache__",
        "dashboard/figures/__pycache__/grid.cpython-311.pyc",
        ".hypothesis",
        ".pytest_cache",
        ".venv",
        "bench/results",
    ):
        assert ignored(path), path
