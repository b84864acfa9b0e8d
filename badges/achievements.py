"""The Open Badges 3.0 Achievement fields of a badge: vocabularies and the shape they are
stored in (``Badge.alignments``, ``tags``, ``result_descriptions``).

The editor's Standards tab checks what a person typed and says what is wrong beside the
field; ``achievement_fields_check`` is the service's own check of the stored shape (so no
other caller can store what the OB 3.0 schema would refuse).
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

from badges.evidence import is_web_url

# The OB 3.0 AchievementType enumeration (ob_v3p0_achievementcredential_schema.json; a test
# compares it with the official schema). "ext:…" extensions are not offered.
ACHIEVEMENT_TYPES = (
    "Achievement",
    "ApprenticeshipCertificate",
    "Assessment",
    "Assignment",
    "AssociateDegree",
    "Award",
    "Badge",
    "BachelorDegree",
    "Certificate",
    "CertificateOfCompletion",
    "Certification",
    "CommunityService",
    "Competency",
    "Course",
    "CoCurricular",
    "Degree",
    "Diploma",
    "DoctoralDegree",
    "Fieldwork",
    "GeneralEducationDevelopment",
    "JourneymanCertificate",
    "LearningProgram",
    "License",
    "Membership",
    "ProfessionalDoctorate",
    "QualityAssuranceCredential",
    "MasterCertificate",
    "MasterDegree",
    "MicroCredential",
    "ResearchDoctorate",
    "SecondarySchoolDiploma",
)
# The OB 3.0 ResultType enumeration (same schema).
RESULT_TYPES = (
    "GradePointAverage",
    "LetterGrade",
    "Percent",
    "PerformanceLevel",
    "PredictedScore",
    "RawScore",
    "Result",
    "RubricCriterion",
    "RubricCriterionLevel",
    "RubricScore",
    "ScaledScore",
    "Status",
)


def _words(name: str) -> str:
    """``CertificateOfCompletion`` → "Certificate of completion", for people."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return spaced[:1] + spaced[1:].lower()


ACHIEVEMENT_TYPE_CHOICES = [(t, _words(t)) for t in ACHIEVEMENT_TYPES]
RESULT_TYPE_CHOICES = [(t, _words(t)) for t in RESULT_TYPES]

MAX_ALIGNMENTS = 30
MAX_RESULT_DESCRIPTIONS = 20
MAX_TAGS = 20
MAX_TAG = 60
MAX_ALLOWED_VALUES = 50
MAX_CREDITS = Decimal("9999")
URN_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_result_description_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def _str(value: Any, limit: int, *, required: bool = False) -> bool:
    return isinstance(value, str) and len(value) <= limit and (bool(value) or not required)


def achievement_fields_check(changes: dict[str, Any]) -> None:
    """Raise ValueError when an OB 3.0 field about to be stored has the wrong shape."""
    if "achievement_type" in changes and changes["achievement_type"] not in (
        "",
        *ACHIEVEMENT_TYPES,
    ):
        raise ValueError("Unknown achievement type")
    credits = changes.get("credits_available")
    if credits is not None and not (0 <= Decimal(credits) <= MAX_CREDITS):
        raise ValueError("creditsAvailable out of range")
    tags = changes.get("tags")
    if tags is not None and (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(_str(t, MAX_TAG, required=True) for t in tags)
    ):
        raise ValueError("Bad tags")
    alignments = changes.get("alignments")
    if alignments is not None:
        if not isinstance(alignments, list) or len(alignments) > MAX_ALIGNMENTS:
            raise ValueError("Bad alignments")
        for a in alignments:
            if not (
                isinstance(a, dict)
                and set(a) <= {"name", "url", "framework", "code"}
                and _str(a.get("name"), 200, required=True)
                and _str(a.get("url"), 2000, required=True)
                and is_web_url(a["url"])
                and _str(a.get("framework", ""), 200)
                and _str(a.get("code", ""), 100)
            ):
                raise ValueError(f"Bad alignment: {a!r}")
    descriptions = changes.get("result_descriptions")
    if descriptions is not None:
        if not isinstance(descriptions, list) or len(descriptions) > MAX_RESULT_DESCRIPTIONS:
            raise ValueError("Bad result descriptions")
        names = [d.get("name") for d in descriptions if isinstance(d, dict)]
        if len(set(names)) != len(descriptions):
            raise ValueError("Result descriptions need distinct names")
        for d in descriptions:
            allowed = d.get("allowed_values", [])
            if not (
                set(d) <= {"id", "name", "result_type", "allowed_values", "value_min", "value_max"}
                and URN_UUID.match(str(d.get("id", "")))
                and _str(d.get("name"), 200, required=True)
                and d.get("result_type") in RESULT_TYPES
                and isinstance(allowed, list)
                and len(allowed) <= MAX_ALLOWED_VALUES
                and all(_str(v, 200, required=True) for v in allowed)
                and _str(d.get("value_min", ""), 50)
                and _str(d.get("value_max", ""), 50)
            ):
                raise ValueError(f"Bad result description: {d!r}")
