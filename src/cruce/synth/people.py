"""The people flow: trafficking cases, victim screenings, public tips, case documents, person crossings.

``write_people`` runs after the firearms flow (which writes ``truth/persons.csv`` and
``truth/identities.csv``) and the drugs flow (which places ring bosses in organizations and
gives plazas to organizations). It writes, in one folder:

* ``trafficking-cases.csv`` — victim records in the HTCDS layout of the built-in ``htcds-cases``
  mapping: one row per case, victim and perpetrator, with HTCDS/CTDC code values drawn in the
  proportions of the CTDC file (``CTDC_*`` below);
* ``screenings.csv`` — screenings for trafficking indicators in the domains of the Vera
  Institute's Trafficking Victim Identification Tool (TVIT), mapping ``cruce-screenings``;
* ``tips.csv`` — tips from the public in English or Spanish, some with trafficking indicators,
  many without, naming people, phones, vehicles and organizations with noise; mapping
  ``cruce-tips``; the tipster's identity goes only into the Tip's protected ``tipster_*`` fields;
* ``case-documents.csv`` — a few case notes and police reports (Spanish or English) naming
  perpetrators, mapping ``cruce-documents``;
* ``person-crossings.csv`` — people crossing at ports of entry (commuters, ring bosses, victims
  being moved with their trafficker), mapping ``cruce-person-crossings``;

and in ``truth/``: ``cases.csv``, ``screenings.csv``, ``tips.csv``, ``crossings.csv``,
``documents.csv``, ``phones.csv``, ``vehicles.csv``, plus rows appended to ``persons.csv`` and
``identities.csv``. New people get ids ``H000001`` …; ring bosses keep their firearms ids.

Everything is streamed: cases are written one at a time with the records they cause
(screenings of their victims, tips about them, their crossings, documents), and the background
records (commuters, screenings of people who were not trafficked, tips about other things) are
interleaved so that every file keeps its share as the cases progress. Memory holds a few
bounded pools of people who come back. Same ``records`` and ``seed``, same bytes.
"""

from __future__ import annotations

import bisect
import csv
import random
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

from cruce.synth.names import Person, full_name, new_person, noisy_dob, noisy_parts, strip_accents
from cruce.synth.world import (
    IDENTITIES_TRUTH,
    ORGANIZATIONS,
    PERSONS_TRUTH,
    PLAZAS,
    TRUTH_DIR,
    Cast,
    FlowOutput,
    Organization,
    Plaza,
    SourceFile,
    Trafficker,
    append_truth_file,
)

CASES_FILE = "trafficking-cases.csv"
SCREENINGS_FILE = "screenings.csv"
TIPS_FILE = "tips.csv"
DOCUMENTS_FILE = "case-documents.csv"
CROSSINGS_FILE = "person-crossings.csv"
CASES_MAPPING = "htcds-cases"
SCREENINGS_MAPPING = "cruce-screenings"
TIPS_MAPPING = "cruce-tips"
DOCUMENTS_MAPPING = "cruce-documents"
CROSSINGS_MAPPING = "cruce-person-crossings"

CASE_COLUMNS: tuple[str, ...] = (
    "cas_id", "cas_open_date", "cas_status", "vic_id", "vic_gender", "vic_age_band", "vic_citizenship",
    "vic_country_of_exploitation", "hte_exploitation_type", "hte_means_of_control", "hte_labour_type",
    "hte_sex_type", "hte_recruiter_relation", "hte_year", "per_id", "per_name", "per_gender",
    "per_nationality", "per_role", "org_name",
)  # fmt: skip
TVIT_DOMAINS: tuple[str, ...] = (
    "recruitment", "false_promises", "debt", "documents_kept", "money_kept", "movement_restricted",
    "threats_violence", "conditions", "sexual_exploitation", "isolation",
)  # fmt: skip
SCREENING_COLUMNS: tuple[str, ...] = (
    "screening_id", "date", "place", "state", "organization", "org_type", "screener", "language",
    "instrument", "person_name", "person_dob", "person_gender", "person_nationality", "person_languages",
    "person_indigenous", *(f"q_{d}" for d in TVIT_DOMAINS), "indicators", "score", "recommendation",
)  # fmt: skip
TIP_COLUMNS: tuple[str, ...] = (
    "tip_id", "received_at", "channel", "language", "flow", "status", "place", "state", "country", "text",
    "anonymous", "tipster_name", "tipster_phone", "tipster_email", "subject_name", "subject_alias",
    "subject_phone_mx", "subject_phone_us", "vehicle_plate", "vehicle_make", "vehicle_color", "organization",
)  # fmt: skip
DOCUMENT_COLUMNS: tuple[str, ...] = (
    "doc_id", "document_type", "title", "language", "date", "author", "publisher", "text", "person_named",
)  # fmt: skip
CROSSING_COLUMNS: tuple[str, ...] = (
    "crossing_id", "crossing_time", "port_name", "port_code", "port_state", "direction", "mode", "outcome",
    "traveler_name", "traveler_dob", "traveler_gender", "traveler_nationality", "document_type",
    "document_number", "vehicle_plate", "plate_state", "vehicle_make",
)  # fmt: skip
TRUTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases.csv": (
        "case_id", "year", "exploitation_type", "control_category", "plaza_id", "org_id", "victim_ids",
        "perpetrator_ids", "recruiter_ids",
    ),
    "screenings.csv": ("screening_id", "person_id", "case_id", "is_victim", "score", "recommendation"),
    "tips.csv": (
        "tip_id", "flow", "has_indicators", "indicators", "language", "subject_id", "org_id", "phone_owner_id",
        "vehicle_owner_id", "case_id",
    ),
    "crossings.csv": ("crossing_id", "person_id", "kind", "case_id", "group_id", "plaza_id"),
    "documents.csv": ("doc_id", "case_id", "person_ids"),
    "phones.csv": ("number", "person_id"),
    "vehicles.csv": ("plate", "plate_state", "person_id"),
}  # fmt: skip

# -- calibration: the CTDC-derived victim file ---------------------------------------------------
# Counts from ../shared/data/ctdc_trafficking_derived/trafficking_cleaned.csv (14,299 rows; CTDC
# global k-anonymised victim data, cleaned by gh-mrmoore/Human-Trafficking-Analysis), tallied once
# by exploitation type (ExploitType) and copied here so the generator needs nothing outside the
# package. Keys are cruce's HTCDS codes; the file's labels are in the comments.
CTDC_EXPLOITATION: dict[str, int] = {
    "sexual_exploitation": 11908,  # Sexual Exploitation
    "forced_labour": 2240,  # Forced Labor
    "forced_marriage": 75,  # Forced Marriage
    "other": 76,  # Other
}
CTDC_FEMALE: dict[str, tuple[int, int]] = {  # (Female, Male) by exploitation type
    "sexual_exploitation": (11682, 226),
    "forced_labour": (628, 1612),
    "forced_marriage": (75, 0),
    "other": (75, 1),
}
AGE_BANDS: tuple[str, ...] = (
    "age_0_8", "age_9_17", "age_18_20", "age_21_23", "age_24_26", "age_27_29", "age_30_38", "age_39_47",
    "age_48_plus",
)  # fmt: skip
CTDC_AGE: dict[str, tuple[int, ...]] = {  # in the order of AGE_BANDS (ageCategories)
    "sexual_exploitation": (145, 4636, 2009, 1463, 1065, 707, 1328, 388, 167),
    "forced_labour": (56, 262, 18, 58, 140, 179, 856, 414, 257),
    "forced_marriage": (0, 11, 15, 26, 14, 9, 0, 0, 0),
    "other": (0, 33, 14, 0, 0, 0, 29, 0, 0),
}
RECRUITER_RELATIONS: tuple[str, ...] = ("family", "friend", "intimate_partner", "unknown", "other")
CTDC_RECRUITER: dict[
    str, tuple[int, ...]
] = {  # Family/Relative, Friend/Acquaintance, Intimate Partner, Not Specified, Other
    "sexual_exploitation": (1058, 511, 1522, 8109, 708),
    "forced_labour": (86, 559, 0, 129, 1466),
    "forced_marriage": (2, 14, 1, 0, 58),
    "other": (1, 2, 0, 45, 28),
}
CONTROL_CATEGORIES: tuple[str, ...] = ("financial", "other", "physical", "survival", "threats")
CTDC_CONTROL: dict[str, tuple[int, ...]] = {  # ControlCategory: Financial, Other, Physical, Survival, Threats
    "sexual_exploitation": (1108, 5581, 1523, 163, 3533),
    "forced_labour": (1548, 300, 44, 27, 321),
    "forced_marriage": (3, 12, 15, 3, 42),
    "other": (9, 33, 8, 3, 23),
}
LABOUR_TYPES: tuple[str, ...] = (
    "agriculture", "aquafarming", "begging", "construction", "domestic_work", "manufacturing", "other",
    "peddling", "not_specified",
)  # fmt: skip
CTDC_LABOUR: tuple[int, ...] = (69, 91, 88, 810, 200, 304, 57, 58, 563)  # Labor_Type of Forced Labor rows
# The means of control each CTDC group stands for (the control_category enum's descriptions).
CONTROL_MEANS: dict[str, tuple[str, ...]] = {
    "financial": ("debt_bondage", "takes_earnings", "restricts_financial_access"),
    "threats": ("threats", "psychological_abuse", "false_promises", "uses_children", "threat_of_law_enforcement"),
    "survival": ("withholds_documents", "withholds_necessities", "restricts_medical_care"),
    "physical": ("physical_abuse", "sexual_abuse", "restricts_movement", "excessive_working_hours"),
    "other": ("not_specified", "not_specified", "not_specified", "psychoactive_substances", "other"),
}

# -- assumptions (not in the CTDC file; see docs/synth.md) -----------------------------------------
# Victims' citizenship on this border: Mexico, the Northern Triangle, then other countries whose
# nationals travel through Mexico; the CTDC file has citizenship mostly unknown, US or Ukrainian.
CITIZENSHIP: dict[str, float] = {
    "MX": 55, "GT": 14, "HN": 12, "SV": 6, "VE": 3, "CO": 2, "CU": 2, "EC": 2, "HT": 2, "US": 2,
}  # fmt: skip
INDIGENOUS: dict[str, tuple[float, tuple[str, ...]]] = {
    "MX": (0.15, ("nah", "mix", "zap", "tzo", "tzh")),
    "GT": (0.4, ("mam", "quc", "kek", "cak")),
}
SEX_TYPES: dict[str, float] = {
    "prostitution": 75, "private_sexual_services": 12, "pornography": 8, "remote_interactive_services": 5,
}  # fmt: skip
EXPLOITATION_COUNTRIES: dict[str, float] = {"US": 45, "MX": 35, "MX;US": 20}
VICTIMS_PER_CASE: dict[int, float] = {1: 70, 2: 10, 3: 8, 4: 4, 5: 3, 6: 2, 8: 2, 12: 1}
PERPETRATORS_PER_CASE: dict[int, float] = {0: 20, 1: 50, 2: 22, 3: 8}
CASE_SHARE = 0.14  # of records: case rows
SCREENING_SHARE = 0.10
TIP_SHARE = 0.22
CAST_PERPETRATOR = 0.08  # a perpetrator slot filled by a ring boss of the firearms flow
REUSE_PERPETRATOR = 0.45  # … by a perpetrator of an earlier case
CASE_ORG = 0.35  # cases linked to an organization (besides those of members)
VICTIM_SCREENED = 0.5
CASE_TIPS = 0.4
CASE_DOCUMENT = 0.25
CASE_CROSSING = 0.35  # cases with exploitation in the US whose victims are seen at a port
TIPS_PER_TRAFFICKER = (1, 3)
CROSSINGS_PER_TRAFFICKER = (2, 10)
POOL = 400  # people kept for reuse (perpetrators, commuters)

START = date(2015, 1, 1).toordinal()
END = date(2023, 12, 31).toordinal()
_DATE_BASE = date(1925, 1, 1).toordinal()
_DATE_TOP = date(2026, 1, 1).toordinal()
_DAYS_PER_YEAR = 365.25

# Plausible places: the plaza municipalities and the US towns of their ports, and a few inland.
_MX_STATE_NAMES = {
    "MX-BCN": ("Baja California", "BC", "B.C."),
    "MX-SON": ("Sonora", "Son."),
    "MX-CHH": ("Chihuahua", "Chih.", "CHIH"),
    "MX-COA": ("Coahuila", "Coah."),
    "MX-NLE": ("Nuevo León", "Nuevo Leon", "N.L."),
    "MX-TAM": ("Tamaulipas", "Tamps."),
}
_MX_STATE_BY_NAME = {
    "Baja California": "MX-BCN",
    "Sonora": "MX-SON",
    "Chihuahua": "MX-CHH",
    "Coahuila": "MX-COA",
    "Nuevo León": "MX-NLE",
    "Tamaulipas": "MX-TAM",
}
_US_STATE_NAMES = {"CA": "California", "AZ": "Arizona", "NM": "New Mexico", "TX": "Texas"}
_US_INLAND: tuple[tuple[str, str], ...] = (
    ("Houston", "TX"), ("Dallas", "TX"), ("San Antonio", "TX"), ("Phoenix", "AZ"), ("Los Angeles", "CA"),
    ("Albuquerque", "NM"), ("Atlanta", "GA"), ("Immokalee", "FL"), ("Charlotte", "NC"), ("Queens", "NY"),
)  # fmt: skip
_MX_INLAND: tuple[tuple[str, str], ...] = (
    ("Monterrey", "MX-NLE"), ("Culiacán", "MX-SIN"), ("Tapachula", "MX-CHP"), ("Ciudad de México", "MX-CMX"),
    ("Tenancingo", "MX-TLA"), ("Guadalajara", "MX-JAL"), ("Hermosillo", "MX-SON"), ("Saltillo", "MX-COA"),
)  # fmt: skip

# Case-holding organizations and screening organizations: all made up.
_CASE_HOLDERS: tuple[str, ...] = (
    "Refugio Sendero Libre A.C.", "Casa Alba de la Frontera A.C.", "Red Binacional Manos Abiertas",
    "Border Survivors Alliance", "Desert Light Legal Services", "Centro Comunitario Nueva Aurora A.C.",
    "Unidad Especializada contra la Trata (ficticia)", "Rio Grande Victim Advocates",
)  # fmt: skip
_SCREENERS: tuple[tuple[str, str, str, str], ...] = (  # name, type, town, state
    ("Refugio Sendero Libre A.C.", "ngo", "Juárez", "Chihuahua"),
    ("Casa Alba de la Frontera A.C.", "ngo", "Tijuana", "Baja California"),
    ("Centro Comunitario Nueva Aurora A.C.", "ngo", "Nogales", "Sonora"),
    ("Red Binacional Manos Abiertas", "ngo", "Reynosa", "Tamaulipas"),
    ("Border Survivors Alliance", "ngo", "El Paso", "TX"),
    ("Desert Light Legal Services", "ngo", "Tucson", "AZ"),
    ("Rio Grande Victim Advocates", "ngo", "McAllen", "TX"),
    ("Unidad Especializada contra la Trata (ficticia)", "agency", "Nuevo Laredo", "Tamaulipas"),
    ("Oficina Estatal de Atención a Víctimas (ficticia)", "agency", "Hermosillo", "Sonora"),
    ("County Victim Services Unit (fictitious)", "agency", "San Diego", "CA"),
)
_INSTRUMENT = {
    "en": "TVIT short form (Vera Institute of Justice), cruce adaptation v1",
    "es": "TVIT versión corta (Vera Institute of Justice), adaptación de cruce v1",
}
_ANSWERS = {
    "en": {"yes": ("yes", "Yes", "Y"), "no": ("no", "No", "N"), "unknown": ("don't know", "declined")},
    "es": {"yes": ("sí", "Sí", "si"), "no": ("no", "No"), "unknown": ("no sabe", "no respondió")},
}
_WEIGHTS = {
    "debt": 2,
    "documents_kept": 2,
    "money_kept": 2,
    "movement_restricted": 2,
    "threats_violence": 2,
    "sexual_exploitation": 2,
}
_RECOMMENDATION_TEXT = {
    "likely": ("likely", "Likely", "refer", "canalizar", "probable"),
    "possible": ("possible", "Possible", "follow up", "seguimiento", "posible"),
    "not_indicated": ("not indicated", "none", "sin indicios", "no indicado"),
}

# Spellings that the HTCDS mapping resolves through the schema's enums (labels, codes, aliases).
_EXPLOIT_TEXT = {
    "sexual_exploitation": ("Sexual exploitation", "sexual_exploitation", "Explotación sexual", "sex trafficking"),
    "forced_labour": ("Forced labour", "Forced Labor", "forced_labour", "Trabajo forzoso", "labor trafficking"),
    "forced_marriage": ("Forced marriage", "forced_marriage", "Matrimonio forzado"),
    "other": ("Other", "other"),
}
_STATUS_TEXT = (
    ("Open", 20), ("open", 8), ("Abierto", 10), ("under investigation", 15), ("En investigación", 10),
    ("referred", 5), ("Turnado al ministerio público", 4), ("charged", 4), ("convicted", 3), ("closed", 12),
    ("Cerrado", 9),
)  # fmt: skip
_GENDER_TEXT = {"F": ("F", "Female", "female", "Mujer", "femenino"), "M": ("M", "Male", "male", "Hombre", "masculino")}
_COUNTRY_TEXT = {
    "MX": ("MX", "Mexico", "México", "MEX"), "GT": ("GT", "Guatemala"), "HN": ("HN", "Honduras"),
    "SV": ("SV", "El Salvador"), "VE": ("VE", "Venezuela"), "CO": ("CO", "Colombia"), "CU": ("CU", "Cuba"),
    "EC": ("EC", "Ecuador"), "HT": ("HT", "Haiti", "Haití"), "US": ("US", "USA", "United States", "Estados Unidos"),
}  # fmt: skip

# Haitian names (the names module has Spanish and English ones): common given names and surnames.
_HAITIAN_MALE = ("Jean", "Pierre", "Wilson", "Jacques", "Emmanuel", "Ricardo", "Jonas", "Stanley", "Frantz")
_HAITIAN_FEMALE = ("Marie", "Rose", "Nadège", "Widline", "Fabiola", "Guerline", "Mirlande", "Sandra")
_HAITIAN_SURNAMES = ("Joseph", "Pierre", "Jean-Baptiste", "Louis", "Charles", "Etienne", "Desir", "Augustin")

_MX_AREA_CODES = (
    "664", "665", "686", "653", "631", "633", "656", "626", "877", "878", "867", "899", "868", "614", "662",
    "844", "81", "55", "33", "961", "962", "667",
)  # fmt: skip
_PLAZA_AREA = {
    "PZ01": "664", "PZ02": "665", "PZ03": "686", "PZ04": "653", "PZ05": "631", "PZ06": "633", "PZ07": "656",
    "PZ08": "656", "PZ09": "626", "PZ10": "877", "PZ11": "878", "PZ12": "867", "PZ13": "899", "PZ14": "899",
    "PZ15": "868",
}  # fmt: skip
_US_AREA_CODES = (
    "915", "956", "520", "619", "760", "575", "210", "713", "602", "830", "505", "480", "623", "928", "361",
    "432", "512", "214", "972", "817", "281", "832", "909", "951", "323", "213", "310", "818", "562", "714",
    "858", "442", "325", "806", "469", "346", "737", "726", "559", "661",
)  # fmt: skip
_MAKES = ("Nissan", "Ford", "Chevrolet", "Toyota", "Dodge", "Honda", "Volkswagen", "GMC", "Kia", "Jeep")
_COLORS = {
    "en": ("white", "black", "gray", "red", "blue", "silver"),
    "es": ("blanca", "negra", "gris", "roja", "azul", "plata"),
}
_VEHICLE_WORD = {"en": ("truck", "pickup", "car", "van", "SUV"), "es": ("troca", "camioneta", "carro", "van")}
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_PORT_TOWN = {"San Ysidro": "San Diego", "Otay Mesa": "San Diego", "Calexico East": "Calexico"}
_FOOT_MODES = ("Pedestrian", "pedestrian", "a pie", "Bus")
_DIRECTIONS = ("northbound", "northbound", "southbound", "Northbound", "inbound", "outbound")
T = TypeVar("T")


def _pick(rng: random.Random, seq: Sequence[T]) -> T:
    """``rng.choice`` without its overhead (one ``random()`` call)."""
    return seq[int(rng.random() * len(seq))]


def _below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def _between(rng: random.Random, a: int, b: int) -> int:
    return a + int(rng.random() * (b - a + 1))


class _Picker:
    """Weighted choice with the cumulative weights computed once."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]

    def mean(self) -> float:
        prev, out = 0.0, 0.0
        for item, c in zip(self.items, self.cum, strict=True):
            out += float(item) * (c - prev)
            prev = c
        return out / self.total


def _picker(table: dict[Any, float]) -> _Picker:
    return _Picker(list(table), list(table.values()))


_EXPLOIT_PICK = _Picker(list(CTDC_EXPLOITATION), list(CTDC_EXPLOITATION.values()))
_AGE_PICK = {k: _Picker(AGE_BANDS, v) for k, v in CTDC_AGE.items()}
_RECRUITER_PICK = {k: _Picker(RECRUITER_RELATIONS, v) for k, v in CTDC_RECRUITER.items()}
_CONTROL_PICK = {k: _Picker(CONTROL_CATEGORIES, v) for k, v in CTDC_CONTROL.items()}
_LABOUR_PICK = _Picker(LABOUR_TYPES, CTDC_LABOUR)
_CITIZEN_PICK = _picker(CITIZENSHIP)
_SEX_PICK = _picker(SEX_TYPES)
_COUNTRY_PICK = _picker(EXPLOITATION_COUNTRIES)
_VICTIMS_PICK = _picker(VICTIMS_PER_CASE)
_PERPS_PICK = _picker(PERPETRATORS_PER_CASE)
_STATUS_PICK = _Picker([s for s, _ in _STATUS_TEXT], [w for _, w in _STATUS_TEXT])
_AGE_RANGE = {
    "age_0_8": (3, 8), "age_9_17": (9, 17), "age_18_20": (18, 20), "age_21_23": (21, 23), "age_24_26": (24, 26),
    "age_27_29": (27, 29), "age_30_38": (30, 38), "age_39_47": (39, 47), "age_48_plus": (48, 62),
}  # fmt: skip
_AGE_TEXT: dict[str, tuple[str, ...]] = {
    band: (f"Age {a}-{b}", f"{a}--{b}", f"{a}-{b}") for band, (a, b) in _AGE_RANGE.items()
}
_AGE_TEXT["age_0_8"] = ("Age 0-8", "0--8", "0-8")
_AGE_TEXT["age_48_plus"] = ("Age 48+", "48+")


def _expected_case_rows() -> float:
    """Rows of the case file per case, on average: victims × max(1, perpetrators)."""
    victims = _VICTIMS_PICK.mean()
    prev, rows = 0.0, 0.0
    for n, c in zip(_PERPS_PICK.items, _PERPS_PICK.cum, strict=True):
        rows += max(1, n) * (c - prev)
        prev = c
    return victims * rows / _PERPS_PICK.total


class Victim(NamedTuple):
    person: Person
    nationality: str
    languages: tuple[str, ...]  # ISO 639 codes, Spanish first when spoken
    age_band: str


class Perp(NamedTuple):
    person: Person
    nationality: str
    org_id: str  # "" when none


class _Traveler:
    """Someone who crosses more than once: the same document and vehicle each time (mostly)."""

    __slots__ = ("doc_number", "doc_type", "kind", "left", "make", "nationality", "person", "plate", "plate_state")

    def __init__(
        self,
        person: Person,
        kind: str,
        nationality: str,
        doc: tuple[str, str],
        vehicle: tuple[str, str, str],
        left: int,
    ) -> None:
        self.person = person
        self.kind = kind
        self.nationality = nationality
        self.doc_type, self.doc_number = doc
        self.plate, self.plate_state, self.make = vehicle
        self.left = left


def _stream(seed: int, name: str) -> random.Random:
    return random.Random(f"cruce.synth:{seed}:people-{name}")  # noqa: S311 - synthetic data, not security


class _Writer:
    """A CSV file written row by row, counting its rows."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.fh: IO[str] = path.open("w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.fh, lineterminator="\n")
        self.csv.writerow(columns)
        self.rows = 0

    def row(self, values: Sequence[object]) -> None:
        self.csv.writerow(values)
        self.rows += 1

    def line(self, text: str) -> None:
        """A row already formatted (values that need no quoting), with its line end."""
        self.fh.write(text)
        self.rows += 1

    def close(self) -> None:
        self.fh.close()


class _People:
    def __init__(self, out_dir: Path, records: int, seed: int, cast: Cast) -> None:
        self.out = out_dir
        self.tmp = out_dir / ".people-tmp"
        self.records = records
        self.seed = seed
        self.cast = cast
        self.orgs: tuple[Organization, ...] = cast.organizations or ORGANIZATIONS
        self.org_by_id = {o.org_id: o for o in self.orgs}
        self.memberships = dict(cast.memberships) if cast.organizations else {}
        self.traffickers = list(cast.traffickers)
        self.iso = [date.fromordinal(o).isoformat() for o in range(_DATE_BASE, _DATE_TOP)]
        self.dmy = [f"{s[8:10]}/{s[5:7]}/{s[:4]}" for s in self.iso]
        self.rng = _stream(seed, "cases")
        self.noise = _stream(seed, "noise")
        self.bg = _stream(seed, "background")
        self.text_rng = _stream(seed, "text")
        self.n_persons = 0
        self.n_cases = 0
        self.n_screenings = 0
        self.n_tips = 0
        self.n_docs = 0
        self.n_crossings = 0
        self.n_groups = 0
        self.counts: dict[str, int] = dict.fromkeys(
            (
                "victims",
                "perpetrators",
                "cast_perpetrators",
                "tips_with_indicators",
                "tips_naming_traffickers",
                "trafficker_crossings",
                "victim_crossings",
            ),
            0,
        )
        self.perps: list[list[Any]] = []  # [Perp, cases left]
        self.travelers: list[_Traveler] = []
        self.boss_travelers: dict[str, _Traveler] = {}
        self.keep: set[str] = set()  # pooled perpetrators: their phone and vehicle are kept
        self.transient: list[str] = []  # people whose phone or vehicle is forgotten after this case
        self.phones: dict[str, tuple[str, str]] = {}  # person id -> (country, digits)
        self.vehicles: dict[str, tuple[str, str, str]] = {}  # person id -> (plate, plate state, make)
        self.us_phone_next = 0
        self.plaza_by_state: dict[str, list[Plaza]] = {}
        for pz in PLAZAS:
            self.plaza_by_state.setdefault(pz.mx_state, []).append(pz)
            for _, _, us in pz.ports:
                self.plaza_by_state.setdefault(us, []).append(pz)
        self.trafficker_plazas = {t.person.pid: self._home_plazas(t) for t in self.traffickers}

    # -- set-up --------------------------------------------------------------------------------

    def _home_plazas(self, t: Trafficker) -> tuple[Plaza, ...]:
        """The plazas a ring boss works: of his organization, else of his ring's states."""
        org = self.memberships.get(t.person.pid)
        out: list[Plaza] = []
        if org:
            for plaza_id, spans in sorted(self.cast.plaza_control.items()):
                if any(o == org for _, _, o in spans):
                    out += [p for p in PLAZAS if p.plaza_id == plaza_id]
        if not out:
            for state in t.recovery_states:
                out += self.plaza_by_state.get(_MX_STATE_BY_NAME.get(state, ""), [])
        if not out:
            for state in t.dealer_states:
                out += self.plaza_by_state.get(state, [])
        seen: dict[str, Plaza] = {p.plaza_id: p for p in out}
        return tuple(seen.values()) or PLAZAS

    def _controller(self, plaza: Plaza, day: int) -> str:
        """The organization holding the plaza that day (drugs flow), else one based in its state."""
        for first, last, org in self.cast.plaza_control.get(plaza.plaza_id, []):
            if first <= day <= last and org in self.org_by_id:
                return org
        local = [o.org_id for o in self.orgs if o.home_state == plaza.mx_state]
        return local[0] if local else self.orgs[0].org_id

    # -- people --------------------------------------------------------------------------------

    def _new(self, rng: random.Random, kind: str, **kw: Any) -> Person:
        self.n_persons += 1
        p = new_person(rng, f"H{self.n_persons:06d}", **kw)
        self._identity(p, kind)
        return p

    def _identity(self, p: Person, kind: str) -> None:
        # names and aliases hold no comma, quote or line end: the row needs no quoting
        self.identities_fh.write(
            f"{p.pid},{kind},{p.given},{p.last1},{p.last2},{p.alias},{self.iso[p.dob - _DATE_BASE]},{p.sex},\n"
        )

    def _named(self, file: str, key: str, role: str, pid: str) -> None:
        self.persons_fh.write(f"{file},{key},{role},{pid}\n")

    def _victim(self, rng: random.Random, etype: str, year_day: int) -> Victim:
        nat = _CITIZEN_PICK.pick(rng)
        female, male = CTDC_FEMALE[etype]
        is_male = rng.random() * (female + male) >= female
        band = _AGE_PICK[etype].pick(rng)
        lo, hi = _AGE_RANGE[band]
        age = _between(rng, lo, hi)
        born = (year_day - round((age + 1) * _DAYS_PER_YEAR) + 1, year_day - round(age * _DAYS_PER_YEAR))
        self.n_persons += 1
        pid = f"H{self.n_persons:06d}"
        if nat == "HT":
            given = _pick(rng, _HAITIAN_MALE if is_male else _HAITIAN_FEMALE)
            p = Person(pid, given, _pick(rng, _HAITIAN_SURNAMES), "", _between(rng, *born), "M" if is_male else "F", "")
        else:
            hispanic = 0.35 if nat == "US" else 1.0
            p = new_person(rng, pid, hispanic=hispanic, male=1.0 if is_male else 0.0, born=born, alias=0.0)
        self._identity(p, "victim")
        languages: tuple[str, ...] = ("ht", "fr") if nat == "HT" else ("en",) if nat == "US" else ("es",)
        share, tongues = INDIGENOUS.get(nat, (0.0, ()))
        if tongues and rng.random() < share:
            tongue = _pick(rng, tongues)
            languages = (tongue,) if rng.random() < 0.3 else ("es", tongue)
        self.counts["victims"] += 1
        return Victim(p, nat, languages, band)

    def _perpetrator(self, rng: random.Random, plaza: Plaza, day: int, org_id: str) -> tuple[Perp, bool]:
        """A recruiter or exploiter: a ring boss, someone from an earlier case, or someone new."""
        roll = rng.random()
        if self.traffickers and roll < CAST_PERPETRATOR:
            t = _pick(rng, self.traffickers)
            org = self.memberships.get(t.person.pid, "")
            return Perp(t.person, "MX", org), True
        if self.perps and roll < CAST_PERPETRATOR + REUSE_PERPETRATOR:
            i = _below(rng, len(self.perps))
            entry = self.perps[i]
            entry[1] -= 1
            perp: Perp = entry[0]
            if entry[1] <= 0:
                self.perps[i] = self.perps[-1]
                self.perps.pop()
                self.keep.discard(perp.person.pid)
                self.transient.append(perp.person.pid)  # this case is their last
            return perp, False
        nat = "MX" if rng.random() < 0.75 else _pick(rng, ("US", "GT", "HN", "SV"))
        p = self._new(
            rng,
            "perpetrator",
            hispanic=0.5 if nat == "US" else 1.0,
            male=0.7,
            born=_years(1960, 2000),
            alias=0.35,
        )
        perp = Perp(p, nat, org_id if rng.random() < 0.6 else "")
        if len(self.perps) < POOL:
            self.perps.append([perp, _between(rng, 1, 5)])
            self.keep.add(p.pid)
        self.counts["perpetrators"] += 1
        return perp, False

    # -- phones, vehicles, documents ------------------------------------------------------------

    def _cache(self, table: dict[str, Any], pid: str, value: Any) -> None:
        """Remember a phone or vehicle; for people who do not come back, only until the next case."""
        table[pid] = value
        if pid[0] != "S" and pid not in self.keep:
            self.transient.append(pid)

    def _forget(self) -> None:
        for pid in self.transient:
            self.phones.pop(pid, None)
            self.vehicles.pop(pid, None)
        self.transient.clear()

    def _phone(self, rng: random.Random, pid: str, plaza: Plaza | None) -> tuple[str, str]:
        """The person's phone: ('MX', 10 digits) or ('US', 10 digits), made once and kept."""
        known = self.phones.get(pid)
        if known:
            return known
        if rng.random() < 0.72:
            area = _PLAZA_AREA[plaza.plaza_id] if plaza and rng.random() < 0.7 else _pick(rng, _MX_AREA_CODES)
            width = 10 - len(area)
            digits = f"{area}{int(rng.random() * 10**width):0{width}d}"
            known = ("MX", digits)
        else:
            # US numbers only from the 555-0100…0199 block reserved for fiction, one area code after
            # another: 4,000 numbers before any is given out again.
            n = self.us_phone_next
            self.us_phone_next += 1
            area = _US_AREA_CODES[(n // 100) % len(_US_AREA_CODES)]
            known = ("US", f"{area}55501{n % 100:02d}")
        self._cache(self.phones, pid, known)
        self.t["phones.csv"].row((_e164(known), pid))
        return known

    def _vehicle(self, rng: random.Random, pid: str, us_side: bool) -> tuple[str, str, str]:
        known = self.vehicles.get(pid)
        if known:
            return known
        letters = "".join(_pick(rng, _LETTERS) for _ in range(3))
        if us_side:
            state = _pick(rng, ("TX", "TX", "TX", "AZ", "CA", "NM"))
            digits = f"{_below(rng, 10000):04d}"
            plate = f"{rng.randrange(1, 10)}{letters}{digits[:3]}" if state == "CA" else f"{letters}{digits}"
            state_text = state
        else:
            mx = _pick(rng, tuple(_MX_STATE_NAMES))
            plate = f"{letters}-{_below(rng, 1000):03d}-{_pick(rng, _LETTERS)}"
            state_text = _pick(rng, _MX_STATE_NAMES[mx][:2])
        known = (plate, state_text, _pick(rng, _MAKES))
        self._cache(self.vehicles, pid, known)
        self.t["vehicles.csv"].row((*known[:2], pid))
        return known

    @staticmethod
    def _id_document(rng: random.Random, nationality: str) -> tuple[str, str]:
        roll = rng.random()
        if nationality == "US":
            return (
                ("us_passport", f"{_pick(rng, '56')}{_below(rng, 10**8):08d}")
                if roll < 0.8
                else (
                    "sentri",
                    f"98{_below(rng, 10**7):07d}",
                )
            )
        if nationality == "MX":
            if roll < 0.45:
                return "bcc", f"{_below(rng, 10**9):09d}"
            if roll < 0.8:
                return "mx_passport", f"{_pick(rng, 'GN')}{_below(rng, 10**8):08d}"
            if roll < 0.9:
                return "sentri", f"98{_below(rng, 10**7):07d}"
            return "lpr", f"{_pick(rng, ('IOE', 'EAC', 'MSC'))}{_below(rng, 10**10):010d}"
        return "passport", f"{_pick(rng, _LETTERS)}{_below(rng, 10**7):07d}"

    # -- text helpers ----------------------------------------------------------------------------

    def _name(self, rng: random.Random, p: Person, *, surnames_first: float = 0.2, alias: float = 0.0) -> str:
        return full_name(rng, p, mexican_style=surnames_first, alias=alias)

    def _plain_name(self, rng: random.Random, p: Person) -> str:
        given, last1, last2 = noisy_parts(rng, p)
        return f"{given} {last1} {last2}" if last2 else f"{given} {last1}"

    def _place(self, rng: random.Random, plaza: Plaza, us_side: bool) -> tuple[str, str, str]:
        """(town, state as written, country) near the plaza."""
        if us_side:
            port = _pick(rng, plaza.ports)
            town = _PORT_TOWN.get(port[0], port[0])
            state = port[2] if rng.random() < 0.7 else _US_STATE_NAMES[port[2]]
            return town, state, "US"
        town = plaza.municipality
        if rng.random() < 0.3:
            town = strip_accents(town)
        return town, _pick(rng, _MX_STATE_NAMES[plaza.mx_state]), "MX"

    # -- the scenario ----------------------------------------------------------------------------

    def run(self) -> FlowOutput:
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        (self.out / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
        id_fh = (self.tmp / IDENTITIES_TRUTH).open("w", encoding="utf-8", newline="")
        pe_fh = (self.tmp / PERSONS_TRUTH).open("w", encoding="utf-8", newline="")
        self.identities_fh = id_fh
        self.persons_fh = pe_fh
        self.cases = _Writer(self.out / CASES_FILE, CASE_COLUMNS)
        self.screenings = _Writer(self.out / SCREENINGS_FILE, SCREENING_COLUMNS)
        self.tips = _Writer(self.out / TIPS_FILE, TIP_COLUMNS)
        self.docs = _Writer(self.out / DOCUMENTS_FILE, DOCUMENT_COLUMNS)
        self.crossings = _Writer(self.out / CROSSINGS_FILE, CROSSING_COLUMNS)
        self.t = {name: _Writer(self.out / TRUTH_DIR / name, cols) for name, cols in TRUTH_COLUMNS.items()}
        writers = [self.cases, self.screenings, self.tips, self.docs, self.crossings, *self.t.values()]
        try:
            self._screeners()
            self._all()
        finally:
            for w in writers:
                w.close()
            id_fh.close()
            pe_fh.close()
        try:
            appended = {}
            for name in (IDENTITIES_TRUTH, PERSONS_TRUTH):
                appended[name] = append_truth_file(self.out, name, self.tmp / name)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        sources = (
            SourceFile(CASES_FILE, CASES_MAPPING, self.cases.rows),
            SourceFile(SCREENINGS_FILE, SCREENINGS_MAPPING, self.screenings.rows),
            SourceFile(TIPS_FILE, TIPS_MAPPING, self.tips.rows),
            SourceFile(DOCUMENTS_FILE, DOCUMENTS_MAPPING, self.docs.rows),
            SourceFile(CROSSINGS_FILE, CROSSINGS_MAPPING, self.crossings.rows),
        )
        truth = {f"{TRUTH_DIR}/{name}": rows for name, rows in appended.items()}
        truth |= {f"{TRUTH_DIR}/{name}": w.rows for name, w in self.t.items()}
        counts = {
            "records": sum(s.rows for s in sources),
            "cases": self.n_cases,
            "case_rows": self.cases.rows,
            "screenings": self.screenings.rows,
            "tips": self.tips.rows,
            "documents": self.docs.rows,
            "crossings": self.crossings.rows,
            "persons": self.n_persons,
            "phones": self.t["phones.csv"].rows,
            "vehicles": self.t["vehicles.csv"].rows,
            **self.counts,
        }
        return FlowOutput(sources, truth, counts)

    def _screeners(self) -> None:
        """Three staff per screening organization, made when they first screen someone."""
        self.staff_rng = _stream(self.seed, "screeners")
        self.staff: list[list[Person | None]] = [[None, None, None] for _ in _SCREENERS]

    def _screener(self, rng: random.Random, org: int) -> Person:
        i = _below(rng, 3)
        person = self.staff[org][i]
        if person is None:
            person = self._new(self.staff_rng, "screener", hispanic=0.8, male=0.3, born=_years(1960, 1998), alias=0.0)
            self.staff[org][i] = person
        return person

    def _all(self) -> None:
        n = self.records
        per_case = _expected_case_rows()
        n_cases = max(1, round(n * CASE_SHARE / per_case))
        # the records each case brings to the other files, on average (see _case)
        victims = _VICTIMS_PICK.mean()
        exp_screen = victims * VICTIM_SCREENED
        exp_tips = CASE_TIPS * 2.0
        us_share = (EXPLOITATION_COUNTRIES["US"] + EXPLOITATION_COUNTRIES["MX;US"]) / sum(
            EXPLOITATION_COUNTRIES.values()
        )
        exp_cross = us_share * CASE_CROSSING * (victims + 1)
        exp_docs = CASE_DOCUMENT
        bg_screen = max(1, round(n * SCREENING_SHARE - n_cases * exp_screen))
        bg_tips = max(1, round(n * TIP_SHARE - n_cases * exp_tips))
        rest = n - n_cases * (per_case + exp_screen + exp_tips + exp_cross + exp_docs) - bg_screen - bg_tips
        bg_cross = max(1, round(rest))
        plan = _stream(self.seed, "plan")
        tr_tips = self._schedule(plan, bg_tips, TIPS_PER_TRAFFICKER)
        tr_cross = self._schedule(plan, bg_cross, CROSSINGS_PER_TRAFFICKER)
        done = {"screen": 0, "tips": 0, "cross": 0}
        for i in range(n_cases):
            self._case()
            share = (i + 1) / n_cases
            while done["screen"] < round(share * bg_screen):
                self._background_screening()
                done["screen"] += 1
            while done["tips"] < round(share * bg_tips):
                who = tr_tips.get(done["tips"])
                self._background_tip(who)
                done["tips"] += 1
            while done["cross"] < round(share * bg_cross):
                who = tr_cross.get(done["cross"])
                self._background_crossing(who)
                done["cross"] += 1
            self._forget()

    def _schedule(self, rng: random.Random, slots: int, per: tuple[int, int]) -> dict[int, Trafficker]:
        """Which background records bring back a ring boss: slot number → boss."""
        wanted: list[Trafficker] = []
        for t in self.traffickers:
            wanted += [t] * _between(rng, *per)
        wanted = wanted[: max(0, slots // 3)] if len(wanted) > slots // 3 else wanted
        positions = sorted(rng.sample(range(slots), len(wanted))) if wanted else []
        rng.shuffle(wanted)
        return dict(zip(positions, wanted, strict=True))

    # -- one trafficking case, with what it leaves behind ---------------------------------------

    def _case(self) -> None:
        rng = self.rng
        noise = self.noise
        self.n_cases += 1
        cid = f"TC-{self.n_cases:07d}"
        year = _between(rng, 2015, 2023)
        start = date(year, 1, 1).toordinal() + _below(rng, 365)
        etype = _EXPLOIT_PICK.pick(rng)
        countries = _COUNTRY_PICK.pick(rng)
        plaza = _pick(rng, PLAZAS)
        org_id = self._controller(plaza, start) if rng.random() < CASE_ORG else ""
        perps: list[tuple[Perp, str]] = []
        seen: set[str] = set()
        for j in range(_PERPS_PICK.pick(rng)):
            perp, from_cast = self._perpetrator(rng, plaza, start, org_id)
            if perp.person.pid in seen:
                continue
            seen.add(perp.person.pid)
            if from_cast:
                self.counts["cast_perpetrators"] += 1
            if perp.org_id and not org_id:
                org_id = perp.org_id
            role = "recruiter" if j == 0 and rng.random() < 0.6 else "exploiter"
            if role == "recruiter" and rng.random() < 0.3:
                role = "recruiter;exploiter"
            perps.append((perp, role))
        victims = [self._victim(rng, etype, start) for _ in range(_VICTIMS_PICK.pick(rng))]
        labour = _LABOUR_PICK.pick(rng) if etype == "forced_labour" else ""
        if etype == "other" and rng.random() < 0.38:
            labour = "domestic_work"
        sex = _SEX_PICK.pick(rng) if etype == "sexual_exploitation" else ""
        opened = min(END + 365, start + rng.randrange(30, 700))
        status = _STATUS_PICK.pick(noise)
        holder = _pick(rng, _CASE_HOLDERS) if rng.random() < 0.85 else ""
        category = _CONTROL_PICK[etype].pick(rng)
        date_text = self.iso[opened - _DATE_BASE] if noise.random() < 0.7 else self.dmy[opened - _DATE_BASE]
        exploit_text = _pick(rng, _EXPLOIT_TEXT[etype])
        # a perpetrator is written the same way on each victim's row of the case
        per_cells = [
            (
                f"P{p_no}",
                full_name(noise, perp.person, mexican_style=0.3, alias=0.5),
                _pick(rng, _GENDER_TEXT[perp.person.sex]),
                _pick(rng, _COUNTRY_TEXT[perp.nationality]),
                role,
            )
            for p_no, (perp, role) in enumerate(perps, 1)
        ]
        for v_no, victim in enumerate(victims, 1):
            means = [_pick(rng, CONTROL_MEANS[category])]
            if means[0] != "not_specified":
                for extra in range(_pick(rng, (0, 0, 1, 2))):
                    cat = _CONTROL_PICK[etype].pick(rng)
                    m = _pick(rng, CONTROL_MEANS[cat])
                    if m not in means and m != "not_specified" and extra < 2:
                        means.append(m)
            relation = _RECRUITER_PICK[etype].pick(rng)
            vic = (
                f"V{v_no}",
                _pick(rng, _GENDER_TEXT[victim.person.sex]),
                _pick(rng, _AGE_TEXT[victim.age_band]),
                _pick(rng, _COUNTRY_TEXT[victim.nationality]),
            )
            hte = (countries, exploit_text, ";".join(means), labour, sex, relation, str(year))
            self._named(CASES_FILE, f"{cid}/V{v_no}", "victim", victim.person.pid)
            if not perps:
                self.cases.row((cid, date_text, status, *vic, *hte, "", "", "", "", "", holder))
            for per in per_cells:
                self.cases.row((cid, date_text, status, *vic, *hte, *per, holder))
        for p_no, (perp, role) in enumerate(perps, 1):
            self._named(CASES_FILE, f"{cid}/P{p_no}", role.split(";")[0], perp.person.pid)
        self.t["cases.csv"].row(
            (
                cid,
                year,
                etype,
                category,
                plaza.plaza_id,
                org_id,
                ";".join(v.person.pid for v in victims),
                ";".join(p.person.pid for p, _ in perps),
                ";".join(p.person.pid for p, r in perps if r.startswith("recruiter")),
            )
        )
        # what the case leaves in the other files
        for victim in victims:
            if rng.random() < VICTIM_SCREENED:
                day = min(END + 365, start + rng.randrange(20, 500))
                self._screening(rng, victim.person, victim.nationality, victim.languages, day, etype, category, cid)
        if rng.random() < CASE_TIPS:
            for _ in range(_pick(rng, (1, 1, 2, 3, 3))):
                perp_p = _pick(rng, perps)[0] if perps else None
                self._case_tip(rng, cid, etype, plaza, start, perp_p, org_id, victims)
        if "US" in countries and rng.random() < CASE_CROSSING:
            self._case_crossing(rng, cid, plaza, start, victims, perps)
        if rng.random() < CASE_DOCUMENT:
            day = min(END + 365, start + rng.randrange(30, 600))
            _case_document(self, rng, cid, etype, plaza, perps, org_id, victims, day)

    # -- screenings ------------------------------------------------------------------------------

    def _screening(
        self,
        rng: random.Random,
        p: Person,
        nationality: str,
        languages: tuple[str, ...],
        day: int,
        etype: str,
        category: str,
        case_id: str,
    ) -> None:
        noise = self.noise
        self.n_screenings += 1
        sid = f"SCR-{self.n_screenings:07d}"
        o = _below(rng, len(_SCREENERS))
        org, org_type, town, state = _SCREENERS[o]
        screener = self._screener(rng, o)
        us_side = len(state) == 2
        lang = "en" if nationality == "US" or (us_side and "es" not in languages and rng.random() < 0.5) else "es"
        if lang == "es" and languages[0] not in ("es", "en") and rng.random() < 0.5:
            lang_text = languages[0]  # with an interpreter
        else:
            lang_text = _pick(rng, {"en": ("en", "English", "Inglés"), "es": ("es", "Spanish", "Español")}[lang])
        victim = bool(etype)
        answers: list[str] = []
        found: list[str] = []
        score = 0
        reticent = victim and rng.random() < 0.15
        words = _ANSWERS[lang]
        # one screener writes yes and no the same way throughout a screening
        yes, no, unknown = _pick(rng, words["yes"]), _pick(rng, words["no"]), _pick(rng, words["unknown"])
        probs = _VICTIM_P[etype, category] if victim else _BASELINE_P
        r = rng.random
        for domain, p_yes in zip(TVIT_DOMAINS, probs, strict=True):
            if reticent:
                p_yes *= 0.35
            roll = r()
            if roll < 0.04:
                answers.append(unknown)
            elif roll < 0.04 + p_yes * 0.96:
                answers.append(yes)
                found.append(domain)
                score += _WEIGHTS.get(domain, 1)
            else:
                answers.append(no)
        rec = "likely" if score >= 7 else "possible" if score >= 3 else "not_indicated"
        indigenous = "yes" if any(x not in ("es", "en", "ht", "fr") for x in languages) else "no"
        if noise.random() < 0.1:
            indigenous = ""
        self.screenings.row(
            (
                sid,
                self.dmy[day - _DATE_BASE] if lang == "es" else self.iso[day - _DATE_BASE],
                town,
                state,
                org,
                org_type,
                self._plain_name(noise, screener),
                lang_text,
                _INSTRUMENT[lang],
                self._plain_name(noise, p),
                _fmt_dob(self, noisy_dob(noise, p, missing=0.12), lang),
                _pick(rng, _GENDER_TEXT[p.sex]),
                _pick(rng, _COUNTRY_TEXT[nationality]),
                ";".join(languages),
                indigenous,
                *answers,
                ";".join(found),
                score,
                _pick(rng, _RECOMMENDATION_TEXT[rec]),
            )
        )
        self._named(SCREENINGS_FILE, sid, "screened", p.pid)
        self._named(SCREENINGS_FILE, sid, "screener", screener.pid)
        self.t["screenings.csv"].line(f"{sid},{p.pid},{case_id},{'yes' if victim else 'no'},{score},{rec}\n")

    def _background_screening(self) -> None:
        """Someone screened who was not trafficked: a migrant at a shelter, a worker at a clinic."""
        rng = self.bg
        nat = _CITIZEN_PICK.pick(rng)
        day = _between(rng, START, END)
        hispanic = 0.35 if nat == "US" else 1.0
        p = self._new(rng, "screened", hispanic=hispanic, male=0.55, born=_years(1965, 2007), alias=0.0)
        languages: tuple[str, ...] = ("en",) if nat == "US" else ("es",)
        share, tongues = INDIGENOUS.get(nat, (0.0, ()))
        if tongues and rng.random() < share:
            languages = ("es", _pick(rng, tongues))
        self._screening(rng, p, nat, languages, day, "", "", "")

    # -- tips ------------------------------------------------------------------------------------

    def _tip_row(
        self,
        rng: random.Random,
        *,
        day: int,
        lang: str,
        flow: str,
        text: str,
        place: tuple[str, str, str],
        subject: Person | None,
        subject_text: str,
        phone: tuple[str, str] | None,
        vehicle: tuple[str, str, str] | None,
        org_text: str,
        truth: tuple[str, ...],
    ) -> str:
        noise = self.noise
        self.n_tips += 1
        tid = f"TIP-{self.n_tips:07d}"
        minute = _below(rng, 24 * 60)
        stamp = f"{self.iso[day - _DATE_BASE]} {minute // 60:02d}:{minute % 60:02d}"
        if lang == "es" and noise.random() < 0.5:
            stamp = f"{self.dmy[day - _DATE_BASE]} {minute // 60:02d}:{minute % 60:02d}"
        channel = _pick(rng, ("web form", "web", "hotline", "llamada", "WhatsApp", "sms", "correo", "walk-in"))
        named = rng.random() < 0.3
        tipster = ("", "", "")
        tipster_id = ""
        if named:
            tp = self._new(
                rng, "tipster", hispanic=0.8 if lang == "es" else 0.4, male=0.45, born=_years(1950, 2004), alias=0.0
            )
            tipster_id = tp.pid
            tel = self._phone(rng, tp.pid, None)
            tel_text = _phone_text(noise, tel, column="MX")
            email = ""
            if rng.random() < 0.5:
                local = strip_accents(f"{tp.given.split(' ')[0]}.{tp.last1}").lower().replace(" ", "")
                email = f"{local}{_below(rng, 100)}@{_pick(rng, ('example.com', 'example.net', 'example.org'))}"
            tipster = (self._plain_name(noise, tp), tel_text if rng.random() < 0.8 else "", email)
        phone_mx = phone_us = ""
        if phone:
            if phone[0] == "MX":
                phone_mx = _phone_text(noise, phone, column="MX")
            else:
                phone_us = _phone_text(noise, phone, column="US")
        plate = make = color = ""
        if vehicle:
            plate, _state, make = vehicle
            if noise.random() < 0.1:
                plate = plate.replace("-", "")
            color = _pick(rng, _COLORS[lang])
        self.tips.row(
            (
                tid,
                stamp,
                channel,
                _pick(rng, {"en": ("en", "English"), "es": ("es", "Español", "Spanish")}[lang]),
                flow,
                _pick(rng, ("new", "new", "under review", "actionable", "not actionable", "referred", "closed")),
                *place,
                text,
                "no" if named else _pick(rng, ("yes", "sí", "yes")),
                *tipster,
                subject_text,
                subject.alias if subject and subject.alias and rng.random() < 0.5 else "",
                phone_mx,
                phone_us,
                plate,
                make,
                color,
                org_text,
            )
        )
        if subject:
            self._named(TIPS_FILE, tid, "subject", subject.pid)
        if tipster_id:
            self._named(TIPS_FILE, tid, "tipster", tipster_id)
        self.t["tips.csv"].line(",".join((tid, *truth)) + "\n")
        return tid

    def _org_text(self, rng: random.Random, org_id: str) -> str:
        org = self.org_by_id.get(org_id)
        if org is None:
            return ""
        return org.name if rng.random() < 0.4 else _pick(rng, org.aliases)

    def _case_tip(
        self,
        rng: random.Random,
        cid: str,
        etype: str,
        plaza: Plaza,
        start: int,
        perp: Perp | None,
        org_id: str,
        victims: list[Victim],
    ) -> None:
        lang = "es" if rng.random() < 0.65 else "en"
        day = min(END, start + rng.randrange(0, 400))
        us_side = rng.random() < 0.5
        place = self._place(rng, plaza, us_side)
        p = perp.person if perp else None
        phone = self._phone(rng, p.pid, plaza) if p and rng.random() < 0.5 else None
        vehicle = self._vehicle(rng, p.pid, us_side) if p and rng.random() < 0.3 else None
        org_text = self._org_text(rng, org_id) if org_id and rng.random() < 0.6 else ""
        with_indicators = rng.random() < 0.85
        text, indicators = _tip_text(
            self.text_rng,
            lang,
            "people" if with_indicators else "people_plain",
            name=self._name(self.noise, p, surnames_first=0.1, alias=0.6) if p else "",
            alias=p.alias if p else "",
            place=place[0],
            phone=_phone_text(self.noise, phone, column="text") if phone else "",
            vehicle=_vehicle_text(rng, lang, vehicle) if vehicle else "",
            org=org_text,
            etype=etype,
            minors=any(v.age_band in ("age_0_8", "age_9_17") for v in victims),
        )
        subject_text = self._plain_name(self.noise, p) if p and rng.random() < 0.7 else ""
        if with_indicators:
            self.counts["tips_with_indicators"] += 1
        self._tip_row(
            rng,
            day=day,
            lang=lang,
            flow="people" if rng.random() < 0.8 else "trata",
            text=text,
            place=place,
            subject=p,
            subject_text=subject_text,
            phone=phone,
            vehicle=vehicle,
            org_text=org_text,
            truth=(
                "people",
                "yes" if indicators else "no",
                ";".join(indicators),
                lang,
                p.pid if p else "",
                org_id if org_text else "",
                p.pid if phone and p else "",
                p.pid if vehicle and p else "",
                cid,
            ),
        )

    def _background_tip(self, boss: Trafficker | None) -> None:
        rng = self.bg
        lang = "es" if rng.random() < 0.6 else "en"
        day = _between(rng, START, END)
        plaza = _pick(rng, PLAZAS)
        subject: Person | None = None
        org_id = ""
        phone = vehicle = None
        if boss is not None:
            subject = boss.person
            plazas = self.trafficker_plazas[subject.pid]
            plaza = _pick(rng, plazas)
            kind = _pick(rng, ("firearms", "firearms", "drugs", "people"))
            org_id = self.memberships.get(subject.pid, "")
            self.counts["tips_naming_traffickers"] += 1
        else:
            roll = rng.random()
            kind = "drugs" if roll < 0.25 else "firearms" if roll < 0.35 else "people_plain" if roll < 0.5 else "other"
            if kind in ("drugs", "firearms", "people_plain") and rng.random() < 0.6:
                subject = self._new(rng, "tip_subject", hispanic=0.8, male=0.8, born=_years(1965, 2004), alias=0.4)
            if kind == "drugs" and rng.random() < 0.5:
                org_id = self._controller(plaza, day)
        us_side = rng.random() < 0.5
        place = self._place(rng, plaza, us_side)
        if subject is not None and rng.random() < 0.45:
            phone = self._phone(rng, subject.pid, plaza)
        if subject is not None and rng.random() < 0.35:
            vehicle = self._vehicle(rng, subject.pid, us_side)
        org_text = self._org_text(rng, org_id) if org_id else ""
        text, indicators = _tip_text(
            self.text_rng,
            lang,
            kind,
            name=self._name(self.noise, subject, surnames_first=0.1, alias=0.6) if subject else "",
            alias=subject.alias if subject else "",
            place=place[0],
            phone=_phone_text(self.noise, phone, column="text") if phone else "",
            vehicle=_vehicle_text(rng, lang, vehicle) if vehicle else "",
            org=org_text,
            etype="",
            minors=False,
        )
        subject_text = self._plain_name(self.noise, subject) if subject and rng.random() < 0.75 else ""
        if boss is not None and not subject_text:
            subject_text = self._name(self.noise, subject, surnames_first=0.3, alias=0.5) if subject else ""
        flow = {"people_plain": "people", "other": "other"}.get(kind, kind)
        if indicators:
            self.counts["tips_with_indicators"] += 1
        self._tip_row(
            rng,
            day=day,
            lang=lang,
            flow=flow,
            text=text,
            place=place,
            subject=subject,
            subject_text=subject_text,
            phone=phone,
            vehicle=vehicle,
            org_text=org_text,
            truth=(
                flow,
                "yes" if indicators else "no",
                ";".join(indicators),
                lang,
                subject.pid if subject else "",
                org_id if org_text else "",
                subject.pid if phone and subject else "",
                subject.pid if vehicle and subject else "",
                "",
            ),
        )

    # -- crossings -------------------------------------------------------------------------------

    def _crossing_row(
        self,
        minute_of_day: int,
        day: int,
        plaza: Plaza,
        port: tuple[str, str, str],
        direction: str,
        mode: str,
        outcome: str,
        p: Person,
        nationality: str,
        doc: tuple[str, str],
        vehicle: tuple[str, str, str] | None,
        kind: str,
        case_id: str = "",
        group: str = "",
    ) -> None:
        """One crossing: the traveller's name, date of birth and document as this record gives them."""
        noise = self.noise
        r = noise.random
        self.n_crossings += 1
        xid = f"X{self.n_crossings:08d}"
        roll = r()
        if roll < 0.55:
            name = full_name(noise, p, mexican_style=0.0, alias=0.0)
        else:
            given, last1, last2 = noisy_parts(noise, p)
            surnames = f"{last1} {last2}" if last2 else last1
            name = f"{surnames}, {given}".upper() if roll < 0.9 else f"{surnames} {given}"
        dob = noisy_dob(noise, p, missing=0.04)
        doc_type, doc_no = doc
        roll = r()
        if roll < 0.03:
            doc_no = ""
        elif roll < 0.05 and len(doc_no) > 3:
            i = 1 + int(r() * (len(doc_no) - 1))
            doc_no = doc_no[:i] + "0123456789"[int(r() * 10)] + doc_no[i + 1 :]
        plate, plate_state, make = vehicle or ("", "", "")
        if plate and r() < 0.15:
            plate = plate.replace("-", "")
        if r() >= 0.8:
            nationality = _COUNTRY_TEXT[nationality][-1]
        if '"' in name or "," in name:
            name = '"' + name.replace('"', '""') + '"'
        iso = self.iso
        self.crossings.line(
            f"{xid},{iso[day - _DATE_BASE]} {minute_of_day // 60:02d}:{minute_of_day % 60:02d},"
            f"{port[0]},{port[1]},{port[2]},{direction},{mode},{outcome},{name},"
            f"{iso[dob - _DATE_BASE] if dob else ''},{p.sex if r() < 0.97 else ''},{nationality},"
            f"{doc_type},{doc_no},{plate},{plate_state},{make}\n"
        )
        self.persons_fh.write(f"{CROSSINGS_FILE},{xid},traveler,{p.pid}\n")
        self.t["crossings.csv"].line(f"{xid},{p.pid},{kind},{case_id},{group},{plaza.plaza_id}\n")

    def _case_crossing(
        self,
        rng: random.Random,
        cid: str,
        plaza: Plaza,
        start: int,
        victims: list[Victim],
        perps: list[tuple[Perp, str]],
    ) -> None:
        """The victims brought north through a port, with a perpetrator at the wheel."""
        movers = [v for v in victims if v.nationality != "US"]
        if not movers:
            return
        self.n_groups += 1
        group = f"G{self.n_groups:06d}"
        port = _pick(rng, plaza.ports)
        day = max(START, start - rng.randrange(0, 60))
        minute = rng.randrange(5 * 60, 23 * 60)
        driver = perps[0][0] if perps else None
        vehicle = self._vehicle(rng, driver.person.pid, rng.random() < 0.5) if driver else None
        mode = "POV" if vehicle else _pick(rng, ("Pedestrian", "Bus"))
        if driver:
            self._crossing_row(
                minute,
                day,
                plaza,
                port,
                "northbound",
                mode,
                "admitted",
                driver.person,
                driver.nationality,
                self._id_document(rng, driver.nationality),
                vehicle,
                "perpetrator",
                cid,
                group,
            )
        for v in movers:
            outcome = "admitted" if rng.random() < 0.85 else _pick(rng, ("refused", "apprehended"))
            self._crossing_row(
                minute + _below(rng, 3),
                day,
                plaza,
                port,
                "northbound",
                mode,
                outcome,
                v.person,
                v.nationality,
                self._id_document(rng, v.nationality),
                vehicle,
                "victim",
                cid,
                group,
            )
            self.counts["victim_crossings"] += 1

    def _background_crossing(self, boss: Trafficker | None) -> None:
        rng = self.bg
        r = rng.random
        if boss is not None:
            t = self._traveler_for(boss)
            plazas = self.trafficker_plazas[boss.person.pid]
            plaza = plazas[int(r() * len(plazas))]
            kind = "trafficker"
            self.counts["trafficker_crossings"] += 1
        else:
            t = self._commuter(rng)
            plaza = PLAZAS[int(r() * len(PLAZAS))]
            kind = "commuter"
        ports = plaza.ports
        port = ports[int(r() * len(ports))]
        day = START + int(r() * (END - START + 1))
        vehicle = (t.plate, t.plate_state, t.make) if t.plate and r() < 0.85 else None
        mode = ("Personal Vehicle" if r() < 0.2 else "POV") if vehicle else _FOOT_MODES[int(r() * len(_FOOT_MODES))]
        outcome = "admitted" if r() < 0.97 else ("refused", "apprehended")[int(r() * 2)]
        self._crossing_row(
            int(r() * 24 * 60),
            day,
            plaza,
            port,
            _DIRECTIONS[int(r() * len(_DIRECTIONS))],
            mode,
            outcome,
            t.person,
            t.nationality,
            (t.doc_type, t.doc_number),
            vehicle,
            kind,
        )

    def _traveler_for(self, boss: Trafficker) -> _Traveler:
        cached = self.boss_travelers.get(boss.person.pid)
        if cached is None:
            rng = self.bg
            vehicle = self._vehicle(rng, boss.person.pid, rng.random() < 0.4)
            cached = _Traveler(boss.person, "trafficker", "MX", self._id_document(rng, "MX"), vehicle, 0)
            self.boss_travelers[boss.person.pid] = cached
        return cached

    def _commuter(self, rng: random.Random) -> _Traveler:
        if self.travelers and rng.random() < 0.75:
            i = _below(rng, len(self.travelers))
            t = self.travelers[i]
            t.left -= 1
            if t.left <= 0:
                self.travelers[i] = self.travelers[-1]
                self.travelers.pop()
            return t
        nat = "MX" if rng.random() < 0.6 else "US" if rng.random() < 0.9 else _pick(rng, ("GT", "HN", "SV", "CO"))
        p = self._new(
            rng, "commuter", hispanic=0.5 if nat == "US" else 1.0, male=0.55, born=_years(1945, 2005), alias=0.02
        )
        vehicle = self._vehicle(rng, p.pid, nat == "US" or rng.random() < 0.3) if rng.random() < 0.6 else ("", "", "")
        roll = rng.random()
        left = 0 if roll < 0.4 else _between(rng, 1, 4) if roll < 0.75 else _between(rng, 5, 30)
        t = _Traveler(p, "commuter", nat, self._id_document(rng, nat), vehicle, left)
        if left and len(self.travelers) < POOL * 5:
            self.travelers.append(t)
        return t


def _years(first: int, last: int) -> tuple[int, int]:
    return date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal()


def _e164(phone: tuple[str, str]) -> str:
    return ("+52" if phone[0] == "MX" else "+1") + phone[1]


def _phone_text(rng: random.Random, phone: tuple[str, str], *, column: str) -> str:
    """A number as people write it. ``column`` 'MX' or 'US' (read with that default region): the
    other country's numbers carry their country code; 'text': any form, 044/045 included."""
    country, d = phone
    r = rng.random
    if country == "MX":
        cut = 2 if d[:2] in ("55", "81", "33") else 3
        mid = cut + 3 + (cut == 2)
        a, b, c = d[:cut], d[cut:mid], d[mid:]
        form = 4 + int(r() * 2) if column == "US" else int(r() * (9 if column == "text" else 6))
        return (
            f"{a} {b} {c}",
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            d,
            f"+52 {a} {b} {c}",
            f"+52 ({a}) {b} {c}",
            f"044 {a} {b} {c}",
            f"045 {a} {b} {c}",
            f"+52 1 {a} {b} {c}",
        )[form]
    a, b, c = d[:3], d[3:6], d[6:]
    if column == "MX":
        return (f"+1 ({a}) {b}-{c}", f"+1 {a}-{b}-{c}", f"+1 {a} {b} {c}")[int(r() * 3)]
    return (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"+1 {a} {b} {c}", f"1-{a}-{b}-{c}")[int(r() * 5)]


def _fmt_dob(gen: _People, ordinal: int, lang: str) -> str:
    if not ordinal:
        return ""
    return gen.dmy[ordinal - _DATE_BASE] if lang == "es" else gen.iso[ordinal - _DATE_BASE]


# -- screening answers -------------------------------------------------------------------------
# How often someone who was not trafficked answers yes in each domain (a migrant who paid a
# smuggler has a "recruiter" and often a debt), and how often a victim does, by exploitation type
# and CTDC control group. Assumptions, not published figures.
_BASELINE: dict[str, float] = {
    "recruitment": 0.25, "false_promises": 0.06, "debt": 0.12, "documents_kept": 0.03, "money_kept": 0.03,
    "movement_restricted": 0.04, "threats_violence": 0.08, "conditions": 0.1, "sexual_exploitation": 0.01,
    "isolation": 0.05,
}  # fmt: skip
_VICTIM_YES: dict[str, float] = {
    "recruitment": 0.8, "false_promises": 0.65, "debt": 0.45, "documents_kept": 0.45, "money_kept": 0.5,
    "movement_restricted": 0.55, "threats_violence": 0.6, "conditions": 0.5, "sexual_exploitation": 0.05,
    "isolation": 0.5,
}  # fmt: skip
_CATEGORY_DOMAINS: dict[str, tuple[str, ...]] = {
    "financial": ("debt", "money_kept"),
    "threats": ("threats_violence", "false_promises"),
    "survival": ("documents_kept", "conditions"),
    "physical": ("movement_restricted", "threats_violence"),
    "other": (),
}


def _p_yes(domain: str, etype: str, category: str) -> float:
    if domain == "sexual_exploitation":
        return 0.9 if etype == "sexual_exploitation" else 0.3 if etype == "forced_marriage" else 0.05
    if domain == "conditions" and etype == "forced_labour":
        return 0.9
    if domain in _CATEGORY_DOMAINS.get(category, ()):
        return 0.9
    return _VICTIM_YES[domain]


_BASELINE_P = tuple(_BASELINE[d] for d in TVIT_DOMAINS)
_VICTIM_P = {
    (etype, category): tuple(_p_yes(d, etype, category) for d in TVIT_DOMAINS)
    for etype in CTDC_EXPLOITATION
    for category in CONTROL_CATEGORIES
}


# -- texts ---------------------------------------------------------------------------------------
# Tips are built from sentences: an opening, indicator sentences (each tagged with the indicators
# it plants), and sentences for the phone, vehicle and organization when the tip has them.
_Sentences = tuple[tuple[str, tuple[str, ...]], ...]
_INDICATOR_SENTENCES: dict[str, _Sentences] = {
    "es": (
        (
            "Le ofrecieron trabajo de mesera y ahora la obligan a atender clientes.",
            ("false_promises", "sexual_exploitation"),
        ),
        ("Les quitaron sus papeles y no los dejan salir de la casa.", ("documents_kept", "movement_restricted")),
        ("Dicen que deben {debt} pesos del viaje y no les pagan nada.", ("debt", "money_kept")),
        ("Trabajan de sol a sol en el campo y duermen en una bodega.", ("conditions",)),
        ("Los amenazan con hacerle daño a su familia si hablan.", ("threats_violence",)),
        ("Las muchachas no hablan con nadie, siempre las acompaña un hombre.", ("isolation", "movement_restricted")),
        (
            "Les dijeron que iban a trabajar en una maquila pero las tienen encerradas.",
            ("false_promises", "movement_restricted"),
        ),
        ("El patrón se queda con todo lo que ganan.", ("money_kept",)),
        (
            "Una señora hace el quehacer en esa casa sin sueldo y no la dejan salir.",
            ("conditions", "movement_restricted"),
        ),
        ("Les pegan si no juntan la cuota del día.", ("threats_violence", "money_kept")),
    ),
    "en": (
        (
            "She was promised a job as a waitress and now they make her see clients.",
            ("false_promises", "sexual_exploitation"),
        ),
        ("They took their passports and won't let them leave the house.", ("documents_kept", "movement_restricted")),
        ("The workers say they owe {debt} dollars for the trip and never get paid.", ("debt", "money_kept")),
        ("They work 14-hour days in the fields and sleep in a trailer.", ("conditions",)),
        ("He threatens to call immigration if they complain.", ("threats_violence",)),
        ("The girls never talk to anyone and are always escorted.", ("isolation", "movement_restricted")),
        (
            "They were told it was factory work but they are locked in at night.",
            ("false_promises", "movement_restricted"),
        ),
        ("The boss keeps all their wages.", ("money_kept",)),
        ("A woman cleans that house for no pay and is never allowed out.", ("conditions", "movement_restricted")),
        ("They get beaten if they don't make their quota.", ("threats_violence", "money_kept")),
    ),
}
_MINOR_SENTENCE = {
    "es": ("Hay niñas que se ven menores de edad.", ("minors",)),
    "en": ("Some of the girls look underage.", ("minors",)),
}
_OPENINGS: dict[tuple[str, str, bool], tuple[str, ...]] = {
    ("es", "people", True): (
        "Quiero denunciar a {name} en {place}.",
        "Denuncia anónima: {name} trae gente del sur para trabajar en {place}.",
        "Mi prima se fue con {name} a {place} por una oferta de trabajo.",
    ),
    ("es", "people", False): (
        "En {place} hay una casa donde tienen a varias muchachas.",
        "En un rancho cerca de {place} tienen trabajando a muchos jornaleros.",
    ),
    ("en", "people", True): (
        "I want to report {name} in {place}.",
        "{name} brings workers from Mexico to a farm near {place}.",
        "My cousin went to {place} with {name} for a job offer.",
    ),
    ("en", "people", False): (
        "There is a house in {place} where several young women are kept.",
        "A ranch outside {place} has a lot of workers living on site.",
    ),
    ("es", "people_plain", True): (
        "Mi vecino {name} renta cuartos a muchos trabajadores en {place}, no sé si es legal.",
        "{name} ofrece llevar gente al otro lado desde {place}.",
    ),
    ("es", "people_plain", False): (
        "Vi una camioneta llena de gente en una gasolinera de {place}.",
        "Busco a mi hermano que cruzó por {place} hace un mes.",
    ),
    ("en", "people_plain", True): (
        "My neighbor {name} rents rooms to a lot of workers in {place}, not sure it's legal.",
        "{name} offers rides across the border from {place}.",
    ),
    ("en", "people_plain", False): (
        "Saw a van full of people at a gas station in {place}.",
        "Looking for my brother who crossed near {place} last month.",
    ),
    ("es", "drugs", True): ("{name} vende cristal en {place}.", "Dicen que {name} mueve cargas desde {place}."),
    ("es", "drugs", False): ("En una casa de {place} guardan droga, llegan carros a todas horas.",),
    ("en", "drugs", True): ("{name} is selling meth in {place}.", "{name} moves loads across from {place}."),
    ("en", "drugs", False): ("Stash house in {place}, cars coming and going all night.",),
    ("es", "firearms", True): (
        "{name} compra armas en {place} y las pasa a México.",
        "{name} les paga a muchachos para que le compren armas en {place}.",
        "{name} ofrece cuernos de chivo y cartuchos en {place}.",
    ),
    ("es", "firearms", False): ("En {place} están vendiendo armas en un estacionamiento.",),
    ("en", "firearms", True): (
        "{name} buys rifles at gun shows around {place} and takes them south.",
        "{name} pays young guys to buy guns for him in {place}.",
    ),
    ("en", "firearms", False): ("Guns being sold out of a car trunk in {place}.",),
    ("es", "other", False): (
        "Hay mucho ruido en una fiesta en {place} todas las noches.",
        "Me robaron el celular en el centro de {place}.",
        "Hay un bache enorme en la avenida principal de {place}.",
        "Recibí una llamada de extorsión, dijeron que eran de un cártel.",
    ),
    ("en", "other", False): (
        "Loud party every night on my street in {place}.",
        "Someone broke into my car in {place}.",
        "A stray dog bit my son near the park in {place}.",
        "Got a scam call asking for money for a relative in jail.",
    ),
}
_PHONE_SENTENCES = {
    "es": ("Su número es {phone}.", "Lo contactan al {phone}."),
    "en": ("His number is {phone}.", "The number they use is {phone}."),
}
_VEHICLE_SENTENCES = {
    "es": ("Anda en una {vehicle}.", "Lo han visto en una {vehicle}."),
    "en": ("Drives a {vehicle}.", "Seen in a {vehicle}."),
}
_ORG_SENTENCES = {
    "es": ("Dicen que trabaja para {org}.", "La gente dice que es gente de {org}."),
    "en": ("People say he works for {org}.", "Word is they are with {org}."),
}


def _tip_text(
    rng: random.Random,
    lang: str,
    kind: str,
    *,
    name: str,
    alias: str,
    place: str,
    phone: str,
    vehicle: str,
    org: str,
    etype: str,
    minors: bool,
) -> tuple[str, list[str]]:
    """The tip's text and the indicators planted in it (kind 'people' plants them, others do not)."""
    if kind == "other":
        name = ""
    openings = _OPENINGS.get((lang, kind, bool(name))) or _OPENINGS[(lang, kind, False)]
    parts = [_pick(rng, openings).format(name=name, place=place)]
    indicators: list[str] = []
    if kind == "people":
        pool = _INDICATOR_SENTENCES[lang]
        if etype == "forced_labour":
            pool = tuple(s for s in pool if "sexual_exploitation" not in s[1])
        for text, codes in rng.sample(pool, _pick(rng, (1, 1, 2, 2, 3))):
            parts.append(text.format(debt=_pick(rng, ("5,000", "20 mil", "3,500", "15,000", "8 mil"))))
            indicators += [c for c in codes if c not in indicators]
        if minors and rng.random() < 0.6:
            text, codes = _MINOR_SENTENCE[lang]
            parts.append(text)
            indicators += list(codes)
    if alias and name and alias not in name and rng.random() < 0.3:
        parts.append(f"Le dicen {alias}." if lang == "es" else f"They call him {alias}.")
    if phone:
        parts.append(_pick(rng, _PHONE_SENTENCES[lang]).format(phone=phone))
    if vehicle:
        parts.append(_pick(rng, _VEHICLE_SENTENCES[lang]).format(vehicle=vehicle))
    if org:
        parts.append(_pick(rng, _ORG_SENTENCES[lang]).format(org=org))
    text = " ".join(parts)
    roll = rng.random()
    if roll < 0.15:
        text = strip_accents(text).lower()
    elif roll < 0.2:
        text = text.upper()
    return text, indicators


def _vehicle_text(rng: random.Random, lang: str, vehicle: tuple[str, str, str]) -> str:
    plate, _state, make = vehicle
    color = _pick(rng, _COLORS[lang])
    word = _pick(rng, _VEHICLE_WORD[lang])
    if lang == "es":
        return f"{word} {make} {color}, placas {plate}"
    return f"{color} {make} {word}, plate {plate}"


_DOC_TEXT = {
    "es": (
        "Informe policial",
        "Se recibió la declaración de la víctima de iniciales {initials}, de nacionalidad {nationality}, "
        "quien refiere que {name} la contactó con una oferta de trabajo en {place}. {detail} "
        "Se da vista al Ministerio Público.{org}",
    ),
    "en": (
        "Case note",
        "Met with client {initials} ({nationality}). Client states {name} recruited them with a job offer "
        "in {place}. {detail} Referred for services and law-enforcement endorsement.{org}",
    ),
}
_DOC_DETAIL = {
    ("es", "sexual_exploitation"): "Señala que la obligaban a prostituirse y le quitaban el dinero.",
    ("es", "forced_labour"): "Señala jornadas de más de doce horas sin pago y que le retuvieron sus documentos.",
    ("es", "forced_marriage"): "Señala que la obligaron a vivir con un hombre que no conocía.",
    ("es", "other"): "Señala que la tenían trabajando sin pago y bajo amenazas.",
    ("en", "sexual_exploitation"): "Client was forced into commercial sex and had earnings taken.",
    ("en", "forced_labour"): "Client worked twelve-hour days without pay; documents were withheld.",
    ("en", "forced_marriage"): "Client was forced to live with a man she did not know.",
    ("en", "other"): "Client worked without pay under threats.",
}


def _initials(p: Person) -> str:
    parts = [p.given.split(" ")[0], p.last1, p.last2]
    return ".".join(strip_accents(x)[0].upper() for x in parts if x) + "."


def _case_document(
    gen: _People,
    rng: random.Random,
    cid: str,
    etype: str,
    plaza: Plaza,
    perps: list[tuple[Perp, str]],
    org_id: str,
    victims: list[Victim],
    day: int,
) -> None:
    """A police report (Spanish) or caseworker note (English) on the case, naming a perpetrator."""
    lang = "es" if rng.random() < 0.6 else "en"
    title, body = _DOC_TEXT[lang]
    victim = victims[0]
    named = [p for p, _ in perps][:2]
    names = [gen._name(gen.noise, p.person, surnames_first=0.3, alias=0.6) for p in named]
    who = (" y " if lang == "es" else " and ").join(names) if names else ("una persona" if lang == "es" else "someone")
    org = gen._org_text(rng, org_id) if org_id and rng.random() < 0.5 else ""
    org_sentence = ""
    if org:
        org_sentence = f" Se menciona a {org}." if lang == "es" else f" Client mentions {org}."
    place = gen._place(rng, plaza, us_side=lang == "en")[0]
    text = body.format(
        initials=_initials(victim.person),
        nationality=_COUNTRY_TEXT[victim.nationality][-1],
        name=who,
        place=place,
        detail=_DOC_DETAIL[(lang, etype)],
        org=org_sentence,
    )
    gen.n_docs += 1
    doc_id = f"DOC-{gen.n_docs:06d}"
    publisher, doc_type = (
        (_pick(rng, ("Policía Estatal (ficticia)", "Fiscalía Regional (ficticia)")), _pick(rng, ("report", "Informe")))
        if lang == "es"
        else (_pick(rng, _CASE_HOLDERS[3:6]), _pick(rng, ("report", "interview")))
    )
    gen.docs.row(
        (
            doc_id,
            doc_type,
            f"{title} {cid}" if rng.random() < 0.5 else title,
            lang,
            gen.iso[day - _DATE_BASE],
            "Unidad de Investigación" if lang == "es" else "Case manager",
            publisher,
            text,
            names[0] if names else "",
        )
    )
    for perp in named:
        gen._named(DOCUMENTS_FILE, doc_id, "named", perp.person.pid)
    gen.t["documents.csv"].row((doc_id, cid, ";".join(p.person.pid for p in named)))


def write_people(out_dir: Path, *, records: int, seed: int, cast: Cast) -> FlowOutput:
    """Write the people flow's files (about ``records`` source rows) into ``out_dir``.

    Runs after the firearms flow (whose truth files it appends to) and, when there is one, the
    drugs flow (whose organizations, memberships and plaza control it reads from ``cast``).
    Same ``records``, ``seed`` and cast, same bytes.
    """
    if records < 1:
        raise ValueError(f"records must be at least 1, not {records}")
    return _People(Path(out_dir), records, seed, cast).run()
