"""Settings come from env vars and CLI flags; bad values are clear errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dashboard.__main__ import parse_args
from dashboard.config import Config, config_from_env


def test_cfg01_defaults_are_offline_and_quiet() -> None:
    config = config_from_env({})
    assert config == Config()
    assert config.debug is False and config.allow_download is False
    assert config.port == 8050 and config.default_model == "tinyvgg"


def test_cfg02_env_vars_are_typed() -> None:
    config = config_from_env(
        {
            "PORT": "9000",
            "HOST": "0.0.0.0",
            "CONVSCOPE_ALLOW_DOWNLOAD": "yes",
            "CONVSCOPE_CACHE_MB": "64",
            "CONVSCOPE_MAX_UPLOAD_MB": "2.5",
        }
    )
    assert (config.port, config.host, config.allow_download) == (9000, "0.0.0.0", True)
    assert config.cache_bytes == 64 * 2**20
    assert config.max_upload_bytes == int(2.5 * 2**20)


def test_cfg03_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="PORT='abc'"):
        config_from_env({"PORT": "abc"})


def test_cfg04_cli_overrides_env() -> None:
    args = parse_args(["--port", "8123", "--model", "pkg.mod:make", "--allow-download"])
    config = config_from_env({"PORT": "9000"}, **vars(args))
    assert config.port == 8123 and config.user_model == "pkg.mod:make"
    assert config.allow_download is True
    assert config_from_env({}, **vars(parse_args([]))) == Config()


def test_cfg05_help_lists_options() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "dashboard", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for flag in ("--port", "--host", "--model", "--weights", "--allow-download", "PORT"):
        assert flag in out
