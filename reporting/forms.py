"""The report's choices, read from the query string (the page is a GET form).

``?org=3&org=7&sub=1&period=last_year&show=month&breakdown=1`` — or ``period=custom&from=…&to=…``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django import forms

from reporting.periods import (
    CUMULATIVE_DAILY_UP_TO,
    DATE_RANGE_TEXT,
    DAY,
    DEFAULT_PRESET,
    MAX_DAYS,
    MAX_DAYS_PER_DAY,
    MONTH,
    PRESETS,
    Period,
    date_in_range,
    preset_range,
)

CUMULATIVE = "cumulative"
SHOW_CHOICES = [
    (CUMULATIVE, "Cumulative"),
    (DAY, "Per day"),
    (MONTH, "Per month"),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReportDateField(forms.DateField):
    """A day of the period: a real date within the range reports accept. The message names
    the field, since the recipients page lists errors away from their inputs."""

    def __init__(self, *, label: str, **kwargs):
        message = f"{label}: give a real date {DATE_RANGE_TEXT}."
        super().__init__(
            label=label,
            required=False,
            widget=DateInput(),
            error_messages={"invalid": message},
            **kwargs,
        )
        self.range_message = message

    def validate(self, value):
        super().validate(value)
        if value is not None and not date_in_range(value):
            raise forms.ValidationError(self.range_message, code="out_of_range")


@dataclass(frozen=True)
class ReportChoices:
    org_ids: tuple[int, ...]  # as asked; empty means "everything I may report on"
    include_sub: bool
    period: Period
    show: str
    breakdown: bool = False  # "Show breakdown": the counts per organisation and per badge

    @property
    def bars(self) -> bool:
        """Per day or per month: one bar per bucket (else a running total)."""
        return self.show in (DAY, MONTH)

    @property
    def unit(self) -> str:
        """Bars per day or month; a running total is drawn per day for short periods."""
        if self.bars:
            return self.show
        return DAY if self.period.days <= CUMULATIVE_DAILY_UP_TO else MONTH

    def query(self, **extra: object) -> str:
        """The query string that asks for this same report (plus ``extra``)."""
        params: list[tuple[str, object]] = [("org", i) for i in self.org_ids]
        params.append(("sub", "1" if self.include_sub else "0"))
        params.append(("period", self.period.preset))
        if self.period.preset == "custom":
            params += [("from", self.period.start.isoformat()), ("to", self.period.end.isoformat())]
        params.append(("show", self.show))
        if self.breakdown:
            params.append(("breakdown", "1"))
        params += [(k, v) for k, v in extra.items() if v is not None]
        return urlencode(params)


class ReportForm(forms.Form):
    period = forms.ChoiceField(
        label="Period", choices=list(PRESETS.items()), required=False, initial=DEFAULT_PRESET
    )
    show = forms.ChoiceField(
        label="Show", choices=SHOW_CHOICES, required=False, widget=forms.RadioSelect
    )

    def __init__(
        self,
        data,
        *,
        today: date,
        first_award: Callable[[], date | None],
    ):
        super().__init__(data)
        # "from" is a Python keyword: these two are added by name.
        self.fields["from"] = ReportDateField(label="From")
        self.fields["to"] = ReportDateField(label="To")
        self.order_fields(["period", "from", "to", "show"])
        self.today = today
        self.first_award = first_award
        self.org_ids: tuple[int, ...] = ()
        self.include_sub = True

    def clean(self):
        cleaned = super().clean()
        # Organisations: integers here; whether the reader may see them is the view's check.
        try:
            self.org_ids = tuple(dict.fromkeys(int(v) for v in self.data.getlist("org")))
        except ValueError:
            self.add_error(None, "Choose organisations from the list.")
        # "Include sub-organisations" is on unless switched off: the form sends a hidden
        # sub=0 before the checkbox's sub=1, and the last value wins.
        sub_values = self.data.getlist("sub")
        self.include_sub = not sub_values or sub_values[-1] not in ("0", "", "false", "off")

        preset = cleaned.get("period") or ""
        start, end = cleaned.get("from"), cleaned.get("to")
        if not preset:
            preset = "custom" if (start or end) and "period" not in self.data else DEFAULT_PRESET
        if preset == "custom":
            if start is None and "from" not in self.errors:
                self.add_error("from", "Enter the first day of the period.")
            if end is None and "to" not in self.errors:
                self.add_error("to", "Enter the last day of the period.")
            if start and end and start > end:
                self.add_error("to", "The last day cannot be before the first day.")
        elif preset in PRESETS:
            start, end = preset_range(
                preset,
                on=self.today,
                first_award=self.first_award() if preset == "all" else None,
            )
        show = cleaned.get("show") or CUMULATIVE
        if start and end and not self.errors:
            days = (end - start).days + 1
            if days > MAX_DAYS:
                self.add_error("from", "Choose a period of at most 20 years.")
            elif show == DAY and days > MAX_DAYS_PER_DAY:
                self.add_error(
                    "show",
                    f"Per day shows at most {MAX_DAYS_PER_DAY:,} days: choose per month for "
                    "a longer period.",
                )
        if not self.errors:
            cleaned["choices"] = ReportChoices(
                org_ids=self.org_ids,
                include_sub=self.include_sub,
                period=Period(start, end, preset),
                show=show,
                breakdown=self.data.get("breakdown", "") in ("1", "on", "true"),
            )
        cleaned["preset"] = preset
        return cleaned

    @property
    def choices(self) -> ReportChoices:
        return self.cleaned_data["choices"]

    def shown_dates(self) -> tuple[str, str]:
        """What the date inputs show: the period in force, or what was typed."""
        if self.is_valid():
            period = self.choices.period
            return period.start.isoformat(), period.end.isoformat()
        return self.data.get("from", ""), self.data.get("to", "")
