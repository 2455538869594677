"""Reading transcript files: SPEC section 9's columns and rules, no database needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.hotline.transcripts import COLUMNS, Row, TranscriptFileError, read_transcripts

from .importing import csv_text, jsonl_text, write

SECRET = "Secret account of what the driver did"


def _row(**cells: str) -> dict[str, str]:
    row = {
        "call_id": "C1",
        "reporter_type": "anonymous",
        "country": "KE",
        "category": "other",
        "narrative": SECRET,
    }
    row.update(cells)
    return row


def _one(tmp_path: Path, **cells: str) -> Row:
    (row,) = read_transcripts(write(tmp_path / "calls.csv", csv_text([_row(**cells)])))
    return row


def test_the_spec_columns_in_order() -> None:
    assert COLUMNS[0] == "call_id"
    assert COLUMNS[-2:] == ("started_at", "duration_s")
    assert len(COLUMNS) == 20


def test_empty_cells_are_absent_and_text_is_kept_exactly(tmp_path: Path) -> None:
    row = _one(tmp_path, narrative="  spaces kept \n and lines ", affiliation="", location="")
    assert row.report is not None
    assert row.report.narrative == "  spaces kept \n and lines "
    assert row.report.affiliation == "unknown"
    assert row.report.location is None
    assert row.report.call is None


@pytest.mark.parametrize(
    ("cell", "value"),
    [("true", True), ("TRUE", True), ("yes", True), ("1", True), ("false", False), ("No", False),
     ("0", False), (" true ", True)],
)  # fmt: skip
def test_boolean_cells(tmp_path: Path, cell: str, value: bool) -> None:
    row = _one(tmp_path, victim_is_child=cell, contact_me=cell)
    assert row.report is not None
    assert row.report.victim_is_child is value
    assert row.report.consent.contact_me is value


def test_grouped_columns_build_the_nested_fields(tmp_path: Path) -> None:
    row = _one(
        tmp_path,
        reporter_type="third_party",
        victim_name="Amani",
        victim_age="9",
        victim_sex="male",
        started_at="2026-11-01T10:00:00Z",
        duration_s="60",
        refer_to_services="yes",
    )
    assert row.report is not None
    assert row.report.victim is not None
    assert (row.report.victim.name, row.report.victim.age, row.report.victim.sex) == (
        "Amani",
        9,
        "male",
    )
    assert row.report.call is not None
    assert row.report.call.duration_s == 60
    assert row.report.consent.refer_to_services is True


def test_problems_name_the_columns_never_the_values(tmp_path: Path) -> None:
    row = _one(
        tmp_path,
        victim_is_child="perhaps",
        victim_age="Secret age",
        reporter_name="Secret name",
        incident_date="Secret date",
    )
    assert row.report is None
    assert row.call_id == "C1"
    # Field errors come first; the anonymous-with-a-name rule runs only on valid fields.
    assert row.problems == (
        "victim_is_child: bool_type",
        "incident_date: date_invalid",
        "victim_age: int_type",
    )
    assert not any("Secret" in problem or "perhaps" in problem for problem in row.problems)


def test_a_row_with_the_wrong_number_of_cells_hides_its_call_id(tmp_path: Path) -> None:
    text = "call_id,narrative,country\nC1,unquoted, comma,KE\nC2,fine,KE\n"
    rows = read_transcripts(write(tmp_path / "calls.csv", text))
    assert rows[0].call_id is None
    assert rows[0].problems == ("cells: 4 instead of 3",)
    assert rows[1].problems == ("reporter_type: missing", "category: missing")


def test_csv_rows_are_numbered_after_the_header_and_blank_lines_keep_their_number(
    tmp_path: Path,
) -> None:
    text = csv_text([_row(call_id="A"), _row(call_id="B")]).replace("\r\n", "\n")
    lines = text.splitlines()
    rows = read_transcripts(
        write(tmp_path / "calls.csv", "\n".join([lines[0], lines[1], "", lines[2]]))
    )
    assert [(row.number, row.call_id) for row in rows] == [(1, "A"), (3, "B")]


def test_a_utf8_bom_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text([_row()]).encode("utf-8"))
    (row,) = read_transcripts(path)
    assert row.problems == ()


def test_json_lines_keep_unicode_line_separators_inside_strings(tmp_path: Path) -> None:
    body = {**_row(), "narrative": "first\u2028second\u0085third"}
    (row,) = read_transcripts(write(tmp_path / "calls.ndjson", jsonl_text([body])))
    assert row.report is not None
    assert row.report.narrative == "first\u2028second\u0085third"


@pytest.mark.parametrize("call_id", ["", "   ", "a\nb", "x" * 129, "bidi\u202etrick"])
def test_unreadable_call_ids_are_rejected_and_not_shown(tmp_path: Path, call_id: str) -> None:
    (row,) = read_transcripts(write(tmp_path / "c.jsonl", jsonl_text([_row(call_id=call_id)])))
    assert row.call_id is None
    assert row.problems == ("call_id: call_id_invalid",)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("calls.csv", b"call_id,narrative,Secret\n", "unknown columns (positions 3)"),
        ("calls.csv", b"", "the CSV file is empty"),
        ("calls.csv", b"call_id,Narrative\n", "unknown columns (positions 2)"),
        ("calls.csv", b'call_id,narrative\nC1,"Secret\n', "malformed near line"),
        ("calls.jsonl", b'{"call_id": "\xff Secret"}\n', "is not UTF-8 text (at byte offset 13)"),
    ],
)
def test_whole_file_problems_quote_no_content(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TranscriptFileError) as raised:
        read_transcripts(path)
    assert message in str(raised.value)
    assert "Secret" not in str(raised.value)


def test_a_nul_character_rejects_its_row_only(tmp_path: Path) -> None:
    text = "call_id,reporter_type,country,category,narrative\n"
    text += "C1,anonymous,KE,other,Secret\x00\nC2,anonymous,KE,other,fine\n"
    first, second = read_transcripts(write(tmp_path / "calls.csv", text))
    assert first.problems == ("nul_character",)
    assert second.problems == ()


def test_a_directory_is_not_a_transcript(tmp_path: Path) -> None:
    with pytest.raises(TranscriptFileError, match="is a directory"):
        read_transcripts(tmp_path)
