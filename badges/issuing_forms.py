"""Forms of the Issuing area: adding recipients, the CSV upload, issuing and revoking."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.conf import settings
from django.utils import timezone

from badges.awards import MAX_REASON
from badges.csv_import import (
    LIMITS_TEXT,
    MAX_BYTES,
    MAX_EXTERNAL_ID,
    MAX_NAME,
    email_problem,
    parse_time,
    single_line_problem,
)
from badges.evidence import MAX_NARRATIVE, MAX_URL, EvidenceError, evidence_clean
from users.models import User


class TimeZoneField(forms.CharField):
    """An IANA time zone name. The page's script fills in the browser's zone; without
    JavaScript it stays at the site's zone and says so."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("label", "Time zone")
        kwargs.setdefault("initial", settings.TIME_ZONE)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"data-browser-tz": settings.TIME_ZONE, "autocomplete": "off"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value).strip() or settings.TIME_ZONE
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError(
                f"“{value[:64]}” is not a time zone. Use a name like Europe/London or UTC."
            ) from exc


class MemberPickForm(forms.Form):
    users = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one person to add."},
    )

    def __init__(self, *args, reachable=None, **kwargs):
        super().__init__(*args, **kwargs)
        if reachable is not None:
            self.fields["users"].queryset = reachable


class GroupPickForm(forms.Form):
    group = forms.ModelChoiceField(
        queryset=None,
        empty_label="Choose a group…",
        error_messages={"required": "Choose a group."},
    )

    def __init__(self, *args, groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups
        self.fields["group"].label_from_instance = lambda g: (
            f"{g.name} — {g.organisation.name} ({g.member_count} "
            f"{'person' if g.member_count == 1 else 'people'})"
        )


class PersonForm(forms.Form):
    """Someone by email. Names are asked for every time (the issuer may not know whether
    the person has an account); someone who already has one keeps their own name."""

    email = forms.CharField(label="Email", max_length=254)
    first_name = forms.CharField(
        max_length=MAX_NAME, error_messages={"required": "Give their first name."}
    )
    last_name = forms.CharField(
        max_length=MAX_NAME, error_messages={"required": "Give their last name."}
    )
    external_id = forms.CharField(
        label="External id",
        max_length=MAX_EXTERNAL_ID,
        required=False,
        help_text="An employee or student number, if you use them.",
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if problem := email_problem(email):
            raise forms.ValidationError(problem)
        return email

    def _line(self, name: str, limit: int) -> str:
        value = self.cleaned_data[name]
        if problem := single_line_problem(value, limit):
            raise forms.ValidationError(problem)
        return value.strip()

    def clean_first_name(self):
        return self._line("first_name", MAX_NAME)

    def clean_last_name(self):
        return self._line("last_name", MAX_NAME)

    def clean_external_id(self):
        return self._line("external_id", MAX_EXTERNAL_ID)


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "Columns: email, first name, last name, external id (optional), achievement time "
            f"(optional, e.g. 2026-05-01 or 2026-05-01 14:30). A header row is optional; "
            "with one, each row may also have its own evidence (EvidenceUrl, "
            "EvidenceNarrative, EvidenceName) and result (ResultDescription, ResultValue). "
            f"{LIMITS_TEXT}"
        ),
        error_messages={"required": "Choose a CSV file to upload."},
    )
    tz = TimeZoneField(help_text="For achievement times in the file that have no UTC offset.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".csv,text/csv"

    def clean(self):
        # The rows are read by the service (badges.batches.draft_add_csv), streamed into the
        # list: a form holding them all would hold the whole file.
        data = super().clean()
        upload = data.get("file")
        if upload is not None and upload.size > MAX_BYTES:
            self.add_error("file", f"This file is too large. {LIMITS_TEXT}")
        return data


class IssueForm(forms.Form):
    achieved_at = forms.CharField(
        label="Achievement time",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="When the recipients earned the badge. Leave empty for now. "
        "CSV rows with their own time keep it.",
    )
    tz = TimeZoneField(help_text="The achievement time is read in this zone.")
    evidence_narrative = forms.CharField(
        label="Evidence",
        required=False,
        max_length=MAX_NARRATIVE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the recipients did to earn it, carried in every award of "
        "this list (CSV rows with their own evidence keep theirs).",
    )
    evidence_url = forms.CharField(
        label="Evidence link",
        required=False,
        max_length=MAX_URL,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text="A page showing the work.",
    )

    def clean(self):
        data = super().clean()
        data["evidence"] = []
        narrative = (data.get("evidence_narrative") or "").strip()
        url = (data.get("evidence_url") or "").strip()
        if narrative or url:
            try:
                data["evidence"] = evidence_clean(
                    [{"Narrative": narrative, "Url": url} if url else {"Narrative": narrative}]
                )
            except EvidenceError:
                self.add_error("evidence_url", "Give a full web address starting with https://.")
        raw, tz = (data.get("achieved_at") or "").strip(), data.get("tz")
        data["when"] = None
        if raw and tz is not None:
            when, problem = parse_time(raw.replace("T", " "), tz, timezone.now())
            if problem:
                self.add_error("achieved_at", problem)
            else:
                data["when"] = when
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the recipient and on the public verification page.",
        error_messages={"required": "Give a reason: the recipient and verifiers will see it."},
    )

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError("Give a reason: the recipient and verifiers will see it.")
        return reason


class VisibilityForm(forms.Form):
    is_public = forms.TypedChoiceField(
        choices=[("1", "Public"), ("0", "Private")], coerce=lambda v: v == "1"
    )
