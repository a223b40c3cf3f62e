"""Settings come from env vars and CLI flags; bad values are clear errors."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from dashboard.__main__ import config_overrides, parse_args
from dashboard.config import Config, config_from_env, parse_input_size


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
    for flag in ("--input-size", "--mean", "--std", "--value-range", "CONVSCOPE_VALUE_RANGE"):
        assert flag in out


@pytest.mark.parametrize(
    "text, size",
    [("28", (28, 28)), ("112x96", (112, 96)), ("112×96", (112, 96)), (" 40 X 24 ", (40, 24))],
)
def test_cfg06_input_size_is_h_or_hxw(text: str, size: tuple[int, int]) -> None:
    assert parse_input_size(text) == size
    assert config_from_env({"CONVSCOPE_INPUT_SIZE": text}).input_size == size
    assert config_from_env({}, **vars(parse_args(["--input-size", text]))).input_size == size


@pytest.mark.parametrize("text", ["0", "28x", "x28", "-5", "2.5", "3000", "28x0", "28x28x3"])
def test_cfg07_bad_input_sizes_are_sentences(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^--input-size must be .*got '{text}'\.$"):
        parse_input_size(text)
    with pytest.raises(ValueError, match=r"^CONVSCOPE_INPUT_SIZE must be"):
        config_from_env({"CONVSCOPE_INPUT_SIZE": text})


def test_cfg08_preprocessing_flags_and_env_are_typed() -> None:
    args = parse_args(["--mean", "127.5", "--std", "128,128,128", "--value-range", "0-255"])
    config = config_from_env({"CONVSCOPE_MEAN": "0.5"}, **vars(args))
    assert (config.mean, config.std, config.value_range) == ((127.5,), (128.0,) * 3, "0-255")
    env = {"CONVSCOPE_MEAN": "0.485, 0.456, 0.406", "CONVSCOPE_VALUE_RANGE": "0..255"}
    config = config_from_env(env)
    assert config.mean == (0.485, 0.456, 0.406) and config.value_range == "0-255"
    assert config.std is None and Config().value_range == "0-1"
    for bad in ("1,2", "nan", "", "1,2,3,4"):
        with pytest.raises(ValueError, match=r"^--mean must be 1 or 3 numbers"):
            config_from_env({}, mean=bad or ",")


def test_cfg09_only_config_fields_become_overrides() -> None:
    """A subcommand's own options (say ``fetch --all``) must not reach Config."""
    args = argparse.Namespace(command="fetch", all=True, port=8123, mean=None)
    assert config_overrides(args) == {"port": 8123, "mean": None}
    assert config_from_env({}, **config_overrides(args)).port == 8123


def test_cfg10_redis_url_from_the_paas_variable_ours_or_the_flag() -> None:
    assert Config().redis_url is None and config_from_env({}).redis_url is None
    assert config_from_env({"REDIS_URL": "redis://h:6379/0"}).redis_url == "redis://h:6379/0"
    both = {"REDIS_URL": "redis://paas:1/0", "CONVSCOPE_REDIS_URL": "rediss://ours:2/1"}
    assert config_from_env(both).redis_url == "rediss://ours:2/1"
    args = parse_args(["--redis-url", "unix:///run/redis.sock"])
    assert config_from_env(both, **vars(args)).redis_url == "unix:///run/redis.sock"
    config = config_from_env({"CONVSCOPE_REDIS_TTL_H": "0.5", "CONVSCOPE_REDIS_UPLOAD_MB": "2"})
    assert (config.redis_ttl_s, config.redis_upload_bytes) == (1800, 2 * 2**20)
    assert (Config().redis_ttl_s, Config().redis_memory_mb) == (86400, 512)


def test_cfg11_a_bad_redis_url_names_its_variable_never_its_password() -> None:
    with pytest.raises(ValueError, match=r"^REDIS_URL must be a redis://") as caught:
        config_from_env({"REDIS_URL": "https://user:s3cret@host:6379"})
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ValueError, match=r"^--redis-url must be"):
        config_from_env({}, redis_url="localhost:6379")


def test_cfg12_the_signing_secret_from_ours_or_flasks_variable_never_printed() -> None:
    assert Config().secret_key is None and config_from_env({}).secret_key is None
    assert config_from_env({"SECRET_KEY": "flask-s"}).secret_key == "flask-s"
    both = {"SECRET_KEY": "flask-s", "CONVSCOPE_SECRET_KEY": "ours-s"}
    config = config_from_env(both)
    assert config.secret_key == "ours-s"
    assert "ours-s" not in repr(config) and "ours-s" not in str(config)
