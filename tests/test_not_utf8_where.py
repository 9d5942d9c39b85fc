"""A request or client file that is not UTF-8 is named with where (byte, line, column), never with its text: the text
around the byte may be a patient's or a client secret."""

from __future__ import annotations

import io
import json
import sys

import pytest
from cds_support import hook_request, oxycodone_draft
from cli_support import only_line

from guideline.text_errors import where_not_utf8
from smart_app.cli import build_parser, main
from smart_app.commands import settings_for


def decode_error(raw: bytes, encoding: str = "utf-8") -> UnicodeDecodeError:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as error:
        return error
    raise AssertionError("decoded")


def test_where_names_the_byte_its_line_and_column():
    # Excel's "CSV" in Windows-1252: the ® of "Percocet®" is the one byte 0xAE.
    raw = "ndc,rxcui,name\n00406-0512-01,1049621,Percocet® 5/325\n".encode("cp1252")
    assert where_not_utf8(decode_error(raw)) == "byte 0xae at line 2, column 31"


def test_where_counts_from_after_a_byte_order_mark():
    # utf-8-sig reports the position in the bytes after the mark, as the file's line 1 is shown without it.
    raw = b"\xef\xbb\xbf" + "name\nPercocet®\n".encode("cp1252")
    assert where_not_utf8(decode_error(raw, "utf-8-sig")) == "byte 0xae at line 2, column 9"


def request_with_a_cp1252_line_2() -> tuple[bytes, int]:
    """A CDS Hooks request saved from a Windows editor: "{", then the request on line 2, where the draft's
    medication text "Percocet® 5/325" has its ® as the one byte 0xAE; and the ®'s column."""
    draft = oxycodone_draft()
    draft["medicationCodeableConcept"]["text"] = "Percocet® 5/325 tablet"
    line_2 = json.dumps(hook_request(drafts=[draft]), ensure_ascii=False)[1:]
    return ("{\n" + line_2).encode("cp1252"), line_2.index("®") + 1


@pytest.mark.parametrize("command", ["check", "mme"])
def test_a_request_file_that_is_not_utf8_is_named_with_where(command, tmp_path, capsys):
    # It said only "request.json is not UTF-8 text", and a large file's codec error named a place in a read chunk.
    raw, column = request_with_a_cp1252_line_2()
    path = tmp_path / "request.json"
    path.write_bytes(raw)
    assert main([command, str(path), "--today", "2026-06-15"]) == 2
    line = only_line(capsys)
    assert line == f"painplan {command}: {path} is not UTF-8 text (byte 0xae at line 2, column {column})"
    assert "Percocet" not in line


@pytest.mark.parametrize("command", ["check", "mme"])
def test_a_request_piped_in_that_is_not_utf8_is_named_with_where(command, monkeypatch, capsys):
    raw, column = request_with_a_cp1252_line_2()
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="surrogateescape")
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main([command, "-", "--today", "2026-06-15"]) == 2
    line = only_line(capsys)
    assert line == f"painplan {command}: standard input is not UTF-8 text (byte 0xae at line 2, column {column})"


def test_a_piped_request_with_a_byte_order_mark_is_placed_as_an_editor_shows_it(monkeypatch, capsys):
    # The mark is no character of line 1: the column is counted after it, as a file's is.
    raw = b"\xef\xbb\xbf" + '{"hook": "order-sign", "note": "Percocet®"}'.encode("cp1252")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors="surrogateescape"))
    assert main(["mme", "-", "--today", "2026-06-15"]) == 2
    assert only_line(capsys) == "painplan mme: standard input is not UTF-8 text (byte 0xae at line 1, column 41)"


# A client registration's secret with a ® in it, saved in Windows-1252: where, never the secret.
SMART_CLIENTS = (
    '[\n  {"iss": "https://ehr.example.org/fhir", "client_id": "painplan", "client_secret": "Tr0ub4dor®3"}\n]\n'
)
TRUSTED_CLIENTS = (
    '[\n  {"iss": "https://ehr.example.org/fhir", "jwks_url": "https://ehr.example.org/jwks", "tenant": "Mercy®"}\n]\n'
)


@pytest.mark.parametrize(
    ("setting", "text", "said"),
    [
        ("smart_clients", SMART_CLIENTS, "SMART clients file"),
        ("trusted_clients", TRUSTED_CLIENTS, "trusted clients file"),
    ],
)
def test_a_client_file_that_is_not_utf8_is_named_with_where(setting, text, said, tmp_path, capsys):
    # Start-up said only "… is not UTF-8 text": the site had to find the byte in the file itself.
    clients = tmp_path / "clients.json"
    clients.write_bytes(text.encode("cp1252"))
    config = tmp_path / "site.toml"
    config.write_text(f'{setting} = "{clients}"\n')
    assert settings_for("serve", build_parser().parse_args(["serve", "--config", str(config)])) is None
    column = text.splitlines()[1].index("®") + 1
    line = only_line(capsys)
    assert line == (
        f"painplan serve: PAINPLAN_{setting.upper()}: {said} {clients} is not UTF-8 text "
        f"(byte 0xae at line 2, column {column})"
    )
    assert "Tr0ub4dor" not in line and "Mercy" not in line


def test_an_export_clients_file_that_is_not_utf8_is_named_with_where(tmp_path, monkeypatch, capsys):
    clients = tmp_path / "export-clients.json"
    clients.write_bytes(SMART_CLIENTS.encode("cp1252"))
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients))
    url = "https://ehr.example.org/fhir/Group/g1/$export"
    assert main(["population", "--export", url, "--out", str(tmp_path / "out"), "--quiet"]) == 2
    column = SMART_CLIENTS.splitlines()[1].index("®") + 1
    assert only_line(capsys) == (
        f"painplan population: PAINPLAN_POPULATION_EXPORT_CLIENTS: SMART clients file {clients} is not UTF-8 text "
        f"(byte 0xae at line 2, column {column})"
    )


@pytest.mark.parametrize(
    ("load", "text"),
    [
        ("launch.clients:load_clients", SMART_CLIENTS),
        ("cds_hooks.auth:load_trusted_clients", TRUSTED_CLIENTS),
    ],
)
def test_a_client_file_saved_with_a_byte_order_mark_is_read(load, text, tmp_path):
    # Notepad's "UTF-8 with BOM" starts the file with EF BB BF: it was refused as "not valid JSON (Unexpected UTF-8
    # BOM)", while the docs call these files UTF-8 as the TOML file, which may carry the mark.
    module, name = load.split(":")
    reader = getattr(__import__(module, fromlist=[name]), name)
    plain, marked = tmp_path / "plain.json", tmp_path / "marked.json"
    plain.write_text(text, encoding="utf-8")
    marked.write_text(text, encoding="utf-8-sig")
    assert marked.read_bytes().startswith(b"\xef\xbb\xbf")
    assert reader(str(marked)) == reader(str(plain)) and reader(str(plain))
