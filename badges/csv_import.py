"""Reading a recipients CSV: columns, encodings, per-row problems, and the size limits.

The file is read as a stream, row by row, and then forgotten: only the rows are kept (in the
issue batch's table, written in chunks as they come), never the upload. Each row carries its
own problems so the page can show them before anything is issued; problems that need the
database (is this person new? the same person twice?) are found by ``badges.batches``.

Columns: email, first name, last name, optional external id, optional achievement time. A
header row names them in any order (common spellings are understood); without a header the
columns are taken in that order. With a header, optional evidence and result columns give
each row its own: EvidenceUrl, EvidenceNarrative, EvidenceName (one piece of evidence) and
ResultDescription with ResultValue (one result), checked by ``badges.evidence`` exactly as the
Events API checks ``Evidence`` and ``Results``.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from badges.evidence import EvidenceError, evidence_clean, results_clean

# One upload, and one recipient list, holds at most this many people: a whole university or
# company. The file is streamed and its rows are written to the batch's table in chunks, so
# memory does not grow with it (bench/csv_import.py). 20 MB fits 100,000 rows of about 200
# bytes (names, an external id, a time and a line of evidence); MAX_REQUEST_BODY and the
# proxy's client_max_body_size are set just above it.
MAX_ROWS = 100_000
MAX_MB = 20
MAX_BYTES = MAX_MB * 1024 * 1024
LIMITS_TEXT = f"Files can have at most {MAX_ROWS:,} rows and {MAX_MB} MB."

MAX_NAME = 150
MAX_EXTERNAL_ID = 200
FUTURE_TOLERANCE = timedelta(minutes=5)  # the same tolerance as badges.issuing

COLUMNS = ("email", "first_name", "last_name", "external_id", "achieved_at")
# Only with a header row (a file without one keeps the five columns above).
EVIDENCE_COLUMNS = {
    "evidence_url": "Url",
    "evidence_narrative": "Narrative",
    "evidence_name": "Name",
}
RESULT_COLUMNS = {"result_description": "Description", "result_value": "Value"}
ALL_COLUMNS = (*COLUMNS, *EVIDENCE_COLUMNS, *RESULT_COLUMNS)
COLUMN_LABELS = {
    "email": "Email",
    "first_name": "First name",
    "last_name": "Last name",
    "external_id": "External id",
    "achieved_at": "Achievement time",
    "evidence_url": "EvidenceUrl",
    "evidence_narrative": "EvidenceNarrative",
    "evidence_name": "EvidenceName",
    "result_description": "ResultDescription",
    "result_value": "ResultValue",
}
# Header spellings, compared lower-case with everything but letters removed.
HEADER_ALIASES = {
    "email": {"email", "emailaddress", "mail", "recipientemail"},
    "first_name": {"firstname", "givenname", "forename", "first"},
    "last_name": {"lastname", "surname", "familyname", "last"},
    "external_id": {
        "externalid",
        "userid",
        "id",
        "employeeid",
        "studentid",
        "employeenumber",
        "studentnumber",
        "reference",
    },
    "achieved_at": {
        "achievementtime",
        "achievedat",
        "achieved",
        "activitytime",
        "achievementdate",
        "date",
        "completed",
        "completedat",
        "completiondate",
    },
    "evidence_url": {"evidenceurl", "evidencelink"},
    "evidence_narrative": {"evidencenarrative", "evidence", "evidencetext"},
    "evidence_name": {"evidencename", "evidencetitle"},
    "result_description": {"resultdescription", "result"},
    "result_value": {"resultvalue"},
}


class CsvRejected(ValidationError):
    """The whole file is refused (too large, not a CSV, no email column…); nothing is read."""


@dataclass
class CsvRow:
    line: int  # the line in the file, as a spreadsheet shows it
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    external_id: str = ""
    achieved_at: datetime | None = None
    evidence: list[dict] = field(default_factory=list)  # badges.evidence's stored form
    results: list[dict] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _key(cell: str) -> str:
    return "".join(c for c in cell.lower() if c.isalpha())


def _header_map(cells: list[str]) -> dict[int, str] | None:
    """Column index → field name when ``cells`` is a header row, else None."""
    found: dict[int, str] = {}
    for index, cell in enumerate(cells):
        key = _key(cell)
        for name, aliases in HEADER_ALIASES.items():
            if key in aliases and name not in found.values():
                found[index] = name
    names = set(found.values())
    # A data row has an address in it; a header names columns (one known name is enough
    # when no cell looks like an address).
    if "email" in names or len(names) >= 2 or (names and not any("@" in c for c in cells)):
        return found
    return None


READ_BLOCK = 256 * 1024  # bytes read at a time while checking the file's encoding


def _encoding(upload) -> str:
    """The file's encoding, found by one streaming pass over its bytes (memory: one block).

    A workbook or a binary file is refused by its first bytes or by a NUL anywhere; the text
    is UTF-8 (with or without a BOM) when every byte decodes as such, else cp1252 (Excel on
    Windows still writes it) when that decodes. A file that turns out larger than MAX_BYTES
    (one that came without a size) is refused too.
    """
    upload.seek(0)
    head = upload.read(8)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvRejected(
            "This looks like an Excel workbook. In Excel choose File › Save As › "
            "“CSV UTF-8 (Comma delimited)” and upload that file."
        )
    upload.seek(0)
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ("utf-8", "cp1252")}
    total = 0
    while block := upload.read(READ_BLOCK):
        total += len(block)
        if total > MAX_BYTES:
            raise CsvRejected(f"This file is over {MAX_MB} MB. {LIMITS_TEXT}")
        if b"\x00" in block:
            raise CsvRejected("This is not a text CSV file. Save it as “CSV UTF-8” and try again.")
        for name, decoder in list(decoders.items()):
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                del decoders[name]
    for name, decoder in list(decoders.items()):
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            del decoders[name]
    upload.seek(0)
    if "utf-8" in decoders:
        return "utf-8-sig"
    if "cp1252" in decoders:
        return "cp1252"
    raise CsvRejected("The file's characters could not be read. Save it as “CSV UTF-8”.")


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def parse_time(value: str, tz: ZoneInfo, now: datetime) -> tuple[datetime | None, str]:
    """An achievement time cell → (aware datetime, "") or (None, the problem)."""
    value = value.strip()
    hint = "Use a date like 2026-05-01, or 2026-05-01 09:30 (optionally with +02:00)."
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            return None, f"“{value[:40]}” is not a date. {hint}"
    if parsed.year < 1900:
        return None, f"“{value[:40]}” is too far in the past. {hint}"
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz)
    if parsed > now + FUTURE_TOLERANCE:
        return None, "The achievement time is in the future."
    return parsed, ""


def single_line_problem(value: str, limit: int) -> str:
    if any(c in value for c in "\r\n\x00"):
        return "Use a single line without line breaks."
    if len(value) > limit:
        return f"At most {limit} characters."
    return ""


def email_problem(email: str) -> str:
    if len(email) > 254:
        return "An email address has at most 254 characters."
    try:
        validate_email(email)
    except ValidationError:
        return f"“{email[:60]}” is not a valid email address."
    return ""


def iter_recipients_csv(upload, *, tz: ZoneInfo, now: datetime | None = None) -> Iterator[CsvRow]:
    """Read an uploaded CSV (a Django UploadedFile or any seekable binary file object) row by
    row: one CsvRow per non-blank data row, each with its own problems in ``errors``.

    Streams: Django keeps a large upload on disk, and this reads it through a text wrapper
    line by line, so memory holds one row (and one encoding-check block), never the file.
    Raises CsvRejected for a file that cannot be used at all — possibly after rows were
    yielded (too many rows, broken quotes further down), so the caller writes in a
    transaction and keeps nothing of a refused file.
    """
    now = now or timezone.now()
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise CsvRejected(
            f"This file is {size / (1024 * 1024):.1f} MB. {LIMITS_TEXT} "
            "Split it into smaller files and upload them one after another."
        )
    encoding = _encoding(upload)
    text = io.TextIOWrapper(_Readable(upload), encoding=encoding, newline="")
    try:
        sample = text.read(4096)
        if not sample.strip():
            raise CsvRejected("The file is empty.")
        dialect = _dialect(sample)
        text.seek(0)
        yield from _rows(csv.reader(text, dialect), tz, now)
    finally:
        text.detach()  # the upload stays open: Django closes it with the request


class _Readable(io.RawIOBase):
    """A raw stream over an upload (TextIOWrapper wants io's interface; uploads are proxies)."""

    def __init__(self, upload):
        self._upload = upload

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._upload.seek(offset, whence)
        return self._upload.tell()

    def tell(self) -> int:
        return self._upload.tell()

    def readinto(self, buffer) -> int:
        data = self._upload.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _rows(reader, tz: ZoneInfo, now: datetime) -> Iterator[CsvRow]:
    columns: dict[int, str] | None = None
    positional = False
    count = 0
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines are not rows
            if columns is None:
                columns = _header_map(cells)
                if columns is not None:
                    if "email" not in columns.values() and "external_id" not in columns.values():
                        raise CsvRejected(
                            "The header row has no “Email” column. Name the columns: Email, "
                            "First name, Last name, External id, Achievement time."
                        )
                    continue
                columns, positional = dict(enumerate(COLUMNS)), True
            if count >= MAX_ROWS:
                raise CsvRejected(
                    f"This file has more than {MAX_ROWS:,} rows. {LIMITS_TEXT} "
                    "Split it into smaller files and upload them one after another."
                )
            count += 1
            yield _row(line, cells, columns, tz, now, positional=positional)
    except csv.Error as exc:
        raise CsvRejected(
            f"Line {reader.line_num} could not be read as CSV ({exc}). Check its quotes."
        ) from exc
    if not count:
        if columns is None:  # blank lines only
            raise CsvRejected("The file is empty.")
        raise CsvRejected("The file has a header but no rows of recipients.")


def _row(
    line: int, cells: list[str], columns: dict[int, str], tz: ZoneInfo, now, *, positional: bool
) -> CsvRow:
    row = CsvRow(line=line)
    values = {name: "" for name in ALL_COLUMNS}
    extra = []
    for index, cell in enumerate(cells):
        name = columns.get(index)
        if name is None:
            # Without a header a sixth value is a mistake; with one, unknown columns are
            # someone's notes and are left alone.
            if cell.strip() and positional:
                extra.append(cell)
            continue
        values[name] = cell.strip()
    if extra:
        row.errors["row"] = (
            f"This row has {len(cells)} columns; expected at most {len(COLUMNS)}: "
            "email, first name, last name, external id, achievement time."
        )
    row.email = values["email"]
    row.first_name, row.last_name = values["first_name"], values["last_name"]
    row.external_id = values["external_id"]
    if row.email:
        if problem := email_problem(row.email):
            row.errors["email"] = problem
    elif not row.external_id:
        row.errors["email"] = "The email address is missing."
    for name, limit in (
        ("first_name", MAX_NAME),
        ("last_name", MAX_NAME),
        ("external_id", MAX_EXTERNAL_ID),
    ):
        if problem := single_line_problem(values[name], limit):
            row.errors[name] = problem
    if values["achieved_at"]:
        row.achieved_at, problem = parse_time(values["achieved_at"], tz, now)
        if problem:
            row.errors["achieved_at"] = problem
    _evidence_and_results(row, values)
    return row


def _in_csv_words(message: str, columns: dict[str, str], what: str) -> str:
    """badges.evidence speaks the API's names (Evidence[0].Url); a CSV has columns."""
    for column, key in columns.items():
        message = message.replace(f"{what}[0].{key}", COLUMN_LABELS[column])
    message = message.replace(
        f"{what}[0] needs a Narrative or a Url",
        ("The evidence needs an EvidenceNarrative or an EvidenceUrl"),
    )
    message = message.replace(f"{what}[0] needs a Description", "ResultDescription is missing")
    message = message.replace(f"{what}[0] needs a Value", "ResultValue is missing")
    return message


def _evidence_and_results(row: CsvRow, values: dict[str, str]) -> None:
    """The row's own evidence and result, checked by the API's rules (badges.evidence)."""
    item = {key: values[column] for column, key in EVIDENCE_COLUMNS.items() if values[column]}
    if item:
        try:
            row.evidence = evidence_clean([item])
        except EvidenceError as exc:
            row.errors["evidence"] = _in_csv_words(str(exc), EVIDENCE_COLUMNS, "Evidence")
    result = {key: values[column] for column, key in RESULT_COLUMNS.items() if values[column]}
    if result:
        try:
            row.results = results_clean([result])
        except EvidenceError as exc:
            row.errors["results"] = _in_csv_words(str(exc), RESULT_COLUMNS, "Results")


def example_csv() -> str:
    """A small file people can download and fill in."""
    return (
        "Email,First name,Last name,External id,Achievement time\r\n"
        "ada@example.org,Ada,Lovelace,S-1001,2026-05-01\r\n"
        "alan@example.org,Alan,Turing,,2026-05-01 14:30\r\n"
        "grace@example.org,Grace,Hopper,S-1003,\r\n"
    )
