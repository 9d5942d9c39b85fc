"""A full disk while a gzip input is decompressed for the engines: a file the engines can read whole is never called
failed (its decompressed spool is only a shortcut for the case it is damaged); a file of which the engines read only
part is named, and the exit status is 3.

The disk is simulated at the one place the review writes while reading its input (the copy or spool it opens for
writing): it fills at a given moment — the copy's creation, a write, or its close, where a buffered tail is lost."""

from __future__ import annotations

import errno
import gzip
import json
from pathlib import Path

import pytest
from synthetic_export import patient

from smart_app.cli import main
from smart_app.population import inputs
from smart_app.population.inputs import ndjson_files

FULL = "disk full: No space left on device"


def _no_space() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


class _FillingFile:
    """A file written on a disk with `room` bytes left (None: room enough): a write past it fills the room, as a
    full disk's does, then fails, leaving a torn last line; `close_fails` loses the last write, as a buffered tail
    lost on close."""

    def __init__(self, path: str, room: int | None, close_fails: bool) -> None:
        self.handle = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.room = room
        self.close_fails = close_fails
        self.last = 0

    def write(self, data: bytes) -> int:
        if self.room is not None and len(data) > self.room:
            self.handle.write(bytes(data[: self.room]))
            self.room = 0
            raise _no_space()
        if self.room is not None:
            self.room -= len(data)
        self.last = len(data)
        return self.handle.write(data)

    def close(self) -> None:
        if self.close_fails and not self.handle.closed:
            self.handle.truncate(max(0, self.handle.tell() - self.last))
            self.handle.close()
            raise _no_space()
        self.handle.close()

    def __getattr__(self, name: str):
        return getattr(self.handle, name)


class _Disk:
    """The disk the copies are written to, one moment per copy opened in turn: ("create",) fails the open,
    ("write", room) fills after `room` bytes, ("close",) fails the close; ("room",) has room enough."""

    def __init__(self, monkeypatch, *moments: tuple) -> None:
        self.moments = list(moments)
        self.opened: list[str] = []
        real_open = open

        def disk_open(path, mode="r", *args, **kwargs):
            if mode != "wb":
                return real_open(path, mode, *args, **kwargs)
            self.opened.append(Path(path).name)
            moment = self.moments.pop(0) if self.moments else ("room",)
            if moment[0] == "create":
                raise _no_space()
            room = moment[1] if moment[0] == "write" else None
            return _FillingFile(path, room, close_fails=moment[0] == "close")

        monkeypatch.setattr(inputs, "open", disk_open, raising=False)


def _patients(count: int = 3000) -> list[bytes]:
    return [json.dumps(patient(f"p{n}")).encode() for n in range(count)]


def _gzip_folder(tmp_path: Path, lines: list[bytes], cut: bool = False) -> Path:
    """A HealthLake-style folder: one gzip file of Patients (its download interrupted, if `cut`)."""
    folder = tmp_path / "in"
    folder.mkdir()
    packed = gzip.compress(b"\n".join(lines) + b"\n")
    (folder / "Patient-0.ndjson.gz").write_bytes(packed[: len(packed) * 3 // 4] if cut else packed)
    return folder


def _with_a_windows_1252_name(good: list[bytes]) -> list[bytes]:
    """The lines with a Windows-1252 "Peña" on line 2,001: a malformed line, the rest whole."""
    bad = json.dumps(patient("C", name="Peña"), ensure_ascii=False).encode("cp1252")
    return [*good[:2000], bad, *good[2000:]]


def _run(folder: Path, capsys) -> tuple[int, list[str], dict]:
    out = folder.parent / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip
    return code, capsys.readouterr().out.splitlines(), json.loads((out / "data-quality.json").read_text())


# ---- a whole file is never called failed ----------------------------------------------------------------------------


@pytest.mark.parametrize("moment", [("create",), ("write", 4096), ("close",)], ids=["create", "write", "close"])
def test_a_whole_gzip_file_whose_spool_fills_the_disk_is_read_whole_and_exits_0(tmp_path, monkeypatch, capsys, moment):
    """The disk fills while a whole gzip file's lines are spooled: the spool is given up, the engines read the file
    itself, every Patient is counted, and the run is whole (it was exit 3, "read in part", with no Patient
    read of 3,000)."""
    folder = _gzip_folder(tmp_path, _patients())
    _Disk(monkeypatch, moment)
    code, lines, quality = _run(folder, capsys)
    assert quality["input_files_not_read"] == {}
    assert quality["resources_by_type"] == {"Patient": 3000}
    assert code == 0 and lines[-1] == "read: every line of every input file"


def test_a_given_up_spool_leaves_no_file_and_the_engines_read_the_gzip_file(tmp_path, monkeypatch):
    folder = _gzip_folder(tmp_path, _patients())
    disk = _Disk(monkeypatch, ("write", 4096))
    prepared = inputs.prepare_inputs(ndjson_files(folder), tmp_path / "work")
    assert disk.opened == ["00001.ndjson"]  # the spool, given up; nothing else written
    assert [Path(p).name for p in prepared.paths] == ["00001.ndjson.gz"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["00001.ndjson.gz"]
    assert Path(prepared.paths[0]).resolve() == (folder / "Patient-0.ndjson.gz").resolve()


# ---- a damaged file: the copy the engines need ----------------------------------------------------------------------


def test_a_damaged_gzip_file_whose_spool_filled_the_disk_is_copied_again_when_there_is_room(tmp_path, monkeypatch):
    """The spool is given up at the full disk; at the Windows-1252 line the copy is begun afresh (its start
    decompressed again) and, the disk having room again (the spool's space freed), written whole: only the
    malformed line is named, not the file."""
    good = _patients()
    folder = _gzip_folder(tmp_path, _with_a_windows_1252_name(good))
    disk = _Disk(monkeypatch, ("write", 4096), ("room",))
    prepared = inputs.prepare_inputs(ndjson_files(folder), tmp_path / "work")
    assert disk.opened == ["00001.ndjson", "00001.ndjson"]
    assert Path(prepared.paths[0]).read_bytes() == b"\n".join(good) + b"\n"
    assert dict(prepared.quality.input_files_not_read) == {}
    assert dict(prepared.quality.malformed_lines_named) == {"Patient-0.ndjson.gz line 2,001: not UTF-8": 1}


def test_a_cut_off_gzip_file_whose_spool_filled_the_disk_is_named_for_the_cut_alone_when_copied(tmp_path, monkeypatch):
    good = _patients()
    folder = _gzip_folder(tmp_path, good, cut=True)
    _Disk(monkeypatch, ("write", 4096), ("room",))
    prepared = inputs.prepare_inputs(ndjson_files(folder), tmp_path / "work")
    copied = Path(prepared.paths[0]).read_bytes().splitlines()
    assert copied == good[: len(copied)] and 2000 < len(copied) < 3000  # every whole line before the cut
    (named,) = prepared.quality.input_files_not_read
    assert named == f"Patient-0.ndjson.gz: read in part: cut off or corrupt after line {len(copied):,} " + (
        "(the gzip stream ends early: an interrupted download?)"
    )


WRITTEN = f"read in part: its copy for the engines could not be written whole ({FULL})"
CREATED = f"not read: its copy for the engines could not be created ({FULL})"


@pytest.mark.parametrize(
    ("moments", "said"),
    [
        ((("write", 4096), ("write", 4096)), WRITTEN),  # the spool, then the copy begun afresh at the damage
        ((("close",),), WRITTEN),  # the spool kept as the copy at the damage, its tail lost on close
        ((("write", 250_000),), WRITTEN),  # the spool kept as the copy, filling after the damage
        ((("write", 4096), ("create",)), CREATED),  # the engines cannot read the file itself: none of it is read
    ],
    ids=["spool-then-copy", "copy-close", "copy-after-damage", "copy-not-created"],
)
def test_a_damaged_gzip_file_whose_copy_cannot_be_written_whole_is_named_and_exits_3(
    tmp_path, monkeypatch, capsys, moments, said
):
    """Of a gzip file with a Windows-1252 line, the engines read a copy; the disk fills before it is written whole,
    so the engines read only part of the file: it is named, for the disk, in the closing line too, and the status is
    3 — never 4, as if only the one line was lost."""
    folder = _gzip_folder(tmp_path, _with_a_windows_1252_name(_patients()))
    _Disk(monkeypatch, *moments)
    code, lines, quality = _run(folder, capsys)
    named = f"Patient-0.ndjson.gz: {said}"
    assert list(quality["input_files_not_read"]) == [named]
    assert code == 3 and named in lines[-1] and lines[-1].startswith("not read (exit status 3): 1 input file")
    assert quality["resources_by_type"].get("Patient", 0) < 3000
    # The copy ends at a whole line: its torn tail is no malformed line of the file's; only the Peña line is.
    assert quality["malformed_lines_by_file"] == ({"Patient-0.ndjson.gz": 1} if said == WRITTEN else {})


def test_a_cut_off_gzip_file_whose_copy_cannot_be_written_is_named_for_both(tmp_path, monkeypatch, capsys):
    folder = _gzip_folder(tmp_path, _patients(), cut=True)
    _Disk(monkeypatch, ("write", 4096), ("write", 4096))
    code, lines, quality = _run(folder, capsys)
    (named,) = quality["input_files_not_read"]
    assert named.startswith("Patient-0.ndjson.gz: read in part: cut off or corrupt after line 2,")
    assert named.endswith(f"; its copy for the engines could not be written whole ({FULL})")
    assert code == 3
