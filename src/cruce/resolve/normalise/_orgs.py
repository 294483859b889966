"""Organization names: legal forms, articles, "Cártel de …" and acronyms."""

from __future__ import annotations

import re

from cruce.resolve.normalise._text import fold

# Legal forms, folded and split into words, longest first so "s a de c v" goes before "s a".
_LEGAL = sorted(
    (
        tuple(form.split())
        for form in (
            "s a de c v", "sa de cv", "s a b de c v", "sab de cv", "s a p i de c v", "sapi de cv", "s a p i",
            "sapi", "s de r l de c v", "s de rl de cv", "s de r l", "s de rl", "s r l", "srl", "s a", "sa",
            "s c", "sc", "a c", "ac", "i a p", "iap", "s en c", "s c p", "de c v", "de cv", "llc", "l l c",
            "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "l p", "lp", "llp",
            "l l p", "pllc", "plc", "gmbh", "pc", "p c",
        )
    ),
    key=len,
    reverse=True,
)  # fmt: skip
_ARTICLES = frozenset({"el", "la", "los", "las", "the"})
_JOINERS = frozenset({"de", "del", "la", "los", "las", "of", "the", "and", "y", "el"})
_DBA = re.compile(r"\b(?:d\s*/\s*b\s*/\s*a|dba|doing business as)\b\.?", re.IGNORECASE)


def _strip_legal(words: list[str]) -> list[str]:
    changed = True
    while changed and words:
        changed = False
        for form in _LEGAL:
            if len(words) > len(form) and tuple(words[-len(form) :]) == form:
                words = words[: -len(form)]
                changed = True
                break
        while len(words) > 1 and words[-1] in ("and", "y"):
            words = words[:-1]
    return words


def _join_initials(words: list[str]) -> list[str]:
    """'c d g' (from C.D.G.) -> 'cdg'."""
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        out.extend(["".join(run)] if len(run) >= 2 else run)
        run = []
        if word:
            out.append(word)
    return out


def _words(text: str, *, articles: bool = False) -> list[str]:
    words = fold(re.sub(r"\([^()]*\)", " ", text).replace("&", " and ")).split()
    words = _strip_legal(words)
    words = _join_initials(words)
    while not articles and len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return words


def normalise_org_name(text: str) -> str:
    """``"Los Hermanos Pérez, S.A. de C.V."`` -> ``"hermanos perez"``; ``"Cártel del Golfo"`` -> ``"cartel golfo"``.

    Folded; legal forms at the end dropped (S.A. de C.V., S. de R.L., S.A.P.I., A.C., LLC, Inc.,
    Corp., Co., Ltd., L.P. …); a leading article dropped (El, La, Los, Las, The); dotted
    acronyms joined (C.D.G. -> cdg); "&" read as "and". A cartel is written "cartel" followed by its
    name without the "de"/"del": "Cártel de Sinaloa", "Sinaloa Cartel" and "El Cartel de Sinaloa"
    all give "cartel sinaloa".
    """
    words = _words(_DBA.split(text)[0])
    if len(words) > 1 and words[-1] == "cartel" and "cartel" not in words[:-1]:
        words = ["cartel", *words[:-1]]
    if len(words) > 2 and words[0] == "cartel":
        rest = words[1:]
        while len(rest) > 1 and rest[0] in _JOINERS:
            rest = rest[1:]
        words = ["cartel", *rest]
    return " ".join(words)


def _acronyms(words: list[str]) -> list[str]:
    with_joiners = "".join(w[0] for w in words)
    without = "".join(w[0] for w in words if w not in _JOINERS)
    return [a for a in dict.fromkeys((with_joiners, without)) if len(a) >= 3 and len(words) >= 2]


def org_aliases(text: str) -> tuple[str, ...]:
    """The normalised forms an organization's name can take, its own normalised name first.

    Only what can be read from the spelling: the name without "Cártel", the name with and
    without a bracketed or "d/b/a" second name, acronyms of three letters or more with and without
    the small words ("Cártel del Golfo" -> "cdg"; "Cártel de Jalisco Nueva Generación" -> "cjng").
    Translations ("Gulf Cartel") are not guessed.
    """
    names = [p for p in (part.strip() for part in _DBA.split(text)) if p]
    out: list[str] = []
    for name in names:
        inner = re.findall(r"\(([^()]*)\)", name)
        bare = re.sub(r"\([^()]*\)", " ", name)
        for part in (bare, *inner):
            norm = normalise_org_name(part)
            if not norm:
                continue
            out.append(norm)
            words = norm.split()
            if words[0] == "cartel" and len(words) > 1:
                out.append(" ".join(words[1:]))
            out.extend(_acronyms(_words(part, articles=True)) + _acronyms(_words(part)))
    return tuple(dict.fromkeys(out))
