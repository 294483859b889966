"""``cruce.synth``: seeded scenarios with known ground truth, written as the files cruce imports.

``generate(out_dir, scale=..., seed=...)`` writes gun-shop sales and firearm traces in the
layouts of built-in mappings, a ``manifest.json`` saying which mapping imports which file, and a
``truth/`` folder (which records are the same person, which purchasers form a straw ring, which
sale and trace are the same gun). See docs/synth.md.
"""

from cruce.synth.calibration import DEFAULT, Calibration, published_figures
from cruce.synth.firearms import MANIFEST, SALES_FILE, TRACE_COLUMNS, TRACES_FILE, SynthSummary, generate

__all__ = [
    "DEFAULT",
    "MANIFEST",
    "SALES_FILE",
    "TRACES_FILE",
    "TRACE_COLUMNS",
    "Calibration",
    "SynthSummary",
    "generate",
    "published_figures",
]
