"""The firearms flow: gun-shop sales, straw-purchase rings, and traces of guns recovered in Mexico.

``generate`` writes, in one folder:

* ``gunshop-sales.csv`` — a dealers' sales extract in the layout of the built-in
  ``example-firearm-purchases`` mapping (the columns of ``cruce.demo.COLUMNS``);
* ``traces.csv`` — ATF traces of guns recovered in Mexico, in exactly the columns the built-in
  ``atf-traces`` mapping reads, dates in ISO 8601;
* ``manifest.json`` — each file with the mapping to import it with and its row count;
* ``truth/`` — what really happened: which records are the same person, which purchasers form
  a ring for which trafficker, which sale and which trace are the same gun.

The same ``scale`` and ``seed`` give byte-identical files: every draw comes from
``random.Random`` streams seeded from the seed, nothing depends on ``hash()`` or set order, and
numbers are formatted explicitly. Rows are streamed to per-year temporary files and each year is
sorted on its own, so memory stays bounded by one year's rows whatever the scale.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import heapq
import io
import itertools
import json
import math
import random
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, NamedTuple, TypeVar

from cruce.demo import COLUMNS as SALES_COLUMNS
from cruce.synth import catalog
from cruce.synth.calibration import DEFAULT, Calibration
from cruce.synth.catalog import Model
from cruce.synth.names import Person, full_name, new_person, noisy_dob, noisy_parts, strip_accents
from cruce.synth.world import Trafficker

SALES_FILE = "gunshop-sales.csv"
TRACES_FILE = "traces.csv"
SALES_MAPPING = "example-firearm-purchases"
TRACES_MAPPING = "atf-traces"
MANIFEST = "manifest.json"
TRUTH_DIR = "truth"
TRACE_COLUMNS: tuple[str, ...] = (
    "trace_number",
    "serial_number",
    "serial_obliterated",
    "manufacturer",
    "importer",
    "model",
    "caliber",
    "firearm_type",
    "country_of_manufacture",
    "recovery_date",
    "recovery_city",
    "recovery_state",
    "recovery_country",
    "possessor_name",
    "possessor_dob",
    "trace_status",
    "dealer_ffl",
    "dealer_name",
    "dealer_state",
    "purchase_date",
    "purchaser_name",
    "purchaser_dob",
)
TRUTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "persons.csv": ("file", "record_key", "role", "person_id"),
    "identities.csv": (
        "person_id",
        "kind",
        "given_names",
        "last_name",
        "second_last_name",
        "alias",
        "birth_date",
        "sex",
        "ring_id",
    ),
    "rings.csv": (
        "ring_id",
        "trafficker_id",
        "purchaser_ids",
        "dealer_states",
        "recovery_states",
        "purchases",
        "traces",
    ),
    "firearms.csv": ("firearm_id", "purchase_id", "trace_number", "ring_id"),
}

SALES_START = date(2015, 1, 1).toordinal()
SALES_END = date(2023, 12, 31).toordinal()
RECOVERY_START = date(2015, 1, 1).toordinal()
AS_OF = date(2024, 12, 31).toordinal()  # the traces are "as of" this date: no recovery after it
OLDEST_PURCHASE = date(1969, 1, 1).toordinal()  # guns made before 1968 cannot be traced
THREE_YEARS = 1096  # days: a time-to-crime of "three years or more" is at least this
DAYS_PER_YEAR = 365.25
_SHORT_MIN = 30  # days: the shortest time-to-crime of a gun bought outside the extract
_SHORT_MEAN = (_SHORT_MIN + THREE_YEARS - 1) / 2
_DATE_BASE = date(1900, 1, 1).toordinal()
_DATE_TOP = date(2026, 1, 1).toordinal()

TRACE_SHARE = 0.2  # traces among all records (the rest are sales)
RING_SALES_SHARE = 0.04  # ring purchases among all sales
RING_GUNS_MEAN = 30
MIN_RINGS = 3
RING_TRACE_RATE = 0.45
RING_TTC_MEDIAN_DAYS = 120
ORDINARY_TTC_MEDIAN_DAYS = 1600
ORDINARY_TRACE_RATE: dict[str, float] = {"TX": 0.02, "AZ": 0.02, "NM": 0.015, "CA": 0.008, "other": 0.003}
MIN_SCALE = 100
SPILL_ROWS = 100_000  # rows sorted in memory at a time

_KEY = 13  # width of the sort key that starts each temporary row
_SERIAL_SPACE = 36**6
_SERIAL_STEP = 1_345_925_033  # about 0.618 of the space, prime to it: consecutive guns look unrelated
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


T = TypeVar("T")
_RUN_SIZES = (1, 2, 2, 3, 3, 4, 5)


class Dealer(NamedTuple):
    ffl: str
    name: str
    state: str


@dataclass(frozen=True)
class SynthSummary:
    """What ``generate`` wrote."""

    out_dir: Path
    scale: int
    seed: int
    files: dict[str, int]
    """Every file written (relative path) with its number of data rows."""
    persons: int
    rings: int
    firearms: int
    traffickers: tuple[Trafficker, ...] = ()
    """The rings' bosses, for the flows written after this one."""

    @property
    def records(self) -> int:
        """Source records written (sales and traces)."""
        return self.files[SALES_FILE] + self.files[TRACES_FILE]


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


class _Spill:
    """Rows kept as CSV text, sorted in runs of at most ``limit`` rows, merged when read back.

    An external merge sort: memory holds one run whatever the number of rows. Every row starts
    with a fixed-width sort key, so sorting the lines as text sorts the rows by key.
    """

    def __init__(self, folder: Path, name: str, limit: int) -> None:
        self.folder = folder
        self.name = name
        self.limit = limit
        self.runs: list[Path] = []
        self._new_buffer()

    def _new_buffer(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.rows = 0

    def writerow(self, row: Sequence[object]) -> None:
        self.writer.writerow(row)
        self.rows += 1
        if self.rows >= self.limit:
            self._spill()

    def _spill(self) -> None:
        lines = self.buffer.getvalue().split("\n")
        lines.pop()  # after the last newline
        self._new_buffer()
        lines.sort()
        path = self.folder / f"{self.name}-{len(self.runs):05d}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write("\n".join(lines))
            fh.write("\n")
        self.runs.append(path)

    def sorted_lines(self) -> Iterator[str]:
        """Every row written, in key order, without its line end."""
        if self.rows:
            self._spill()
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(p.open(encoding="utf-8", newline="")) for p in self.runs]
            for line in heapq.merge(*files):
                yield line[:-1]
        for path in self.runs:
            path.unlink()


class _Urn:
    """Draw without replacement from fixed counts: the draws end with exactly those counts."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.keys = list(counts)
        self.counts = [counts[k] for k in self.keys]
        self.left = sum(self.counts)

    def draw(self, rng: random.Random) -> str:
        r = rng.randrange(self.left)
        for i, c in enumerate(self.counts):
            if r < c:
                self.counts[i] -= 1
                self.left -= 1
                return self.keys[i]
            r -= c
        raise AssertionError("empty urn")  # pragma: no cover


def quota(shares: Sequence[tuple[str, float]], grand_total: int, done: dict[str, int], n: int) -> dict[str, int]:
    """Split ``n`` remaining items so the final counts come as close as possible to ``shares``.

    ``done`` are the counts already made; the target of each key is its share of
    ``grand_total``. Largest remainders, ties in the order of ``shares``.
    """
    keys = [k for k, _ in shares]
    want = {k: max(0.0, s * grand_total - done.get(k, 0)) for k, s in shares}
    total = sum(want.values())
    if total <= 0:
        want, total = dict(shares), sum(s for _, s in shares)
    exact = {k: want[k] * n / total for k in keys}
    out = {k: int(exact[k]) for k in keys}
    rest = n - sum(out.values())
    for k in sorted(keys, key=lambda k: (-(exact[k] - out[k]), keys.index(k)))[:rest]:
        out[k] += 1
    return out


_MODEL_TABLES: dict[str, dict[str, tuple[Model, ...]]] = {
    "ring": {"any": catalog.RING_MODELS},
    "ordinary": catalog.ORDINARY_MODELS,
    "foreign": catalog.FOREIGN_MODELS,
    "old": catalog.OLD_MODELS,
    "no_serial": catalog.NO_SERIAL_MODELS,
}
# Which models a trace result comes with, and the state of their serial number.
_STATUS_MODELS = {
    "not_completed_foreign_not_imported": "foreign",
    "not_completed_too_old": "old",
    "not_completed_no_serial": "no_serial",
}
_STATUS_SERIAL = {"not_completed_obliterated": "obliterated", "not_completed_no_serial": "none"}
_RING_STATES = _Picker(("TX", "AZ", "CA", "NM", "other"), (48, 27, 11, 6, 8))
_EVENT_SIZES = _Picker((1, 2, 3, 4), (75, 15, 7, 3))


def _group(state: str) -> str:
    return state if state in catalog.BORDER_STATES else "other"


def _multiple(days: list[int]) -> list[bool]:
    """For each purchase of one buyer: another purchase within five days (a multiple sale)."""
    order = sorted(range(len(days)), key=lambda i: days[i])
    flags = [False] * len(days)
    for a, b in itertools.pairwise(order):
        if days[b] - days[a] <= 5:
            flags[a] = flags[b] = True
    return flags


def _stream(seed: int, name: str) -> random.Random:
    return random.Random(f"cruce.synth:{seed}:{name}")  # noqa: S311 - synthetic data, not security


class _Generator:
    def __init__(self, out_dir: Path, scale: int, seed: int, calibration: Calibration) -> None:
        self.out = out_dir
        self.tmp = out_dir / ".synth-tmp"
        self.scale = scale
        self.seed = seed
        self.cal = calibration
        self.noise = _stream(seed, "noise")
        self.iso = [date.fromordinal(o).isoformat() for o in range(_DATE_BASE, _DATE_TOP)]
        self.us = [f"{s[5:7]}/{s[8:10]}/{s[:4]}" for s in self.iso]
        self.years = [int(s[:4]) for s in self.iso]
        self.n_traces_target = round(scale * TRACE_SHARE)
        self.n_sales_target = scale - self.n_traces_target
        self.n_sales = 0
        self.n_traces = 0
        self.n_persons = 0
        self.n_firearms = 0
        self.n_rings = 0
        self.traffickers: list[Trafficker] = []
        self.trace_kinds: dict[str, int] = {}
        self.trace_status: dict[str, int] = {}
        self.completed_states: dict[str, int] = {}
        self.ttc_sum = 0
        self.ttc_short = 0
        self.n_completed = 0
        self.event_no = 0
        self._sales = _Spill(self.tmp, "sales", SPILL_ROWS)
        self._traces = _Spill(self.tmp, "traces", SPILL_ROWS)
        self._truth: dict[str, tuple[IO[str], Any]] = {}
        self.truth_rows: dict[str, int] = dict.fromkeys(TRUTH_COLUMNS, 0)
        self._pickers: dict[tuple[str, str, int], _Picker] = {}
        self.ordinary_kinds = _Picker(list(catalog.ORDINARY_TYPE_WEIGHTS), list(catalog.ORDINARY_TYPE_WEIGHTS.values()))
        self.mx_national = self._national_states()
        self.mx_towns = {s: list(towns) for s, towns in catalog.MX_PLACES.items()}

    def _model(self, rng: random.Random, table: str, kind: str, year: int) -> Model:
        """A model of the table and kind that was on the market in ``year`` (any, if none was)."""
        key = (table, kind, year)
        picker = self._pickers.get(key)
        if picker is None:
            models = _MODEL_TABLES[table].get(kind) or catalog.ORDINARY_MODELS[kind]
            usable = [m for m in models if catalog.INTRODUCED.get((m.maker, m.model), 0) <= year] or list(models)
            picker = self._pickers[key] = _Picker(usable, [m.weight for m in usable])
        model: Model = picker.pick(rng)
        return model

    # -- set-up --------------------------------------------------------------------------------

    def _national_states(self) -> _Picker:
        """Mexican states of recovery: the published top ten share most recoveries."""
        listed = [self._mx_state(name) for name in self.cal.recovery_states]
        others = [s for s in catalog.MX_PLACES if s not in listed]
        share = self.cal.listed_states_share
        weights = [share / len(listed)] * len(listed) + [(1 - share) / len(others)] * len(others)
        return _Picker(listed + others, weights)

    @staticmethod
    def _mx_state(name: str) -> str:
        plain = strip_accents(name).casefold()
        for state in catalog.MX_PLACES:
            if strip_accents(state).casefold() == plain:
                return state
        raise ValueError(f"no places known for the Mexican state {name!r}")

    def _dealers(self) -> None:
        rng = _stream(self.seed, "dealers")
        n = max(16, round(self.scale / 250))
        states = list(catalog.DEALER_STATE_WEIGHTS)
        picker = _Picker(states, list(catalog.DEALER_STATE_WEIGHTS.values()))
        fixed = [s for s in (*catalog.BORDER_STATES, "FL", "CO") for _ in range(2)]
        self.dealers: list[Dealer] = []
        weights: list[float] = []
        for i in range(n):
            state = fixed[i] if i < len(fixed) else picker.pick(rng)
            region, districts = catalog.FFL_REGION[state]
            towns = catalog.DEALER_TOWNS[state]
            town = _Picker([t for t, _ in towns], [w for _, w in towns]).pick(rng)
            surname = rng.choice(("Ramírez", "Smith", "García", "Miller", "Garza", "Johnson", "Treat", "Baker"))
            surname = rng.choice((surname, rng.choice(("Cantú", "Davis", "Wilson", "Moreno", "Hill", "Cole"))))
            name = rng.choice(catalog.DEALER_NAME_PATTERNS).format(surname=surname, town=town)
            ffl = (
                f"{region}-{rng.choice(districts)}-{rng.randrange(1, 600):03d}-"
                f"{rng.choice(('01', '01', '01', '02', '07'))}-{rng.choice('123456789ABCDEFGHJKLM')}"
                f"{rng.choice('ABCDEFGHJKL')}-{10000 + (i * 9973) % 90000:05d}"
            )
            self.dealers.append(Dealer(ffl, name, state))
            weights.append(rng.lognormvariate(0, 0.8))
        self.by_state: dict[str, list[Dealer]] = {}
        for d in self.dealers:
            self.by_state.setdefault(d.state, []).append(d)
        self.by_group: dict[str, list[Dealer]] = {}
        for d in self.dealers:
            self.by_group.setdefault(_group(d.state), []).append(d)
        self.dealer_picker = _Picker(self.dealers, weights)

    # -- writing -------------------------------------------------------------------------------

    def _truth_row(self, name: str, row: Sequence[str]) -> None:
        self._truth[name][1].writerow(row)
        self.truth_rows[name] += 1

    def _person(self, rng: random.Random, kind: str, ring: str = "", **kw: Any) -> Person:
        self.n_persons += 1
        p = new_person(rng, f"S{self.n_persons:07d}", **kw)
        self._truth_row(
            "identities.csv",
            (p.pid, kind, p.given, p.last1, p.last2, p.alias, self.iso[p.dob - _DATE_BASE], p.sex, ring),
        )
        return p

    def _serial(self, model: Model) -> tuple[int, str]:
        self.n_firearms += 1
        n = (self.n_firearms * _SERIAL_STEP + 7_777_777) % _SERIAL_SPACE
        chars = []
        for _ in range(6):
            n, r = divmod(n, 36)
            chars.append(_B36[r])
        return self.n_firearms, catalog.SERIAL_PREFIX.get(model.maker, "X") + "".join(chars)

    def _sale(
        self, p: Person, day: int, dealer: Dealer, model: Model, multiple: bool, ring: str, traced: bool
    ) -> tuple[int, int, str]:
        """Write one sale; return its index, the gun's number and serial."""
        rng = self.noise
        idx = self.n_sales
        self.n_sales += 1
        fno, serial = self._serial(model)
        first, last1, last2 = noisy_parts(rng, p)
        dob = noisy_dob(rng, p, missing=0.03)
        sex = p.sex if rng.random() >= 0.03 else ""
        ftype = model.type
        roll = rng.random()
        if roll < 0.15:
            ftype = ftype.capitalize()
        elif roll < 0.2:
            ftype = ftype.upper()
        cents = int(model.price * 100 * (0.85 + 0.35 * rng.random()))
        self._sales.writerow(
            (
                f"{day:07d}{rng.getrandbits(19):06d}",
                self.us[day - _DATE_BASE],
                first,
                last1,
                last2,
                self.us[dob - _DATE_BASE] if dob else "",
                sex,
                dealer.ffl,
                dealer.name,
                dealer.state,
                serial,
                model.maker,
                model.model,
                model.caliber,
                ftype,
                f"{cents // 100}.{cents % 100:02d}",
                "Y" if multiple else "N",
                idx,
                p.pid,
                f"F{fno:08d}",
                ring,
                "1" if traced else "0",
            )
        )
        return idx, fno, serial

    def _trace(
        self,
        *,
        event: int,
        day: int,
        state: str,
        town: str,
        model: Model,
        fno: int,
        serial: str,
        condition: str,
        status: str,
        dealer: Dealer | None = None,
        bought: int = 0,
        purchaser: Person | None = None,
        possessor: Person | None = None,
        sale: int = -1,
        ring: str = "",
    ) -> None:
        """Write one trace. ``condition`` of the serial: intact, partial, obliterated or none."""
        rng = self.noise
        self.n_traces += 1
        kind = catalog.kind(model)
        self.trace_kinds[kind] = self.trace_kinds.get(kind, 0) + 1
        self.trace_status[status] = self.trace_status.get(status, 0) + 1
        if status == "completed" and dealer is not None and bought:
            group = _group(dealer.state)
            self.completed_states[group] = self.completed_states.get(group, 0) + 1
            self.n_completed += 1
            self.ttc_sum += day - bought
            if day - bought < THREE_YEARS:
                self.ttc_short += 1
        if condition == "intact":
            shown = serial
            if rng.random() < 0.04:
                shown = _misread(rng, serial)
            obliterated = "no" if rng.random() < 0.85 else ""
        elif condition == "partial":
            shown = serial[: max(3, len(serial) - 3)]
            obliterated = rng.choice(("partial", "partial", "parcial"))
        elif condition == "obliterated":
            shown, obliterated = "", rng.choice(("obliterated", "obliterated", "yes", "limado"))
        else:
            shown, obliterated = "", ""
        roll = rng.random()
        state_text = state
        if roll < 0.15:
            state_text = strip_accents(state)
        elif roll < 0.25:
            state_text = catalog.MX_ABBREVIATIONS[state]
        elif roll < 0.3:
            state_text = strip_accents(state).upper()
        roll = rng.random()
        town_text = town if roll >= 0.25 else strip_accents(town) if roll >= 0.05 else strip_accents(town).upper()
        roll = rng.random()
        country = "MX" if roll < 0.8 else "México" if roll < 0.9 else "Mexico"
        model_name = model.model
        if model.caliber == "7.62x39mm" and model.type == "rifle" and rng.random() < 0.2:
            model_name = "AK-47"
        elif model.caliber == "5.56mm" and model.type == "rifle" and rng.random() < 0.2:
            model_name = "AR-15"
        possessor_name = possessor_dob = ""
        if possessor is not None:
            possessor_name = full_name(rng, possessor, mexican_style=0.35, alias=0.5)
            dob = noisy_dob(rng, possessor, missing=0.5)
            possessor_dob = self.iso[dob - _DATE_BASE] if dob else ""
        purchaser_name = purchaser_dob = ""
        if purchaser is not None:
            purchaser_name = full_name(rng, purchaser, mexican_style=0.05, alias=0.0)
            dob = noisy_dob(rng, purchaser, missing=0.08)
            purchaser_dob = self.iso[dob - _DATE_BASE] if dob else ""
        dealer_state = ""
        if dealer is not None:
            dealer_state = dealer.state if rng.random() < 0.9 else catalog.STATE_NAMES[dealer.state]
        self._traces.writerow(
            (
                f"{day:07d}{event:06d}",
                shown,
                obliterated,
                model.maker,
                model.importer,
                model_name,
                model.caliber,
                _type_text(rng, model),
                model.country,
                self.iso[day - _DATE_BASE],
                town_text,
                state_text,
                country,
                possessor_name,
                possessor_dob,
                status,
                dealer.ffl if dealer else "",
                dealer.name if dealer else "",
                dealer_state,
                self.iso[bought - _DATE_BASE] if bought else "",
                purchaser_name,
                purchaser_dob,
                purchaser.pid if purchaser else "",
                possessor.pid if possessor else "",
                f"F{fno:08d}",
                sale,
                ring,
            )
        )

    def _next_event(self) -> int:
        self.event_no += 1
        return self.event_no % 1_000_000

    def _town(self, rng: random.Random, state: str) -> str:
        return rng.choice(self.mx_towns[state])

    # -- the scenario --------------------------------------------------------------------------

    def run(self) -> SynthSummary:
        (self.out / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir()
        try:
            for name, cols in TRUTH_COLUMNS.items():
                fh = (self.out / TRUTH_DIR / name).open("w", encoding="utf-8", newline="")
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(cols)
                self._truth[name] = (fh, writer)
            self._dealers()
            self._sales_and_rings()
            self._background()
            traced_sales = self._write_sales()
            self._write_traces(traced_sales)
        finally:
            for opened, _ in self._truth.values():
                opened.close()
            shutil.rmtree(self.tmp, ignore_errors=True)
        files = {SALES_FILE: self.n_sales, TRACES_FILE: self.n_traces}
        files |= {f"{TRUTH_DIR}/{name}": rows for name, rows in self.truth_rows.items()}
        manifest = {
            "generator": "cruce.synth",
            "format": 1,
            "scale": self.scale,
            "seed": self.seed,
            "files": [
                {"path": SALES_FILE, "mapping": SALES_MAPPING, "rows": self.n_sales},
                {"path": TRACES_FILE, "mapping": TRACES_MAPPING, "rows": self.n_traces},
            ],
            "truth": [{"path": f"{TRUTH_DIR}/{name}", "rows": rows} for name, rows in self.truth_rows.items()],
        }
        (self.out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return SynthSummary(
            self.out,
            self.scale,
            self.seed,
            files,
            self.n_persons,
            self.n_rings,
            self.n_firearms,
            tuple(self.traffickers),
        )

    def _sales_and_rings(self) -> None:
        rng = _stream(self.seed, "rings")
        budget = max(MIN_RINGS * 8, round(self.n_sales_target * RING_SALES_SHARE))
        n_rings = max(MIN_RINGS, round(budget / RING_GUNS_MEAN))
        sizes = [max(6, round(budget / n_rings * (0.5 + rng.random()))) for _ in range(n_rings)]
        ordinary_budget = max(0, self.n_sales_target - sum(sizes))
        at = sorted(int((i + rng.random()) * ordinary_budget / n_rings) for i in range(n_rings))
        ordinary = _stream(self.seed, "ordinary")
        made = 0
        next_ring = 0
        while made < ordinary_budget:
            while next_ring < n_rings and made >= at[next_ring]:
                self._ring(rng, next_ring + 1, sizes[next_ring])
                next_ring += 1
            made += self._ordinary_buyer(ordinary, ordinary_budget - made)
        for i in range(next_ring, n_rings):
            self._ring(rng, i + 1, sizes[i])

    def _ring(self, rng: random.Random, number: int, n_guns: int) -> None:
        """A straw-purchase ring: purchasers buying rifles in a few days' runs for one trafficker."""
        self.n_rings += 1
        rid = f"R{number:05d}"
        state = _RING_STATES.pick(rng)
        pool = self.by_state[state] if state != "other" else self.by_state[rng.choice(self.by_group["other"]).state]
        dealers = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
        if state in ("TX", "NM", "AZ") and rng.random() < 0.25:
            near = {"TX": "NM", "NM": "TX", "AZ": "NM"}[state]
            dealers.append(rng.choice(self.by_state[near]))
        trafficker = self._person(rng, "trafficker", rid, hispanic=1.0, male=0.9, born=_years(1965, 1995), alias=0.9)
        k = rng.randint(2, max(2, min(6, n_guns // 3)))
        purchasers = [
            self._person(rng, "ring_purchaser", rid, hispanic=0.85, male=0.65, born=_years(1980, 2001), alias=0.1)
            for _ in range(k)
        ]
        destinations = rng.sample(catalog.CORRIDORS[_group(dealers[0].state)], rng.randint(1, 2))
        start = rng.randint(SALES_START, SALES_END - 120)
        end = min(SALES_END, start + rng.randint(60, 540))
        self_buy = rng.random() < 0.3
        # the purchases: (buyer, day, dealer, model), in runs of a few days; every purchaser (and
        # the trafficker, when he buys himself) makes at least one run
        first_runs = [*purchasers, trafficker] if self_buy else list(purchasers)
        plan: list[tuple[Person, int, Dealer, Model]] = []
        runs = 0
        while len(plan) < n_guns:
            room = n_guns - len(plan)
            if runs < len(first_runs):
                buyer = first_runs[runs]
                room -= len(first_runs) - runs - 1
            else:
                buyer = rng.choice(purchasers)
            size = min(rng.choice((1, 2) if buyer is trafficker else _RUN_SIZES), room)
            runs += 1
            day = rng.randint(start, end)
            dealer = rng.choice(dealers)
            for _ in range(size):
                shop = dealer if rng.random() < 0.75 else rng.choice(dealers)
                bought = min(SALES_END, day + rng.randrange(3))
                model = self._model(rng, "ring", "any", self.years[bought - _DATE_BASE])
                plan.append((buyer, bought, shop, model))
        by_buyer: dict[str, list[int]] = {}
        for i, (buyer, *_) in enumerate(plan):
            by_buyer.setdefault(buyer.pid, []).append(i)
        multiple = [False] * len(plan)
        for idxs in by_buyer.values():
            for i, flag in zip(idxs, _multiple([plan[i][1] for i in idxs]), strict=True):
                multiple[i] = flag
        traced = [rng.random() < RING_TRACE_RATE for _ in plan]
        if not any(traced):
            traced[rng.randrange(len(plan))] = True
        guns = []
        for (buyer, day, dealer, model), m, t in zip(plan, multiple, traced, strict=True):
            idx, fno, serial = self._sale(buyer, day, dealer, model, m, rid, t)
            if t:
                guns.append((idx, fno, serial, buyer, day, dealer, model))
        rng.shuffle(guns)
        first = True
        g = 0
        while g < len(guns):
            size = min(len(guns) - g, rng.choice((1, 1, 2, 2, 3, 4)))
            group = guns[g : g + size]
            g += size
            last = max(x[4] for x in group)
            ttc = max(7, round(rng.lognormvariate(math.log(RING_TTC_MEDIAN_DAYS), 0.8)))
            day = last + ttc if last + ttc <= AS_OF else rng.randint(last + 1, AS_OF)
            mx = rng.choice(destinations)
            town = self._town(rng, mx)
            roll = rng.random()
            possessor: Person | None = None
            if (first and not self_buy) or roll < 0.12:
                possessor = trafficker
            elif roll < 0.57:
                possessor = self._person(
                    rng, "possessor", rid, hispanic=1.0, male=0.92, born=_years(1975, 2004), alias=0.5
                )
            first = False
            event = self._next_event()
            for idx, fno, serial, buyer, bought, dealer, model in group:
                roll = rng.random()
                condition = "obliterated" if roll < 0.12 else "partial" if roll < 0.2 else "intact"
                completed = condition != "obliterated"
                self._trace(
                    event=event,
                    day=day,
                    state=mx,
                    town=town,
                    model=model,
                    fno=fno,
                    serial=serial,
                    condition=condition,
                    status="completed" if completed else "not_completed_obliterated",
                    dealer=dealer if completed else None,
                    bought=bought if completed else 0,
                    purchaser=buyer if completed else None,
                    possessor=possessor,
                    sale=idx,
                    ring=rid,
                )
        self.traffickers.append(
            Trafficker(trafficker, rid, tuple(sorted({d.state for d in dealers})), tuple(destinations))
        )
        self._truth_row(
            "rings.csv",
            (
                rid,
                trafficker.pid,
                ";".join(p.pid for p in purchasers),
                ";".join(sorted({d.state for d in dealers})),
                ";".join(destinations),
                str(len(plan)),
                str(len(guns)),
            ),
        )

    def _ordinary_buyer(self, rng: random.Random, left: int) -> int:
        """Someone buying a gun or a few, for themselves; rarely is one of them traced."""
        p = self._person(rng, "ordinary_buyer", hispanic=0.6, male=0.85, born=_years(1945, 1997), alias=0.03)
        roll = rng.random()
        n = 1 if roll < 0.55 else 2 if roll < 0.8 else 3 if roll < 0.9 else rng.randint(4, 8)
        n = min(n, left)
        home: Dealer = self.dealer_picker.pick(rng)
        days: list[int] = []
        for j in range(n):
            if j and rng.random() < 0.15:
                days.append(min(SALES_END, days[-1] + rng.randrange(3)))
            else:
                days.append(rng.randint(SALES_START, SALES_END))
        for day, multiple in zip(days, _multiple(days), strict=True):
            dealer = home if rng.random() < 0.75 else rng.choice(self.by_state[home.state])
            model = self._model(rng, "ordinary", self.ordinary_kinds.pick(rng), self.years[day - _DATE_BASE])
            group = _group(dealer.state)
            recovered = 0
            if rng.random() < ORDINARY_TRACE_RATE[group]:
                ttc = round(rng.lognormvariate(math.log(ORDINARY_TTC_MEDIAN_DAYS), 0.6))
                if day + ttc <= AS_OF:
                    recovered = day + ttc
            idx, fno, serial = self._sale(p, day, dealer, model, multiple, "", bool(recovered))
            if not recovered:
                continue
            roll = rng.random()
            condition = "obliterated" if roll < 0.06 else "partial" if roll < 0.12 else "intact"
            completed = condition != "obliterated"
            corridor = catalog.CORRIDORS[group]
            mx = rng.choice(corridor) if rng.random() < 0.6 else self.mx_national.pick(rng)
            possessor = None
            if rng.random() < 0.5:
                possessor = self._person(rng, "possessor", hispanic=1.0, male=0.9, born=_years(1970, 2004), alias=0.4)
            self._trace(
                event=self._next_event(),
                day=recovered,
                state=mx,
                town=self._town(rng, mx),
                model=model,
                fno=fno,
                serial=serial,
                condition=condition,
                status="completed" if completed else "not_completed_obliterated",
                dealer=dealer if completed else None,
                bought=day if completed else 0,
                purchaser=p if completed else None,
                possessor=possessor,
                sale=idx,
            )
        return n

    def _background(self) -> None:
        """Traces of guns bought outside the extract, or that could not be traced at all.

        They fill the trace file to its size, with their shares chosen so that the whole file
        meets the calibration: trace results, firearm types, source states, time-to-crime.
        """
        rng = _stream(self.seed, "background")
        total = self.n_traces_target
        n = max(0, total - self.n_traces)
        if n == 0:
            return
        cal = self.cal
        statuses = quota(cal.trace_status, total, self.trace_status, n)
        kinds = _Urn(quota(cal.firearm_types, total, self.trace_kinds, n))
        n_completed = statuses["completed"]
        all_completed = self.n_completed + n_completed
        states = _Urn(quota(cal.source_states, all_completed, self.completed_states, n_completed))
        short_target = round((1 - cal.ttc_3y_share) * all_completed) - self.ttc_short
        n_short = min(n_completed, max(0, short_target))
        terms = _Urn({"short": n_short, "long": n_completed - n_short})
        n_long = n_completed - n_short
        mean_days = cal.ttc_mean_years * DAYS_PER_YEAR
        long_mean = (mean_days * all_completed - self.ttc_sum - n_short * _SHORT_MEAN) / max(1, n_long)
        theta = _gamma_scale(long_mean)
        status_urn = _Urn(statuses)
        dealer_states = _Picker([s for s, _ in cal.source_states], [w for _, w in cal.source_states])
        left = n
        while left:
            size = min(left, _EVENT_SIZES.pick(rng))
            left -= size
            day = rng.randint(RECOVERY_START, AS_OF)
            mx = self.mx_national.pick(rng)
            town = self._town(rng, mx)
            possessor = None
            if rng.random() < 0.45:
                possessor = self._person(rng, "possessor", hispanic=1.0, male=0.92, born=_years(1970, 2005), alias=0.4)
            event = self._next_event()
            for _ in range(size):
                status = status_urn.draw(rng)
                kind = kinds.draw(rng)
                table = _STATUS_MODELS.get(status, "ordinary")
                condition = _STATUS_SERIAL.get(status, "intact")
                dealer: Dealer | None = None
                bought = 0
                purchaser: Person | None = None
                if status == "completed":
                    group = states.draw(rng)
                    dealer = rng.choice(self.by_group[group])
                    if terms.draw(rng) == "short":
                        ttc = rng.randint(_SHORT_MIN, THREE_YEARS - 1)
                    else:
                        ttc = THREE_YEARS + round(rng.gammavariate(2.0, theta))
                        for _ in range(5):
                            if day - ttc >= OLDEST_PURCHASE:
                                break
                            ttc = THREE_YEARS + round(rng.gammavariate(2.0, theta))
                    bought = max(OLDEST_PURCHASE, day - ttc)
                    born = (bought - round(65 * DAYS_PER_YEAR), bought - round(21 * DAYS_PER_YEAR))
                    purchaser = self._person(
                        rng, "background_purchaser", hispanic=0.55, male=0.85, born=born, alias=0.02
                    )
                elif status == "completed_dealer_only":
                    state = dealer_states.pick(rng)
                    dealer = rng.choice(self.by_group[state])
                model = self._model(rng, table, kind, self.years[(bought or day) - _DATE_BASE])
                fno, serial = self._serial(model)
                self._trace(
                    event=event,
                    day=day,
                    state=mx,
                    town=town,
                    model=model,
                    fno=fno,
                    serial=serial,
                    condition=condition,
                    status=status,
                    dealer=dealer,
                    bought=bought,
                    purchaser=purchaser,
                    possessor=possessor,
                )

    # -- the final files -----------------------------------------------------------------------

    def _write_sales(self) -> dict[int, int]:
        """Sales in date order, numbered in that order; returns the purchase number of each traced sale."""
        traced: dict[int, int] = {}
        persons = self._truth["persons.csv"][0]
        firearms = self._truth["firearms.csv"][0]
        with (self.out / SALES_FILE).open("w", encoding="utf-8", newline="") as out:
            out.write(",".join(SALES_COLUMNS) + "\n")
            for batch in _batched(enumerate(self._sales.sorted_lines(), 1), 10_000):
                chunk: list[str] = []
                person_rows: list[str] = []
                firearm_rows: list[str] = []
                for n, line in batch:
                    body, idx, pid, fid, ring, was_traced = line[_KEY + 1 :].rsplit(",", 5)
                    pno = f"P{n:08d}"
                    chunk.append(f"{pno},{body}\n")
                    person_rows.append(f"{SALES_FILE},{pno},buyer,{pid}\n")
                    if was_traced == "1":
                        traced[int(idx)] = n
                    else:
                        firearm_rows.append(f"{fid},{pno},,{ring}\n")
                out.write("".join(chunk))
                persons.write("".join(person_rows))
                firearms.write("".join(firearm_rows))
                self.truth_rows["persons.csv"] += len(person_rows)
                self.truth_rows["firearms.csv"] += len(firearm_rows)
        return traced

    def _write_traces(self, traced_sales: dict[int, int]) -> None:
        """Traces in order of recovery, numbered within each year of recovery."""
        persons = self._truth["persons.csv"][0]
        firearms = self._truth["firearms.csv"][0]
        year, seq = 0, 0
        with (self.out / TRACES_FILE).open("w", encoding="utf-8", newline="") as out:
            out.write(",".join(TRACE_COLUMNS) + "\n")
            for batch in _batched(self._traces.sorted_lines(), 10_000):
                chunk: list[str] = []
                person_rows: list[str] = []
                firearm_rows: list[str] = []
                for line in batch:
                    body, purchaser, possessor, fid, sale, ring = line[_KEY + 1 :].rsplit(",", 5)
                    this_year = self.years[int(line[:7]) - _DATE_BASE]
                    if this_year != year:
                        year, seq = this_year, 0
                    seq += 1
                    tno = f"T{year}-{seq:06d}"
                    chunk.append(f"{tno},{body}\n")
                    if purchaser:
                        person_rows.append(f"{TRACES_FILE},{tno},purchaser,{purchaser}\n")
                    if possessor:
                        person_rows.append(f"{TRACES_FILE},{tno},possessor,{possessor}\n")
                    pno = f"P{traced_sales[int(sale)]:08d}" if sale != "-1" else ""
                    firearm_rows.append(f"{fid},{pno},{tno},{ring}\n")
                out.write("".join(chunk))
                persons.write("".join(person_rows))
                firearms.write("".join(firearm_rows))
                self.truth_rows["persons.csv"] += len(person_rows)
                self.truth_rows["firearms.csv"] += len(firearm_rows)


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _gamma_scale(mean_days: float) -> float:
    """The scale of the gamma(2) part of a long time-to-crime so that its mean is ``mean_days``.

    Purchases cannot be older than ``OLDEST_PURCHASE`` (longer draws are drawn again, then cut),
    which shortens the mean; the scale is found by bisection on a fixed sample, so it is the same
    on every run.
    """
    rng = random.Random("cruce.synth:gamma-scale")  # noqa: S311 - synthetic data, not security
    sample = [(rng.randint(RECOVERY_START, AS_OF), [rng.gammavariate(2.0, 1.0) for _ in range(6)]) for _ in range(4000)]

    def mean(theta: float) -> float:
        total = 0
        for day, draws in sample:
            ttc = 0
            for g in draws:
                ttc = THREE_YEARS + round(g * theta)
                if day - ttc >= OLDEST_PURCHASE:
                    break
            total += day - max(OLDEST_PURCHASE, day - ttc)
        return total / len(sample)

    low, high = 100.0, 20000.0
    for _ in range(30):
        mid = (low + high) / 2
        if mean(mid) < mean_days:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _years(first: int, last: int) -> tuple[int, int]:
    return date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal()


_MISREAD = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8", "2": "Z", "Z": "2"}


def _misread(rng: random.Random, serial: str) -> str:
    """A serial as a tired clerk copies it: one look-alike character swapped, or the last dropped."""
    spots = [i for i, ch in enumerate(serial) if ch in _MISREAD]
    if not spots:
        return serial[:-1]
    i = rng.choice(spots)
    return serial[:i] + _MISREAD[serial[i]] + serial[i + 1 :]


_SPANISH_TYPES: dict[str, tuple[str, ...]] = {
    "pistol": ("pistola", "Pistola", "escuadra"),
    "rifle": ("fusil", "rifle", "Fusil"),
    "revolver": ("revólver", "Revólver"),
    "shotgun": ("escopeta", "Escopeta"),
    "machine_gun": ("ametralladora", "subametralladora"),
    "receiver_frame": ("receptor", "armazón"),
    "derringer": ("derringer",),
    "other": ("otra", "lanzagranadas"),
}


def _type_text(rng: random.Random, model: Model) -> str:
    """The firearm type as a Mexican recovery record spells it, often in Spanish."""
    roll = rng.random()
    if roll < 0.65:
        return model.type
    if roll < 0.9:
        if model.type == "rifle" and model.caliber == "7.62x39mm" and roll < 0.7:
            return "cuerno de chivo"
        return rng.choice(_SPANISH_TYPES[model.type])
    return model.type.upper()


def generate(out_dir: Path, *, scale: int, seed: int = 1, calibration: Calibration | None = None) -> SynthSummary:
    """Write a scenario of about ``scale`` source records (sales and traces) into ``out_dir``.

    Same ``scale`` and ``seed``, same bytes. ``calibration`` defaults to the published figures
    copied in ``cruce.synth.calibration``; pass ``Calibration.from_figures(*published_figures(folder))``
    to calibrate on the fact tables themselves.
    """
    if scale < MIN_SCALE:
        raise ValueError(f"scale must be at least {MIN_SCALE} records, not {scale}")
    return _Generator(Path(out_dir), scale, seed, calibration or DEFAULT).run()
