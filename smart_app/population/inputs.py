"""Finding the export's NDJSON files, and making each one safe for the engines to read.

Every file in the input folder is either read or named. Servers lay exports out in several ways: a flat folder of
`<Type>.ndjson` (the Bulk Data spec's own servers, PainPlan's `--export`), a folder per type (AWS HealthLake), files
with no extension at all (Google Cloud Healthcare API), `.jsonl` or upper-case names, any of them gzip-compressed. A
file is read when its name says NDJSON (`.ndjson` or `.jsonl`, with or without `.gz`, in any case) or, whatever its
name, when its first line is a FHIR resource. Hidden files and folders (a leading dot: PainPlan's own
`.export-state.json`) and a Bulk Data client's saved copy of the server's manifest are not input. Anything else is
named as not read, and so is whatever cannot be opened (a broken link, a file or folder the run may not read). Each
file is opened once to tell what it is (only its start read) and once to be read through: exports run to gigabytes.

Before the engines read a file, `prepare_inputs` reads it once through: a line that is not UTF-8 or is longer than
the engines read is a malformed line of its file, and a gzip stream cut off or corrupt is read up to the damage and
the file named. DuckDB and Spark each stopped the whole run on any of these; now both read the same cleaned lines.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, overload

from guideline.population import PopulationError, Quality

# The longest line the engines read (DuckDB's read_csv max_line_size); a longer one is counted as malformed first, a
# little below the limit so the engine's own count of the line's end never decides it.
ENGINE_MAX_LINE_BYTES = 64 << 20
MAX_LINE_BYTES = ENGINE_MAX_LINE_BYTES - 1024
_CHUNK_BYTES = 16 << 20
_SNIFF_BYTES = 1 << 20
_NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
_GZIP_MAGIC = b"\x1f\x8b"
# Other compressions a download may come in, which the review does not read: named, never guessed at.
_OTHER_COMPRESSION = {b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}
NOT_NDJSON = "not NDJSON (its first line is no FHIR resource)"
# What `_why_not_read` says of the export's own manifest: no data, so neither read nor named.
MANIFEST = "the export's manifest"
_MANIFEST_MAX_BYTES = 16 << 20


@dataclass(frozen=True)
class InputFolder(Sequence[Path]):
    """The files of an input folder that will be read (a sequence of paths) and those that will not, with why."""

    folder: Path
    files: tuple[Path, ...]
    not_read: tuple[tuple[str, str], ...] = ()  # (path inside the folder, why)

    @overload
    def __getitem__(self, index: int) -> Path: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Path]: ...
    def __getitem__(self, index: int | slice) -> Path | Sequence[Path]:
        return self.files[index]

    def __len__(self) -> int:
        return len(self.files)

    def name(self, path: Path) -> str:
        """The file's path inside the input folder, as outputs name it."""
        try:
            return path.relative_to(self.folder).as_posix()
        except ValueError:
            return path.name


def ndjson_files(folder: Path, exclude: Path | None = None) -> InputFolder:
    """Every file under the folder, read or named (see the module's docstring); `exclude` is a folder inside it
    that is not input (the run's own output)."""
    if not folder.is_dir():
        raise PopulationError(f"INPUT {folder} is not a folder of NDJSON files")
    try:
        entries = _entries(folder)
    except OSError as error:
        raise PopulationError(f"INPUT {folder} could not be opened: {_reason(error)}") from error
    skip = exclude.resolve() if exclude is not None else None
    files: list[Path] = []
    not_read: list[tuple[str, str]] = []
    for path, unreadable in _walk(folder, entries, skip, frozenset()):
        why = unreadable or _why_not_read(path)
        if why is None:
            files.append(path)
        elif why != MANIFEST:
            not_read.append((path.relative_to(folder).as_posix(), why))
    if not files:
        listed = "; ".join(f"{name}: {why}" for name, why in not_read[:5])
        raise PopulationError(f"INPUT {folder} holds no NDJSON files" + (f" ({listed})" if listed else ""))
    return InputFolder(folder, tuple(files), tuple(not_read))


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.iterdir(), key=lambda p: p.name)


def _walk(
    folder: Path, entries: list[Path], skip: Path | None, seen: frozenset[Path]
) -> Iterator[tuple[Path, str | None]]:
    """The folder's files, recursively, in name order, each with why it cannot be read (None: it is a file to
    sniff); hidden ones (a leading dot) and `skip` left out, and a linked folder that leads back to one being walked
    (`seen`) not walked twice. A broken link, a sub-folder that cannot be listed or anything else that is no file is
    yielded with its reason: its data is missing from the run, so it must be named."""
    seen = seen | {folder.resolve()}
    for entry in entries:
        if entry.name.startswith(".") or (skip is not None and entry.resolve() == skip):
            continue
        if entry.is_dir():
            if entry.resolve() in seen:
                continue
            try:
                inside = _entries(entry)
            except OSError as error:
                yield entry, f"folder could not be opened: {_reason(error)}"
                continue
            yield from _walk(entry, inside, skip, seen)
        elif entry.is_file():
            yield entry, None
        else:
            yield entry, _not_a_file(entry)


def _not_a_file(entry: Path) -> str:
    """Why an entry that is neither a file nor a folder is not read: a link to nothing, or a pipe or a device."""
    try:
        mode = os.stat(entry).st_mode
    except OSError as error:
        if error.errno == errno.ENOENT and entry.is_symlink():
            return f"could not be opened: a link to {os.readlink(entry)}, which does not exist"
        return f"could not be opened: {_reason(error)}"
    kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"not a file ({kind})"


def _reason(error: OSError) -> str:
    """The system's words for a failed open or read ("Permission denied"), without the path it repeats."""
    return error.strerror or type(error).__name__


def _opened(path: Path) -> tuple[IO[bytes], None] | tuple[None, str]:
    """The file open for reading, or why it could not be opened ("could not be opened: Permission denied")."""
    try:
        return open(path, "rb"), None
    except OSError as error:
        return None, f"could not be opened: {_reason(error)}"


def _why_not_read(path: Path) -> str | None:
    """None when the file is NDJSON to read, else why it is not: the file is opened once, and only its start read
    (a manifest, at most 16 MB, is read whole)."""
    handle, unopened = _opened(path)
    if handle is None:
        return unopened
    with handle:
        try:
            return _sniff(path, handle)
        except OSError as error:
            return f"could not be read: {_reason(error)}"


def _sniff(path: Path, handle: IO[bytes]) -> str | None:
    head = handle.read(6)
    if not head:
        return None  # an empty file: a type the server had none of
    compression = next((name for magic, name in _OTHER_COMPRESSION.items() if head.startswith(magic)), None)
    if compression:
        return f"compressed as {compression}, which the review does not read"
    gzipped = head.startswith(_GZIP_MAGIC)
    if path.name.lower().endswith(_NDJSON_SUFFIXES) and (gzipped or not _is_gz(path)):
        return None
    handle.seek(0)
    if _first_line_is_resource(handle, gzipped):
        return None
    handle.seek(0)
    return MANIFEST if _is_manifest(handle) else _not_ndjson(path)


def _is_manifest(handle: IO[bytes]) -> bool:
    """Whether the file is a Bulk Data `$export` manifest: one JSON object with its transactionTime and output list
    (a client such as PainPlan's own `--export` or the SMART bulk-data client keeps it beside the files)."""
    if os.fstat(handle.fileno()).st_size > _MANIFEST_MAX_BYTES:
        return False
    try:
        document = json.loads(handle.read())
    except ValueError:
        return False
    return isinstance(document, dict) and "transactionTime" in document and isinstance(document.get("output"), list)


def _is_gz(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _not_ndjson(path: Path) -> str:
    if _is_gz(path):
        return "neither gzip nor NDJSON (its first line is no FHIR resource)"
    return NOT_NDJSON


def _first_line_is_resource(handle: IO[bytes], gzipped: bool) -> bool:
    """Whether the file's first non-blank line is a JSON object naming a resourceType (as every NDJSON line is)."""
    stream = _decompressed(handle, gzipped)
    try:
        line = b""
        while not line.strip():
            line = stream.readline(_SNIFF_BYTES)
            if not line:
                return False
    except (EOFError, zlib.error, gzip.BadGzipFile):
        return False
    if not line.endswith(b"\n") and len(line) >= _SNIFF_BYTES:  # a first line too long to parse here
        return line.lstrip().startswith(b"{") and b'"resourceType"' in line
    try:
        resource = json.loads(line)
    except ValueError:
        return False
    return isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)


def _decompressed(handle: IO[bytes], gzipped: bool) -> IO[bytes]:
    """The file's bytes as read from its open handle: a gzip stream decompressed (the handle stays the one open)."""
    return gzip.GzipFile(fileobj=handle, mode="rb") if gzipped else handle  # type: ignore[return-value]


@dataclass
class PreparedInputs:
    """What the engines read: each file's path for them, its name in the outputs, and what preparing it found."""

    paths: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # the engines' file name (no folder) → the input's name
    read: list[str] = field(default_factory=list)  # the input files read (some perhaps only in part), by name
    quality: Quality = field(default_factory=Quality)

    def name_of(self, engine_path: str) -> str:
        """The input's name for a path an engine reports (Spark gives a `file:` URI): by the file's own name."""
        base = engine_path.rstrip("/").rsplit("/", 1)[-1]
        return self.names.get(base, base)

    def count_malformed(self, quality: Quality, counts: Iterable[tuple[str, int]]) -> None:
        """Adds the lines an engine found malformed, each (the file as the engine names it, lines), to the run's
        count and their file's: both engines count them so."""
        for engine_path, count in counts:
            quality.malformed_lines += count
            quality.malformed_lines_by_file[self.name_of(engine_path)] += count


def prepare_inputs(inputs: InputFolder, workdir: Path, note: Callable[[str], None] | None = None) -> PreparedInputs:
    """Each file the engines will read, under a name that says its compression (`00001.ndjson[.gz]`: a link to the
    file, or a cleaned copy when a line could not be read); the files not read, and the lines dropped, counted."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    prepared = PreparedInputs()
    for name, why in inputs.not_read:
        prepared.quality.input_files_not_read[f"{name}: {why}"] += 1
    # Decompression and reading release the GIL: a few files are checked at once.
    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        checked = list(pool.map(_check, inputs.files))
    for number, (path, check) in enumerate(zip(inputs.files, checked, strict=True), 1):
        name = inputs.name(path)
        if check.unopened:
            prepared.quality.input_files_not_read[f"{name}: {check.unopened}"] += 1
            if note:
                note(f"check: {name}: {check.unopened}")
            continue
        stem = f"{number:05d}.ndjson"
        target = workdir / (stem + (".gz" if check.gzipped else ""))
        if check.clean:
            _link(path, target)
        else:
            target = workdir / stem  # the lines that could be read, as plain text
            dropped, cut = _copy_readable(path, check.gzipped, target)
            if dropped:
                prepared.quality.malformed_lines += dropped
                prepared.quality.malformed_lines_by_file[name] += dropped
            if cut:
                prepared.quality.input_files_not_read[f"{name}: {cut}"] += 1
            if note:
                note(f"check: {name}: {dropped} line(s) could not be read" + (f"; {cut}" if cut else ""))
        prepared.paths.append(str(target))
        prepared.names[target.name] = name
        prepared.read.append(name)
    if not prepared.paths:  # every file failed to open: the engines still read a folder, an empty one
        (workdir / "00000.ndjson").touch()
        prepared.paths.append(str(workdir / "00000.ndjson"))
    return prepared


@dataclass(frozen=True)
class _Checked:
    """What reading a file through found: its compression, whether every line can be read, or why it could not
    be opened at all (listed, then gone, or its permissions changed; or a list of files naming a folder)."""

    gzipped: bool = False
    clean: bool = False
    unopened: str | None = None


def _check(path: Path) -> _Checked:
    """The file read through once, from one open: its first bytes say whether it is gzip, then every line."""
    handle, unopened = _opened(path)
    if handle is None:
        return _Checked(unopened=unopened)
    with handle:
        try:
            gzipped = handle.read(2) == _GZIP_MAGIC
            handle.seek(0)
        except OSError:
            return _Checked()  # read again line by line, which names the damage
        return _Checked(gzipped, _clean(_decompressed(handle, gzipped)))


def _link(path: Path, target: Path) -> None:
    try:
        os.symlink(path.resolve(), target)
    except OSError:  # a file system with no symbolic links: a copy reads the same
        shutil.copyfile(path, target)


def _clean(stream: IO[bytes]) -> bool:
    """Whether every line is UTF-8 and no longer than MAX_LINE_BYTES, and the whole file can be read (a gzip stream
    is complete): read in large chunks, the usual file costs one pass at the speed of decompression."""
    chunk_size = min(_CHUNK_BYTES, MAX_LINE_BYTES)  # a line wholly inside one chunk is then never too long
    carried = b""  # the current line's start, from earlier chunks
    try:
        while chunk := stream.read(chunk_size):
            first = chunk.find(b"\n")
            if first < 0:
                carried += chunk
                if len(carried) > MAX_LINE_BYTES:
                    return False
                continue
            if len(carried) + first > MAX_LINE_BYTES:
                return False
            last = chunk.rfind(b"\n")
            if not (carried.isascii() and chunk.isascii()):  # ASCII is UTF-8: most chunks need no decoding
                (carried + chunk[: first + 1]).decode("utf-8")
                str(memoryview(chunk)[first + 1 : last], "utf-8")
            carried = chunk[last + 1 :]
        carried.decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError):
        return False
    return True


def _copy_readable(path: Path, gzipped: bool, target: Path) -> tuple[int, str | None]:
    """Copy the lines that can be read to `target`: (lines dropped, why the file was read only in part or None).
    Only a damaged file is read this second time: the copy is what the engines read in its place."""
    dropped = lines = 0
    with open(target, "wb") as out:
        handle, unopened = _opened(path)
        if handle is None:
            return dropped, unopened
        try:
            with handle, _decompressed(handle, gzipped) as stream:
                while line := stream.readline(MAX_LINE_BYTES + 2):
                    lines += 1
                    if not line.endswith(b"\n") and len(line) > MAX_LINE_BYTES:
                        dropped += 1
                        _skip_rest_of_line(stream)
                        continue
                    try:
                        line.decode("utf-8")
                    except UnicodeDecodeError:
                        dropped += 1
                        continue
                    out.write(line if line.endswith(b"\n") else line + b"\n")
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            return dropped, f"read in part: cut off or corrupt after line {lines:,} ({_damage(error)})"
        except OSError as error:
            return dropped, f"read in part: a read error after line {lines:,} ({_reason(error)})"
    return dropped, None


def _skip_rest_of_line(stream: IO[bytes]) -> None:
    while (rest := stream.readline(_CHUNK_BYTES)) and not rest.endswith(b"\n"):
        pass


def _damage(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return "the gzip stream ends early: an interrupted download?"
    return str(error) or type(error).__name__
