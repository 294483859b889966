"""How well the indicator rules find what ``cruce synth`` planted, beside a plain keyword list.

The truth of a tip is its planted indicator codes (``truth/tips.csv``); the truth of a case
document is what its template states for the case's exploitation type (``DOCUMENT_TRUTH``:
every note or report tells how the victim was recruited with a job offer, then the detail of
the exploitation). Each text counts once per family: found or not, planted or not.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cruce.people.indicators import FAMILIES, LANGUAGES, Lexicon, lexicon, scan

# The baseline: one plain keyword per family and language, found as a lower-case substring.
KEYWORDS: dict[str, dict[str, str]] = {
    "recruitment": {"en": "job offer", "es": "oferta de trabajo"},
    "control": {"en": "passport", "es": "papeles"},
    "sexual_exploitation": {"en": "prostitution", "es": "prostitución"},
    "minors": {"en": "underage", "es": "menor de edad"},
    "labor_exploitation": {"en": "unpaid", "es": "sin pago"},
}
# The families a case document's template states, by the case's exploitation type (see
# ``_DOC_DETAIL`` in cruce.synth.people): the job offer, then what was done to the victim.
DOCUMENT_TRUTH: dict[str, tuple[str, ...]] = {
    "sexual_exploitation": ("recruitment", "sexual_exploitation", "labor_exploitation"),
    "forced_labour": ("recruitment", "labor_exploitation", "control"),
    "forced_marriage": ("recruitment", "control"),
    "other": ("recruitment", "labor_exploitation", "control"),
}

Text = tuple[str, str, str, frozenset[str]]  # (source, language, text, true families)


def keyword_families(text: str) -> set[str]:
    """The baseline's families: those whose English or Spanish keyword the text contains."""
    low = text.lower()
    return {f for f, words in KEYWORDS.items() if any(w in low for w in words.values())}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def scenario_texts(scenario: Path, lex: Lexicon | None = None) -> list[Text]:
    """The tips and case documents of a ``cruce synth`` scenario, each with its true families."""
    lex = lex or lexicon()
    scenario = Path(scenario)
    truth = {r["tip_id"]: r for r in _read(scenario / "truth" / "tips.csv")}
    texts: list[Text] = []
    for row in _read(scenario / "tips.csv"):
        t = truth[row["tip_id"]]
        codes = [c for c in t["indicators"].split(";") if c]
        texts.append(("tips", t["language"], row["text"], frozenset(f for c in codes if (f := lex.family_of(c)))))
    case_of = {r["doc_id"]: r["case_id"] for r in _read(scenario / "truth" / "documents.csv")}
    etype = {r["case_id"]: r["exploitation_type"] for r in _read(scenario / "truth" / "cases.csv")}
    for row in _read(scenario / "case-documents.csv"):
        planted = DOCUMENT_TRUTH[etype[case_of[row["doc_id"]]]]
        texts.append(("documents", row["language"], row["text"], frozenset(planted)))
    return texts


def _scores(tp: int, fp: int, fn: int) -> dict[str, Any]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def score_texts(texts: Iterable[Text], finder: Callable[[str], set[str]]) -> list[dict[str, Any]]:
    """Precision, recall and F1 per language and family, and over all families ("all")."""
    counts: dict[tuple[str, str], list[int]] = {}
    for _source, lang, text, truth in texts:
        found = finder(text)
        for family in FAMILIES:
            cell = counts.setdefault((lang, family), [0, 0, 0])
            cell[0] += family in found and family in truth
            cell[1] += family in found and family not in truth
            cell[2] += family not in found and family in truth
    rows = []
    for lang in [x for x in LANGUAGES if any(k[0] == x for k in counts)]:
        total = [0, 0, 0]
        for family in FAMILIES:
            tp, fp, fn = counts.get((lang, family), [0, 0, 0])
            total = [total[0] + tp, total[1] + fp, total[2] + fn]
            rows.append({"language": lang, "family": family, **_scores(tp, fp, fn)})
        rows.append({"language": lang, "family": "all", **_scores(*total)})
    return rows


def evaluate(scenario: Path, lex: Lexicon | None = None) -> dict[str, Any]:
    """The rules and the keyword baseline on a synth scenario's tips and documents, side by side."""
    lex = lex or lexicon()
    texts = scenario_texts(scenario, lex)
    started = time.perf_counter()
    ours = score_texts(texts, lambda t: {h.family for h in scan(t, lex)})
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    baseline = score_texts(texts, keyword_families)
    base_s = time.perf_counter() - started
    rows = [
        {**o, "baseline_precision": b["precision"], "baseline_recall": b["recall"], "baseline_f1": b["f1"]}
        for o, b in zip(ours, baseline, strict=True)
    ]
    return {
        "lexicon_version": lex.version,
        "texts": {s: sum(1 for t in texts if t[0] == s) for s in ("tips", "documents")},
        "texts_by_language": {lang: sum(1 for t in texts if t[1] == lang) for lang in LANGUAGES},
        "seconds": round(ours_s, 3),
        "baseline_seconds": round(base_s, 3),
        "rows": rows,
    }
