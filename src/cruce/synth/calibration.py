"""The published figures the scenario generator is calibrated to, with where each was read.

Every number in ``PUBLISHED`` was read in the fact tables of ``../shared/data/atf_mexico_traces/``
(hand-built from ATF National Tracing Center and GAO figures; each table row carries the URL it
was read in). They are copied here so that the generator needs nothing outside the package at
run time; ``published_figures(folder)`` reads the same figures from the files, and a test checks
that the two agree whenever the folder is present. ``Calibration.from_figures`` turns the raw
figures into the shares the generator draws from; what it assumes beyond them is said there.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

# The figures, as published. Keys name the file they come from.
PUBLISHED: dict[str, float] = {
    # source_states_by_period.csv, 2022-2023, recovery scope Mexico, base "Mexico crime guns traced
    # to a U.S. purchaser": cuartopoder.mx citing the ATF report (Texas 43 %, Arizona 22 %,
    # California 9 %).
    "source_state_pct.TX": 43.0,
    "source_state_pct.AZ": 22.0,
    "source_state_pct.CA": 9.0,
    # southwest_border_share.csv, 2021-2023, Mexico: 76 % of traces that led conclusively to a U.S.
    # purchaser were sourced in the four Southwest border states (ATF report of 2025-01-08, via
    # Border Report). New Mexico's share is what remains of the 76 after TX, AZ and CA.
    "southwest_border_pct": 76.0,
    # totals_by_year.csv, 2016 (note): "just over 46 percent" of the 13,452 guns recovered in
    # Mexico were traced back to U.S. retailers (tacticalatlas.com on the ATF 2016 Mexico report).
    "traced_to_us_retailer_pct_2016": 46.0,
    # totals_by_period.csv, 2021-2023 (note): of 71,277 trace requests "only about a third" led
    # conclusively to a U.S. purchaser (ATF report of 2025-01-08, via Border Report).
    "traced_to_us_purchaser_share_2021_2023": 1 / 3,
    # totals_by_period.csv, 2009-2014 (GAO-16-223 via the press): 104,850 submitted; 73,684 U.S.;
    # 17,544 other countries; 13,622 undetermined.
    "submitted_2009_2014": 104850.0,
    "us_sourced_2009_2014": 73684.0,
    "non_us_sourced_2009_2014": 17544.0,
    "undetermined_2009_2014": 13622.0,
    # ttc.csv, 2006-2010 (ATF document filed in NSSF v. Jones, via the Washington Free Beacon):
    # 19,600 guns recovered in Mexico traced to the U.S., 15,995 of them with a time-to-crime of
    # three years or more; average time-to-crime 15 years.
    "ttc_traced_2006_2010": 19600.0,
    "ttc_3y_or_more_2006_2010": 15995.0,
    "ttc_mean_years_2006_2010": 15.0,
    # types_by_period.csv, 2012-2017, "98,654 recovered and traced" (ATF Office of Strategic
    # Intelligence and Information, via puntoporpunto.com).
    "type_pct.pistol": 46.71,
    "type_pct.rifle": 31.46,
    "type_pct.revolver": 13.9,
    "type_pct.shotgun": 5.66,
    "type_pct.other": 2.23,
}

# mexico_recovery_states.csv, 2021-2023: the Mexican states with the largest numbers of traced
# crime guns recovered, in the order printed (no counts; ATF report of 2025-01-08).
PUBLISHED_RECOVERY_STATES: tuple[str, ...] = (
    "Sonora",
    "Baja California",
    "Chihuahua",
    "Nuevo Leon",
    "Tamaulipas",
    "Guanajuato",
    "Michoacan",
    "Zacatecas",
    "Jalisco",
    "Sinaloa",
)

FIREARM_TYPES = ("pistol", "rifle", "revolver", "shotgun", "other")
SOURCE_STATES = ("TX", "AZ", "CA", "NM", "other")
_STATE_NAMES = {"Texas": "TX", "Arizona": "AZ", "California": "CA"}

# Assumed split of the traces that did not lead to a U.S. purchaser and were not foreign-made
# (the tables give no breakdown by reason): shares of all traces.
ASSUMED_NOT_COMPLETED: dict[str, float] = {
    "not_completed_obliterated": 0.12,
    "not_completed_no_record": 0.10,
    "not_completed_insufficient_data": 0.08,
    "not_completed_too_old": 0.04,
    "completed_dealer_only": 0.04,
    "not_completed_out_of_business": 0.02,
    "not_completed_no_serial": 0.02,
}
# Share of the listed recovery states among all recoveries (assumed: the report lists them as the
# states with the most recoveries but gives no counts).
ASSUMED_LISTED_STATES_SHARE = 0.75


@dataclass(frozen=True)
class Calibration:
    """The shares the generator draws from (each a tuple of (code, share) summing to 1)."""

    source_states: tuple[tuple[str, float], ...]
    """US state of the first retail sale, among traces completed to a purchaser (``other``: the rest)."""
    trace_status: tuple[tuple[str, float], ...]
    """Trace results among all traces (codes of the ``trace_status`` enum)."""
    firearm_types: tuple[tuple[str, float], ...]
    """Firearm type among all traces (``other``: machine guns, frames, launchers, derringers)."""
    ttc_3y_share: float
    """Share of completed traces with a time-to-crime of three years or more."""
    ttc_mean_years: float
    """Mean time-to-crime of completed traces, in years."""
    recovery_states: tuple[str, ...]
    """The Mexican states reported with most recoveries, most weight first."""
    listed_states_share: float

    @classmethod
    def from_figures(cls, figures: dict[str, float], recovery_states: tuple[str, ...]) -> Calibration:
        tx, az, ca = (figures[f"source_state_pct.{s}"] for s in ("TX", "AZ", "CA"))
        border = figures["southwest_border_pct"]
        states = {"TX": tx, "AZ": az, "CA": ca, "NM": border - tx - az - ca, "other": 100.0 - border}
        # Completed to a purchaser: between the 2016 share (46 %) and the 2021-2023 one (a third).
        completed = round(
            (figures["traced_to_us_retailer_pct_2016"] / 100 + figures["traced_to_us_purchaser_share_2021_2023"]) / 2, 2
        )
        foreign = round(figures["non_us_sourced_2009_2014"] / figures["submitted_2009_2014"], 3)
        status = {"completed": completed, "not_completed_foreign_not_imported": foreign, **ASSUMED_NOT_COMPLETED}
        status["not_completed_other"] = round(1.0 - sum(status.values()), 3)
        types = {t: figures[f"type_pct.{t}"] for t in FIREARM_TYPES}
        return cls(
            source_states=_normalised(states),
            trace_status=_normalised(status),
            firearm_types=_normalised(types),
            ttc_3y_share=figures["ttc_3y_or_more_2006_2010"] / figures["ttc_traced_2006_2010"],
            ttc_mean_years=figures["ttc_mean_years_2006_2010"],
            recovery_states=recovery_states,
            listed_states_share=ASSUMED_LISTED_STATES_SHARE,
        )


def _normalised(values: dict[str, float]) -> tuple[tuple[str, float], ...]:
    total = sum(values.values())
    return tuple((k, v / total) for k, v in values.items())


DEFAULT = Calibration.from_figures(PUBLISHED, PUBLISHED_RECOVERY_STATES)


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _note_number(note: str, pattern: str) -> float:
    match = re.search(pattern, note)
    if match is None:
        raise ValueError(f"no {pattern!r} in {note!r}")
    return float(match.group(1))


def published_figures(folder: Path) -> tuple[dict[str, float], tuple[str, ...]]:
    """Read ``PUBLISHED`` and ``PUBLISHED_RECOVERY_STATES`` from the fact tables in ``folder``.

    ``folder`` is ``../shared/data/atf_mexico_traces`` (see its README). Pass the result to
    ``Calibration.from_figures`` to generate from the files rather than from the copied figures.
    """
    out: dict[str, float] = {}
    for row in _rows(folder, "source_states_by_period.csv"):
        if (row["period_start"], row["period_end"], row["recovery_scope"]) == ("2022", "2023", "Mexico"):
            out[f"source_state_pct.{_STATE_NAMES[row['state']]}"] = float(row["share_pct"])
    for row in _rows(folder, "southwest_border_share.csv"):
        if (row["period_start"], row["period_end"], row["recovery_scope"]) == ("2021", "2023", "Mexico"):
            out["southwest_border_pct"] = float(row["share_pct"])
    for row in _rows(folder, "totals_by_year.csv"):
        if row["year"] == "2016":
            out["traced_to_us_retailer_pct_2016"] = _note_number(row["note"], r"just over (\d+) percent")
    for row in _rows(folder, "totals_by_period.csv"):
        period = (row["period_start"], row["period_end"])
        if period == ("2021", "2023") and "about a third" in row["note"]:
            out["traced_to_us_purchaser_share_2021_2023"] = 1 / 3
        if period == ("2009", "2014"):
            out["submitted_2009_2014"] = float(row["submitted"])
            out["us_sourced_2009_2014"] = float(row["us_sourced"])
            out["non_us_sourced_2009_2014"] = float(row["non_us_sourced"])
            out["undetermined_2009_2014"] = float(row["undetermined"])
    for row in _rows(folder, "ttc.csv"):
        if (row["period_start"], row["period_end"]) != ("2006", "2010"):
            continue
        measure = row["measure"]
        if measure.startswith("firearms recovered in Mexico and traced"):
            out["ttc_traced_2006_2010"] = float(row["value"])
        elif measure.startswith("of which time-to-crime of 3 or more"):
            out["ttc_3y_or_more_2006_2010"] = float(row["value"])
        elif measure.startswith("average time-to-crime, Mexico"):
            out["ttc_mean_years_2006_2010"] = float(row["value"])
    for row in _rows(folder, "types_by_period.csv"):
        if (row["period_start"], row["period_end"]) == ("2012", "2017"):
            out[f"type_pct.{row['firearm_type']}"] = float(row["share_pct"])
    listed = [
        (int(row["listed_order"]), row["mexican_state"])
        for row in _rows(folder, "mexico_recovery_states.csv")
        if (row["period_start"], row["period_end"]) == ("2021", "2023")
    ]
    return out, tuple(name for _, name in sorted(listed))
