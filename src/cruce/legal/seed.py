"""The seed: public figures and laws shipped with cruce, loaded through the built-in mappings.

Every row of ``seed/*.csv`` names its source (URL and title); a figure whose scope the source does
not give is not a record but a published claim (``seed/published_claims.csv``, read by
``cruce.legal.claims``). ``cruce legal seed`` imports the jurisdictions (US and Mexican states and
both federal levels as Locations with their codes, ``seed/jurisdictions.csv``, written from cruce's
tables of states) and the three record files into one dataset,
``legal-seed``, like any other import: with provenance, rejects and the checksum that makes a second
load a no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cruce.ingest.pipeline import ImportResult, import_file

SEED_DIR = Path(__file__).parent / "seed"
SEED_DATASET = "legal-seed"
SEED_FILES = (
    ("jurisdictions.csv", "cruce-jurisdictions"),  # the places the records below are about
    ("laws.csv", "cruce-laws"),
    ("enforcement.csv", "cruce-enforcement"),
    ("programs.csv", "cruce-programs"),
)


def load_seed(store: Any, *, dataset: str = SEED_DATASET, force: bool = False) -> list[ImportResult]:
    """Import the seed files into ``dataset`` (each through its mapping); already loaded: nothing added."""
    return [import_file(store, SEED_DIR / name, mapping, dataset=dataset, force=force) for name, mapping in SEED_FILES]
