"""A CSV of 100,000 recipients goes into the list as a stream: the upload read from its
temporary file line by line, the rows written and checked a chunk at a time. Python's peak
memory over the whole import (form + service) stays a small fraction of what the file alone
would take in memory, so reading the file whole, or keeping its rows in one list, fails here.
Speed is measured by bench/csv_import.py, not here."""

import tracemalloc

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from badges import batches
from badges.csv_import import MAX_ROWS
from badges.issuing_forms import CsvUploadForm
from badges.models import IssueBatchRow
from tests.factories import make_badge, space_admin

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


def big_upload(rows: int) -> TemporaryUploadedFile:
    """What Django hands the view for a large upload: a file on disk (written in pieces)."""
    upload = TemporaryUploadedFile("cohort.csv", "text/csv", 0, None)
    upload.write(b"Email,First name,Last name,External id,Achievement time\r\n")
    for start in range(0, rows, 5000):
        upload.write(
            "".join(
                f"learner.number{i:06d}@university.example.org,Firstname{i},Lastname{i},"
                f"STUDENT-{i:06d},2026-05-01 09:30\r\n"
                for i in range(start, min(start + 5000, rows))
            ).encode()
        )
    upload.size = upload.tell()
    upload.seek(0)
    return upload


def test_a_100000_row_csv_is_imported_with_bounded_memory(space_a):
    badge = make_badge(space_a)
    admin = space_admin(space_a)
    upload = big_upload(MAX_ROWS)
    assert upload.size > 10 * MB  # the file alone, read whole, is over 10 MB of bytes

    tracemalloc.start()
    try:
        form = CsvUploadForm(data={"tz": "UTC"}, files={"file": upload})
        assert form.is_valid(), form.errors
        change = batches.draft_add_csv(
            badge=badge, actor=admin, upload=form.cleaned_data["file"], tz=form.cleaned_data["tz"]
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (change.added, change.with_problems) == (MAX_ROWS, 0)
    assert IssueBatchRow.objects.filter(batch=change.batch).count() == MAX_ROWS
    last = IssueBatchRow.objects.get(batch=change.batch, position=MAX_ROWS - 1)
    assert last.data["ref"] == f"cohort.csv, line {MAX_ROWS + 1}"
    # A chunk of rows in flight, not the file: reading it whole would take its 10+ MB of
    # bytes (and as much again decoded); a list of its 100,000 parsed rows about 100 MB.
    print(f"peak {peak / MB:.2f} MB")
    assert peak < 6 * MB, f"peak {peak / MB:.1f} MB"
    upload.close()
