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
the file named. DuckDB and Spark each stopped the whole run on any of these; now both read the same cleaned lines,
which the same reading writes (a damaged file is not read a second time to copy them). Each such line, and a line
seen on the way that is no JSON (the engines count it), is named by its file and line number; a file in which the
engines count a malformed line that reading did not name is read once more, after them, to name it
(`PreparedInputs.name_malformed_lines`).
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import io
import json
import os
import re
import shutil
import stat
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any, overload
from urllib.parse import unquote, urlsplit

from guideline.population import PopulationError, Quality
from guideline.population.quality import in_name_order
from guideline.words import and_list, number_of
from smart_app.population.worker import (
    NO_RESOURCE,
    OPERATION_OUTCOME,
    WITHOUT_PATIENT,
    bundle_entries_of,
    is_bundle,
    line_keys,
    names_no_patient,
    parsed_keys,
)

# The longest line the engines read (DuckDB's read_csv max_line_size); a longer one is counted as malformed first, a
# little below the limit so the engine's own count of the line's end never decides it.
ENGINE_MAX_LINE_BYTES = 64 << 20
MAX_LINE_BYTES = ENGINE_MAX_LINE_BYTES - 1024
_CHUNK_BYTES = 16 << 20
# A gzip file's readable lines are written out as they are decompressed, up to this much (see `_Reader`): a damaged
# file's start is then never decompressed twice, and a whole one's is deleted. Four files are read at once.
SPOOL_BYTES = 512 << 20
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
    # What the export's server warned of (export.reported_errors), each with how many issues it stands for.
    export_warnings: tuple[tuple[str, int], ...] = ()
    # The export's manifests a Bulk Data client saved among the files: not input, but they say what the export holds.
    manifests: tuple[Path, ...] = ()

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
    manifests: list[Path] = []
    for path, unreadable in _walk(folder, entries, skip, frozenset()):
        why = unreadable or _why_not_read(path)
        if why is None:
            files.append(path)
        elif why == MANIFEST:
            manifests.append(path)
        else:
            not_read.append((path.relative_to(folder).as_posix(), why))
    if not files:
        listed = "; ".join(f"{name}: {why}" for name, why in not_read[:5])
        raise PopulationError(f"INPUT {folder} holds no NDJSON files" + (f" ({listed})" if listed else ""))
    return InputFolder(folder, tuple(files), tuple(not_read), manifests=tuple(manifests))


def export_file_name(index: int, kind: object) -> str:
    """The name `--export` saves the manifest's `index`th output file under (`0002.MedicationDispense.ndjson`)."""
    return f"{index:04d}.{re.sub(r'[^A-Za-z]', '', str(kind))}.ndjson"


@dataclass(frozen=True)
class _Listed:
    """One output file an export's manifest lists: its type, how many resources it holds (None: not said), the name
    `--export` saves it under (None when it has no url), and the url's path, segment by segment (what tells apart
    files of one name)."""

    kind: str
    count: int | None
    export_name: str | None = None
    segments: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str | None, str | None]:
        """The names a client saves it under: the url's last path segment, and `--export`'s; None when not had."""
        return (self.segments[-1] if self.segments else None), self.export_name


def not_held(
    inputs: InputFolder, lines: Mapping[str, int], read: Mapping[str, int], reviewed: Collection[str]
) -> Counter[str]:
    """What an export's manifest among the files lists that the review did not read, for `input_files_not_read`: a
    file the client did not download, or a copy left behind, is missing from the review as a file not read is. Each
    type the review reads of which nothing was read, named by type; and, when the manifest's files are found by name
    in its folder or a sub-folder of it, each other file of a type the review reads that is not there, each found
    twice, and each that holds fewer lines than the manifest's `count` (cut off at a line break). `lines` is the
    lines of each file read whole, by its name (`PreparedInputs.lines`); `read` is resources read by type
    (`Quality.resources_by_type`)."""
    named: Counter[str] = Counter()
    present = {inputs.name(path) for path in inputs.files} | {name for name, _ in inputs.not_read}
    for path in inputs.manifests:
        where = inputs.name(path)
        listed = _listed_files(path)
        wanting = {item.kind for item in listed if item.kind in reviewed and not read.get(item.kind)}
        for kind, (files, resources) in _by_type(listed).items():
            if kind in wanting:
                named[f"{where}: {_listing(kind, files, resources)}, and INPUT holds no {kind}: not read"] += 1
        beside = _beside(inputs, path)
        own_names = _by_own_name(beside, present)
        found = [_found(item, beside, own_names) for item in listed]
        if not any(found):  # the client names the files it saves its own way: judged by type alone
            continue
        style = Counter(index for _, index in filter(None, found)).most_common(1)[0][0]
        for item, match in zip(listed, found, strict=True):
            if item.kind not in reviewed or item.kind in wanting:
                continue
            if match is None:
                named[f"{where}: {_missing(item, style)}"] += 1
            elif len(match[0]) > 1:
                named[f"{where}: {_found_twice(item, match)}"] += 1
            elif item.count is not None and lines.get(match[0][0], item.count) < item.count:
                held = lines[match[0][0]]
                named[
                    f"{match[0][0]}: holds {number_of(held, 'line')}, and the export's manifest ({where}) "
                    f"says the server wrote {number_of(item.count, f'{item.kind} resource')} to it: cut off?"
                ] += 1
    return named


def _listed_files(path: Path) -> list[_Listed]:
    """A manifest's output files that hold resources of a type (a file with a `count` of 0 holds none: a client
    need not save it), in its order."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):  # read whole as a manifest moments ago: changed since, it lists nothing to check
        return []
    if isinstance(document, dict) and isinstance(document.get("manifest"), dict):
        document = document["manifest"]  # `--export` keeps the manifest in its state file (export.saved_manifest)
    outputs = document.get("output") if isinstance(document, dict) else None
    listed: list[_Listed] = []
    index = -1  # `--export` numbers the outputs that have a url, and only those
    for entry in outputs if isinstance(outputs, list) else ():
        if not isinstance(entry, dict):
            continue
        url = entry.get("url")
        if isinstance(url, str):
            index += 1
        kind, count = entry.get("type"), entry.get("count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        if not isinstance(kind, str) or count == 0:  # no type to look for, or nothing in the file
            continue
        if not isinstance(url, str):  # no file to look for by name: counted by type only
            listed.append(_Listed(kind, count))
            continue
        # An absolute URL of the server's, or a path relative to the manifest (a drop copied with its folders).
        segments = tuple(unquote(part) for part in urlsplit(url).path.split("/") if part not in ("", "."))
        listed.append(_Listed(kind, count, export_file_name(index, kind), segments))
    return listed


def _by_type(listed: Iterable[_Listed]) -> dict[str, tuple[int, int | None]]:
    """The files listed by type: how many, and how many resources they hold (None when a file says not)."""
    totals: dict[str, tuple[int, int | None]] = {}
    for item in listed:
        files, resources = totals.get(item.kind, (0, 0))
        totals[item.kind] = (files + 1, None if resources is None or item.count is None else resources + item.count)
    return totals


def _beside(inputs: InputFolder, manifest: Path) -> str:
    """The manifest's folder inside INPUT, as a prefix of the names of the files beside it ("" at the top)."""
    folder = inputs.name(manifest.parent)
    return "" if folder == "." else folder + "/"


def _by_own_name(beside: str, present: Collection[str]) -> dict[str, list[str]]:
    """The files in the manifest's folder and its sub-folders (a folder per type, a client's downloads/), by their
    own name: a client copying an export keeps the names, not always the folders."""
    files: dict[str, list[str]] = {}
    for name in sorted(present):
        if name.startswith(beside):
            files.setdefault(name.rsplit("/", 1)[-1], []).append(name)
    return files


def _found(item: _Listed, beside: str, files: Mapping[str, list[str]]) -> tuple[tuple[str, ...], int] | None:
    """The files under the manifest's folder that are the listed one (named as saved, or gzip-compressed after), and
    which of its names found them; more than one when no more of the url's path tells them apart (a copy of the
    export's folder inside it, a file left unpacked beside its .gz); None when none is there."""
    for index, name in enumerate(item.names):
        candidates = [*files.get(name, ()), *files.get(f"{name}.gz", ())] if name else []
        if candidates:
            return _closest(candidates, beside, item.segments if index == 0 else ()), index
    return None


def _closest(candidates: list[str], beside: str, segments: tuple[str, ...]) -> tuple[str, ...]:
    """The candidates whose path under the manifest's folder ends in the longest stretch of the url's path
    (`MedicationDispense/1.ndjson` for `…/MedicationDispense/1.ndjson`, not `Patient/1.ndjson`)."""

    def shared(candidate: str) -> int:
        parts = candidate[len(beside) :].removesuffix(".gz").split("/")
        if candidate.endswith(".gz") and segments and segments[-1].endswith(".gz"):
            parts[-1] += ".gz"  # the server's own file is gzip: its url names the .gz
        length = 0
        while length < min(len(parts), len(segments)) and parts[-1 - length] == segments[-1 - length]:
            length += 1
        return length

    lengths = {candidate: shared(candidate) for candidate in candidates}
    longest = max(lengths.values())
    return tuple(sorted(candidate for candidate, length in lengths.items() if length == longest))


def _found_twice(item: _Listed, match: tuple[tuple[str, ...], int]) -> str:
    """ "the export's manifest lists Patient file Patient_001.ndjson (3 resources), and INPUT holds 2 files of that
    name (a/Patient_001.ndjson and Patient_001.ndjson): both read, not checked against it"."""
    places, style = match
    name = item.names[style]
    count = f" ({number_of(item.count, 'resource')})" if item.count is not None else ""
    every = "both" if len(places) == 2 else "each"
    return (
        f"the export's manifest lists {item.kind} file {name}{count}, and INPUT holds "
        f"{number_of(len(places), 'file')} of that name ({and_list(places)}): {every} read, not checked against it"
    )


def _missing(item: _Listed, style: int) -> str:
    """ "the export's manifest lists MedicationDispense file MedicationDispense.001.ndjson (3 resources), and …",
    named as the manifest's other files were found (by the url's name, or `--export`'s)."""
    name = item.names[style] or item.names[1 - style] or "(with no url)"
    count = f" ({number_of(item.count, 'resource')})" if item.count is not None else ""
    return f"the export's manifest lists {item.kind} file {name}{count}, and INPUT holds no such file: not read"


def _listing(kind: str, files: int, resources: int | None) -> str:
    """ "the export's manifest lists 2 MedicationDispense files (5,000 resources)"."""
    said = f"the export's manifest lists {files} {kind} file{'' if files == 1 else 's'}"
    return said + (f" ({number_of(resources, 'resource')})" if resources is not None else "")


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


# What a gzip stream that is cut off or corrupt raises when read (the lines before the damage were read).
GZIP_DAMAGE = (EOFError, zlib.error, gzip.BadGzipFile)


def _first_line_is_resource(handle: IO[bytes], gzipped: bool) -> bool:
    """Whether the file's first non-blank line is a JSON object naming a resourceType (as every NDJSON line is)."""
    stream = _decompressed(handle, gzipped)
    try:
        line = b""
        while not line.strip():
            line = stream.readline(_SNIFF_BYTES)
            if not line:
                return False
    except GZIP_DAMAGE:
        return False
    if not line.endswith(b"\n") and len(line) >= _SNIFF_BYTES:  # a first line too long to parse here
        return line.lstrip().startswith(b"{") and b'"resourceType"' in line
    try:
        resource = json.loads(line)
    except ValueError:
        return False
    return isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)


def as_read(handle: IO[bytes]) -> IO[bytes]:
    """An open file's bytes as the review reads them, from its start: decompressed when its bytes are gzip, whatever
    its name says (a `.ndjson.gz` that is plain text is read as the text it is)."""
    gzipped = handle.read(2) == _GZIP_MAGIC
    handle.seek(0)
    return _decompressed(handle, gzipped)


def damage(error: BaseException) -> str:
    """What damage a gzip stream ended in (one of GZIP_DAMAGE), in words."""
    if isinstance(error, EOFError):
        return "the gzip stream ends early: an interrupted download?"
    return str(error) or type(error).__name__


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
    sources: dict[str, Path] = field(default_factory=dict)  # the input's name → its file, as read
    named: Counter[str] = field(default_factory=Counter)  # the input's name → its malformed lines named so far
    lines: dict[str, int] = field(default_factory=dict)  # the input's name → its lines, for a file read whole

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

    def name_malformed_lines(self, engine: Quality, note: Callable[[str], None] | None = None) -> None:
        """Names by number the malformed lines the engines counted that reading the files through did not (a line
        that is no JSON inside an all-UTF-8 chunk, or one that looks like an object and is none): each file with
        fewer lines named than it has malformed, up to NAMED_LINES_PER_FILE, is read once more, up to its last line
        to name (it knows how many there are), and its names are replaced by what that reading finds (the same lines,
        in file order, and the rest). A file with nothing unnamed is not read again; one that is, is named first to
        `note` (a progress line): it is read serially, and may be gigabytes."""
        for name, counted in engine.malformed_lines_by_file.items():
            malformed = counted + self.quality.malformed_lines_by_file[name]
            wanted = min(NAMED_LINES_PER_FILE, malformed)
            if name not in self.sources or self.named[name] >= wanted:
                continue
            if note:
                note(f"name: reading {name} again to name its malformed lines by number")
            found = _malformed_lines(self.sources[name], wanted)
            if len(found) <= self.named[name]:  # the file changed, or could not be read again: keep what was found
                continue
            for line in [key for key in self.quality.malformed_lines_named if key.startswith(f"{name} line ")]:
                del self.quality.malformed_lines_named[line]
            for line in found:
                self.quality.malformed_lines_named[f"{name} {line}"] += 1
            self.named[name] = len(found)

    def name_without_patient(self, quality: Quality) -> None:
        """Names by line the first resources of each file the engines counted in a `<group>_by_file` of
        WITHOUT_PATIENT (fills, orders and pharmacy claims; the records a measure reads; any other resource of one
        patient) because no Patient reference names their patient: the file is read once more, up to its last one to
        name."""
        for group, (kinds, _) in WITHOUT_PATIENT.items():
            named = getattr(quality, f"{group}_named")
            # In the order data-quality.json lists the files, whatever order an engine counted them in.
            for name, counted in in_name_order(getattr(quality, f"{group}_by_file")).items():
                if name in self.sources:
                    for line in _lines_without_patient(self.sources[name], min(NAMED_LINES_PER_FILE, counted), kinds):
                        named[f"{name} {line}"] += 1


def prepare_inputs(inputs: InputFolder, workdir: Path, note: Callable[[str], None] | None = None) -> PreparedInputs:
    """Each file the engines will read, under a name that says its compression (`00001.ndjson[.gz]`: a link to the
    file, or a cleaned copy when a line could not be read); the files not read, and the lines dropped, counted and
    named by line."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    prepared = PreparedInputs()
    for name, why in inputs.not_read:
        prepared.quality.input_files_not_read[f"{name}: {why}"] += 1
    for warning, count in inputs.export_warnings:
        prepared.quality.export_warnings[warning] += count
    copies = [workdir / f"{number:05d}.ndjson" for number in range(1, len(inputs.files) + 1)]
    # Decompression and reading release the GIL: a few files are read at once.
    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
        found = list(pool.map(_read_through, inputs.files, copies))
    for path, copy, read in zip(inputs.files, copies, found, strict=True):
        name = inputs.name(path)
        if read.unopened:
            prepared.quality.input_files_not_read[f"{name}: {read.unopened}"] += 1
            if note:
                note(f"check: {name}: {read.unopened}")
            continue
        target = copy
        if not read.copied:
            target = copy.with_name(copy.name + (".gz" if read.gzipped else ""))
            _link(path, target)
        _count(prepared.quality, name, read)
        if note and (read.dropped or read.cut):
            note(f"check: {name}: {read.dropped} line(s) could not be read" + (f"; {read.cut}" if read.cut else ""))
        prepared.paths.append(str(target))
        prepared.names[target.name] = name
        prepared.read.append(name)
        prepared.sources[name] = path
        prepared.named[name] = len(read.named)
        if not read.cut:  # one read in part is named already; its lines are not what it holds
            prepared.lines[name] = read.lines
    if not prepared.paths:  # every file failed to open: the engines still read a folder, an empty one
        (workdir / "00000.ndjson").touch()
        prepared.paths.append(str(workdir / "00000.ndjson"))
    return prepared


def _count(quality: Quality, name: str, read: _Read) -> None:
    """What reading one file found, in the run's counts: lines dropped (by file), lines named, a file read in part."""
    if read.dropped:
        quality.malformed_lines += read.dropped
        quality.malformed_lines_by_file[name] += read.dropped
    for line in read.named:
        quality.malformed_lines_named[f"{name} {line}"] += 1
    if read.cut:
        quality.input_files_not_read[f"{name}: {read.cut}"] += 1


# The malformed lines named by number in each file: the first ones, enough to find the damage; the count by file says
# how many there are in all (a Windows-1252 extract can have one on every other line).
NAMED_LINES_PER_FILE = 10


@dataclass
class _Read:
    """What reading a file through found: its compression, whether the engines read a copy of its readable lines
    rather than the file, the lines dropped, the malformed lines named by number ("line 3: not UTF-8"; a line that
    is no JSON is named but kept, for the engines count it), why it was read only in part, or why the engines read
    none of it (it could not be opened: listed, then gone, or its permissions changed, or a list of files naming a
    folder; or it is damaged and its copy could not be created)."""

    gzipped: bool = False
    copied: bool = False
    dropped: int = 0
    named: list[str] = field(default_factory=list)
    cut: str | None = None
    unopened: str | None = None
    lines: int = 0  # every line read, blank and malformed ones too: what a manifest's `count` is checked against


def _read_through(path: Path, copy: Path) -> _Read:
    """The file read through once, from one open: its first bytes say whether it is gzip, then every line. A file
    whose lines can all be read is left as it is; from its first line that cannot, the lines that can are written
    to `copy`, which the engines then read instead (see `_Reader`)."""
    handle, unopened = _opened(path)
    if handle is None:
        return _Read(unopened=unopened)
    with handle:
        reader = _Reader(handle, copy)
        why: str | None = None
        unwritten = False  # `why` is already that the copy could not be written
        try:
            reader.found.gzipped = handle.read(2) == _GZIP_MAGIC
            handle.seek(0)
            if reader.found.gzipped:
                reader.spool()
            reader.read(_decompressed(handle, reader.found.gzipped))
        except GZIP_DAMAGE as error:
            why = f"read in part: cut off or corrupt after line {reader.lines:,} ({damage(error)})"
        except _CopyNotWritten as error:  # a copy begun at the damage: the engines read only what it holds
            why, unwritten = f"read in part: {error.words()}", True
        except OSError as error:
            why = f"read in part: a read error after line {reader.lines:,} ({_reason(error)})"
        try:
            if unwritten:
                reader.found.cut = why  # never begun again: the disk just said no
            elif why:
                reader.read_in_part(why)
            reader.close()
        except _CopyNotWritten as error:  # beginning the copy at the damage, or finishing it, failed too
            if not unwritten:
                reader.found.cut = f"{why}; {error.words()}" if why else f"read in part: {error.words()}"
            unwritten = True
            reader.close_quietly()
        if unwritten and reader.found.copied:
            _whole_lines_only(copy)
        if reader.found.cut and not reader.found.copied:
            # Damaged, and its copy could not even be created: the engines cannot read the file itself (they stop
            # at its damage), so they read none of it, and it is named as not read.
            reader.found.unopened = "not read" + reader.found.cut.removeprefix("read in part")
        reader.found.lines = reader.lines
        return reader.found


class _CopyNotWritten(Exception):
    """Writing the copy the engines read failed (a full disk): the file's lines may all have been readable, but the
    engines read only what the copy holds. (A spool that cannot be written is no such failure: see `_Reader`.)"""

    def __init__(self, error: OSError, created: bool = True) -> None:
        super().__init__(error)
        full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        self.why = f"disk full: {_reason(error)}" if full else _reason(error)
        self.created = created

    def words(self) -> str:
        if not self.created:
            return f"its copy for the engines could not be created ({self.why})"
        # No line number: a write that fails may have written part of its bytes, and one on closing loses a
        # buffered tail, so where the copy ends is not known to the line.
        return f"its copy for the engines could not be written whole ({self.why})"


class _Copy:
    """The copy the engines read, open for writing: a failed write is `_CopyNotWritten`, never a read error."""

    def __init__(self, path: Path) -> None:
        try:
            self.handle = open(path, "wb")  # noqa: SIM115 - written chunk by chunk, closed by close()
        except OSError as error:
            raise _CopyNotWritten(error, created=False) from error

    def write(self, data: bytes | memoryview) -> None:
        try:
            self.handle.write(data)
        except OSError as error:
            raise _CopyNotWritten(error) from error

    def flush(self) -> None:
        try:
            self.handle.flush()
        except OSError as error:
            raise _CopyNotWritten(error) from error

    def fileno(self) -> int:
        return self.handle.fileno()

    def close(self) -> None:
        try:
            self.handle.close()
        except OSError as error:
            raise _CopyNotWritten(error) from error


class _Reader:
    """One file's lines, read in large chunks: a chunk that is all UTF-8 costs a few passes in C, its line breaks
    counted to number the lines (the usual file, at the speed of decompression); any other chunk, and a last line
    with no line break after it, is read line by line. Nothing is written while every line can be read: the
    engines read the file itself. At the first line that cannot be read (not UTF-8, longer than MAX_LINE_BYTES) or
    where the file is cut off, the copy is begun with what came before, which was all readable, and every readable
    line after it is written to it as it is read. A plain file's beginning is copied by the system
    (copy_file_range), not read again. A gzip file's lines are written to the copy from its first line, as they are
    decompressed (the spool), up to SPOOL_BYTES: at the damage the copy already holds its beginning, and a file that
    turns out whole has its spool deleted; only past SPOOL_BYTES is a damaged file's beginning decompressed again, up
    to the damage, from the same open file."""

    def __init__(self, handle: IO[bytes], copy: Path) -> None:
        self.handle = handle
        self.copy = copy
        self.found = _Read()
        self.out: _Copy | None = None
        self.lines = 0  # whole lines read so far (the next line's number, less one)
        self.offset = 0  # the bytes (decompressed) of those lines: until the copy is begun, all of them readable
        self.carried = b""  # the current line's start, from earlier chunks
        self.skipping = False  # inside a line too long to read, already dropped
        self.spooling = False  # `out` holds every readable line so far, but is no copy yet: nothing is damaged

    def spool(self) -> None:
        """The copy begun at the file's start, as a spool (see the class's docstring); none when it cannot be."""
        try:
            self.out = _Copy(self.copy)
        except _CopyNotWritten:
            return  # a full disk: a whole file needs no spool, and a damaged one's start is decompressed again
        self.spooling = True

    def _write(self, data: bytes | memoryview) -> None:
        """`data` written to the copy, if one is begun. A spool that cannot be written (a full disk) is given up,
        not failed: the file may well be whole, and the engines then read it, not the spool; at any damage after,
        the copy is begun afresh, its start decompressed again, as past SPOOL_BYTES. A copy's failure is the
        file's (`_CopyNotWritten`): the engines would read only part of it."""
        if self.out is None:
            return
        try:
            self.out.write(data)
        except _CopyNotWritten:
            if not self.spooling:
                raise
            self._end_spool()

    def _spooled(self) -> None:
        """A spool that has grown past SPOOL_BYTES given up, so that a whole gzip file costs no more disk than that."""
        if self.spooling and self.offset > SPOOL_BYTES:
            self._end_spool()

    def _end_spool(self) -> None:
        assert self.out is not None
        out, self.out = self.out, None
        self.spooling = False
        with contextlib.suppress(_CopyNotWritten):  # the file was whole, its spool deleted: what it lost is no loss
            out.close()
        with contextlib.suppress(FileNotFoundError):
            self.copy.unlink()

    def read(self, stream: IO[bytes]) -> None:
        """Every line of the stream, chunk by chunk (read1: a gzip stream cut off keeps what came before the cut)."""
        chunk_size = min(_CHUNK_BYTES, MAX_LINE_BYTES)  # a line wholly inside one chunk is then never too long
        while chunk := stream.read1(chunk_size):  # type: ignore[attr-defined]
            if self.skipping:
                chunk = self._skip(chunk)
            if chunk:
                self._chunk(chunk)
        if self.skipping:
            return
        if self.carried:  # a last line with no line break after it
            if len(self.carried) > MAX_LINE_BYTES:
                self._too_long()
            else:
                self._lines(self.carried + b"\n")
            self.carried = b""

    def _chunk(self, chunk: bytes) -> None:
        last = chunk.rfind(b"\n")
        if last < 0:
            self.carried += chunk
            if len(self.carried) > MAX_LINE_BYTES + 1:
                self._too_long()
                self.skipping = True
            return
        first = chunk.find(b"\n")
        head, start = self.carried, 0  # the block of whole lines: head, then chunk[start : last + 1]
        # A line may run one byte over MAX_LINE_BYTES before its line break, as it always could (the engines read
        # 1 kB more): counts stay what they were.
        if len(head) + first > MAX_LINE_BYTES + 1:
            self._too_long()
            head, start = b"", first + 1
        self.carried = chunk[last + 1 :]
        if start > last:
            return
        if _readable(head, chunk, start, last):
            # The usual chunk: nothing copied or split, and nothing written unless a copy has begun.
            self._write(head)
            self._write(memoryview(chunk)[start : last + 1])
            self.lines += chunk.count(b"\n", start, last + 1)
            self.offset += len(head) + last + 1 - start
            self._spooled()
        else:
            self._lines(head + chunk[start : last + 1])

    def _skip(self, chunk: bytes) -> bytes:
        """The rest of a chunk after the end of a line too long to read (nothing, if it does not end in it)."""
        end = chunk.find(b"\n")
        if end < 0:
            return b""
        self.skipping = False
        return chunk[end + 1 :]

    def _too_long(self) -> None:
        """The current line dropped, longer than the engines read: only its number is kept, never its bytes."""
        self._begin_copy()
        self._drop(self.lines + 1, f"longer than {MAX_LINE_BYTES:,} bytes")
        self.lines += 1
        self.carried = b""

    def _lines(self, block: bytes) -> None:
        """A block of whole lines (ending in a line break) read one by one, numbered from the line after `lines`:
        one that is not all UTF-8, or a file's last line (where a plain file is cut off)."""
        kept = self._judged(block.split(b"\n")[:-1])
        if self.out is not None:
            self._write(b"".join(line + b"\n" for line in kept))
        self.lines += block.count(b"\n")
        self.offset += len(block)
        self._spooled()

    def _judged(self, lines: list[bytes]) -> list[bytes]:
        """The lines the engines can read that are still to be written, each line that cannot dropped and named, and
        each that is no JSON named (and kept: the engines count it). The copy is begun at the first line dropped."""
        kept: list[bytes] = []
        for number, line in enumerate(lines, self.lines + 1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                self._drop(number, "not UTF-8")  # counted first: beginning the copy may fail (a full disk)
                if self.out is None:  # the lines kept so far are the copy's last lines before the damage
                    self._begin_copy(sum(len(k) + 1 for k in kept))
                    kept = []
                continue
            if _not_json(line, text):
                self._name(number, _why_malformed(text))
            kept.append(line)
        return kept

    def _drop(self, number: int, why: str) -> None:
        self._keep_spool()
        self.found.dropped += 1
        self._name(number, why)

    def _name(self, number: int, why: str) -> None:
        if len(self.found.named) < NAMED_LINES_PER_FILE:
            self.found.named.append(f"line {number:,}: {why}")

    def read_in_part(self, why: str) -> None:
        """The stream ended in damage: the lines before it are what the engines read."""
        self.found.cut = why
        self._begin_copy()

    def _begin_copy(self, more: int = 0) -> None:
        """The copy begun, if it is not yet, with every byte before the damage: the whole lines read before this
        block (`offset`) and `more` of this block's, all of which could be read."""
        self._keep_spool()
        if self.out is not None:
            return
        self.out = _Copy(self.copy)
        self.found.copied = True
        length = self.offset + more
        if length:
            self.out.flush()
            if self.found.gzipped:
                _copy_decompressed(self.handle.fileno(), self.out, length)
            else:
                _copy_bytes(self.handle.fileno(), self.out.fileno(), length)

    def _keep_spool(self) -> None:
        """The spool, which holds every readable line before the damage, kept as the file's copy."""
        if self.spooling:
            self.spooling = False
            self.found.copied = True

    def close(self) -> None:
        if self.spooling:  # the file was whole: the engines read it, not the spool
            self._end_spool()
        elif self.out is not None:
            out, self.out = self.out, None
            out.close()

    def close_quietly(self) -> None:
        """The copy closed after a write failed: what it holds is what the engines read (the file is named; its
        torn last line is cut off by `_whole_lines_only`)."""
        self.spooling = False
        if self.out is not None:
            out, self.out = self.out, None
            with contextlib.suppress(_CopyNotWritten):
                out.close()


def _whole_lines_only(path: Path) -> None:
    """A copy cut back to its last line break: a write that failed may have left part of a line, which the engines
    would count as a malformed line the file does not have. (Cutting a file frees room; it needs none.)"""
    try:
        descriptor = os.open(path, os.O_RDWR)
    except OSError:
        return
    try:
        size = end = os.fstat(descriptor).st_size
        while end > 0:  # backwards, a block at a time: a torn line may be megabytes long
            start = max(0, end - _SNIFF_BYTES)
            found = os.pread(descriptor, end - start, start).rfind(b"\n")
            if found >= 0:
                end = start + found + 1
                break
            end = start
        if end < size:
            os.ftruncate(descriptor, end)
    except OSError:
        pass  # left as it is: its torn line is then counted as malformed, in a file already named
    finally:
        os.close(descriptor)


def _readable(head: bytes, chunk: bytes, start: int, last: int) -> bool:
    """Whether the whole lines `head` + chunk[start : last + 1] are all UTF-8, checked in C without copying the
    chunk: ASCII is UTF-8 (most chunks need no decoding), and no character spans a line break."""
    if head.isascii() and chunk.isascii():
        return True
    end = chunk.find(b"\n", start)
    try:
        (head + chunk[start : end + 1]).decode("utf-8")
        str(memoryview(chunk)[end + 1 : last + 1], "utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _not_json(line: bytes, text: str) -> bool:
    """Whether a line the engines will read is no JSON (json.loads refuses it), as both engines will count it. Only a
    line that does not look like an object is parsed here (the engines parse every line anyway); one the engines
    split elsewhere than at its line break (a carriage return inside it, or the control character 1) or skip as
    blank is left to them, so that what is named here is exactly what they count."""
    stripped = line.strip()
    if stripped.startswith(b"{") and stripped.endswith(b"}"):
        return False
    body = text[:-1] if text.endswith("\r") else text
    if "\r" in body or "\x01" in body or not body.strip(" "):
        return False
    return line_keys(body) is None


def _why_malformed(text: str) -> str:
    """Why a line the engines count as malformed (`line_keys` gave None) is: no JSON, or JSON that is no resource."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return "not JSON"
    return NO_RESOURCE


def _engines_read(text: str) -> list[tuple[Any, str | None]]:
    """Each piece the engines read of this line of text (they split it at a carriage return too) that is not blank,
    parsed, with its `line_keys` (`parsed_keys`): a None key among them is a malformed line they count."""
    body = text[:-1] if text.endswith("\r") else text
    return [parsed_keys(piece) for piece in body.split("\r") if piece.strip(" ")]


def _malformed_lines(path: Path, wanted: int = NAMED_LINES_PER_FILE) -> list[str]:
    """The first `wanted` malformed lines of a file by number, as `_Reader` names them ("line 3: not UTF-8") and the
    engines count them ("line 5: not JSON"); up to the damage, in a file cut off or corrupt."""
    return _named_lines(path, wanted, _why_line_malformed, too_long=f"longer than {MAX_LINE_BYTES:,} bytes")


def _why_line_malformed(line: bytes) -> list[tuple[str, str]]:
    """What of a line the engines count malformed, and why: the line, or the entries of a Bundle line they cannot
    read (" entry 3": "no resource")."""
    try:
        text = line.rstrip(b"\n").decode("utf-8")
    except UnicodeDecodeError:
        return [("", "not UTF-8")]
    read = _engines_read(text)
    if any(keys is None for _, keys in read):
        return [("", _why_malformed(text))]
    if len(read) == 1 and is_bundle(read[0][1]):  # a Bundle line: the entries the engines cannot read
        return [(f" {entry.where}", entry.why) for entry in bundle_entries_of(read[0][0]) if entry.why is not None]
    return []


def outcomes_in(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each OperationOutcome of a data file, as the engines read it (a line, or a Bundle line's entry), with where it
    is ("line 3", "line 2 entry 4"); only the lines naming one are parsed. Damage ends the reading (it is named as
    the file's)."""
    handle, _ = _opened(path)
    if handle is None:
        return
    with handle:
        try:
            for number, line in enumerate(as_read(handle), 1):
                if OPERATION_OUTCOME.encode() not in line:
                    continue
                try:
                    text = line.rstrip(b"\r\n").decode("utf-8")
                except UnicodeDecodeError:  # a malformed line, which the engines never read
                    continue
                parsed, keys = parsed_keys(text)
                if keys is not None and json.loads(keys)[0] == OPERATION_OUTCOME:
                    yield f"line {number:,}", parsed
                elif is_bundle(keys):
                    for entry in bundle_entries_of(parsed):
                        if entry.keys is not None and json.loads(entry.keys)[0] == OPERATION_OUTCOME:
                            yield f"line {number:,} {entry.where}", json.loads(entry.line)
        except (*GZIP_DAMAGE, OSError):
            return


def _lines_without_patient(path: Path, wanted: int, kinds: Sequence[str]) -> list[str]:
    """The first `wanted` fills of a file no Patient reference names ("line 4: MedicationDispense whose patient no
    Patient reference names"), judged as the engines key them (`names_no_patient`); the reference itself, which may
    be a member id, is never shown. A line too long for the engines, or not UTF-8, is a malformed line, not this."""
    return _named_lines(path, wanted, partial(_why_line_names_no_patient, kinds=kinds), too_long=None)


def _why_line_names_no_patient(line: bytes, kinds: Sequence[str]) -> list[tuple[str, str]]:
    """The line, or the entries of a Bundle line, that are a resource of one of `kinds` naming no patient."""
    try:
        text = line.rstrip(b"\r\n").decode("utf-8")
    except UnicodeDecodeError:
        return []
    parsed, keys = parsed_keys(text) if text.strip() else (None, None)
    named = [("", keys)] if not is_bundle(keys) else [(f" {e.where}", e.keys) for e in bundle_entries_of(parsed)]
    return [
        (where, f"{kind} whose patient no Patient reference names")
        for where, k in named
        if (kind := names_no_patient(k, kinds))
    ]


def _named_lines(
    path: Path, wanted: int, why: Callable[[bytes], list[tuple[str, str]]], too_long: str | None
) -> list[str]:
    """The first `wanted` lines of a file that `why` names, by number ("line 7: ...", or a Bundle line's entry:
    "line 7 entry 2: ..."), read line by line from one
    open up to the last one to name; a line longer than the engines read is never held whole, and is named
    `too_long` where that is given. Damage ends the reading: it is named as the file's (input_files_not_read)."""
    handle, _ = _opened(path)
    if handle is None:
        return []
    named: list[str] = []
    with handle:
        try:
            stream = as_read(handle)
            number = 0
            while len(named) < wanted and (line := stream.readline(MAX_LINE_BYTES + 2)):
                number += 1
                if not line.endswith(b"\n") and len(line) > MAX_LINE_BYTES:  # as `_Reader` drops it
                    if too_long is not None:
                        named.append(f"line {number:,}: {too_long}")
                    while line and not line.endswith(b"\n"):  # the rest of the line, never held
                        line = stream.readline(_CHUNK_BYTES)
                    continue
                named += [f"line {number:,}{where}: {reason}" for where, reason in why(line)][: wanted - len(named)]
        except (*GZIP_DAMAGE, OSError):
            pass
    return named


def _copy_bytes(source: int, target: int, length: int) -> None:
    """The first `length` bytes of a file copied by the system, from the start whatever the file's position."""
    done = 0
    try:
        while done < length:
            copied = os.copy_file_range(source, target, length - done, done)
            if not copied:
                break
            done += copied
    except OSError:  # a file system or kernel that cannot: read them once more
        while done < length and (data := os.pread(source, min(_CHUNK_BYTES, length - done), done)):
            try:
                os.write(target, data)
            except OSError as error:
                raise _CopyNotWritten(error) from error
            done += len(data)


def _copy_decompressed(source: int, target: _Copy, length: int) -> None:
    """The first `length` decompressed bytes of a gzip file, read through its own descriptor from the start."""
    with gzip.GzipFile(fileobj=_PositionalReader(source), mode="rb") as stream:
        while length and (data := stream.read(min(_CHUNK_BYTES, length))):
            target.write(data)
            length -= len(data)


class _PositionalReader(io.RawIOBase):
    """A file descriptor read from its start, leaving the descriptor's own position to the reader using it."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = os.pread(self.descriptor, len(buffer), self.position)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def _link(path: Path, target: Path) -> None:
    try:
        os.symlink(path.resolve(), target)
    except OSError:  # a file system with no symbolic links: a copy reads the same
        shutil.copyfile(path, target)
