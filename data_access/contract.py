"""The upload contract, declared once.

Validation, the downloadable templates, the data dictionary and the README's
contract section are all generated from ``KINDS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["code", "text", "enum", "int", "decimal", "date", "bool", "iso3", "id"]

PILLARS = (
    "Peace and security",
    "Development",
    "Human rights",
    "Humanitarian affairs",
    "Management and support",
)
ENTITY_TYPES = (
    "Department",
    "Office away from headquarters",
    "Regional commission",
    "Peacekeeping operation",
    "Special political mission",
    "Partner organization",
    "Other",
)
HARDSHIP_CLASSES = ("H", "A", "B", "C", "D", "E")
STAFF_CATEGORIES = ("USG", "ASG", "D", "P", "NPO", "FS", "GS", "Other")
GENDERS = ("female", "male", "other", "unknown")
PRIORITIES = ("high", "medium", "low")
ACTIVITY_STATUSES = ("enrolled", "in_progress", "completed", "withdrawn")
PROGRAMME_STATUSES = ("enrolled", "completed", "withdrawn")
CONTRACT_SCOPES = ("national", "international")
YES_NO = ("yes", "no")

#: The Learning Strategy's taxonomy: learning need -> area.
LEARNING_NEEDS: dict[str, str] = {
    "Data and analytics": "Key enabling capacities",
    "Innovation": "Key enabling capacities",
    "Coordination and partnerships": "Key enabling capacities",
    "Knowledge management": "Skills for mandate delivery",
    "Capacity building": "Skills for mandate delivery",
    "Advanced IT and programming": "Skills for mandate delivery",
    "Monitoring and evaluation": "Skills for mandate delivery",
    "Gender mainstreaming": "Skills for mandate delivery",
    "UN values and behaviours": "Organizational culture",
    "Mandatory learning": "Organizational culture",
    "Multilingualism": "Organizational culture",
    "Performance management": "Organizational culture",
    "Human resources policies and practices": "Organizational culture",
    "Leadership and management": "Leadership and teams",
    "Teams and hybrid work": "Leadership and teams",
}
OTHER_AREA = "Other"

#: The product's KPI keys (the contract's KPI definitions); kpi_targets.kpi is one of them.
KPI_KEYS = (
    "learners",
    "completers",
    "activities",
    "completions",
    "reach_rate",
    "completion_rate",
    "female_share",
    "field_share",
    "national_share",
    "need_share",
    "high_priority_share",
    "need_gap",
    "avg_satisfaction",
    "avg_score_gain",
    "applied_on_job_rate",
)

#: The scope value of a KPI target that applies to the whole organization.
ALL_SCOPE = "ALL"


@dataclass(frozen=True)
class Column:
    """One column of an upload kind.

    ``key`` columns form the natural key; an optional key column that is absent
    is stored as the empty string so that keys compare equal in SQL.
    """

    name: str
    type: ColumnType
    description: str
    example: str
    required: bool = True
    key: bool = False
    vocabulary: tuple[str, ...] = ()
    #: Values outside ``vocabulary`` are accepted with a warning (learning needs).
    open_vocabulary: bool = False
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 200
    #: Upload kind whose codes this column must match ("entities", "duty_stations").
    references: str | None = None
    #: Also accept the literal "ALL" in a reference column (kpi_targets.scope).
    allow_all: bool = False
    #: Replaced by a keyed hash on the way in; the raw value is never stored or shown.
    pseudonymise: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    columns: tuple[Column, ...]
    #: (column, other column): the date in column is not before other column.
    not_before: tuple[tuple[str, str], ...] = ()
    #: (column, status value): column is required when status has that value.
    required_when_status: tuple[tuple[str, str], ...] = ()
    examples: dict[str, str] = field(default_factory=dict)
    #: The column that says whose data a row is (an uploader limited to some entities loads only theirs);
    #: None for reference data every entity shares.
    entity_column: str | None = "entity_code"

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.key)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


CODE_HELP = "1-20 letters, digits or '-'"

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "entities",
            "Who is measured: departments, offices, commissions, missions.",
            (
                Column("entity_code", "code", f"Entity code, {CODE_HELP}", "DMSPC", key=True),
                Column("entity_name", "text", "Full name", "Department of Management Strategy, Policy and Compliance"),
                Column("pillar", "enum", "Pillar", "Management and support", vocabulary=PILLARS),
                Column("entity_type", "enum", "Type of entity", "Department", vocabulary=ENTITY_TYPES),
                Column(
                    "parent_entity_code",
                    "code",
                    "Parent entity, if any",
                    "",
                    required=False,
                    references="entities",
                ),
            ),
        ),
        Kind(
            "duty_stations",
            "Where staff serve.",
            (
                Column("duty_station_code", "code", f"Duty station code, {CODE_HELP}", "US-NEWYORK", key=True),
                Column("duty_station_name", "text", "Name", "New York"),
                Column("country_iso3", "iso3", "ISO 3166-1 alpha-3 country code", "USA"),
                Column(
                    "is_headquarters",
                    "bool",
                    "Headquarters location (true/false, yes/no, 1/0)",
                    "true",
                ),
                Column("region", "text", "Region", "Americas", required=False),
                Column("latitude", "decimal", "Latitude, -90..90", "40.71427", required=False, minimum=-90, maximum=90),
                Column(
                    "longitude",
                    "decimal",
                    "Longitude, -180..180",
                    "-74.00597",
                    required=False,
                    minimum=-180,
                    maximum=180,
                ),
                Column(
                    "hardship_class",
                    "enum",
                    "Hardship class (H, A-E)",
                    "H",
                    required=False,
                    vocabulary=HARDSHIP_CLASSES,
                ),
            ),
            entity_column=None,
        ),
        Kind(
            "headcount",
            "Denominators: staff in post on a date.",
            (
                Column("as_of_date", "date", "Snapshot date", "2024-06-30", key=True),
                Column("entity_code", "code", "Entity", "DMSPC", key=True, references="entities"),
                Column("duty_station_code", "code", "Duty station", "US-NEWYORK", key=True, references="duty_stations"),
                Column("staff_category", "enum", "Staff category", "P", key=True, vocabulary=STAFF_CATEGORIES),
                Column("gender", "enum", "Gender", "female", key=True, vocabulary=GENDERS),
                Column("headcount", "int", "Staff in post, >= 0", "42", minimum=0),
            ),
        ),
        Kind(
            "lna",
            "The bi-annual learning needs analysis: who named which need.",
            (
                Column("cycle", "code", "LNA cycle", "2024", key=True),
                Column("entity_code", "code", "Entity", "DMSPC", key=True, references="entities"),
                Column(
                    "duty_station_code",
                    "code",
                    "Duty station, if the need is reported per duty station",
                    "",
                    required=False,
                    key=True,
                    references="duty_stations",
                ),
                Column("report_type", "text", "Source of the need", "Staff survey", key=True),
                Column(
                    "learning_need",
                    "enum",
                    "Need from the Learning Strategy taxonomy (other values are kept under 'Other')",
                    "Data and analytics",
                    key=True,
                    vocabulary=tuple(LEARNING_NEEDS),
                    open_vocabulary=True,
                ),
                Column("priority", "enum", "Priority", "high", key=True, vocabulary=PRIORITIES),
                Column(
                    "staff_category",
                    "enum",
                    "Staff category, if reported",
                    "",
                    required=False,
                    key=True,
                    vocabulary=STAFF_CATEGORIES,
                ),
                Column("gender", "enum", "Gender, if reported", "", required=False, key=True, vocabulary=GENDERS),
                Column("respondents", "int", "Staff who named this need, >= 1", "12", minimum=1),
            ),
        ),
        Kind(
            "learning_activity",
            "Uptake of learning platforms: one row per learner, course and enrolment.",
            (
                Column("platform", "text", "Platform", "LinkedIn Learning", key=True, max_length=60),
                Column(
                    "learner_id", "id", "Learner id (pseudonymised on upload)", "S0012345", key=True, pseudonymise=True
                ),
                Column("course_id", "text", "Course id", "LIL-004512", key=True, max_length=100),
                Column("enrolled_on", "date", "Enrolment date", "2024-03-01", key=True),
                Column("entity_code", "code", "Entity", "DMSPC", references="entities"),
                Column("duty_station_code", "code", "Duty station", "US-NEWYORK", references="duty_stations"),
                Column("staff_category", "enum", "Staff category", "P", vocabulary=STAFF_CATEGORIES),
                Column("gender", "enum", "Gender", "female", vocabulary=GENDERS),
                Column("status", "enum", "Status", "completed", vocabulary=ACTIVITY_STATUSES),
                Column(
                    "completed_on", "date", "Completion date (required when completed)", "2024-03-20", required=False
                ),
                Column(
                    "course_title", "text", "Course title", "Data Analysis Foundations", required=False, max_length=300
                ),
                Column(
                    "learning_need",
                    "enum",
                    "Need from the taxonomy the course serves",
                    "Data and analytics",
                    required=False,
                    vocabulary=tuple(LEARNING_NEEDS),
                    open_vocabulary=True,
                ),
                Column("hours", "decimal", "Learning hours, >= 0", "2.5", required=False, minimum=0),
            ),
            not_before=(("completed_on", "enrolled_on"),),
            required_when_status=(("completed_on", "completed"),),
        ),
        Kind(
            "programme_participation",
            "Leadership programme outcomes: one row per participant and cohort.",
            (
                Column("programme", "text", "Programme", "Aspiring People Leaders Certification", key=True),
                Column("cohort", "text", "Cohort", "2024-1", key=True, max_length=60),
                Column(
                    "participant_id",
                    "id",
                    "Participant id (pseudonymised on upload)",
                    "S0012345",
                    key=True,
                    pseudonymise=True,
                ),
                Column("entity_code", "code", "Entity", "UNOPS", references="entities"),
                Column("duty_station_code", "code", "Duty station", "KE-NAIROBI", references="duty_stations"),
                Column("gender", "enum", "Gender", "female", vocabulary=GENDERS),
                Column("staff_category", "enum", "Staff category", "NPO", vocabulary=STAFF_CATEGORIES),
                Column("contract_scope", "enum", "national or international", "national", vocabulary=CONTRACT_SCOPES),
                Column("status", "enum", "Status", "completed", vocabulary=PROGRAMME_STATUSES),
                Column("completed_on", "date", "Graduation date", "2024-06-15", required=False),
                Column(
                    "satisfaction",
                    "int",
                    "Evaluation level 1: satisfaction 1-5",
                    "5",
                    required=False,
                    minimum=1,
                    maximum=5,
                ),
                Column(
                    "pre_score", "decimal", "Level 2: score before, 0-100", "55", required=False, minimum=0, maximum=100
                ),
                Column(
                    "post_score", "decimal", "Level 2: score after, 0-100", "78", required=False, minimum=0, maximum=100
                ),
                Column(
                    "applied_on_job",
                    "enum",
                    "Level 3: applied on the job at follow-up (yes/no)",
                    "yes",
                    required=False,
                    vocabulary=YES_NO,
                ),
            ),
        ),
        Kind(
            "kpi_targets",
            "What leaders hold the learning function to (JIU recommendation 1).",
            (
                Column("kpi", "enum", "KPI key", "reach_rate", key=True, vocabulary=KPI_KEYS),
                Column(
                    "scope",
                    "code",
                    "An entity code, or ALL",
                    "ALL",
                    key=True,
                    references="entities",
                    allow_all=True,
                ),
                Column("year", "int", "Year", "2025", key=True, minimum=2000, maximum=2100),
                Column("target", "decimal", "Target value (rates as fractions, 0.6 = 60%)", "0.6"),
            ),
            entity_column="scope",
        ),
    )
}

#: Kinds whose codes other kinds reference, in the order they must be loaded.
REFERENCE_KINDS = ("entities", "duty_stations")
