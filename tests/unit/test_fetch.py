"""``python -m dashboard fetch``: listing, downloading from a local server, failing offline.

No test touches the network: name lookups other than 127.0.0.1 fail as on an offline
machine, and downloads come from a small HTTP server on 127.0.0.1 serving fake files.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch.hub
from torchvision.models import get_model_weights

from dashboard import fetch as fetch_cli
from dashboard.models import hub_cache
from dashboard.models.hub_cache import hub_checkpoint
from dashboard.models.zoo import ZOO_LABELS

VALID = ", ".join(ZOO_LABELS)


@pytest.fixture(autouse=True)
def checkpoints(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh TORCH_HOME; returns its hub/checkpoints folder (not created)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    return tmp_path / "torch-home" / "hub" / "checkpoints"


@pytest.fixture(autouse=True)
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Host names looked up; every one but 127.0.0.1 fails as without a network."""
    real, seen = socket.getaddrinfo, []

    def getaddrinfo(host, *args, **kwargs):
        if host == "127.0.0.1":
            return real(host, *args, **kwargs)
        seen.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return seen


class FileServer(http.server.ThreadingHTTPServer):
    """Serves `files` (path -> body); `short` paths promise 1 kB more than they send."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.short: set[str] = set()
        self.requests: list[str] = []

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FileServer

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        body = self.server.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        extra = 1024 if self.path in self.server.short else 0
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + extra))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[FileServer]:
    httpd = FileServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def fake_checkpoint(monkeypatch, url: str) -> None:
    """Every model's weights come from `url` (its file name carries the hash prefix)."""
    weights = types.SimpleNamespace(name="IMAGENET1K_V1", url=url, meta={"_file_size": 1.0})
    monkeypatch.setattr(fetch_cli, "imagenet_weights", lambda name: weights)


def serve_weights(monkeypatch, server: FileServer, data: bytes, body: bytes | None = None) -> str:
    """Serve `body` (default `data`) under a file name hashed from `data`; returns the name."""
    name = f"fake-{hashlib.sha256(data).hexdigest()[:8]}.pth"
    server.files[f"/models/{name}"] = data if body is None else body
    fake_checkpoint(monkeypatch, server.url(f"/models/{name}"))
    return name


def test_fe01_list_names_every_file_and_the_folder(capsys, checkpoints, lookups) -> None:
    assert fetch_cli.main(["--list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == f"Weights folder: {checkpoints}  (TORCH_HOME={checkpoints.parents[1]})"
    assert lines[1].split() == ["model", "weights", "file", "MB", "here", "url"]
    assert len(lines) == 2 + len(ZOO_LABELS) and err == ""
    for line, name in zip(lines[2:], ZOO_LABELS, strict=True):
        weights = get_model_weights(name).DEFAULT
        file_name = hub_checkpoint(weights.url).name  # where zoo.build_zoo looks
        assert line.split() == [
            name,
            weights.name,
            file_name,
            f"{weights.meta['_file_size']:.0f}",
            "missing",
            weights.url,
        ]
        # every file name carries a sha256 prefix, so every download and copy is checked
        assert torch.hub.HASH_REGEX.search(file_name).group(1)
    assert lookups == [] and not checkpoints.exists()


def test_fe02_dry_run_named_models_shows_what_is_present(capsys, checkpoints, lookups) -> None:
    checkpoints.mkdir(parents=True)
    (checkpoints / "vgg16-397923af.pth").write_bytes(b"x")
    assert fetch_cli.main(["--dry-run", "VGG16", "alexnet", "vgg16"]) == 0
    rows = [line.split()[:5] for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows == [
        ["vgg16", "IMAGENET1K_V1", "vgg16-397923af.pth", "528", "present"],
        ["alexnet", "IMAGENET1K_V1", "alexnet-owt-7be5be79.pth", "233", "missing"],
    ]
    assert lookups == []
    assert [p.name for p in checkpoints.iterdir()] == ["vgg16-397923af.pth"]


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (
            ["vgg", "tinyvgg", "resnet18"],
            f"Unknown models vgg, tinyvgg: choose from {VALID} "
            "(TinyVGG and the custom model come with ConvScope).",
        ),
        (["vgg"], f"Unknown model vgg: choose from {VALID} (TinyVGG and the custom model"),
        ([], f"Name the models to fetch ({VALID}) or give --all."),
        (["vgg16", "--all"], "Name models or give --all, not both."),
    ],
)
def test_fe03_usage_errors_are_one_sentence(capsys, lookups, argv, sentence) -> None:
    assert fetch_cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"python -m dashboard fetch: {sentence}")
    assert len(err.splitlines()) == 1 and lookups == []


def test_fe04_offline_fails_fast_naming_url_and_folder(capsys, checkpoints, lookups) -> None:
    assert fetch_cli.main(["vgg16", "alexnet"]) == 1
    out, err = capsys.readouterr()
    url = "https://download.pytorch.org/models/vgg16-397923af.pth"
    assert err.splitlines() == [
        f"vgg16: could not download {url} into {checkpoints} (network unreachable). Without a "
        "network here, fetch it on a machine that has one and copy vgg16-397923af.pth into "
        'that folder (see the README, "Pretrained weights on an offline machine").',
        # one failed connection is enough: the next file is not tried (no second wait)
        f"alexnet: not tried (network unreachable); copy alexnet-owt-7be5be79.pth into "
        f"{checkpoints}.",
        "2 of 2 failed.",
    ]
    assert "Traceback" not in out + err
    assert lookups == ["download.pytorch.org"]
    assert list(checkpoints.iterdir()) == []  # no partial file


def test_fe05_downloads_once_with_progress_then_skips(capsys, monkeypatch, server, checkpoints):
    data = bytes(range(256)) * 4096  # 1 MiB
    name = serve_weights(monkeypatch, server, data)
    monkeypatch.setattr(hub_cache, "CHUNK_BYTES", 1 << 16)
    assert fetch_cli.main(["vgg16"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1:] == [
        f"vgg16: downloading {name} (1 MB) from {server.url('/models/' + name)}",
        f"vgg16: {name} done.",
    ]
    # not a terminal: one line per 10 % step reached (16 chunks of 1/16)
    lines = err.splitlines()
    assert len(lines) == 11 and lines[-1] == f"  {name}  1.0 / 1.0 MB  100 %"
    assert lines[0] == f"  {name}  0.1 / 1.0 MB    6 %"
    assert (checkpoints / name).read_bytes() == data
    assert [p.name for p in checkpoints.iterdir()] == [name]

    assert fetch_cli.main(["vgg16"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"vgg16: {name} already there (checksum ok), skipped."
    ]
    assert len(server.requests) == 1

    assert fetch_cli.main(["vgg16", "--force"]) == 0
    assert len(server.requests) == 2
    assert [p.name for p in checkpoints.iterdir()] == [name]  # no scratch folder left


@pytest.mark.parametrize("short", [False, True], ids=["tampered", "truncated"])
def test_fe06_checksum_mismatch_leaves_no_file(capsys, monkeypatch, server, checkpoints, short):
    data = b"weights" * 1000
    name = serve_weights(monkeypatch, server, data, body=data[:-1024] if short else b"x" + data)
    if short:  # the real file, cut 1 kB before the length its header promised
        server.short.add(f"/models/{name}")
    assert fetch_cli.main(["vgg16"]) == 1
    out, err = capsys.readouterr()
    # urllib returns a short body without error: only the hash check notices the cut
    assert err.splitlines()[-2:] == [
        f"vgg16: could not download {server.url('/models/' + name)} into {checkpoints} "
        f"(the downloaded {name} does not match its checksum).",
        "1 of 1 failed.",
    ]
    assert "Traceback" not in out + err
    assert list(checkpoints.iterdir()) == []


def test_fe07_present_file_is_checked_and_force_replaces_it(capsys, monkeypatch, server):
    data = b"good weights" * 100
    name = serve_weights(monkeypatch, server, data)
    path = hub_checkpoint(server.url(f"/models/{name}"))
    path.parent.mkdir(parents=True)
    path.write_bytes(data[:50])  # a copy cut short
    assert fetch_cli.main(["alexnet"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        f"alexnet: {name} is in {path.parent} but does not match the checksum in its name "
        "(a partial copy?): copy it again, or rerun with --force."
    )
    assert server.requests == []
    assert fetch_cli.main(["alexnet", "--force"]) == 0
    assert path.read_bytes() == data


def test_fe08_failed_forced_download_keeps_the_old_file(capsys, monkeypatch, server) -> None:
    data = b"good weights" * 100
    name = serve_weights(monkeypatch, server, data, body=b"bad")
    path = hub_checkpoint(server.url(f"/models/{name}"))
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    assert fetch_cli.main(["alexnet", "--force"]) == 1
    assert "does not match its checksum" in capsys.readouterr().err
    assert path.read_bytes() == data
    assert [p.name for p in path.parent.iterdir()] == [name]


def test_fe09_silent_server_times_out_quickly(capsys, monkeypatch, checkpoints) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        fake_checkpoint(monkeypatch, f"http://127.0.0.1:{silent.getsockname()[1]}/m-abcd.pth")
        assert fetch_cli.main(["vgg16", "--timeout", "0.3"]) == 1
    err = capsys.readouterr().err
    assert "(the connection timed out)" in err and "Traceback" not in err
    assert list(checkpoints.iterdir()) == []


def test_fe10_interrupt_leaves_no_partial_file(capsys, monkeypatch, checkpoints) -> None:
    class Interrupted(io.BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.headers = {"Content-Length": str(len(data))}

        def read(self, size: int = -1) -> bytes:
            if self.tell():
                raise KeyboardInterrupt
            return super().read(1024)

    def urlopen(url: str, timeout: float) -> Interrupted:
        return Interrupted(b"x" * 4096)

    monkeypatch.setattr(hub_cache.urllib.request, "urlopen", urlopen)
    fake_checkpoint(monkeypatch, "http://127.0.0.1:9/m-abcd.pth")
    assert fetch_cli.main(["vgg16"]) == 130
    assert "Interrupted: no partial file was left behind." in capsys.readouterr().err
    assert list(checkpoints.iterdir()) == []


def test_fe11_terminal_progress_rewrites_one_line() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = fetch_cli.TerminalProgress("m.pth", stream)
    for done in (0, 1 << 19, (1 << 19) + 1, 1 << 20):
        progress(done, 1 << 20)
    progress.close()
    assert stream.getvalue() == (
        "\r  m.pth  0.0 / 1.0 MB    0 %"
        "\r  m.pth  0.5 / 1.0 MB   50 %"
        "\r  m.pth  1.0 / 1.0 MB  100 %\n"
    )


def test_fe12_bad_timeout_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        fetch_cli.main(["vgg16", "--timeout", "0"])
    assert exit_info.value.code == 2
    assert "0 is not between 0 and 3600 seconds" in capsys.readouterr().err


def test_fe13_unreadable_present_file_is_a_failure(capsys, monkeypatch, checkpoints) -> None:
    checkpoints.mkdir(parents=True)
    (checkpoints / "vgg16-397923af.pth").write_bytes(b"x")

    def unreadable(path: Path) -> bool:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fetch_cli, "matches_hash", unreadable)
    assert fetch_cli.main(["vgg16"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"vgg16: cannot read vgg16-397923af.pth in {checkpoints} (Permission denied).",
        "1 of 1 failed.",
    ]


def test_fe99_python_m_dashboard_fetch_dispatches_here(capsys, checkpoints, lookups) -> None:
    from dashboard.__main__ import main as dashboard_main

    assert dashboard_main(["fetch", "--list"]) == 0
    out = capsys.readouterr().out
    assert "vgg16-397923af.pth" in out and lookups == []
