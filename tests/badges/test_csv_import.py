"""Reading recipients CSVs: columns, encodings, per-row problems and the limits."""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from badges import csv_import
from badges.csv_import import MAX_ROWS, CsvRejected, iter_recipients_csv

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


class Upload(io.BytesIO):
    """What Django hands the form: a binary file with a size."""

    def __init__(self, data: bytes | str, name: str = "people.csv"):
        data = data.encode() if isinstance(data, str) else data
        super().__init__(data)
        self.size, self.name = len(data), name


def parse(data, tz=UTC_ZONE):
    return list(iter_recipients_csv(Upload(data), tz=tz, now=NOW))


def test_a_header_names_the_columns_in_any_order_with_common_spellings():
    rows = parse(
        "Surname;E-mail;Given name;Student ID;Completed\n"
        "Lovelace;ada@example.org;Ada;S-1;2026-05-01\n"
    )
    (row,) = rows
    assert (row.email, row.first_name, row.last_name, row.external_id) == (
        "ada@example.org",
        "Ada",
        "Lovelace",
        "S-1",
    )
    assert row.achieved_at == datetime(2026, 5, 1, tzinfo=UTC_ZONE)
    assert row.line == 2 and not row.errors


def test_without_a_header_the_columns_are_positional_and_blank_lines_are_skipped():
    rows = parse("ada@example.org,Ada,Lovelace\n\n , , \nalan@example.org,Alan,Turing,T-2\n")
    assert [(r.line, r.email, r.external_id) for r in rows] == [
        (1, "ada@example.org", ""),
        (4, "alan@example.org", "T-2"),
    ]


def test_excel_exports_read_correctly_bom_and_windows_1252():
    bom = "\ufeffEmail,First name,Last name\r\nzoe@example.org,Zoë,Ångström\r\n".encode()
    assert parse(bom)[0].first_name == "Zoë"
    cp1252 = "Email,First name,Last name\r\nzoe@example.org,Zoë,Ångström\r\n".encode("cp1252")
    assert parse(cp1252)[0].last_name == "Ångström"


def test_each_row_carries_its_own_problem():
    rows = parse(
        "email,first name,last name,external id,achievement time\n"
        "not-an-email,A,B,,\n"
        ",C,D,,\n"
        "e@example.org,E,F,,yesterday\n"
        "f@example.org,F,G,,2027-01-01\n"
        'g@example.org,"Line\nbreak",G,,\n'
        "h@example.org,H,H,,2026-05-01 09:30+02:00\n"
    )
    problems = [r.errors for r in rows]
    assert "not a valid email" in problems[0]["email"]
    assert "missing" in problems[1]["email"]
    assert "not a date" in problems[2]["achieved_at"]
    assert "future" in problems[3]["achieved_at"]
    assert "single line" in problems[4]["first_name"]
    assert problems[5] == {}
    assert rows[5].achieved_at == datetime(2026, 5, 1, 7, 30, tzinfo=UTC)


def test_times_without_an_offset_are_in_the_chosen_zone():
    (row,) = parse("a@example.org,A,B,,2026-05-01 09:30\n", tz=ZoneInfo("Europe/Berlin"))
    assert row.achieved_at.astimezone(UTC) == datetime(2026, 5, 1, 7, 30, tzinfo=UTC)


def test_a_sixth_value_without_a_header_is_a_row_problem_but_unknown_header_columns_are_not():
    (row,) = parse("a@example.org,A,B,,,surprise\n")
    assert "columns" in row.errors["row"]
    (row,) = parse("Email,First name,Last name,Notes\na@example.org,A,B,whatever\n")
    assert not row.errors


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "empty"),
        ("Email,First name\n", "no rows"),
        ("Name,Surname,Notes\nAda,Lovelace,x\n", "no “Email” column"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text CSV"),
    ],
)
def test_unusable_files_are_refused_whole(data, message):
    with pytest.raises(CsvRejected, match=message):
        parse(data)


def test_100001_rows_are_refused_with_the_limit():
    data = "".join(f"p{i}@x.io,P,Q\n" for i in range(100_001))
    with pytest.raises(CsvRejected) as exc:
        parse(data)
    assert "more than 100,000 rows" in exc.value.message and "20 MB" in exc.value.message


def test_the_row_limit_itself_applies_to_small_files(monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_ROWS", 300)
    data = "".join(f"{i}@x.io\n" for i in range(301))
    with pytest.raises(CsvRejected, match="more than 300 rows"):
        parse(data)
    assert len(parse("".join(f"{i}@x.io\n" for i in range(300)))) == 300
    assert MAX_ROWS == 100_000


def test_files_over_20_mb_are_refused_before_reading():
    big = Upload(b"a@example.org,A,B\n" * 1_200_000)
    assert big.size > 20 * 1024 * 1024
    with pytest.raises(CsvRejected, match="20 MB"):
        list(iter_recipients_csv(big, tz=UTC_ZONE, now=NOW))
    assert big.tell() == 0  # refused on its size, not read


class Unsized(io.BytesIO):
    name = "people.csv"  # no size: a stream the limit is counted on


def test_a_file_without_a_size_is_counted_as_it_is_read(monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_BYTES", 1000)
    with pytest.raises(CsvRejected, match="over 20 MB"):
        list(iter_recipients_csv(Unsized(b"a@example.org,A,B\n" * 100), tz=UTC_ZONE, now=NOW))


def test_the_encoding_is_decided_by_the_whole_file_not_its_start(monkeypatch):
    # The file is streamed in blocks; a cp1252 byte far down still makes it a cp1252 file
    # (read as UTF-8 it would be refused), as when the whole file was decoded at once.
    monkeypatch.setattr(csv_import, "READ_BLOCK", 64)
    data = "".join(f"p{i}@x.io,P,Q\n" for i in range(50)) + "zoe@x.io,Zo\u00eb,Q\n"
    rows = parse(data.encode("cp1252"))
    assert rows[-1].first_name == "Zoë" and len(rows) == 51
    # ... and a UTF-8 character split across two blocks is still UTF-8.
    rows = parse(("a" * 60 + "@x.io,Zo\u00eb,Q\n").encode())
    assert rows[0].first_name == "Zoë"


def test_broken_quotes_far_down_are_refused_with_their_line():
    # An opening quote never closed swallows the rest of the file into one cell, until the
    # csv module's field limit stops it.
    rows = "".join(f"p{i}@x.io,P,Q\n" for i in range(12_000))
    with pytest.raises(CsvRejected, match="could not be read as CSV .* Check its quotes"):
        parse(rows + 'bad@x.io,"P,Q\n' + rows)
