"""The drugs and violence flow: organizations, plazas, seizures at the ports, violence, crossings.

``write_drugs`` runs after the firearms flow and writes, in the scenario folder:

* ``organizations.csv``, ``org-members.csv``, ``org-relations.csv`` — a registry of the fictional
  organizations of ``world.ORGANIZATIONS``: names and aliases, members and leaders with their
  dates, alliances, rivalries, the split of O04 from O03 and control of the plazas of
  ``world.PLAZAS`` over 2015–2024
  (built-in mappings ``cruce-organizations``, ``cruce-org-members``, ``cruce-org-relations``);
* ``drug-seizures.csv`` — seizures at the ports of entry in proportion to each port's monthly
  crossings, and on the Mexican side of the plazas (``drug-seizures``);
* ``violence-events.csv`` — violence in the ACLED export layout, clustered in space and time
  around the plazas being disputed (``acled-events``);
* ``border-crossings.csv`` — monthly crossings per port in the BTS layout
  (``bts-border-crossings``), scaled from the real 2019 figures copied below;
* ``truth/`` — who controls which plaza when, the disputes and the events they caused, members
  and leaders, the organizations; people named in the files are appended to ``persons.csv`` and
  ``identities.csv``.

Everything is drawn from ``random.Random`` streams seeded from the seed, month by month, so the
same seed gives the same bytes and memory holds one month of rows whatever the size.
"""

from __future__ import annotations

import bisect
import calendar
import csv
import math
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from cruce.synth.names import Person, full_name, new_person, noisy_dob, noisy_parts, strip_accents
from cruce.synth.world import (
    IDENTITIES_TRUTH,
    ORGANIZATIONS,
    PERSONS_TRUTH,
    PLAZAS,
    TRUTH_DIR,
    Cast,
    FlowOutput,
    Plaza,
    SourceFile,
    Trafficker,
    append_truth,
    truth_path,
)

ORGS_FILE = "organizations.csv"
MEMBERS_FILE = "org-members.csv"
RELATIONS_FILE = "org-relations.csv"
SEIZURES_FILE = "drug-seizures.csv"
VIOLENCE_FILE = "violence-events.csv"
CROSSINGS_FILE = "border-crossings.csv"

ORGS_COLUMNS = ("org_id", "name", "aliases", "org_type", "home_state", "country", "founded", "dissolved", "description", "source")  # fmt: skip  # noqa: E501
MEMBERS_COLUMNS = (
    "record_id", "org_id", "org_name", "given_names", "last_name", "second_last_name", "alias",
    "birth_date", "sex", "nationality", "role", "member_since", "member_until", "leads_since",
    "leads_until", "confidence", "source",
)  # fmt: skip
RELATIONS_COLUMNS = (
    "relation_id", "relation", "org_id", "org_name", "ally_id", "rival_id", "parent_id", "plaza_id",
    "other_name", "plaza_state", "start", "end", "disputed", "confidence", "source",
)  # fmt: skip
SEIZURES_COLUMNS = (
    "seizure_id", "date", "place", "port", "state", "country", "drug", "quantity", "unit", "concealment",
    "mode", "agency", "persons", "vehicle_plate", "vehicle_make",
)  # fmt: skip
VIOLENCE_COLUMNS = (
    "event_id_cnty", "event_date", "year", "disorder_type", "event_type", "sub_event_type", "actor1",
    "actor2", "iso", "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude",
    "source", "notes", "fatalities",
)  # fmt: skip
CROSSINGS_COLUMNS = ("Port Name", "State", "Port Code", "Border", "Date", "Measure", "Value", "Latitude", "Longitude", "Point")  # fmt: skip  # noqa: E501

TRUTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations.csv": ("org_id", "name", "aliases", "home_state", "founded", "split_from"),
    "memberships.csv": (
        "record_key",
        "person_id",
        "org_id",
        "role",
        "start",
        "end",
        "leads_start",
        "leads_end",
        "end_reason",
    ),
    "org_relations.csv": ("relation_id", "relation", "org_id", "other_id", "start", "end", "disputed"),
    "plaza_control.csv": ("plaza_id", "org_id", "start", "end"),
    "plaza_disputes.csv": ("dispute_id", "plaza_id", "holder_id", "challenger_id", "start", "end", "outcome"),
    "violence_links.csv": ("event_id_cnty", "plaza_id", "dispute_id", "actor1_org_id", "actor2_org_id"),
    "ports.csv": ("port_code", "port_name", "state", "plaza_id", "personal_vehicles", "seizures"),
}

START = date(2015, 1, 1).toordinal()
END = date(2024, 12, 31).toordinal()  # the scenario's last day: control still held then is "ongoing"
# English month names, as ACLED and BTS write dates (not the locale's: the bytes must not depend on it).
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
MONTHS: tuple[tuple[int, int], ...] = tuple((y, m) for y in range(2015, 2025) for m in range(1, 13))
CROSSINGS_SHARE = 0.08  # of the rows, for the crossing counts
MIN_EVENTS = 60  # seizures and violence events written at least, whatever the budget
_DATE_BASE = date(1930, 1, 1).toordinal()
_DATE_TOP = date(2026, 1, 1).toordinal()
_COURIERS_BORN = (date(1960, 1, 1).toordinal(), date(2004, 12, 31).toordinal())

# -- real figures ------------------------------------------------------------------------------
# From ../shared/data/border_crossing/border_crossing_entry_data_us_mexico.csv.gz (US Bureau of
# Transportation Statistics, Border Crossing Entry Data; US government work, public domain): for
# each port of world.PLAZAS, the inbound crossings of 2019 by measure (sum of the twelve months),
# and the port's point. Copied here so that the generator needs nothing outside the package;
# tests/synth/test_drugs.py checks the copy against the file when it is present.
PORT_POINTS: dict[str, tuple[float, float]] = {  # port code -> (longitude, latitude)
    "2301": (-97.40067, 25.95155), "2302": (-100.927612, 29.326784), "2303": (-100.511977, 28.705483),
    "2304": (-99.507412, 27.499561), "2305": (-98.271092, 26.095032), "2309": (-97.949958, 26.062133),
    "2310": (-99.018981, 26.403928), "2402": (-106.451188, 31.764363), "2403": (-104.394907, 29.561827),
    "2406": (-107.627948, 31.783742), "2408": (-106.679437, 31.783939), "2503": (-115.388018, 32.673389),
    "2504": (-117.028761, 32.542528), "2505": (-116.626216, 32.576428), "2506": (-116.938538, 32.55033),
    "2507": (-115.388018, 32.673389), "2601": (-109.560344, 31.334043), "2604": (-110.942516, 31.332839),
    "2608": (-114.7822222, 32.485),
}  # fmt: skip
MEASURES: tuple[str, ...] = (  # in the order they are written as the scale grows
    "Personal Vehicles", "Pedestrians", "Trucks", "Personal Vehicle Passengers",
    "Truck Containers Loaded", "Truck Containers Empty", "Buses", "Bus Passengers",
)  # fmt: skip
PORT_VOLUMES_2019: dict[str, tuple[int, ...]] = {  # port code -> 2019 totals in the order of MEASURES
    "2301": (4520334, 3123843, 287538, 9416489, 153280, 134796, 6128, 47189),
    "2302": (1623677, 236874, 75493, 3111248, 59951, 15651, 2, 34),
    "2303": (2855124, 861632, 179832, 5969602, 149732, 30298, 3307, 78918),
    "2304": (5109938, 3790022, 2364681, 10373765, 1711670, 658639, 38575, 1016437),
    "2305": (3989092, 2347699, 651579, 8267555, 469777, 183474, 20992, 276103),
    "2309": (1256030, 1140120, 54800, 2723757, 32535, 29823, 0, 0),
    "2310": (766671, 307735, 12412, 1475475, 3745, 8693, 512, 8759),
    "2402": (10528448, 7626455, 792441, 18703243, 610869, 184426, 19032, 308329),
    "2403": (689294, 308782, 10198, 1442719, 8418, 1791, 1537, 2537),
    "2406": (364686, 275235, 16754, 810134, 15960, 794, 1371, 16463),
    "2408": (627321, 166754, 133927, 1373762, 114701, 19916, 240, 2048),
    "2503": (4984781, 3707777, 0, 9005892, 0, 0, 0, 0),
    "2504": (14979363, 10799398, 0, 25845348, 0, 0, 38100, 79960),
    "2505": (985301, 927472, 65212, 1944890, 38868, 27962, 0, 0),
    "2506": (6584442, 3567271, 948630, 11372048, 759362, 230950, 7506, 11031),
    "2507": (3239218, 382535, 389046, 5930206, 258227, 134805, 1953, 78127),
    "2601": (1528248, 898173, 26588, 2719614, 20048, 6541, 1800, 16174),
    "2604": (3369965, 3419267, 349377, 6766502, 293771, 66136, 9720, 207487),
    "2608": (2833221, 2529641, 36885, 5069868, 28342, 8823, 82, 82),
}  # fmt: skip
# Yearly totals 2015-2024 at the same 19 ports (same file), as indices of each measure family.
_YEAR_TOTALS: dict[str, tuple[int, ...]] = {
    "Personal Vehicles": (72321161, 73704113, 75014599, 74793590, 70835154, 47586595, 54426412, 67998907, 70083071, 70632200),  # noqa: E501
    "Personal Vehicle Passengers": (133875688, 136716716, 139399085, 140484159, 132322117, 75723058, 89646969, 119014361, 124328297, 126854199),  # noqa: E501
    "Pedestrians": (40143315, 41104674, 41220141, 43683205, 46416685, 23057705, 24644594, 31323587, 34913364, 36307104),
    "Trucks": (5501387, 5763171, 5998519, 6269514, 6395393, 5838009, 6228847, 6552782, 6661542, 6880894),
}  # fmt: skip
_FAMILY = {
    "Personal Vehicles": "Personal Vehicles", "Personal Vehicle Passengers": "Personal Vehicle Passengers",
    "Pedestrians": "Pedestrians", "Buses": "Pedestrians", "Bus Passengers": "Pedestrians", "Trucks": "Trucks",
    "Truck Containers Loaded": "Trucks", "Truck Containers Empty": "Trucks",
}  # fmt: skip
# Personal vehicles per calendar month, 2015-2019, at the same ports (same file): the seasonal profile.
_SEASON = (30483687, 28074665, 31925256, 30073776, 31260005, 30242594, 30757233, 30953793, 29934823, 31351837, 30080066, 31530882)  # fmt: skip  # noqa: E501

US_STATE_NAMES = {"CA": "California", "AZ": "Arizona", "NM": "New Mexico", "TX": "Texas"}
MX_STATE_NAMES = {
    "MX-BCN": "Baja California", "MX-SON": "Sonora", "MX-CHH": "Chihuahua", "MX-COA": "Coahuila",
    "MX-TAM": "Tamaulipas", "MX-NLE": "Nuevo León", "MX-DUR": "Durango",
}  # fmt: skip
# The US town of each port (the seizure's place).
PORT_TOWNS = {"San Ysidro": "San Diego", "Otay Mesa": "San Diego", "Calexico East": "Calexico"}

# Localities of each plaza's municipality where violence happens: (name, latitude, longitude),
# approximate coordinates of the town (the first is the municipal seat).
LOCALITIES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "PZ01": (("Tijuana", 32.525, -117.033), ("La Presa", 32.475, -116.93), ("San Antonio de los Buenos", 32.445, -117.075)),  # noqa: E501
    "PZ02": (("Tecate", 32.572, -116.626), ("Valle de las Palmas", 32.37, -116.62)),
    "PZ03": (("Mexicali", 32.6245, -115.4523), ("Ciudad Guadalupe Victoria", 32.29, -115.11), ("Ciudad Morelos", 32.63, -114.86)),  # noqa: E501
    "PZ04": (("San Luis Rio Colorado", 32.456, -114.772), ("Golfo de Santa Clara", 31.686, -114.499)),
    "PZ05": (("Nogales", 31.308, -110.942),),
    "PZ06": (("Agua Prieta", 31.327, -109.549),),
    "PZ07": (("Ascension", 31.093, -107.996), ("Puerto Palomas", 31.77, -107.623)),
    "PZ08": (("Ciudad Juarez", 31.69, -106.424), ("Samalayuca", 31.344, -106.48)),
    "PZ09": (("Ojinaga", 29.565, -104.416),),
    "PZ10": (("Ciudad Acuna", 29.324, -100.932),),
    "PZ11": (("Piedras Negras", 28.7, -100.523),),
    "PZ12": (("Nuevo Laredo", 27.476, -99.516),),
    "PZ13": (("Ciudad Miguel Aleman", 26.399, -99.028),),
    "PZ14": (("Reynosa", 26.092, -98.278), ("Ciudad Rio Bravo", 25.987, -98.094)),
    "PZ15": (("Matamoros", 25.869, -97.503),),
}  # fmt: skip
# Ciudad Río Bravo is its own municipality: events there are in admin2 "Rio Bravo".
_ADMIN2 = {"Ciudad Rio Bravo": "Rio Bravo"}

# -- the scripted history ----------------------------------------------------------------------
# Who holds each plaza at the start, and the disputes: (challenger, first year, last year the
# dispute may start in, chance that the challenger takes the plaza). "after-split" starts some
# weeks after the split of O04 from O03. The seed draws the dates and the outcomes.
SPLIT_FROM, SPLIT_ORG = "O03", "O04"
INITIAL_HOLDER = {
    "PZ01": "O05", "PZ02": "O05", "PZ03": "O05", "PZ04": "O01", "PZ05": "O01", "PZ06": "O01", "PZ07": "O02",
    "PZ08": "O02", "PZ09": "O02", "PZ10": "O07", "PZ11": "O07", "PZ12": "O03", "PZ13": "O03", "PZ14": "O03",
    "PZ15": "O03",
}  # fmt: skip
DISPUTES: tuple[tuple[str, str, int | str, int | str, float], ...] = (
    ("PZ01", "O06", 2016, 2016, 0.2),
    ("PZ03", "O01", 2017, 2018, 0.8),
    ("PZ06", "O02", 2020, 2021, 0.4),
    ("PZ07", "O01", 2019, 2019, 0.8),
    ("PZ08", "O06", 2021, 2022, 0.7),
    ("PZ11", "O08", 2016, 2016, 0.9),
    ("PZ12", "O08", 2022, 2023, 0.3),
    ("PZ13", "O04", "after-split", "", 1.0),
    ("PZ14", "O04", "after-split", "", 0.6),
)
# Alliances and rivalries: (kind, a, b, first year, last year the relation may start in, ends?).
# A rivalry starts before the first dispute between the two; "split" = on the day of the split.
BONDS: tuple[tuple[str, str, str, int | str, int | str, bool], ...] = (
    ("rival_of", "O01", "O02", 2012, 2014, False),
    ("rival_of", "O05", "O06", 2013, 2015, True),  # ends when they ally
    ("allied_with", "O05", "O06", 2020, 2021, False),
    ("rival_of", "O01", "O05", 2014, 2016, False),
    ("allied_with", "O01", "O06", 2011, 2014, True),
    ("rival_of", "O02", "O06", 2018, 2020, False),
    ("rival_of", "O03", "O08", 2010, 2014, False),
    ("allied_with", "O03", "O07", 2010, 2014, False),
    ("rival_of", "O07", "O08", 2012, 2015, False),
    ("rival_of", "O03", "O04", "split", "split", False),
    ("allied_with", "O04", "O08", "after-split", "", False),
)
ORG_SIZE = {"O01": 1.4, "O02": 1.1, "O03": 1.3, "O04": 0.7, "O05": 1.0, "O06": 0.9, "O07": 0.6, "O08": 0.8}
MEMBER_ROLES = (("operador", 3), ("sicario", 4), ("halcón", 3), ("transportista", 3), ("contador", 1), ("cobrador", 1))  # fmt: skip  # noqa: E501
SOURCES = (
    "informe de inteligencia", "prensa local", "expediente judicial", "testigo colaborador",
    "fuentes abiertas", "intelligence report", "court filing",
)  # fmt: skip
END_REASONS = ("arrested", "killed", "extradited", "left")

# -- seizures ----------------------------------------------------------------------------------
DRUGS = ("marijuana", "methamphetamine", "cocaine", "heroin", "fentanyl")
# Share of seizure events by drug in 2015 and in 2024 (in between, linear): the generator's
# assumption, shaped after the trends in CBP's published statistics (marijuana down, fentanyl up).
DRUG_SHARES = {
    "marijuana": (0.45, 0.15), "methamphetamine": (0.20, 0.30), "cocaine": (0.17, 0.17),
    "heroin": (0.13, 0.03), "fentanyl": (0.05, 0.35),
}  # fmt: skip
DRUG_MEDIAN_KG = {"marijuana": 25.0, "methamphetamine": 8.0, "cocaine": 6.0, "heroin": 1.5, "fentanyl": 1.2}
DRUG_TEXT = {
    "marijuana": ("Marijuana", "marihuana", "cannabis", "MARIJUANA"),
    "methamphetamine": ("Methamphetamine", "meth", "metanfetamina", "cristal", "METHAMPHETAMINE"),
    "cocaine": ("Cocaine", "cocaína", "coke", "COCAINE"),
    "heroin": ("Heroin", "heroína", "black tar", "HEROIN"),
    "fentanyl": ("Fentanyl", "fentanilo", "fentanyl pills", "FENTANYL"),
}
MODE_TEXT = {
    "personal_vehicle": ("personal_vehicle", "POV", "passenger vehicle", "car"),
    "commercial_truck": ("commercial_truck", "truck", "tractor-trailer", "tráiler"),
    "pedestrian": ("pedestrian", "on foot", "a pie"),
    "bus": ("bus",),
    "land": ("land", "terrestre"),
}
CONCEALMENT = {  # mode -> (code, weight)
    "personal_vehicle": (("vehicle_compartment", 5), ("gas_tank", 2), ("tires", 1.5), ("unknown", 0.5)),
    "commercial_truck": (("commingled_cargo", 6), ("vehicle_compartment", 2), ("unknown", 0.5)),
    "pedestrian": (("body_carry", 5), ("internal_carry", 1.5), ("backpack", 2), ("unknown", 0.5)),
    "bus": (("luggage", 4), ("body_carry", 1)),
    "land": (("vehicle_compartment", 3), ("commingled_cargo", 2), ("backpack", 2), ("unknown", 1)),
}
CONCEALMENT_TEXT = {
    "vehicle_compartment": ("vehicle_compartment", "hidden compartment", "clavo", "doble fondo", "trap"),
    "gas_tank": ("gas_tank", "gas tank", "tanque de gasolina"),
    "tires": ("tires", "spare tire", "llanta"),
    "commingled_cargo": ("commingled_cargo", "cargo", "produce", "carga comercial"),
    "body_carry": ("body_carry", "strapped to body", "on person"),
    "internal_carry": ("internal_carry", "swallower", "body packer"),
    "backpack": ("backpack", "mochila"),
    "luggage": ("luggage", "suitcase", "maleta"),
    "unknown": ("unknown",),
}
US_AGENCIES = ("CBP Office of Field Operations", "CBP OFO", "U.S. Customs and Border Protection", "HSI")
MX_AGENCIES = ("SEDENA", "Guardia Nacional", "FGR", "ANAM")
CAR_MAKES = ("Nissan", "Chevrolet", "Ford", "Dodge", "Honda", "Toyota", "Volkswagen", "Jeep", "GMC", "Kia")
TRUCK_MAKES = ("Freightliner", "Kenworth", "International", "Volvo", "Peterbilt")
MX_SHARE = 0.12  # seizures on the Mexican side of a plaza (no port)
MEMBER_IN_SEIZURE = 0.03  # seizures naming a member of the organization holding the plaza
REPEAT_COURIER = 0.2  # seizures naming someone already named in an earlier seizure at the plaza

# -- violence ----------------------------------------------------------------------------------
# (sub-event type, event type, weight) for events of a dispute and for the rest.
DISPUTE_EVENTS = (
    ("Armed clash", "Battles", 50), ("Attack", "Violence against civilians", 28),
    ("Abduction/forced disappearance", "Violence against civilians", 10),
    ("Remote explosive/landmine/IED", "Explosions/Remote violence", 3),
    ("Looting/property destruction", "Strategic developments", 7), ("Grenade", "Explosions/Remote violence", 2),
)  # fmt: skip
BACKGROUND_EVENTS = (
    ("Attack", "Violence against civilians", 60), ("Abduction/forced disappearance", "Violence against civilians", 15),
    ("Armed clash", "Battles", 15), ("Looting/property destruction", "Strategic developments", 10),
)  # fmt: skip
VIOLENCE_SOURCES = ("Local press", "National press", "Subnational press; Social media", "Government of Mexico")
BASE_RATE = 1.0  # weight of a plaza-month without dispute (times the plaza's size)
DISPUTE_RATE = (6.0, 14.0)  # extra weight of a disputed month, at the start and at the peak


@dataclass(frozen=True)
class Dispute:
    dispute_id: str
    plaza: Plaza
    holder: str
    challenger: str
    start: int
    end: int
    taken: bool


@dataclass
class Member:
    record: str
    person: Person
    org: str
    role: str
    start: int
    end: int  # 0: still a member at the end of the scenario
    leads: tuple[int, int] | None = None  # (start, end or 0)
    end_reason: str = ""


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


def _stream(seed: int, name: str) -> random.Random:
    return random.Random(f"cruce.synth:{seed}:drugs-{name}")  # noqa: S311 - synthetic data, not security


def _day(year: int, month: int = 1, day: int = 1) -> int:
    return date(year, month, day).toordinal()


def _month_span(year: int, month: int) -> tuple[int, int]:
    first = _day(year, month)
    return first, first + calendar.monthrange(year, month)[1] - 1


def _between(rng: random.Random, first: int | str, last: int | str, split: int) -> int:
    """A day in the years first..last; the day of the split; or some weeks after it."""
    if first == "split":
        return split
    if first == "after-split":
        return split + rng.randint(20, 150)
    assert isinstance(first, int)
    assert isinstance(last, int)
    return rng.randint(_day(first), _day(last, 12, 31))


class _Flow:
    def __init__(self, out_dir: Path, records: int, seed: int, cast: Cast) -> None:
        self.out = out_dir
        self.records = records
        self.seed = seed
        self.cast = cast
        self.noise = _stream(seed, "noise")
        self.iso = [date.fromordinal(o).isoformat() for o in range(_DATE_BASE, _DATE_TOP)]
        self.dmy = [f"{s[8:10]}/{s[5:7]}/{s[:4]}" for s in self.iso]
        self.orgs = {o.org_id: o for o in ORGANIZATIONS}
        self.plazas = {p.plaza_id: p for p in PLAZAS}
        self.n_persons = 0
        self.truth_rows: dict[str, int] = dict.fromkeys(TRUTH_COLUMNS, 0)
        self.appended = {PERSONS_TRUTH: 0, IDENTITIES_TRUTH: 0}
        self._truth: dict[str, tuple[IO[str], Any]] = {}
        self._identities: list[tuple[str, ...]] = []
        self._persons: list[tuple[str, ...]] = []

    # -- helpers -------------------------------------------------------------------------------

    def _iso(self, day: int) -> str:
        return self.iso[day - _DATE_BASE] if day else ""

    def _truth_row(self, name: str, row: Sequence[object]) -> None:
        self._truth[name][1].writerow(row)
        self.truth_rows[name] += 1

    def _person(self, rng: random.Random, kind: str, **kw: Any) -> Person:
        self.n_persons += 1
        p = new_person(rng, f"D{self.n_persons:06d}", **kw)
        self._identities.append((p.pid, kind, p.given, p.last1, p.last2, p.alias, self._iso(p.dob), p.sex, ""))
        return p

    def _flush_people(self) -> None:
        if self._identities:
            self.appended[IDENTITIES_TRUTH] += append_truth(self.out, IDENTITIES_TRUTH, self._identities)
            self._identities = []
        if self._persons:
            self.appended[PERSONS_TRUTH] += append_truth(self.out, PERSONS_TRUTH, self._persons)
            self._persons = []

    def _org_name(self, rng: random.Random, org_id: str) -> str:
        """An organization as a report names it: its name or one of its aliases, accents sometimes dropped."""
        org = self.orgs[org_id]
        name = org.name if rng.random() < 0.4 else _one(rng.random, org.aliases)
        return strip_accents(name) if rng.random() < 0.2 else name

    def holder(self, plaza_id: str, day: int) -> str:
        for first, last, org in self.cast.plaza_control[plaza_id]:
            if first <= day <= last:
                return org
        raise AssertionError(f"no holder of {plaza_id} on {day}")  # the control covers every day

    # -- budget --------------------------------------------------------------------------------

    def _budget(self) -> None:
        """How many rows of each file: the registry is small, crossings take about 8 % (more
        measures as the scale grows, fewer months below one measure for every month), and the
        rest is seizures (70 %) and violence events (30 %)."""
        cells = len(PORT_VOLUMES_2019) * len(MONTHS)
        allowance = int(self.records * CROSSINGS_SHARE)
        self.n_measures = max(1, min(len(MEASURES), allowance // cells))
        self.first_month = max(0, len(MONTHS) - max(1, allowance // len(PORT_VOLUMES_2019)))
        self.n_members_target = max(16, min(3000, self.records // 400))
        months = len(MONTHS) - self.first_month
        crossings = sum(months for vols in PORT_VOLUMES_2019.values() for v in vols[: self.n_measures] if v > 0)
        registry = len(ORGANIZATIONS) + 50 + 30 + self.n_members_target
        rest = max(MIN_EVENTS, self.records - crossings - registry)
        self.n_seizures_target = round(rest * 0.7)
        self.n_violence_target = rest - self.n_seizures_target

    # -- history -------------------------------------------------------------------------------

    def _history(self) -> None:
        """Leaders, the split, alliances and rivalries, and who holds which plaza when."""
        rng = _stream(self.seed, "history")
        # O03's leader falls; the lieutenant passed over splits off with O04 a few months later.
        self.succession = {SPLIT_FROM: rng.randint(_day(2017, 6), _day(2019, 6))}
        self.split = self.succession[SPLIT_FROM] + rng.randint(60, 200)
        others = [o.org_id for o in ORGANIZATIONS if o.org_id not in (SPLIT_FROM, SPLIT_ORG)]
        for org in sorted(rng.sample(others, rng.randint(3, 5))):
            self.succession[org] = rng.randint(_day(2016), _day(2023, 6))
        self.bonds: list[tuple[str, str, str, int, int]] = []  # kind, a, b, start, end (0: ongoing)
        ally_start = 0
        for kind, a, b, first, last, ends in BONDS:
            start = _between(rng, first, last, self.split)
            if (a, b, kind) == ("O05", "O06", "allied_with"):
                ally_start = start
            self.bonds.append((kind, a, b, start, 0 if not ends else -1))
        for i, (kind, a, b, start, end) in enumerate(self.bonds):
            if end == -1:  # the O05-O06 rivalry ends as they ally; the O01-O06 alliance frays
                stop = ally_start - rng.randint(30, 200) if kind == "rival_of" else rng.randint(_day(2020), _day(2021))
                self.bonds[i] = (kind, a, b, start, stop)
        self.disputes: list[Dispute] = []
        control: dict[str, list[tuple[int, int, str]]] = {}
        for plaza in PLAZAS:
            holder = INITIAL_HOLDER[plaza.plaza_id]
            since = rng.randint(_day(2006), _day(2014))
            spans: list[tuple[int, int, str]] = []
            for pid, challenger, first, last, chance in DISPUTES:
                if pid != plaza.plaza_id:
                    continue
                start = _between(rng, first, last, self.split)
                end = min(END - 30, start + rng.randint(90, 540))
                taken = rng.random() < chance
                self.disputes.append(
                    Dispute(f"PD{len(self.disputes) + 1:03d}", plaza, holder, challenger, start, end, taken)
                )
                if taken:
                    spans.append((since, end, holder))
                    holder, since = challenger, end + 1
            spans.append((since, END, holder))
            control[plaza.plaza_id] = spans
        self.cast.organizations = ORGANIZATIONS
        self.cast.plaza_control = control
        self.founded = {SPLIT_ORG: self.split}

    # -- the registry --------------------------------------------------------------------------

    def _territory(self, org_id: str) -> set[str]:
        """Mexican state names where the organization holds or disputes a plaza, and its home state."""
        states = {MX_STATE_NAMES[self.orgs[org_id].home_state]}
        for plaza_id, spans in self.cast.plaza_control.items():
            if any(org == org_id for _, _, org in spans):
                states.add(MX_STATE_NAMES[self.plazas[plaza_id].mx_state])
        for d in self.disputes:
            if d.challenger == org_id:
                states.add(MX_STATE_NAMES[d.plaza.mx_state])
        return states

    def _members(self) -> list[Member]:
        rng = _stream(self.seed, "members")
        members: list[Member] = []
        numbers = iter(range(1, 10**9))

        def record() -> str:
            return f"M{next(numbers):05d}"

        def born(first: int, last: int) -> tuple[int, int]:
            return _day(first), _day(last, 12, 31)

        def person(kind: str, leader: bool = False) -> Person:
            years = born(1960, 1985) if leader else born(1970, 2003)
            return self._person(rng, kind, hispanic=1.0, male=0.9, born=years, alias=0.9 if leader else 0.5)

        total = sum(ORG_SIZE.values())
        roles = _Picker([r for r, _ in MEMBER_ROLES], [w for _, w in MEMBER_ROLES])
        for org in ORGANIZATIONS:
            oid = org.org_id
            founded = self.founded.get(oid, 0)
            if oid != SPLIT_ORG:  # O04's leader comes from O03, with the split
                members += self._leaders(rng, oid, record, person)
            # a plaza boss for every tenure of a plaza
            for plaza in PLAZAS:
                for first, last, holder in self.cast.plaza_control[plaza.plaza_id]:
                    if holder == oid:
                        jefe = person("org_member")
                        end = 0 if last >= END else last
                        members.append(
                            Member(record(), jefe, oid, "jefe de plaza", first, end, None, "lost plaza" if end else "")
                        )
            n = max(2, round(self.n_members_target * ORG_SIZE[oid] / total))
            for _ in range(n):
                p = person("org_member")
                start = rng.randint(max(founded, _day(2008)), _day(2023))
                end = 0
                reason = ""
                if rng.random() < 0.3:
                    end = min(END - 1, start + rng.randint(60, 2500))
                    reason = rng.choice(END_REASONS)
                members.append(Member(record(), p, oid, roles.pick(rng), start, end, None, reason))
        # the split: some members of O03 active at the split go over to O04
        movers = [m for m in members if m.org == SPLIT_FROM and m.role in ("operador", "sicario", "halcón")]
        movers = [m for m in movers if m.start < self.split and (m.end == 0 or m.end > self.split)]
        for m in movers:
            if rng.random() < 0.35:
                m.end, m.end_reason = self.split, "split"
                members.append(Member(record(), m.person, SPLIT_ORG, m.role, self.split, 0))
        # the ring bosses of the firearms flow, placed where their guns went
        for t in self.cast.traffickers:
            placed = self._trafficker_org(rng, t)
            if placed:
                start = rng.randint(_day(2012), _day(2019))
                members.append(Member(record(), t.person, placed, "encargado de armas", start, 0))
                self.cast.memberships[t.person.pid] = placed
        members.sort(key=lambda m: int(m.record[1:]))
        return members

    def _leaders(
        self, rng: random.Random, oid: str, record: Callable[[], str], person: Callable[..., Person]
    ) -> list[Member]:
        """The leader at the start; a successor where there is a succession; O03's rebel lieutenant."""
        out: list[Member] = []
        boss = person("org_leader", True)
        since = rng.randint(_day(2004), _day(2014, 6))
        fall = self.succession.get(oid, 0)
        reason = rng.choice(END_REASONS[:3]) if fall else ""
        out.append(Member(record(), boss, oid, "líder", since - rng.randint(300, 3000), fall, (since, fall), reason))
        if fall:
            heir = person("org_leader", True)
            takes = fall + rng.randint(3, 60)
            out.append(Member(record(), heir, oid, "lugarteniente", rng.randint(_day(2006), _day(2014)), 0, (takes, 0)))
        if oid == SPLIT_FROM:
            rebel = person("org_leader", True)
            joined = rng.randint(_day(2006), _day(2014))
            out.append(Member(record(), rebel, oid, "lugarteniente", joined, self.split, None, "split"))
            out.append(Member(record(), rebel, SPLIT_ORG, "líder", self.split, 0, (self.split, 0)))
        return out

    def _trafficker_org(self, rng: random.Random, t: Trafficker) -> str:
        """The organization whose territory best covers the ring's recovery states ('' if none does)."""
        wanted = set(t.recovery_states)
        scores = [(len(wanted & self._territory(o.org_id)), o.org_id) for o in ORGANIZATIONS]
        best = max(s for s, _ in scores)
        if best == 0:
            return rng.choice([o.org_id for o in ORGANIZATIONS]) if rng.random() < 0.3 else ""
        return rng.choice([o for s, o in scores if s == best])

    def _write_registry(self) -> dict[str, int]:
        rng = _stream(self.seed, "registry")
        rows: dict[str, int] = {}
        with (self.out / ORGS_FILE).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(ORGS_COLUMNS)
            for org in ORGANIZATIONS:
                founded = self.founded.get(org.org_id, 0)
                description = f"Escisión de {self.orgs[SPLIT_FROM].name} ({self._iso(founded)[:7]})" if founded else ""
                w.writerow(
                    (
                        org.org_id,
                        org.name,
                        ";".join(org.aliases),
                        "cartel",
                        MX_STATE_NAMES[org.home_state],
                        "MX",
                        self._iso(founded),
                        "",
                        description,
                        rng.choice(SOURCES),
                    )
                )
                self._truth_row(
                    "organizations.csv",
                    (
                        org.org_id,
                        org.name,
                        ";".join(org.aliases),
                        org.home_state,
                        self._iso(founded),
                        SPLIT_FROM if founded else "",
                    ),
                )
        rows[ORGS_FILE] = len(ORGANIZATIONS)

        self.members = self._members()
        with (self.out / MEMBERS_FILE).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(MEMBERS_COLUMNS)
            for m in self.members:
                p = m.person
                given, last1, last2 = noisy_parts(self.noise, p)
                dob = noisy_dob(self.noise, p, missing=0.2)
                dob_text = (self.iso if rng.random() < 0.7 else self.dmy)[dob - _DATE_BASE] if dob else ""
                alias = p.alias if rng.random() < 0.8 else ""
                leads = m.leads or (0, 0)
                w.writerow(
                    (
                        m.record,
                        m.org,
                        self.orgs[m.org].name,
                        given,
                        last1,
                        last2,
                        alias,
                        dob_text,
                        p.sex if rng.random() < 0.9 else "",
                        "MX",
                        m.role,
                        self._iso(m.start),
                        self._iso(m.end),
                        self._iso(leads[0]),
                        self._iso(leads[1]),
                        f"{rng.uniform(0.5, 0.95):.2f}",
                        rng.choice(SOURCES),
                    )
                )
                role = "leader" if m.leads else "member"
                self._persons.append((MEMBERS_FILE, m.record, role, p.pid))
                self._truth_row(
                    "memberships.csv",
                    (
                        m.record,
                        p.pid,
                        m.org,
                        m.role,
                        self._iso(m.start),
                        self._iso(m.end),
                        self._iso(leads[0]),
                        self._iso(leads[1]),
                        m.end_reason,
                    ),
                )
        rows[MEMBERS_FILE] = len(self.members)
        self._flush_people()

        n = 0
        with (self.out / RELATIONS_FILE).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(RELATIONS_COLUMNS)

            def relation(kind: str, org: str, other: str, start: int, end: int, disputed: str) -> None:
                nonlocal n
                n += 1
                rid = f"OR{n:04d}"
                plaza, other_name, plaza_state = "", "", ""
                ally, rival, parent = (other if kind == k else "" for k in ("allied_with", "rival_of", "split_from"))
                if kind == "controls":
                    plaza, other_name = other, self.plazas[other].municipality
                    plaza_state = MX_STATE_NAMES[self.plazas[other].mx_state]
                else:
                    other_name = self.orgs[other].name
                w.writerow(
                    (
                        rid,
                        kind,
                        org,
                        self.orgs[org].name,
                        ally,
                        rival,
                        parent,
                        plaza,
                        other_name,
                        plaza_state,
                        self._iso(start),
                        self._iso(end),
                        disputed,
                        f"{rng.uniform(0.6, 0.95):.2f}",
                        rng.choice(SOURCES),
                    )
                )
                self._truth_row(
                    "org_relations.csv", (rid, kind, org, other, self._iso(start), self._iso(end), disputed)
                )

            for kind, a, b, start, end in self.bonds:
                relation(kind, a, b, start, end, "")
            for plaza in PLAZAS:
                for first, last, holder in self.cast.plaza_control[plaza.plaza_id]:
                    relation("controls", holder, plaza.plaza_id, first, 0 if last >= END else last, "no")
                    self._truth_row(
                        "plaza_control.csv",
                        (plaza.plaza_id, holder, self._iso(first), "" if last >= END else self._iso(last)),
                    )
            for d in self.disputes:
                relation("controls", d.challenger, d.plaza.plaza_id, d.start, d.end, "yes")
                self._truth_row(
                    "plaza_disputes.csv",
                    (
                        d.dispute_id,
                        d.plaza.plaza_id,
                        d.holder,
                        d.challenger,
                        self._iso(d.start),
                        self._iso(d.end),
                        "taken" if d.taken else "repelled",
                    ),
                )
            # last, so that the rows above keep their ids and draws: the faction and the day it broke away
            relation("split_from", SPLIT_ORG, SPLIT_FROM, self.split, 0, "")
        rows[RELATIONS_FILE] = n
        return rows

    # -- crossings -----------------------------------------------------------------------------

    def _write_crossings(self) -> int:
        """Monthly crossings per port (BTS layout); keeps each port-month's personal vehicles."""
        rng = _stream(self.seed, "crossings")
        self.port_codes = list(PORT_VOLUMES_2019)
        self.pv: dict[tuple[str, int], int] = {}
        ports = {code: (name, usps, plaza) for plaza in PLAZAS for name, code, usps in plaza.ports}
        season_mean = sum(_SEASON) / 12
        n = 0
        with (self.out / CROSSINGS_FILE).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(CROSSINGS_COLUMNS)
            for i, (year, month) in enumerate(MONTHS):
                label = f"{MONTH_NAMES[month - 1][:3]} {year}"
                season = _SEASON[month - 1] / season_mean
                rows = []
                for code in self.port_codes:
                    name, usps, _plaza = ports[code]
                    lon, lat = PORT_POINTS[code]
                    for k, measure in enumerate(MEASURES):
                        base = PORT_VOLUMES_2019[code][k]
                        totals = _YEAR_TOTALS[_FAMILY[measure]]
                        value = round(
                            base / 12 * totals[year - 2015] / totals[4] * season * rng.lognormvariate(0, 0.06)
                        )
                        if k == 0:
                            self.pv[code, i] = value
                        if k >= self.n_measures or base == 0 or i < self.first_month:
                            continue
                        rows.append(
                            (
                                name,
                                US_STATE_NAMES[usps],
                                code,
                                "US-Mexico Border",
                                label,
                                measure,
                                value,
                                f"{lat:.3f}",
                                f"{lon:.3f}",
                                f"POINT ({lon} {lat})",
                            )
                        )
                w.writerows(rows)
                n += len(rows)
        return n

    # -- seizures ------------------------------------------------------------------------------

    def _write_seizures(self) -> int:
        rng = _stream(self.seed, "seizures")
        noise = self.noise
        ports = [(name, code, usps, plaza) for plaza in PLAZAS for name, code, usps in plaza.ports]
        total_pv = sum(self.pv.values())
        port_target = self.n_seizures_target * (1 - MX_SHARE)
        mx_target = self.n_seizures_target * MX_SHARE
        mode_pickers = {}
        for _name, code, _usps, _plaza in ports:
            vols = dict(zip(MEASURES, PORT_VOLUMES_2019[code], strict=True))
            weights = {
                "personal_vehicle": vols["Personal Vehicles"],
                "commercial_truck": vols["Trucks"] * 4,
                "pedestrian": vols["Pedestrians"] * 0.25,
                "bus": vols["Buses"] * 3,
            }
            mode_pickers[code] = _Picker(list(weights), list(weights.values()))
        mx_mode = _Picker(["personal_vehicle", "commercial_truck", "land"], [5, 2, 3])
        concealment = {mode: _Picker([c for c, _ in opts], [w for _, w in opts]) for mode, opts in CONCEALMENT.items()}
        by_org: dict[str, list[Member]] = {}
        for m in self.members:
            by_org.setdefault(m.org, []).append(m)
        recent: dict[str, deque[Person]] = {p.plaza_id: deque(maxlen=400) for p in PLAZAS}
        seizures_at: dict[str, int] = dict.fromkeys(self.port_codes, 0)
        n = 0
        with (self.out / SEIZURES_FILE).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(SEIZURES_COLUMNS)
            for i, (year, month) in enumerate(MONTHS):
                first, last = _month_span(year, month)
                days = last - first + 1
                t = (year - 2015 + (month - 1) / 12) / 10
                drug_picker = _Picker(DRUGS, [a + (b - a) * t for a, b in (DRUG_SHARES[d] for d in DRUGS)])
                month_rows: list[tuple[int, tuple[str, ...], list[str]]] = []
                plaza_pv: dict[str, int] = {}
                for name, code, usps, plaza in ports:
                    pv = self.pv[code, i]
                    plaza_pv[plaza.plaza_id] = plaza_pv.get(plaza.plaza_id, 0) + pv
                    count = _count(rng, port_target * pv / total_pv)
                    seizures_at[code] += count
                    for _ in range(count):
                        day = first + int(rng.random() * days)
                        mode = mode_pickers[code].pick(rng)
                        row, pids = self._seizure(
                            rng, noise, day, plaza, mode, drug_picker, concealment, by_org, recent,
                            place=PORT_TOWNS.get(name, name), port=name,
                            state=usps if rng.random() < 0.6 else US_STATE_NAMES[usps],
                            country="US" if rng.random() < 0.8 else "USA", us=True,
                        )  # fmt: skip
                        month_rows.append((day, row, pids))
                for plaza in PLAZAS:
                    count = _count(rng, mx_target * plaza_pv[plaza.plaza_id] / total_pv)
                    for _ in range(count):
                        day = first + int(rng.random() * days)
                        row, pids = self._seizure(
                            rng, noise, day, plaza, mx_mode.pick(rng), drug_picker, concealment, by_org, recent,
                            place=plaza.municipality, port="", state=MX_STATE_NAMES[plaza.mx_state],
                            country="MX" if rng.random() < 0.7 else "México", us=False,
                        )  # fmt: skip
                        month_rows.append((day, row, pids))
                month_rows.sort(key=lambda r: r[0])
                out = []
                for day, row, pids in month_rows:
                    n += 1
                    sid = f"DS{n:08d}"
                    out.append((sid, (self.iso if rng.random() < 0.9 else self.dmy)[day - _DATE_BASE], *row))
                    for pid in pids:
                        self._persons.append((SEIZURES_FILE, sid, "detained", pid))
                w.writerows(out)
                self._flush_people()
        self.seizures_at = seizures_at
        return n

    def _seizure(
        self,
        rng: random.Random,
        noise: random.Random,
        day: int,
        plaza: Plaza,
        mode: str,
        drug_picker: _Picker,
        concealment: dict[str, _Picker],
        by_org: dict[str, list[Member]],
        recent: dict[str, deque[Person]],
        *,
        place: str,
        port: str,
        state: str,
        country: str,
        us: bool,
    ) -> tuple[tuple[str, ...], list[str]]:
        rand = rng.random
        drug: str = drug_picker.pick(rng)
        kg = DRUG_MEDIAN_KG[drug] * rng.lognormvariate(0, 1.0)
        if mode == "pedestrian":
            kg *= 0.15
        elif mode == "commercial_truck":
            kg *= 5
        if rand() < 0.4:
            quantity, unit = kg * 2.20462, "lb" if rand() < 0.5 else "lbs"
        else:
            quantity, unit = kg, "kg" if rand() < 0.75 else "kilos"
        hidden = concealment[mode].pick(rng)
        hiding = _one(rand, CONCEALMENT_TEXT[hidden])
        if mode == "personal_vehicle" and hidden != "unknown" and rand() < 0.15:
            also = concealment[mode].pick(rng)
            if also not in (hidden, "unknown"):
                hiding += "; " + _one(rand, CONCEALMENT_TEXT[also])
        roll = rand()
        people = 0 if roll < (0.08 if us else 0.45) else 1 if roll < 0.9 else 2
        names: list[str] = []
        pids: list[str] = []
        for _ in range(people):
            p = self._detained(rng, day, plaza, by_org, recent)
            pids.append(p.pid)
            names.append(full_name(noise, p, mexican_style=0.05 if us else 0.6, alias=0.05 if us else 0.4))
        plate = make = ""
        if mode in ("personal_vehicle", "commercial_truck") or (mode == "land" and rand() < 0.6):
            make = _one(rand, TRUCK_MAKES if mode == "commercial_truck" else CAR_MAKES)
            if rand() < 0.2:
                make = make.upper()
            plate = _plate(rand, mexican=not us or rand() < 0.55)
        return (
            (
                place,
                port,
                state,
                country,
                _one(rand, DRUG_TEXT[drug]),
                f"{quantity:.2f}",
                unit,
                hiding,
                _one(rand, MODE_TEXT[mode]),
                _one(rand, US_AGENCIES if us else MX_AGENCIES),
                "; ".join(names),
                plate,
                make,
            ),
            pids,
        )

    def _detained(
        self,
        rng: random.Random,
        day: int,
        plaza: Plaza,
        by_org: dict[str, list[Member]],
        recent: dict[str, deque[Person]],
    ) -> Person:
        """Who is caught: now and then a member of the plaza's holder, or someone caught before; mostly a courier."""
        roll = rng.random()
        pool = recent[plaza.plaza_id]
        if roll < MEMBER_IN_SEIZURE:
            crew = by_org.get(self.holder(plaza.plaza_id, day), [])
            for _ in range(6 if crew else 0):
                m = crew[int(rng.random() * len(crew))]
                if m.start <= day and (m.end == 0 or day <= m.end):
                    return m.person
        elif roll < MEMBER_IN_SEIZURE + REPEAT_COURIER and pool:
            return pool[int(rng.random() * len(pool))]
        p = self._person(rng, "courier", hispanic=0.8, male=0.75, born=_COURIERS_BORN, alias=0.1)
        pool.append(p)
        return p

    # -- violence ------------------------------------------------------------------------------

    def _write_violence(self) -> int:
        rng = _stream(self.seed, "violence")
        size = {}
        for plaza in PLAZAS:
            size[plaza.plaza_id] = sum(PORT_VOLUMES_2019[code][0] for _, code, _ in plaza.ports)
        mean_size = sum(size.values()) / len(size)
        spans = [_month_span(y, m) for y, m in MONTHS]
        # weight of each plaza-month: a base for the plaza's size, plus each dispute going on then
        cells: list[tuple[Plaza, int, float, list[tuple[Dispute, float]]]] = []
        for plaza in PLAZAS:
            base = BASE_RATE * (0.4 + 0.6 * math.sqrt(size[plaza.plaza_id] / mean_size))
            own = [d for d in self.disputes if d.plaza is plaza]
            for i, (first, last) in enumerate(spans):
                extra: list[tuple[Dispute, float]] = []
                for d in own:
                    overlap = min(last, d.end) - max(first, d.start) + 1
                    if overlap <= 0:
                        continue
                    progress = ((first + last) / 2 - d.start) / max(1, d.end - d.start)
                    progress = min(1.0, max(0.0, progress))
                    low, peak = DISPUTE_RATE
                    shape = progress if d.taken else math.sin(math.pi * progress)
                    extra.append((d, (low + (peak - low) * shape) * overlap / (last - first + 1)))
                cells.append((plaza, i, base, extra))
        total = sum(base + sum(x for _, x in extra) for _, _, base, extra in cells)
        by_month: dict[int, list[tuple[Plaza, float, list[tuple[Dispute, float]]]]] = {}
        for plaza, i, base, extra in cells:
            by_month.setdefault(i, []).append((plaza, base, extra))
        handovers: dict[int, list[Dispute]] = {}
        for d in self.disputes:
            if d.taken:
                handovers.setdefault(
                    MONTHS.index((date.fromordinal(d.end).year, date.fromordinal(d.end).month)), []
                ).append(d)
        target = max(0, self.n_violence_target - len(handovers))
        dispute_events = _Picker([x[0] for x in DISPUTE_EVENTS], [x[2] for x in DISPUTE_EVENTS])
        background_events = _Picker([x[0] for x in BACKGROUND_EVENTS], [x[2] for x in BACKGROUND_EVENTS])
        event_type = {x[0]: x[1] for x in (*DISPUTE_EVENTS, *BACKGROUND_EVENTS)}
        event_type["Non-state actor overtakes territory"] = "Battles"
        localities = {
            p.plaza_id: _Picker(LOCALITIES[p.plaza_id], [3] + [1] * (len(LOCALITIES[p.plaza_id]) - 1)) for p in PLAZAS
        }
        links = self._truth["violence_links.csv"][1]
        n = 0
        with (self.out / VIOLENCE_FILE).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(VIOLENCE_COLUMNS)
            for i, (first, last) in enumerate(spans):
                events: list[tuple[int, Plaza, str, Dispute | None]] = []
                for plaza, base, extra in by_month.get(i, ()):
                    weight = base + sum(x for _, x in extra)
                    for _ in range(_count(rng, target * weight / total)):
                        roll = rng.random() * weight
                        dispute = None
                        for d, x in extra:
                            if roll < x:
                                dispute = d
                                break
                            roll -= x
                        if dispute is not None:
                            low, high = max(first, dispute.start), min(last, dispute.end)
                            day = low + int(rng.random() * (high - low + 1))
                            events.append((day, plaza, dispute_events.pick(rng), dispute))
                        else:
                            events.append(
                                (
                                    first + int(rng.random() * (last - first + 1)),
                                    plaza,
                                    background_events.pick(rng),
                                    None,
                                )
                            )
                for d in handovers.get(i, ()):
                    events.append((d.end, d.plaza, "Non-state actor overtakes territory", d))
                events.sort(key=lambda e: e[0])
                rows = []
                for day, plaza, sub, dispute in events:
                    n += 1
                    eid = f"MEX{90000000 + n}"
                    a1, a2, org1, org2 = self._actors(rng, day, plaza, sub, dispute)
                    locality, lat, lon = localities[plaza.plaza_id].pick(rng)
                    admin1 = strip_accents(MX_STATE_NAMES[plaza.mx_state])
                    admin2 = _ADMIN2.get(locality, strip_accents(plaza.municipality))
                    fatalities = _fatalities(rng, sub)
                    when = date.fromordinal(day)
                    when_text = f"{when.day:02d} {MONTH_NAMES[when.month - 1]} {when.year}"
                    against = f" against {a2}" if a2 else ""
                    notes = f"On {when_text}, {a1}: {sub.lower()}{against} in {locality}, {admin1}. {fatalities} fatalities."  # noqa: E501
                    rows.append(
                        (
                            eid,
                            when_text,
                            when.year,
                            "Strategic developments"
                            if event_type[sub] == "Strategic developments"
                            else "Political violence",
                            event_type[sub],
                            sub,
                            a1,
                            a2,
                            "484",
                            "Mexico",
                            admin1,
                            admin2,
                            "",
                            locality,
                            f"{lat:.4f}",
                            f"{lon:.4f}",
                            _one(rng.random, VIOLENCE_SOURCES),
                            notes,
                            fatalities,
                        )
                    )
                    links.writerow((eid, plaza.plaza_id, dispute.dispute_id if dispute else "", org1, org2))
                w.writerows(rows)
        self.truth_rows["violence_links.csv"] = n
        return n

    def _actors(
        self, rng: random.Random, day: int, plaza: Plaza, sub: str, dispute: Dispute | None
    ) -> tuple[str, str, str, str]:
        """actor1 and actor2 as ACLED names them, and the organizations they are (ids, '' for none)."""
        year = date.fromordinal(day).year
        police = (
            "Police Forces of Mexico (2012-2018)" if day < _day(2018, 12) else "Police Forces of Mexico (2018-2024)"
        )
        if year == 2024 and day >= _day(2024, 10):
            police = "Police Forces of Mexico (2024-)"
        civilians = "Civilians (Mexico)"
        if dispute is not None:
            a, b = (dispute.challenger, dispute.holder) if rng.random() < 0.6 else (dispute.holder, dispute.challenger)
            if sub == "Non-state actor overtakes territory":
                a, b = dispute.challenger, dispute.holder
            if sub in ("Armed clash", "Non-state actor overtakes territory"):
                return self._org_name(rng, a), self._org_name(rng, b), a, b
            return self._org_name(rng, a), civilians if sub != "Looting/property destruction" else "", a, ""
        holder = self.holder(plaza.plaza_id, day)
        if sub == "Armed clash":
            return police, self._org_name(rng, holder), "", holder
        if rng.random() < 0.4:
            return (
                "Unidentified Armed Group (Mexico)",
                civilians if sub != "Looting/property destruction" else "",
                "",
                "",
            )
        return self._org_name(rng, holder), civilians if sub != "Looting/property destruction" else "", holder, ""

    # -- the whole flow ------------------------------------------------------------------------

    def run(self) -> FlowOutput:
        (self.out / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
        for name in (PERSONS_TRUTH, IDENTITIES_TRUTH):
            if not truth_path(self.out, name).exists():
                raise FileNotFoundError(f"{truth_path(self.out, name)}: run the firearms flow first")
        self._budget()
        try:
            for name, cols in TRUTH_COLUMNS.items():
                fh = truth_path(self.out, name).open("w", encoding="utf-8", newline="")
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(cols)
                self._truth[name] = (fh, writer)
            self._history()
            rows = self._write_registry()
            rows[CROSSINGS_FILE] = self._write_crossings()
            rows[SEIZURES_FILE] = self._write_seizures()
            rows[VIOLENCE_FILE] = self._write_violence()
            self._flush_people()
            ports = {code: (name, usps, plaza) for plaza in PLAZAS for name, code, usps in plaza.ports}
            for code in self.port_codes:
                name, usps, plaza = ports[code]
                pv = sum(self.pv[code, i] for i in range(len(MONTHS)))
                self._truth_row("ports.csv", (code, name, usps, plaza.plaza_id, pv, self.seizures_at[code]))
        finally:
            for opened, _ in self._truth.values():
                opened.close()
        mappings = (
            (ORGS_FILE, "cruce-organizations"),
            (MEMBERS_FILE, "cruce-org-members"),
            (RELATIONS_FILE, "cruce-org-relations"),
            (CROSSINGS_FILE, "bts-border-crossings"),
            (SEIZURES_FILE, "drug-seizures"),
            (VIOLENCE_FILE, "acled-events"),
        )
        sources = tuple(SourceFile(path, mapping, rows[path]) for path, mapping in mappings)
        truth = {f"{TRUTH_DIR}/{name}": count for name, count in self.truth_rows.items()}
        truth |= {f"{TRUTH_DIR}/{name}": count for name, count in self.appended.items()}
        counts = {
            "organizations": len(ORGANIZATIONS),
            "members": rows[MEMBERS_FILE],
            "relations": rows[RELATIONS_FILE],
            "crossing_counts": rows[CROSSINGS_FILE],
            "seizures": rows[SEIZURES_FILE],
            "violence_events": rows[VIOLENCE_FILE],
            "persons": self.n_persons,
            "disputes": len(self.disputes),
            "traffickers_placed": len(self.cast.memberships),
        }
        return FlowOutput(sources, truth, counts)


def _count(rng: random.Random, expected: float) -> int:
    """``expected`` rounded up or down at random, so that counts add up to their expected total."""
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)


def _fatalities(rng: random.Random, sub: str) -> int:
    if sub in ("Armed clash", "Non-state actor overtakes territory"):
        return int(rng.expovariate(1 / 2.0))
    if sub == "Attack":
        return 1 + int(rng.expovariate(1 / 0.8))
    if sub in ("Remote explosive/landmine/IED", "Grenade"):
        return int(rng.expovariate(1.0))
    return 0


_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _one(rand: Callable[[], float], items: Sequence[str]) -> str:
    """One of ``items``, equally likely (``random.choice`` costs more in the hot loops)."""
    return items[int(rand() * len(items))]


_TRIGRAMS = tuple(a + b + c for a in _LETTERS for b in _LETTERS for c in _LETTERS)


def _plate(rand: Callable[[], float], *, mexican: bool) -> str:
    """A licence plate in a Mexican (ABC-123-D) or US (7ABC123, ABC1234) pattern."""
    n = int(rand() * len(_TRIGRAMS) * 230_000)
    n, digits = divmod(n, 10_000)
    n, last = divmod(n, 23)
    three = _TRIGRAMS[n]
    if mexican:
        return f"{three}-{digits % 1000:03d}-{_LETTERS[last]}"
    if digits % 2:
        return f"{1 + digits % 9}{three}{digits // 10 % 1000:03d}"
    return f"{three}{digits:04d}"


def write_drugs(out_dir: Path, *, records: int, seed: int, cast: Cast) -> FlowOutput:
    """Write the drugs and violence flow (about ``records`` source rows) into ``out_dir``.

    Runs after the firearms flow (it appends to ``truth/persons.csv`` and ``truth/identities.csv``)
    and fills ``cast.organizations``, ``cast.memberships`` and ``cast.plaza_control`` for the flows
    after it. Same ``records``, ``seed`` and cast, same bytes.
    """
    if records < 1:
        raise ValueError(f"records must be positive, not {records}")
    return _Flow(Path(out_dir), records, seed, cast).run()
