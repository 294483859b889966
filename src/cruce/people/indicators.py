"""Trafficking indicators in free text: tips, reports, notes and online ads in English, Spanish or both.

The rules are data (``lexicon.yaml``, versioned): each names an indicator, its family (recruitment,
control, sexual exploitation, minors, labour exploitation) and regular expressions per language.
Texts are folded (accents, case, curly quotes, blanks) before matching so that "pasaporte",
"PASAPORTE" and "pasáporte" read alike, and every hit's span is mapped back to the original text,
which is what an analyst sees highlighted. Rules of both languages run on every text: tips mix them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from cruce.yaml_loader import safe_load

FAMILIES = ("recruitment", "control", "sexual_exploitation", "minors", "labor_exploitation")
LANGUAGES = ("en", "es")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00b4": "'"})
_NEGATIONS = frozenset(
    (
        "no", "not", "never", "nobody", "noone", "none", "nunca", "jamas", "nadie", "ni", "tampoco", "cannot",
        "dont", "didnt", "doesnt", "wont", "cant", "isnt", "arent", "wasnt", "werent", "couldnt", "wouldnt",
    )
)  # fmt: skip
_CONDITIONALS = frozenset(("si", "if", "unless", "cuando", "when", "whether"))
_CLAUSE_END = re.compile(r"[.,;:!?()\[\]\n]|\b(?:but|pero|aunque|although|sino|and|y|e|then|luego)\b")
_WORD = re.compile(r"[\w']+")
_NEGATION_WINDOW = 3


@dataclass(frozen=True)
class Rule:
    """One indicator: its id (the synth's indicator code where there is one), family and patterns."""

    id: str
    family: str
    label: dict[str, str]
    patterns: dict[str, re.Pattern[str]]
    negatable: bool = True


@dataclass(frozen=True)
class Family:
    id: str
    weight: int
    label: dict[str, str]
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    version: str
    families: dict[str, Family]
    rules: tuple[Rule, ...]
    per_extra_indicator: int
    levels: dict[str, int]

    def label(self, indicator: str, lang: str) -> str:
        """An indicator's label in ``lang`` (English if it has none there; the id if unknown)."""
        rule = next((r for r in self.rules if r.id == indicator), None)
        return (rule.label.get(lang) or rule.label.get("en") or indicator) if rule else indicator

    def family_of(self, code: str) -> str | None:
        """The family of an indicator code (a rule id or a code of ``cruce synth``)."""
        return next((f.id for f in self.families.values() if code in f.codes), None)


@dataclass(frozen=True)
class Hit:
    """A match: ``start``/``end`` index the original text; ``language`` is the matching pattern's."""

    start: int
    end: int
    text: str
    indicator: str
    family: str
    language: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start, "end": self.end, "text": self.text, "indicator": self.indicator,
            "family": self.family, "language": self.language,
        }  # fmt: skip


# -- the lexicon --------------------------------------------------------------------------------
def _expand(pattern: str, words: dict[str, str]) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: words.get(m.group(1), m.group(0)), pattern)


def _compile(patterns: list[str], words: dict[str, str]) -> re.Pattern[str]:
    """One expression for a rule's patterns in one language, matched on folded (lower-case) text."""
    expanded = [_fold_pattern(_expand(p, words)) for p in patterns]
    upper = [p for p in expanded if re.sub(r"\\.", "", p) != re.sub(r"\\.", "", p).lower()]
    if upper:
        raise ValueError(f"patterns must be lower case (the text is folded): {upper[0]!r}")
    alternatives = "|".join(f"(?:{p})" for p in expanded)
    return re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w])")


def _fold_pattern(pattern: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", pattern) if not unicodedata.combining(c))


def parse_lexicon(data: dict[str, Any]) -> Lexicon:
    """A lexicon from its YAML data (checked: every rule's family exists and it has patterns)."""
    families = {
        fid: Family(fid, int(f["weight"]), dict(f["label"]), tuple(f.get("codes", ())))
        for fid, f in data["families"].items()
    }
    words = {k: str(v) for k, v in (data.get("words") or {}).items()}
    rules = []
    for r in data["rules"]:
        if r["family"] not in families:
            raise ValueError(f"rule {r['id']}: unknown family {r['family']!r}")
        patterns = {lang: _compile(list(ps), words) for lang, ps in r["patterns"].items() if ps}
        if not patterns:
            raise ValueError(f"rule {r['id']}: no patterns")
        rules.append(Rule(r["id"], r["family"], dict(r["label"]), patterns, bool(r.get("negatable", True))))
    triage = data.get("triage") or {}
    return Lexicon(
        str(data["version"]), families, tuple(rules), int(triage.get("per_extra_indicator", 0)),
        {k: int(v) for k, v in (triage.get("levels") or {}).items()},
    )  # fmt: skip


@cache
def lexicon() -> Lexicon:
    """The shipped lexicon (``cruce/people/lexicon.yaml``), read once."""
    return parse_lexicon(safe_load(files("cruce.people").joinpath("lexicon.yaml").read_text(encoding="utf-8")))


# -- folding ------------------------------------------------------------------------------------
class _FoldTable(dict[int, str]):
    """``str.translate``'s table: each character folded on first sight, then remembered."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = " " if ch.isspace() else _fold_char(ch)
        self[code] = folded
        return folded


def _fold_char(ch: str) -> str:
    parts = unicodedata.normalize("NFD", ch.translate(_QUOTES))
    return "".join(p for p in parts if not unicodedata.combining(p)).casefold()


_FOLD = _FoldTable()


def fold(text: str) -> tuple[str, Sequence[int]]:
    """The text as the rules read it, and for each of its characters the index in ``text``.

    Accents go (NFD, combining marks dropped), letters are case-folded, curly quotes become
    straight and every run of blanks one space, so a folded span maps back to the original.
    """
    quick = text.translate(_FOLD)
    one_for_one = text.isascii() or all(len(_FOLD[ord(c)]) == 1 for c in set(text))
    if one_for_one and "  " not in quick:
        return quick, range(len(text))  # the usual case
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        folded = _FOLD[ord(ch)]
        if folded == " " and out and out[-1] == " ":
            continue
        out.append(folded)
        origin.extend([i] * len(folded))
    return "".join(out), origin


def _negated(folded: str, start: int) -> bool:
    """Whether a negation among the few words before ``start`` (same clause) denies the hit."""
    before = folded[max(0, start - 80) : start]
    ends = list(_CLAUSE_END.finditer(before))
    if ends:
        before = before[ends[-1].end() :]
    words = _WORD.findall(before)[-_NEGATION_WINDOW:]
    context = _WORD.findall(folded[max(0, start - 120) : start])
    for i in range(len(words) - 1, -1, -1):
        if words[i] in _NEGATIONS or words[i].endswith("n't"):
            at = len(context) - (len(words) - i)
            return not any(w in _CONDITIONALS for w in context[max(0, at - 2) : at])
    return False


# -- scanning -----------------------------------------------------------------------------------
def scan(text: str, lex: Lexicon | None = None) -> list[Hit]:
    """Every indicator found in ``text``, in order of position (overlapping hits kept)."""
    lex = lex or lexicon()
    folded, origin = fold(text)
    seen: set[tuple[str, int, int]] = set()
    hits: list[Hit] = []
    for rule in lex.rules:
        for lang, pattern in rule.patterns.items():
            for m in pattern.finditer(folded):
                a, b = m.span()
                if a == b or (rule.id, a, b) in seen:
                    continue
                seen.add((rule.id, a, b))
                if rule.negatable and _negated(folded, a):
                    continue
                start, end = origin[a], origin[b - 1] + 1
                hits.append(Hit(start, end, text[start:end], rule.id, rule.family, lang))
    hits.sort(key=lambda h: (h.start, -h.end, h.indicator))
    return hits


def families(text: str, lex: Lexicon | None = None) -> set[str]:
    """The indicator families found in ``text``."""
    return {h.family for h in scan(text, lex)}


def highlight(text: str, hits: Iterable[Hit], lang: str | None = None) -> str:
    """``text`` as safe HTML: everything escaped, each hit wrapped in ``<mark data-indicator=…>``.

    Overlapping hits become one mark naming all their indicators (space-separated) and families;
    with ``lang``, the mark's ``title`` gives the indicators' labels in that language.
    """
    spans = sorted((h.start, h.end, h) for h in hits)
    merged: list[tuple[int, int, list[Hit]]] = []
    for start, end, hit in spans:
        if merged and start < merged[-1][1]:
            s, e, group = merged[-1]
            merged[-1] = (s, max(e, end), [*group, hit])
        else:
            merged.append((start, end, [hit]))
    out: list[str] = []
    at = 0
    for start, end, group in merged:
        indicators = " ".join(dict.fromkeys(h.indicator for h in group))
        fams = " ".join(dict.fromkeys(h.family for h in group))
        title = ""
        if lang:
            labels = "; ".join(dict.fromkeys(lexicon().label(h.indicator, lang) for h in group))
            title = f' title="{html.escape(labels)}"'
        out.append(html.escape(text[at:start]))
        out.append(
            f'<mark data-indicator="{html.escape(indicators)}" data-family="{html.escape(fams)}"{title}>'
            f"{html.escape(text[start:end])}</mark>"
        )
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


# -- triage -------------------------------------------------------------------------------------
def triage(text: str, lex: Lexicon | None = None) -> dict[str, Any]:
    """A tip's triage score (0–100), its level and its hits.

    The score adds the weight of each family found (``lexicon.yaml``: minors 40, sexual
    exploitation 35, control 25, labour exploitation 20, recruitment 15) and a few points for each
    further indicator; a level is the highest whose floor the score reaches (none at 0).
    """
    lex = lex or lexicon()
    hits = scan(text, lex)
    found = {h.family for h in hits}
    indicators = {h.indicator for h in hits}
    score = sum(lex.families[f].weight for f in found)
    score += lex.per_extra_indicator * max(0, len(indicators) - len(found))
    score = min(100, score)
    level = next((name for name, floor in sorted(lex.levels.items(), key=lambda x: -x[1]) if score >= floor), "none")
    return {"score": score, "level": level, "families": sorted(found), "hits": hits, "version": lex.version}
