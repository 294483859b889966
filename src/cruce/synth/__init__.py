"""``cruce.synth``: seeded scenarios with known ground truth, written as the files cruce imports.

``generate(out_dir, scale=..., seed=...)`` writes the three flows into one folder — gun-shop
sales and firearm traces with straw-purchase rings; organizations, plazas, seizures, violence
and crossing counts; trafficking cases, screenings, tips and person crossings — with a
``manifest.json`` saying which mapping imports which file, and a ``truth/`` folder (which records
are the same person, which purchasers form a ring, who holds which plaza when...). See
docs/synth.md. ``cruce.synth.firearms.generate`` writes the firearms flow alone.
"""

from cruce.synth.calibration import DEFAULT, Calibration, published_figures
from cruce.synth.firearms import SALES_FILE, TRACE_COLUMNS, TRACES_FILE, SynthSummary
from cruce.synth.scenario import FLOWS, MANIFEST, ScenarioSummary, generate

__all__ = [
    "DEFAULT",
    "FLOWS",
    "MANIFEST",
    "SALES_FILE",
    "TRACES_FILE",
    "TRACE_COLUMNS",
    "Calibration",
    "ScenarioSummary",
    "SynthSummary",
    "generate",
    "published_figures",
]
