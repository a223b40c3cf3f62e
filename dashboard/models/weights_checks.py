"""Look at an uploaded weights file's container before any loader reads it.

Loaders trust what a file declares: torch's zip reader allocates an entry's declared size and
inflates compressed entries whole, safetensors parses any header it is given. So the zip
central directory and the safetensors header are checked here first, with the standard
library only, against limits derived from the model the weights are meant for.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from dataclasses import dataclass

from dashboard.errors import WeightsError
from dashboard.i18n import _
from dashboard.models.later import Later

_KIB = 1024
_ZIP_MAGIC = b"PK\x03\x04"
_CENTRAL_DIR_MAGIC = b"PK\x01\x02"
_END_MAGIC = b"PK\x05\x06"
_ZIP64_LOCATOR_MAGIC = b"PK\x06\x07"
_ZIP64_END_MAGIC = b"PK\x06\x06"
# End of central directory, zip64 locator, zip64 end record (APPNOTE 4.3.14-16).
_END = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_END = struct.Struct("<4sQ2H2L4Q")
# torch.save's legacy (pre-1.6) format starts with this number pickled as LONG1.
_LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
_NAME_SHOWN = 60


@dataclass(frozen=True)
class WeightsLimits:
    """What an upload for one model may hold.

    Attributes:
        max_tensors: the model's state-dict length; a file may list a few more (the extra
            keys are then named to the user) or, in a .pt, an optimizer's state beside it.
        max_bytes: bytes the weights may take once materialised (numel × element size).
    """

    max_tensors: int
    max_bytes: int

    @property
    def tensor_cap(self) -> int:
        """Tensors a file may list."""
        return 2 * self.max_tensors + 16

    @property
    def entry_cap(self) -> int:
        """Entries a torch.save zip may hold: a storage per tensor, room for Adam's state."""
        return 4 * self.max_tensors + 32

    @property
    def header_cap(self) -> int:
        """Bytes a safetensors JSON header may take."""
        return 256 * self.tensor_cap + 64 * _KIB

    @property
    def pickle_cap(self) -> int:
        """Bytes a pickle (data.pkl) in a torch.save zip may take: 1 KiB an entry, + 1 MiB."""
        return _KIB * self.entry_cap + 1024 * _KIB


# For callers that do not say which model the weights are for: sanity caps only (a 5 MB
# safetensors header, 20,016 tensors), several times what the largest torchvision model needs.
GENERIC_LIMITS = WeightsLimits(max_tensors=10_000, max_bytes=2 * 1024**3)


def unreadable(source: str, reason: Later | None = None) -> WeightsError:
    """The sentence for a file no loader should (or could) read; `reason` ends it (worded
    when shown: ``Later(lambda: _("its … is damaged"))``)."""
    if reason is None:
        return WeightsError(
            "{source} is not a weights file ConvScope can read: use a .safetensors file or a "
            "state dict saved with torch.save(model.state_dict()) (other pickles are never "
            "loaded).",
            source=source,
        )
    return WeightsError(
        "{source} is not a weights file ConvScope can read: {reason}.", source=source, reason=reason
    )


def is_safetensors(data: bytes) -> bool:
    """safetensors: an 8-byte little-endian header length, then a JSON object."""
    return len(data) > 8 and data[8:9] == b"{"


def is_zip(data: bytes) -> bool:
    """torch.save's format since PyTorch 1.6 (torch.load checks the same four bytes)."""
    return data.startswith(_ZIP_MAGIC)


def refuse_other_format(data: bytes, source: str) -> WeightsError:
    """The error for bytes that are neither safetensors nor a torch.save zip."""
    if _LEGACY_MAGIC in data[:32]:
        return unreadable(
            source,
            Later(
                lambda: _(
                    "it is in the legacy torch.save format of PyTorch before 1.6, which is not "
                    "loaded for safety; re-save it with torch.save on a current PyTorch, or as "
                    ".safetensors"
                )
            ),
        )
    return unreadable(source)


def check_safetensors_header(data: bytes, source: str, limits: WeightsLimits) -> None:
    """Refuse a safetensors header that is oversized, malformed or lists too many tensors.

    Raises:
        WeightsError: naming the file and what is wrong.
    """
    header_len = int.from_bytes(data[:8], "little")
    if header_len > len(data) - 8:
        raise unreadable(
            source, Later(lambda: _("its safetensors header runs past the end of the file"))
        )
    if header_len > limits.header_cap:
        raise unreadable(
            source,
            Later(
                lambda: _(
                    "its safetensors header takes {size} bytes, more than the {limit} "
                    "ConvScope reads for this model"
                ).format(size=f"{header_len:,}", limit=f"{limits.header_cap:,}")
            ),
        )
    try:
        # Duplicate keys only cost parsing time, which the header size bounds.
        header = json.loads(data[8 : 8 + header_len])
    except Exception as exc:  # JSONDecodeError, UnicodeDecodeError, RecursionError, ...
        raise unreadable(
            source, Later(lambda: _("its safetensors header is not valid JSON"))
        ) from exc
    if not isinstance(header, dict):
        raise unreadable(source, Later(lambda: _("its safetensors header is not a JSON object")))
    check_tensor_count(len(header) - ("__metadata__" in header), source, limits)


def check_tensor_count(count: int, source: str, limits: WeightsLimits) -> None:
    """Refuse a file listing more tensors than `limits` allow."""
    if count > limits.tensor_cap:
        raise unreadable(
            source,
            Later(
                lambda: _(
                    "it lists {count} tensors, more than the {limit} ConvScope accepts for "
                    "this model"
                ).format(count=f"{count:,}", limit=f"{limits.tensor_cap:,}")
            ),
        )


def check_torch_zip(data: bytes, source: str, limits: WeightsLimits) -> None:
    """Refuse a torch.save zip that torch.load would inflate, over-allocate or crawl through.

    torch.save stores every entry uncompressed, so each entry's declared size must equal its
    stored size, lie inside the file, and all of them together fit in the upload.

    Raises:
        WeightsError: naming the file and what is wrong.
    """
    declared_entries = _check_end_records(data, source)
    # Every central-directory record starts with this signature, so counting it bounds the
    # entries zipfile would parse (seconds for a million) before it parses any.
    if max(declared_entries, data.count(_CENTRAL_DIR_MAGIC)) > limits.entry_cap:
        raise _too_many_entries(source, limits)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except Exception as exc:  # BadZipFile, struct and value errors: any means it is damaged
        raise _damaged(source) from exc
    if len(entries) != declared_entries:
        raise _damaged(source)
    names: set[str] = set()
    for entry in entries:
        if entry.filename in names:
            twice = shown_name(entry.filename)
            raise unreadable(
                source,
                Later(lambda name=twice: _("its archive lists {name} twice").format(name=name)),
            )
        names.add(entry.filename)
        _check_entry(entry, len(data), source, limits)
    declared = sum(entry.file_size for entry in entries)
    if declared > len(data):
        raise unreadable(
            source,
            Later(
                lambda: _(
                    "its archive declares {declared} bytes of content in a {size}-byte file"
                ).format(declared=f"{declared:,}", size=f"{len(data):,}")
            ),
        )


def _check_end_records(data: bytes, source: str) -> int:
    """The entry count, once zipfile and torch's reader (miniz) surely read one directory.

    They find it differently: zipfile takes the zip64 record just before its locator and
    allows bytes prepended to the archive; miniz follows the locator's offset and does not.
    A file can hence show zipfile a harmless directory and torch a zip bomb. torch.save
    writes no comment, no prepended bytes, and records that agree, as required here.
    """
    end = len(data) - _END.size
    if end < 0 or data.rfind(_END_MAGIC) != end:
        raise _damaged(source)
    _magic, disk, cd_disk, disk_entries, entries, size, offset, comment = _END.unpack_from(
        data, end
    )
    if disk or cd_disk or comment or disk_entries != entries:
        raise _damaged(source)
    cd_end = end
    locator = end - _ZIP64_LOCATOR.size
    if locator >= 0 and data.startswith(_ZIP64_LOCATOR_MAGIC, locator):
        record = locator - _ZIP64_END.size
        _magic, _disk, pointer, _disks = _ZIP64_LOCATOR.unpack_from(data, locator)
        if record < 0 or pointer != record or not data.startswith(_ZIP64_END_MAGIC, record):
            raise _damaged(source)
        _magic, record_size, _made, _needs, disk, cd_disk, disk_entries, *in64 = (
            _ZIP64_END.unpack_from(data, record)
        )
        entries64, size64, offset64 = in64
        agree = (
            record_size == _ZIP64_END.size - 12  # counted after its own first 12 bytes
            and not (disk or cd_disk)
            and disk_entries == entries64
            and entries in (entries64, 0xFFFF)  # the short fields may say "see zip64"
            and size in (size64, 0xFFFFFFFF)
            and offset in (offset64, 0xFFFFFFFF)
        )
        if not agree:
            raise _damaged(source)
        entries, size, offset, cd_end = entries64, size64, offset64, record
    if offset + size != cd_end:
        raise _damaged(source)
    return entries


def _check_entry(
    entry: zipfile.ZipInfo, data_size: int, source: str, limits: WeightsLimits
) -> None:
    name = shown_name(entry.filename)
    if entry.compress_type != zipfile.ZIP_STORED:
        raise unreadable(
            source,
            Later(
                lambda: _(
                    "its archive entry {name} is compressed, which torch.save never does"
                ).format(name=name)
            ),
        )
    if entry.file_size != entry.compress_size:
        raise unreadable(
            source,
            Later(
                lambda: _(
                    "its archive entry {name} declares {size} bytes but stores {stored}"
                ).format(name=name, size=f"{entry.file_size:,}", stored=f"{entry.compress_size:,}")
            ),
        )
    if entry.header_offset + entry.compress_size > data_size:
        raise unreadable(
            source,
            Later(
                lambda: _("its archive entry {name} runs past the end of the file").format(
                    name=name
                )
            ),
        )
    if entry.filename.endswith(".pkl") and entry.file_size > limits.pickle_cap:
        raise unreadable(
            source,
            Later(
                lambda: _(
                    "its pickled part takes {size} bytes, more than the {limit} ConvScope "
                    "reads for this model"
                ).format(size=f"{entry.file_size:,}", limit=f"{limits.pickle_cap:,}")
            ),
        )


def _damaged(source: str) -> WeightsError:
    return unreadable(source, Later(lambda: _("its zip archive is damaged")))


def _too_many_entries(source: str, limits: WeightsLimits) -> WeightsError:
    return unreadable(
        source,
        Later(
            lambda: _(
                "its archive holds more than the {limit} entries ConvScope accepts for this model"
            ).format(limit=f"{limits.entry_cap:,}")
        ),
    )


def shown_name(name: str) -> str:
    """A name from a file, cut short enough for a sentence."""
    return name if len(name) <= _NAME_SHOWN else f"{name[:_NAME_SHOWN]}…"
