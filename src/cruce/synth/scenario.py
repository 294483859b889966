"""A whole scenario: the three flows written one after the other into one folder, one manifest.

The firearms flow runs first (it writes the person truth files the others append to), then
drugs and violence (organizations, plazas, seizures, violence, crossing counts), then people
(trafficking cases, screenings, tips, person crossings). Each flow hands the next a ``Cast``,
so that a ring boss of the firearms flow can turn up as a cartel member, at a port of entry and
in a tip — linked only in ``truth/``, never by shared keys in the source files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cruce.synth import firearms
from cruce.synth.calibration import Calibration
from cruce.synth.world import TRUTH_DIR, Cast, FlowOutput, SourceFile

MANIFEST = "manifest.json"
FLOWS: tuple[str, ...] = ("firearms", "drugs", "people")
FLOW_SHARES: dict[str, float] = {"firearms": 0.6, "drugs": 0.2, "people": 0.2}
"""Share of the scale each flow writes (renormalised over the flows asked for)."""


@dataclass(frozen=True)
class ScenarioSummary:
    """What ``generate`` wrote: every file with its rows, and counts per flow."""

    out_dir: Path
    scale: int
    seed: int
    flows: tuple[str, ...]
    sources: tuple[SourceFile, ...]
    truth: dict[str, int]
    counts: dict[str, dict[str, int]]

    @property
    def files(self) -> dict[str, int]:
        """Every file written (relative path) with its number of data rows."""
        return {s.path: s.rows for s in self.sources} | self.truth

    @property
    def records(self) -> int:
        """Source records written, all flows together."""
        return sum(s.rows for s in self.sources)


def _budgets(scale: int, flows: Sequence[str]) -> dict[str, int]:
    total = sum(FLOW_SHARES[f] for f in flows)
    budgets = {f: round(scale * FLOW_SHARES[f] / total) for f in flows}
    if "firearms" in budgets:
        budgets["firearms"] = max(firearms.MIN_SCALE, budgets["firearms"])
    return budgets


def _firearms(out_dir: Path, records: int, seed: int, calibration: Calibration | None, cast: Cast) -> FlowOutput:
    summary = firearms.generate(out_dir, scale=records, seed=seed, calibration=calibration)
    cast.traffickers.extend(summary.traffickers)
    sources = (
        SourceFile(firearms.SALES_FILE, firearms.SALES_MAPPING, summary.files[firearms.SALES_FILE]),
        SourceFile(firearms.TRACES_FILE, firearms.TRACES_MAPPING, summary.files[firearms.TRACES_FILE]),
    )
    truth = {path: rows for path, rows in summary.files.items() if path.startswith(f"{TRUTH_DIR}/")}
    counts = {"persons": summary.persons, "rings": summary.rings, "firearms": summary.firearms}
    return FlowOutput(sources, truth, counts)


def generate(
    out_dir: Path,
    *,
    scale: int,
    seed: int = 1,
    calibration: Calibration | None = None,
    flows: Sequence[str] = FLOWS,
) -> ScenarioSummary:
    """Write a scenario of about ``scale`` source records over ``flows`` into ``out_dir``.

    The firearms flow is always written (the others bring back its people). Same ``scale``,
    ``seed`` and ``flows``, same bytes.
    """
    unknown = [f for f in flows if f not in FLOWS]
    if unknown:
        raise ValueError(f"unknown flow(s) {', '.join(unknown)}; choose among {', '.join(FLOWS)}")
    chosen = tuple(f for f in FLOWS if f in flows or f == "firearms")
    if scale < firearms.MIN_SCALE:
        raise ValueError(f"scale must be at least {firearms.MIN_SCALE} records, not {scale}")
    out_dir = Path(out_dir)
    budgets = _budgets(scale, chosen)
    cast = Cast()
    outputs: dict[str, FlowOutput] = {"firearms": _firearms(out_dir, budgets["firearms"], seed, calibration, cast)}
    if "drugs" in chosen:
        from cruce.synth.drugs import write_drugs

        outputs["drugs"] = write_drugs(out_dir, records=budgets["drugs"], seed=seed, cast=cast)
    if "people" in chosen:
        from cruce.synth.people import write_people

        outputs["people"] = write_people(out_dir, records=budgets["people"], seed=seed, cast=cast)
    return _write_manifest(out_dir, scale, seed, chosen, outputs)


def _write_manifest(
    out_dir: Path, scale: int, seed: int, flows: tuple[str, ...], outputs: dict[str, FlowOutput]
) -> ScenarioSummary:
    sources = tuple(s for out in outputs.values() for s in out.sources)
    truth: dict[str, int] = {}
    for out in outputs.values():
        for path, rows in out.truth.items():
            key = path if path.startswith(f"{TRUTH_DIR}/") else f"{TRUTH_DIR}/{path}"
            truth[key] = truth.get(key, 0) + rows
    manifest = {
        "generator": "cruce.synth",
        "format": 2,
        "scale": scale,
        "seed": seed,
        "flows": list(flows),
        "files": [{"path": s.path, "mapping": s.mapping, "rows": s.rows} for s in sources],
        "truth": [{"path": path, "rows": rows} for path, rows in truth.items()],
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = {flow: out.counts for flow, out in outputs.items()}
    return ScenarioSummary(out_dir, scale, seed, flows, sources, truth, counts)
