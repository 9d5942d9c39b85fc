"""An output the review cannot write (a full disk, a read-only folder) stops it with the output named and exit status
5, and leaves no torn file under an output's name: a scheduled pipeline never picks up a half-written measures file
or data-quality.json as a whole review."""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from synthetic_export import dispense, organization, patient, practitioner, write_export

from smart_app.cli import main
from smart_app.population import outputs, tables
from smart_app.population.outputs import OutputNotWritten, write_whole

METHADONE_10 = ("864706", "methadone hydrochloride 10 MG Oral Tablet")


def export(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    write_export(
        folder,
        [
            practitioner("pcp1", "Dr. Pat Care"),
            practitioner("er-doc", "Dr. Emma Room"),
            organization("ph1"),
            patient("A", gp="Practitioner/pcp1"),
            dispense("A-1", "A", METHADONE_10, "2026-01-05", 90, 30, "er-doc", "ph1"),
            dispense("A-2", "A", METHADONE_10, "2026-02-04", 90, 30, "er-doc", "ph1"),
        ],
    )
    return folder


def run(folder: Path) -> int:
    return main(["population", str(folder), "--out", str(folder.parent / "out"), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip


def test_a_full_disk_while_writing_data_quality_stops_with_status_5_and_names_it(tmp_path, capsys, monkeypatch):
    folder = export(tmp_path)
    real = Path.write_text

    def disk_fills(self: Path, text: str, *args, **kwargs) -> int:
        if self.name == "data-quality.json.partial":
            real(self, text[: len(text) // 2], *args, **kwargs)  # a disk fills part-way through a write
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", disk_fills)
    assert run(folder) == 5
    err = capsys.readouterr().err
    assert "not written (exit status 5)" in err and "data-quality.json" in err and "No space left on device" in err
    out = folder.parent / "out"
    assert not (out / "data-quality.json").exists()  # no torn file under the output's name
    assert not list(out.glob("*.partial"))


def test_an_output_duckdb_cannot_write_stops_with_status_5_and_keeps_the_earlier_file(tmp_path, capsys, monkeypatch):
    folder = export(tmp_path)
    assert run(folder) == 0
    out = folder.parent / "out"
    before = (out / "measures.csv").read_bytes()
    real = tables.replaced

    @contextmanager
    def blocked(path: Path):
        with real(path) as partial:
            if path.name == "measures.csv":
                partial.mkdir()  # DuckDB cannot write its copy: a path it cannot create as a file
            yield partial

    monkeypatch.setattr(tables, "replaced", blocked)
    assert run(folder) == 5
    err = capsys.readouterr().err
    assert "measures.csv" in err and "not written (exit status 5)" in err
    assert (out / "measures.csv").read_bytes() == before  # the earlier whole file is left as it was


def test_write_whole_leaves_the_earlier_file_when_the_disk_fills(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    target.write_text("earlier, whole")

    def full(self: Path, text: str, *args, **kwargs) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OutputNotWritten) as raised:
        write_whole(target, "new")
    assert raised.value.name == str(target) and raised.value.why == "No space left on device"
    monkeypatch.undo()
    assert target.read_text() == "earlier, whole"
    assert not (tmp_path / "index.html.partial").exists()


def test_the_error_crosses_a_process_pool_intact() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(OutputNotWritten("out/letters/x.pdf", "No space left on device")))
    assert str(error) == "out/letters/x.pdf: No space left on device"
    assert outputs.OutputNotWritten is type(error)
