"""Request and response shapes, named exactly as the contract (shared/API.md) names them."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from ninja import Field, Schema
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from reporting.periods import DATE_RANGE_TEXT, date_in_range


class ErrorOut(Schema):
    Error: str


class EventResult(Schema):
    Index: int
    Status: str = Field(description="awarded | duplicate | recorded | rejected")
    AwardId: UUID | None = None
    BadgeId: UUID | None = Field(None, description="The badge issued (for a rule, its badge).")
    RuleId: UUID | None = Field(None, description="The rule, for rule-activity events.")
    RecipientUserId: str | None = Field(
        None, description="The recipient's UserId in this space: their external id, else email."
    )
    AssertionUrl: str | None = None
    CredentialUrl: str | None = None
    RenewsAwardId: UUID | None = Field(
        None,
        description=(
            "A contract addition (issue 17): set when this award renews the recipient's "
            "expired or expiring award of the badge (Status awarded); that award's AwardId."
        ),
    )
    Errors: dict[str, str] = Field(description="Field name → message; empty unless rejected.")


class EventsOut(Schema):
    Results: list[EventResult]


_EVENT_SCHEMA = {
    "type": "object",
    "required": ["ActivityId", "ActivityTime", "UserId"],
    "additionalProperties": False,
    "properties": {
        "ActivityId": {
            "type": "string",
            "maxLength": 200,
            "description": "A badge's Id (direct issue) or a rule's activity identifier.",
        },
        "ActivityTime": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with offset: when the badge was achieved / the activity "
            "happened. Not in the future.",
            "examples": ["2026-05-01T09:30:00+02:00"],
        },
        "UserId": {
            "type": "string",
            "maxLength": 200,
            "description": "The recipient's id in your systems: an email or a reference number.",
        },
        "Email": {"type": "string", "format": "email", "maxLength": 254},
        "FirstName": {"type": "string", "maxLength": 150},
        "LastName": {"type": "string", "maxLength": 150},
    },
}

EVENTS_REQUEST_BODY = {
    "required": True,
    "description": (
        "One event, or an array of 1 to 1,000. Email, FirstName and LastName are needed for a "
        "recipient who is new to the platform. Unknown fields reject that event."
    ),
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    _EVENT_SCHEMA,
                    {"type": "array", "minItems": 1, "maxItems": 1000, "items": _EVENT_SCHEMA},
                ]
            },
            "example": [
                {
                    "ActivityId": "9b2f7c64-0c1e-4a55-9d0b-3f1e2a7c5d10",
                    "ActivityTime": "2026-05-01T09:30:00+02:00",
                    "UserId": "EMP-1042",
                    "Email": "ada@example.com",
                    "FirstName": "Ada",
                    "LastName": "Lovelace",
                }
            ],
        }
    },
}


class ListParams(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(100, ge=1, le=1000, description="At most 1,000.")
    from_: date | None = Field(None, alias="from", description="YYYY-MM-DD, inclusive.")
    to: date | None = Field(None, description="YYYY-MM-DD, inclusive.")
    organisation: UUID | None = Field(
        None, description="Only this organisation (an OrganisationId) and what is beneath it."
    )

    @field_validator("from_", "to", mode="before")
    @classmethod
    def _a_real_date_in_range(cls, value: object) -> object:
        """A real calendar day in the range reports accept; a 400 naming the field (the error
        handler prefixes it) and the range, never a 500 from date arithmetic at date.max."""
        if value is None or isinstance(value, date):
            parsed = value
        else:
            try:
                parsed = date.fromisoformat(str(value)) if len(str(value)) == 10 else None
            except ValueError:
                parsed = None
            if parsed is None:
                raise PydanticCustomError("date", f"give a real date {DATE_RANGE_TEXT}")
        if parsed is not None and not date_in_range(parsed):
            raise PydanticCustomError("date", f"give a date {DATE_RANGE_TEXT}")
        return parsed


class BadgeOut(Schema):
    Id: UUID = Field(description="The badge's identifier: the ActivityId for direct issuing.")
    Name: str
    State: str = Field(description="draft | published | withdrawn")
    OrganisationId: UUID
    IssuerName: str | None
    Awards: int = Field(description="Awards issued (in the from/to range when given).")


class RuleOut(Schema):
    Id: UUID
    Name: str
    ActivityId: str
    BadgeId: UUID
    Threshold: int
    WindowDays: int | None
    OrganisationId: UUID
    Active: bool
    Completions: int = Field(description="Completions (in the from/to range when given).")


class CompletionOut(Schema):
    UserId: str
    Email: str
    FirstName: str
    LastName: str
    CompletedAt: datetime
    AwardId: UUID


class RecipientOut(Schema):
    UserId: str
    Email: str
    FirstName: str
    LastName: str
    BadgeId: UUID
    BadgeName: str
    AwardId: UUID
    IssuedOn: datetime
    ExpiresOn: datetime | None
    Revoked: bool
    Declined: bool = Field(
        description="The recipient declined the award (it is hidden publicly); an addition to "
        "shared/API.md's fields."
    )


class _Page(Schema):
    Count: int
    Next: str | None
    Previous: str | None


class BadgePage(_Page):
    Results: list[BadgeOut]


class RulePage(_Page):
    Results: list[RuleOut]


class CompletionPage(_Page):
    Results: list[CompletionOut]


class RecipientPage(_Page):
    Results: list[RecipientOut]


class ReasonIn(Schema):
    Reason: str | None = Field(
        None, description="Why: 1–500 characters after trimming; shown to the recipient."
    )


class AwardEvidenceOut(Schema):
    Narrative: str
    Url: str
    Name: str


class AwardResultOut(Schema):
    Description: str
    Value: str


class AwardOut(Schema):
    AwardId: UUID
    BadgeId: UUID
    UserId: str = Field(description="= RecipientUserId of the events response.")
    Email: str
    FirstName: str
    LastName: str
    IssuedOn: datetime
    ExpiresOn: datetime | None = Field(description="Null when it never expires.")
    Status: str = Field(description="active | expired | suspended | revoked | declined")
    Reason: str | None = Field(description="Null unless revoked or suspended.")
    AssertionUrl: str
    CredentialUrl: str
    CertificateUrl: str = Field(description="The printable PDF; 410 once revoked.")
    Evidence: list[AwardEvidenceOut]
    Results: list[AwardResultOut]
