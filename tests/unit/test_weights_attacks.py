"""Hostile weights uploads, one regression test per attack: refused early, with a sentence.

Every file is built here from a real torch.save or safetensors output, then edited.
"""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as save_safetensors
from torch import nn

from dashboard.errors import WeightsError
from dashboard.models import ModelRegistry, presets
from dashboard.models import state_dicts as sd
from dashboard.models.state_dicts import (
    check_state_dict,
    limits_for,
    load_checked,
    read_weights_bytes,
)
from dashboard.models.weights_checks import WeightsLimits

torch.set_num_threads(2)
ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000
UNREADABLE = "is not a weights file ConvScope can read"
CUSTOM = limits_for(presets.custom_module(), 100 * MB)  # 2 tensors: caps of 20 / 40


def _custom_state(seed: int = 7) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {
        "0.weight": torch.randn(4, 1, 3, 3, generator=generator),
        "0.bias": torch.randn(4, generator=generator),
    }


def _pt_bytes(obj: object, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


def _entry(data: bytes, suffix: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return next(n for n in archive.namelist() if n.endswith(suffix))


def _rezip(
    data: bytes,
    *,
    deflate: tuple[str, ...] = (),
    zeros: tuple[str, int] | None = None,
    edits: dict[str, bytes] | None = None,
) -> bytes:
    """The zip `data` rewritten by zipfile (no zip64): entries named in `deflate` compressed,
    `zeros` = (name, size) replaced by that many zero bytes, deflated (a zip bomb), and
    entries named in `edits` given new contents."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            name = info.filename
            if zeros and name == zeros[0]:
                chunk, bomb = bytes(MB), zipfile.ZipInfo(name)
                bomb.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(bomb, "w", force_zip64=True) as f:
                    for _ in range(zeros[1] // MB):
                        f.write(chunk)
                continue
            kind = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            content = (edits or {}).get(name) or src.read(info)
            dst.writestr(name, content, compress_type=kind)
    return out.getvalue()


def _central_records(data: bytes) -> tuple[int, int, int]:
    """(entries, size, offset) of the central directory, from the end record."""
    eocd = data.rfind(b"PK\x05\x06")
    _sig, _d, _cd, _n, entries, size, offset, _c = struct.unpack_from("<4s4H2LH", data, eocd)
    return entries, size, offset


def _record_at(data: bytes, name: str) -> int:
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        length = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46 : pos + 46 + length] == name.encode():
            return pos
        pos = data.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"no central record for {name}")


def _declare(data: bytes, name: str, *, file_size: int, compress_size: int | None = None) -> bytes:
    """`data` with the central directory lying about entry `name`'s sizes."""
    raw = bytearray(data)
    pos = _record_at(data, name)
    if compress_size is not None:
        struct.pack_into("<L", raw, pos + 20, compress_size)
    struct.pack_into("<L", raw, pos + 24, file_size)
    return bytes(raw)


def _with_aliases(data: bytes, name: str, copies: int) -> bytes:
    """`data` plus `copies` central records all pointing at entry `name`'s stored bytes."""
    entries, size, offset = _central_records(data)
    header = bytearray(data[_record_at(data, name) :][:46])
    added = b""
    for i in range(copies):
        alias = f"{name}_{i}".encode()
        struct.pack_into("<3H", header, 28, len(alias), 0, 0)  # name, extra, comment lengths
        added += bytes(header) + alias
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries + copies, entries + copies,
                      size + len(added), offset, 0)  # fmt: skip
    return data[: offset + size] + added + end


def _two_directories(shown: bytes, hidden: bytes) -> bytes:
    """One file, two central directories: zipfile reads `shown`'s, torch's miniz `hidden`'s.

    zipfile takes the zip64 end record just before the locator, miniz the one it points to.
    """
    (n_s, size_s, offset_s), (n_h, size_h, offset_h) = map(_central_records, (shown, hidden))
    locals_s, cd_s = shown[:offset_s], shown[offset_s : offset_s + size_s]
    cd_h = bytearray(hidden[offset_h : offset_h + size_h])
    pos = 0
    while pos < len(cd_h):  # hidden's entries now start after shown's
        struct.pack_into("<L", cd_h, pos + 42, struct.unpack_from("<L", cd_h, pos + 42)[0]
                         + len(locals_s))  # fmt: skip
        pos += 46 + sum(struct.unpack_from("<3H", cd_h, pos + 28))

    def zip64_end(entries: int, size: int, offset: int) -> bytes:
        return struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries,
                           size, offset)  # fmt: skip

    body = locals_s + hidden[:offset_h] + bytes(cd_h)
    pointed = zip64_end(n_h, size_h, len(locals_s) + offset_h)
    body += pointed + cd_s + zip64_end(n_s, size_s, len(body) + len(pointed))
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(locals_s) + offset_h + size_h, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, *[0xFFFF] * 2, *[0xFFFFFFFF] * 2, 0)
    return body + locator + end


def _spy(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[object]:
    """Record the calls to owner.name (still made) in the returned list."""
    real, calls = getattr(owner, name), []

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def _refused(data: bytes, filename: str, limits: WeightsLimits | None, match: str) -> str:
    with pytest.raises(WeightsError, match=match) as info:
        read_weights_bytes(data, filename, limits)
    message = str(info.value)
    assert filename in message and message.endswith(".") and "\n" not in message
    return message


# --- 1. zip archives -----------------------------------------------------------------------


BOMB_CHILD = textwrap.dedent(
    """
    import io, json, resource, sys
    import torch
    from dashboard.errors import WeightsError
    from dashboard.models import presets
    from dashboard.models.state_dicts import limits_for, read_weights_bytes

    bomb = sys.stdin.buffer.read()
    limits = limits_for(presets.custom_module(), 100 * 2**20)
    warm = io.BytesIO()
    torch.save(presets.custom_module().state_dict(), warm)
    read_weights_bytes(warm.getvalue(), "warm.pt", limits)  # every code path imported
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        read_weights_bytes(bomb, "bomb.pt", limits)
        outcome = "loaded"
    except WeightsError as exc:
        outcome = str(exc)
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({"grew_kib": grew, "outcome": outcome}))
    """
)


def test_wa01_zip_bomb_is_refused_before_torch_load_in_bounded_memory(monkeypatch) -> None:
    base = _pt_bytes(_custom_state())
    inflated = 200 * MB
    bomb = _rezip(base, zeros=(_entry(base, "/data/0"), inflated))
    assert len(bomb) < inflated / 200
    loads = _spy(monkeypatch, torch, "load")
    _refused(bomb, "bomb.pt", CUSTOM, r"^bomb\.pt .*data/0 is compressed, which torch\.save")
    assert loads == []
    # Peak memory of a fresh process refusing it: a whole inflated entry would add 200 MB.
    child = subprocess.run(
        [sys.executable, "-c", BOMB_CHILD],
        input=bomb,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    report = json.loads(child.stdout.decode().strip().splitlines()[-1])
    assert UNREADABLE in report["outcome"]
    assert report["grew_kib"] * 1024 < inflated / 10, report


@pytest.mark.parametrize("suffix", ["/data.pkl", "/data/1", "/version"])
def test_wa02_any_compressed_entry_is_refused(monkeypatch, suffix: str) -> None:
    base = _pt_bytes(_custom_state())
    data = _rezip(base, deflate=(_entry(base, suffix),))
    loads = _spy(monkeypatch, torch, "load")
    _refused(data, "small.pt", CUSTOM, f"{suffix} is compressed")
    assert loads == []


def test_wa03_stored_entries_with_lying_sizes_are_refused(monkeypatch) -> None:
    base = _pt_bytes({**_custom_state(), "big": torch.zeros(16_384)})
    plain = _rezip(base)
    name = _entry(plain, "/data/2")
    loads = _spy(monkeypatch, torch, "load")
    grown = _declare(plain, name, file_size=2**31)
    with zipfile.ZipFile(io.BytesIO(grown)) as archive:  # the edit is what zipfile reads
        assert archive.getinfo(name).file_size == 2**31
    _refused(grown, "lie.pt", CUSTOM, r"data/2 declares 2,147,483,648 bytes but stores 65,536")
    both = _declare(plain, name, file_size=2**31, compress_size=2**31)
    _refused(both, "lie.pt", CUSTOM, r"data/2 runs past the end of the file")
    # Each entry honest on its own, but 30 of them share one entry's bytes.
    aliased = _with_aliases(plain, name, 30)
    assert len(zipfile.ZipFile(io.BytesIO(aliased)).infolist()) == 39
    _refused(aliased, "alias.pt", CUSTOM, r"declares 2,\d{3},\d{3} bytes of content in a 6\d,")
    assert loads == []


def test_wa04_zip_readers_see_one_and_the_same_directory(monkeypatch) -> None:
    base = _pt_bytes(_custom_state())
    bomb = _rezip(base, zeros=(_entry(base, "/data/0"), 20 * MB))
    data = _two_directories(shown=_rezip(base), hidden=bomb)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # zipfile sees a harmless archive
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    with pytest.raises(RuntimeError, match=r"record size \(20000000 bytes\)"):
        torch.load(io.BytesIO(data), weights_only=True)  # torch's reader inflated the bomb
    loads = _spy(monkeypatch, torch, "load")
    _refused(data, "two.pt", CUSTOM, "its zip archive is damaged")
    # zipfile also finds a directory whose recorded offset is off; torch's reader does not.
    plain = bytearray(_rezip(base))
    struct.pack_into("<L", plain, len(plain) - 6, _central_records(bytes(plain))[2] - 46)
    _refused(bytes(plain), "moved.pt", CUSTOM, "its zip archive is damaged")
    _refused(_rezip(base) + b"PK\x05\x06", "tail.pt", CUSTOM, "its zip archive is damaged")
    assert loads == []


def test_wa05_too_many_entries_or_a_huge_pickle_are_refused(monkeypatch) -> None:
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(5_000):
            archive.writestr(f"archive/data/{i}", b"")
    opened = _spy(monkeypatch, zipfile, "ZipFile")
    _refused(many.getvalue(), "many.pt", CUSTOM, "more than the 40 entries ConvScope accepts")
    assert opened == []  # refused from a byte count, before zipfile parsed 5,000 records
    monkeypatch.undo()
    chatty = _pt_bytes({"state_dict": _custom_state(), "history": list(range(300_000))})
    _refused(chatty, "chatty.pt", CUSTOM, r"its pickled part takes 1,\d{3},\d{3} bytes")
    assert read_weights_bytes(chatty, "chatty.pt").keys() == {"0.weight", "0.bias"}  # generic


def test_wa06_duplicate_entries_are_refused() -> None:
    base = _pt_bytes(_custom_state())
    name = _entry(base, "/data/0")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            dst.writestr(name, bytes(144))
    _refused(out.getvalue(), "twice.pt", CUSTOM, r"lists archive/data/0 twice")


def test_wa07_legacy_torch_save_format_is_refused_with_advice(monkeypatch) -> None:
    legacy = _pt_bytes(_custom_state(), _use_new_zipfile_serialization=False)
    loads = _spy(monkeypatch, torch, "load")
    message = _refused(legacy, "old.pt", CUSTOM, r"^old\.pt is not a weights file ConvScope can")
    assert "legacy" in message and "re-save it with torch.save on a current PyTorch" in message
    assert loads == []


# --- 2. stride-0 views: tiny in the file, huge once copied ---------------------------------


def test_wa08_stride0_tensors_are_refused_by_materialised_bytes() -> None:
    with torch.device("meta"):  # 1.07 GB of float32, never allocated
        big = nn.Linear(16_384, 16_384)
    state = {"weight": torch.zeros(1).expand(16_384, 16_384), "bias": torch.zeros(1).expand(16_384)}
    data = _pt_bytes(state)
    assert len(data) < 10_000  # torch.save keeps the stride-0 view
    limits = limits_for(big, 100 * MB)
    _refused(data, "s0.pt", limits, r"would take 1,073\.8 MB once loaded, more than the 100\.0")
    loaded = read_weights_bytes(data, "s0.pt")  # generic caps: 2 GiB
    assert loaded["weight"].stride() == (0, 0)
    with pytest.raises(WeightsError) as info:  # refused before any cast or copy
        check_state_dict(big, loaded, "s0.pt", "Big", max_bytes=100 * MB)
    assert str(info.value) == (
        "The weights in s0.pt for Big would take 1,073.8 MB once loaded, more than the "
        "100.0 MB ConvScope accepts."
    )


def test_wa09_materialised_bytes_count_the_models_dtype() -> None:
    module = nn.Linear(1024, 1024)  # 4.2 MB in float32
    half = {k: v.detach().half() for k, v in module.state_dict().items()}
    state = read_weights_bytes(
        save_safetensors(half), "half.safetensors", limits_for(module, 3 * MB)
    )
    with pytest.raises(WeightsError, match=r"would take 4\.2 MB once loaded"):
        load_checked(module, state, "half.safetensors", "Linear", max_bytes=3 * MB)
    load_checked(module, state, "half.safetensors", "Linear", max_bytes=5 * MB)
    assert torch.equal(module.weight, half["weight"].float())


def test_wa10_registry_passes_its_byte_cap() -> None:
    reg = ModelRegistry(max_weights_bytes=100)  # the custom model takes 160 bytes
    data = _pt_bytes({"0.weight": torch.zeros(1).expand(4, 1, 3, 3), "0.bias": torch.zeros(4)})
    with pytest.raises(WeightsError, match=r"would take 0\.0 MB once loaded"):
        reg.with_uploaded_weights("custom", data, "s0.pt")


# --- 3. values that are only bad once cast --------------------------------------------------


def test_wa11_float64_overflowing_float32_is_refused() -> None:
    state = {k: v.double() for k, v in _custom_state().items()}
    state["0.weight"][1, 0, 2, 2] = 1e300
    assert torch.isfinite(state["0.weight"]).all()
    with pytest.raises(WeightsError) as info:
        ModelRegistry().with_uploaded_weights("custom", save_safetensors(state), "big.safetensors")
    assert str(info.value) == (
        "The weights in big.safetensors contain NaN or infinite values in 0.weight."
    )


def test_wa12_nan_cast_to_an_integer_buffer_is_refused() -> None:
    module = nn.BatchNorm1d(3)
    state = dict(module.state_dict())
    state["num_batches_tracked"] = torch.tensor(float("nan"))
    with pytest.raises(WeightsError, match="NaN or infinite values in num_batches_tracked"):
        check_state_dict(module, state, "bn.pt", "BN")


def test_wa13_float8_weights_are_cast_then_checked() -> None:
    state = {k: v.to(torch.float8_e4m3fn) for k, v in _custom_state().items()}
    loaded = ModelRegistry().with_uploaded_weights("custom", save_safetensors(state), "f8.st")
    assert torch.equal(loaded.module[0].weight, state["0.weight"].float())
    state["0.bias"][1] = float("nan")
    with pytest.raises(WeightsError) as info:
        ModelRegistry().with_uploaded_weights("custom", save_safetensors(state), "f8.st")
    assert str(info.value) == "The weights in f8.st contain NaN or infinite values in 0.bias."


@pytest.mark.parametrize(
    "make, shown",
    [
        (lambda w: w.to(torch.complex64), "complex64"),
        (lambda w: torch.zeros(w.shape, dtype=torch.uint8).view(torch.bits8), "bits8"),
        (lambda w: torch.zeros(w.shape, dtype=torch.uint8).view(torch.float4_e2m1fn_x2), "float4"),
    ],
)
def test_wa14_dtypes_that_cannot_be_cast_are_named(make: Callable, shown: str) -> None:
    state = _custom_state()
    state["0.weight"] = make(state["0.weight"])
    with pytest.raises(WeightsError) as info:
        ModelRegistry().with_uploaded_weights("custom", _pt_bytes(state), "odd.pt")
    assert str(info.value).startswith(f"The weights in odd.pt hold 0.weight as {shown}")
    assert str(info.value).endswith("which ConvScope cannot convert to the model's float32.")


def test_wa15_meta_and_sparse_tensors_are_refused() -> None:
    for odd in (torch.empty(4, device="meta"), torch.eye(4)[0].to_sparse()):
        state = {**_custom_state(), "0.bias": odd}
        with pytest.raises(WeightsError, match=r"holds 0\.bias as sparse, quantized, nested or"):
            sd.as_state_dict(state, "odd.pt")


# --- 4. safetensors headers -----------------------------------------------------------------


def _safetensors_from_header(header: dict[str, object], body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + body


def test_wa16_many_empty_tensors_are_refused_by_header_size_or_count(monkeypatch) -> None:
    empty = {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
    loads = _spy(monkeypatch, sd, "load_safetensors_bytes")
    million = _safetensors_from_header({f"t{i}": empty for i in range(200_000)})
    _refused(million, "many.st", None, r"header takes 13,\d{3},\d{3} bytes, more than the 5,")
    _refused(million, "many.st", CUSTOM, r"header takes 13,\d{3},\d{3} bytes, more than the 70")
    many = _safetensors_from_header({f"t{i}": empty for i in range(25_000)})
    _refused(many, "many.st", None, r"lists 25,000 tensors, more than the 20,016 ConvScope")
    few = _safetensors_from_header({f"t{i}": empty for i in range(21)})
    _refused(few, "few.st", CUSTOM, r"lists 21 tensors, more than the 20 ConvScope accepts")
    assert loads == []


def test_wa17_oversized_or_truncated_headers_are_refused(monkeypatch) -> None:
    honest = save_safetensors(_custom_state())
    size = int.from_bytes(honest[:8], "little")
    header, body = honest[8 : 8 + size], honest[8 + size :]
    padded = header + b" " * 2_000_000  # valid: safetensors pads headers with spaces
    loads = _spy(monkeypatch, sd, "load_safetensors_bytes")
    data = len(padded).to_bytes(8, "little") + padded + body
    _refused(data, "pad.st", CUSTOM, r"header takes 2,000,\d{3} bytes, more than the 70,656")
    huge = (2**40).to_bytes(8, "little") + header + body
    _refused(huge, "huge.st", CUSTOM, "its safetensors header runs past the end of the file")
    assert loads == []
    assert read_weights_bytes(data, "pad.st").keys() == {"0.weight", "0.bias"}  # generic caps


# --- 5. whatever a loader raises, the user reads a sentence ---------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "F4", "shape": [4], "data_offsets": [0, 2]},  # KeyError('F4') in safetensors
        {"dtype": "F6_E2M3", "shape": [4], "data_offsets": [0, 3]},  # KeyError too
        {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": "four", "data_offsets": [0, 4]},
        {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]},
    ],
)
def test_wa18_safetensors_loader_errors_become_a_sentence(entry: dict[str, object]) -> None:
    body = bytes(max(entry["data_offsets"]))  # exactly the data declared
    data = _safetensors_from_header({"0.weight": entry}, body)
    message = _refused(data, "w.st", CUSTOM, rf"^w\.st {UNREADABLE}: use a \.safetensors file")
    assert "F4" not in message and "F6" not in message and "[" not in message


@pytest.mark.parametrize(
    "old, new",
    [
        (b"X\x01\x00\x00\x000q", b"]q"),  # a list as storage key: "unhashable type: 'list'"
        (b"ctorch\nFloatStorage", b"ctorch\nFloatStorag"),  # a global weights_only refuses
        (b"K$t", b"J\xff\xff\xff\x7ft"),  # storage numel past the stored bytes
    ],
)
def test_wa19_torch_load_errors_become_a_sentence(old: bytes, new: bytes) -> None:
    base = _pt_bytes(_custom_state())
    name = _entry(base, "/data.pkl")
    pickled = zipfile.ZipFile(io.BytesIO(base)).read(name)
    assert old in pickled
    data = _rezip(base, edits={name: pickled.replace(old, new, 1)})
    message = _refused(data, "w.pt", CUSTOM, rf"^w\.pt {UNREADABLE}: use a \.safetensors file")
    assert "unhashable" not in message and "Storag" not in message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        b"PK\x03\x04",
        b"PK\x03\x04" + bytes(200),
        bytes(8) + b"{",
        (3).to_bytes(8, "little") + b"{[}",
        (2).to_bytes(8, "little") + b"[]",
        (100_000).to_bytes(8, "little") + b"{" + b"[" * 99_999,
        random.Random(3).randbytes(4096),
    ],
)
def test_wa20_garbage_bytes_are_refused(data: bytes) -> None:
    _refused(data, "junk.bin", None, rf"^junk\.bin {UNREADABLE}")


def test_wa21_mutated_files_load_or_raise_a_weights_error() -> None:
    rng = random.Random(19)
    state = _custom_state()
    for original in (_pt_bytes(state), save_safetensors(state)):
        for _ in range(150):
            data = bytearray(original)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            try:
                loaded = read_weights_bytes(bytes(data), "mutant", CUSTOM)
            except WeightsError as exc:
                assert str(exc).startswith(("mutant ", "The weights in mutant ")), exc
            else:
                assert all(torch.is_tensor(v) for v in loaded.values())


# --- positive controls ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["safetensors", "pt", "rezipped pt", "pt with Adam state"])
def test_wa22_normal_state_dicts_still_load_exactly(kind: str) -> None:
    module = presets.custom_module()
    state = _custom_state()
    if kind == "safetensors":
        data = save_safetensors(state)
    elif kind == "pt":
        data = _pt_bytes(state)
    elif kind == "rezipped pt":  # what the attack tests edit loads when left alone
        data = _rezip(_pt_bytes(state))
    else:
        module.load_state_dict(state)
        optimizer = torch.optim.Adam(module.parameters())
        module(torch.ones(1, 1, 5, 5)).sum().backward()
        optimizer.step()
        state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        data = _pt_bytes({"model_state_dict": state, "optimizer": optimizer.state_dict()})
    limits = limits_for(module, 100 * MB)
    loaded = read_weights_bytes(data, "ok", limits)
    target = presets.custom_module()
    load_checked(target, loaded, "ok", "Custom", max_bytes=limits.max_bytes)
    for key, value in target.state_dict().items():
        assert torch.equal(value, state[key]), key
