"""The bilingual screening instrument (``screening.yaml``) and its transparent scoring.

The instrument is data: domains, questions in English and Spanish, the HTCDS codes a "yes"
supports and a weight. ``score`` adds the weights of the "yes" answers and compares the total
with the cut-offs; it returns the answers that drove the result, so a caseworker sees why. The
result is guidance, not a legal determination (``Instrument.guidance``, shown with every result).

Cut-offs: the instrument's own (``cutoffs:`` in the YAML), replaced per deployment by
``CRUCE_SCREENING_CUTOFFS`` ("likely=10,possible=4") or ``Settings.screening_cutoffs``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cruce.i18n import _
from cruce.schema.loader import default_schema
from cruce.yaml_loader import safe_load

INSTRUMENT_FILE = Path(__file__).with_name("screening.yaml")
CUTOFFS_ENV = "CRUCE_SCREENING_CUTOFFS"
ANSWERS = ("yes", "no", "unsure", "declined")
RECOMMENDATIONS = ("likely", "possible", "not_indicated")
Answer = Literal["yes", "no", "unsure", "declined"]


class InstrumentError(ValueError):
    """The instrument file or a cut-off setting is not valid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    en: str = Field(min_length=1)
    es: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.es if lang == "es" else self.en


class Cutoffs(_Strict):
    """Points at or above which the recommendation is "likely" or "possible"."""

    likely: int = Field(ge=1)
    possible: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Cutoffs:
        if self.possible > self.likely:
            raise ValueError("the 'possible' cut-off must not be above the 'likely' one")
        return self


class AnswerChoice(Text):
    code: Answer


class Domain(Text):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")


class Question(Text):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)
    domain: str
    weight: int = Field(ge=0, le=10)
    core: bool = False  # a "yes" makes the recommendation at least "possible"
    means_of_control: tuple[str, ...] = ()
    exploitation: tuple[str, ...] = ()


class Instrument(_Strict):
    version: str = Field(min_length=1)
    name: Text
    guidance: Text
    cutoffs: Cutoffs
    answers: tuple[AnswerChoice, ...]
    domains: tuple[Domain, ...]
    questions: tuple[Question, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        if tuple(a.code for a in self.answers) != ANSWERS:
            raise ValueError(f"answers must be, in order: {', '.join(ANSWERS)}")
        domains = [d.id for d in self.domains]
        ids = [q.id for q in self.questions]
        for name, seen in (("domain", domains), ("question", ids)):
            if len(set(seen)) != len(seen):
                raise ValueError(f"a {name} id is used twice")
        for q in self.questions:
            if q.domain not in domains:
                raise ValueError(f"question {q.id}: unknown domain {q.domain}")
        empty = [d for d in domains if not any(q.domain == d for q in self.questions)]
        if empty:
            raise ValueError(f"domains without questions: {', '.join(empty)}")
        return self

    def question(self, question_id: str) -> Question | None:
        return self._by_id().get(question_id)

    def in_domain(self, domain_id: str) -> list[Question]:
        return [q for q in self.questions if q.domain == domain_id]

    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}


def _check_codes(instrument: Instrument) -> None:
    """Every code a question names must be an HTCDS code of the schema's enums."""
    enums = default_schema().enums
    for q in instrument.questions:
        for enum, codes in (("means_of_control", q.means_of_control), ("exploitation_type", q.exploitation)):
            unknown = sorted(set(codes) - set(enums[enum].values))
            if unknown:
                raise InstrumentError(f"question {q.id}: {', '.join(unknown)} not in the {enum} enum")


def load_instrument(path: Path = INSTRUMENT_FILE) -> Instrument:
    """Read and check an instrument file (structure, domains covered, HTCDS codes)."""
    try:
        instrument = Instrument.model_validate(safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InstrumentError(f"{path.name}: {where}: {first['msg']}") from None
    _check_codes(instrument)
    return instrument


@functools.cache
def instrument() -> Instrument:
    """cruce's own instrument, read once."""
    return load_instrument()


def cutoffs_from(text: str | None, default: Cutoffs) -> Cutoffs:
    """Cut-offs written as "likely=10,possible=4" (either may be left out), over ``default``."""
    if not text or not text.strip():
        return default
    values: dict[str, int] = default.model_dump()
    for part in text.split(","):
        key, _sep, value = part.partition("=")
        key = key.strip()
        if key not in values or not value.strip().isdigit():
            raise InstrumentError(
                _("{env}: write the cut-offs as likely=N,possible=N (got {part})").format(env=CUTOFFS_ENV, part=part)
            )
        values[key] = int(value)
    try:
        return Cutoffs(**values)
    except ValidationError as exc:
        raise InstrumentError(f"{CUTOFFS_ENV}: {exc.errors()[0]['msg']}") from None


def effective_cutoffs(override: Mapping[str, int] | None = None) -> Cutoffs:
    """The deployment's cut-offs: ``override`` (Settings), else the environment, else the instrument's."""
    base = cutoffs_from(os.environ.get(CUTOFFS_ENV), instrument().cutoffs)
    if not override:
        return base
    try:
        return Cutoffs(**{**base.model_dump(), **override})
    except ValidationError as exc:
        raise InstrumentError(f"screening_cutoffs: {exc.errors()[0]['msg']}") from None


@dataclass(frozen=True)
class Driver:
    """One "yes" that added points, and the HTCDS codes it supports."""

    question: str
    domain: str
    points: int
    core: bool
    means_of_control: tuple[str, ...]
    exploitation: tuple[str, ...]


@dataclass(frozen=True)
class Score:
    points: int
    recommendation: str  # likely, possible or not_indicated
    drivers: tuple[Driver, ...]
    cutoffs: Cutoffs
    answered: int
    total: int
    means_of_control: tuple[str, ...]  # every code supported, in the instrument's order
    exploitation: tuple[str, ...]
    core_raised: bool  # a core "yes" lifted the total's recommendation to "possible"


def score(answers: Mapping[str, str | None], cutoffs: Cutoffs | None = None, tool: Instrument | None = None) -> Score:
    """The points of the "yes" answers, the recommendation the cut-offs give, and the drivers.

    ``answers`` maps question ids to yes/no/unsure/declined (None or unknown ids count as not
    answered). Heaviest drivers first, then in the instrument's order.
    """
    tool = tool or instrument()
    cutoffs = cutoffs or tool.cutoffs
    drivers = [
        Driver(q.id, q.domain, q.weight, q.core, q.means_of_control, q.exploitation)
        for q in tool.questions
        if answers.get(q.id) == "yes"
    ]
    points = sum(d.points for d in drivers)
    by_points = "likely" if points >= cutoffs.likely else "possible" if points >= cutoffs.possible else "not_indicated"
    core_raised = by_points == "not_indicated" and any(d.core for d in drivers)
    order = {q.id: i for i, q in enumerate(tool.questions)}
    return Score(
        points=points,
        recommendation="possible" if core_raised else by_points,
        drivers=tuple(sorted(drivers, key=lambda d: (-d.points, order[d.question]))),
        cutoffs=cutoffs,
        answered=sum(1 for q in tool.questions if answers.get(q.id) in ANSWERS),
        total=len(tool.questions),
        means_of_control=_union(d.means_of_control for d in drivers),
        exploitation=_union(d.exploitation for d in drivers),
        core_raised=core_raised,
    )


def _union(groups: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for code in group:
            seen.setdefault(code, None)
    return tuple(seen)
