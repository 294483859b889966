"""Trafficking indicators in free text: what an analyst relies on when a tip is scanned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cruce.people.indicators import FAMILIES, families, fold, highlight, lexicon, parse_lexicon, scan, triage
from cruce.people.indicators_eval import evaluate, keyword_families, score_texts
from cruce.synth import generate

HELD_OUT_SEED = 11  # the lexicon was written looking at seed 7 only

# Realistic sentences written by hand, not by the generator: accents missing, slang, misspellings,
# mixed languages, and texts that look close but state no indicator.
HANDMADE: list[tuple[str, str, set[str]]] = [
    ("en", "They promised my sister a job cleaning hotels in Houston, but when she got there it was something else.",
     {"recruitment"}),
    ("en", "Ad on facebook says no experience needed, travel paid, earn $800 a week in the US.", {"recruitment"}),
    ("en", "The guy kept there pasports and says they cant leave until they pay him back.", {"control"}),
    ("en", "she owes the coyote 6k and he says she has to work it off", {"control"}),
    ("en", "they wont let the girls go out alone, a man always watches the door", {"control"}),
    ("en", "He took her phone so she can't call her family.", {"control"}),
    ("en", "The manager threatened to call ICE on them if they complained.", {"control"}),
    ("en", "NEW IN TOWN sweet latina girls, incall/outcall 24/7, 150 roses", {"sexual_exploitation"}),
    ("en", "I think the massage parlor on 5th street is a front, the women live inside.", {"sexual_exploitation"}),
    ("en", "Her boyfriend is pimping her out at the truck stop and she looks like she's 15 years old.",
     {"sexual_exploitation", "minors"}),
    ("en", "There are teenagers working at the packing plant at night.", {"minors"}),
    ("en", "The workers in the onion fields work from dawn to dusk and never get paid.", {"labor_exploitation"}),
    ("en", "They are crowded into a trailer and the boss keeps their paychecks.", {"labor_exploitation"}),
    ("en", "They didn't take my passport and I can go home when I want.", set()),
    ("en", "My neighbor is looking for a job offer in construction.", set()),
    ("en", "Nobody threatened them, they just left.", set()),
    ("en", "Car parked in front of the school every day, looks suspicious.", set()),
    ("en", "I paid my rent late this month, landlord was upset.", set()),
    ("es", "A mi prima le ofrecieron chamba de mesera en Monterrey y resulto que era en un table.", {"recruitment"}),
    ("es", "Piden muchachas sin experiencia, pasaje pagado y dinero facil en el otro lado.", {"recruitment"}),
    ("es", "el patron les kito los papeles a todos y no los deja salir del rancho", {"control"}),
    ("es", "Dice que todavia le debe 30 mil pesos al pollero y que tiene que pagar la deuda trabajando.", {"control"}),
    ("es", "A las morras las tienen encerradas en un cuarto, las vigilan dia y noche.", {"control"}),
    ("es", "Les quitaron el celular y no pueden hablar con su familia.", {"control"}),
    ("es", "Los amenasan con echarles a la migra si se quejan.", {"control"}),
    ("es", "La obligan a prostituirse en una cantina de la zona.", {"sexual_exploitation"}),
    ("es", "Anuncio: chicas nuevas recien llegadas, servicio completo, atencion 24 hrs", {"sexual_exploitation"}),
    ("es", "Hay niñas de 14 años atendiendo en el bar.", {"minors"}),
    ("es", "se ven bien morritas, yo creo que son menores", {"minors"}),
    ("es", "Trabajan de sol a sol en la pizca y no les pagan ni un peso.", {"labor_exploitation"}),
    ("es", "Duermen en el piso de una bodega, jornadas de 16 horas sin descanso.", {"labor_exploitation"}),
    ("es", "No me quitaron el pasaporte y puedo salir cuando quiero.", set()),
    ("es", "Mi hermano busca una oferta de trabajo en la construccion.", set()),
    ("es", "Nadie los amenazó, se fueron solos.", set()),
    ("es", "Hay mucho trafico en el puente internacional todos los dias.", set()),
    ("es", "Se robaron una bicicleta afuera de la tienda.", set()),
    ("es", "Mi tia dice que el jefe se queda con todo el cheque, they never get paid, y no las dejan salir.",
     {"labor_exploitation", "control"}),
]  # fmt: skip

# A second hand-written set, written once lexicon 1.0.0 was done and never used to change it: what
# the rules find in wording nobody tuned them on (docs/guide/people.md gives the figures).
UNSEEN: list[tuple[str, str, set[str]]] = [
    ("en", "A lady at church said she was recruited online for a nanny job in Dallas, now she works for free.",
     {"recruitment", "labor_exploitation"}),
    ("en", "Hiring girls 18-25, housing provided, no experience necessary, call Leo.", {"recruitment"}),
    ("en", "The crew boss holds everybody's ID cards in his truck.", {"control"}),
    ("en", "they say the debt keeps growing every week for rent and food", {"control"}),
    ("en", "The women are not allowed to leave the apartment without the owner.", {"control"}),
    ("en", "He beat one of the workers in front of everyone last week.", {"control"}),
    ("en", "Two girls, maybe 14 or 15, getting dropped off at the motel by an older man every night.",
     {"minors", "sexual_exploitation"}),
    ("en", "Sexy new latina just arrived, outcall only, donations", {"sexual_exploitation"}),
    ("en", "They pick tomatoes seven days a week and sleep on the floor of a barn.", {"labor_exploitation"}),
    ("en", "My uncle works at the dairy and gets paid every Friday, no problems.", set()),
    ("en", "The coyote charged my brother 8000 dollars to cross and left him in the desert.", set()),
    ("en", "Nobody took their papers, they are free to go.", set()),
    ("es", "Una muchacha de Oaxaca dice que la engañaron con un trabajo de niñera y ahora no le pagan.",
     {"recruitment", "labor_exploitation"}),
    ("es", "Se solicitan señoritas, buen sueldo, viaje pagado a Estados Unidos, sin experiencia.", {"recruitment"}),
    ("es", "El encargado guarda las credenciales de todos los trabajadores en la oficina.", {"control"}),
    ("es", "Dicen que les descuentan la deuda del cruce de su pago cada semana.", {"control"}),
    ("es", "No la dejan ir a ningún lado sola, su 'novio' la cuida todo el tiempo.", {"control"}),
    ("es", "El señor los golpea cuando se quieren ir.", {"control"}),
    ("es", "Hay chamacas como de 15 años trabajando de meseras en la cantina, las hacen fichar.",
     {"minors", "sexual_exploitation"}),
    ("es", "Nena nueva en la ciudad, servicio completo, solo hoy", {"sexual_exploitation"}),
    ("es", "Trabajan 14 horas diarias empacando y viven amontonados en una casa.", {"labor_exploitation"}),
    ("es", "Mi papá trabaja en la pizca y le pagan cada sábado sin problema.", set()),
    ("es", "El pollero le cobró 5 mil dólares a mi primo y lo dejó en el desierto.", set()),
    ("es", "Nadie le quitó sus papeles, puede irse cuando quiera.", set()),
]  # fmt: skip


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("people-held-out")
    generate(out, scale=20000, seed=HELD_OUT_SEED, flows=["people"])
    return out


def test_planted_indicators_found_on_a_held_out_seed_in_both_languages(held_out: Path) -> None:
    result = evaluate(held_out)
    rows = {(r["language"], r["family"]): r for r in result["rows"]}
    assert result["texts"]["tips"] > 500
    assert result["texts"]["documents"] > 20
    for lang in ("en", "es"):
        assert rows[(lang, "all")]["f1"] >= 0.9, rows[(lang, "all")]
        for family in FAMILIES:
            row = rows[(lang, family)]
            assert row["tp"] > 0, (lang, family)
            assert row["f1"] >= 0.9, row
            assert row["f1"] > row["baseline_f1"] or row["baseline_f1"] == 1.0, row


def test_handmade_sentences() -> None:
    wrong = [(text, families(text), expected) for _lang, text, expected in HANDMADE if families(text) != expected]
    assert not wrong


def test_unseen_sentences_at_the_measured_level() -> None:
    texts = [("unseen", lang, text, frozenset(truth)) for lang, text, truth in UNSEEN]
    rows = {(r["language"], r["family"]): r for r in score_texts(texts, families)}
    assert rows[("en", "all")]["precision"] == 1.0
    assert rows[("es", "all")]["precision"] == 1.0
    assert rows[("en", "all")]["f1"] >= 0.84  # measured 0.8421: misses "14 or 15", "ID cards", a motel drop-off
    assert rows[("es", "all")]["f1"] >= 0.95  # measured 0.9524: misses "las hacen fichar"
    baseline = {r["language"]: r["f1"] for r in score_texts(texts, keyword_families) if r["family"] == "all"}
    assert baseline["en"] < rows[("en", "all")]["f1"]
    assert baseline["es"] < rows[("es", "all")]["f1"]


def test_the_keyword_baseline_misses_what_the_rules_find() -> None:
    text = "les kitaron los pasaportes y no las dejan salir"
    assert keyword_families(text) == set()
    assert families(text) == {"control"}


def test_accents_case_and_misspellings_read_alike() -> None:
    for text in (
        "Le quitaron el pasaporte",
        "LE QUITARON EL PASAPORTE",
        "le kitaron el pasaporte",
        "Le quitáron el pasapórte",
    ):
        assert [h.indicator for h in scan(text)] == ["documents_kept"], text
    assert families("Hay ninas de catorce anos") == families("Hay niñas de catorce años") == {"minors"}


def test_negation_drops_a_hit_but_a_condition_does_not() -> None:
    assert families("No me quitaron el pasaporte.") == set()
    assert families("They did not take her passport.") == set()
    assert families("Le quitaron el pasaporte.") == {"control"}
    assert families("Les pegan si no juntan la cuota del día.") == {"control", "labor_exploitation"}
    assert families("They get beaten if they don't make their quota.") == {"control", "labor_exploitation"}
    # a negation in an earlier clause does not reach the hit
    assert families("No sé su nombre, pero le quitaron los papeles.") == {"control"}


def test_spans_point_into_the_original_text() -> None:
    text = "Denuncia:  a  María   le   QUITÁRON  sus  papeles; “no la dejan salir”. Tiene 15 años."
    hits = scan(text)
    assert {h.indicator for h in hits} == {"documents_kept", "movement_restricted", "minors"}
    for hit in hits:
        assert text[hit.start : hit.end] == hit.text
    assert next(h.text for h in hits if h.indicator == "documents_kept") == "le   QUITÁRON  sus  papeles"
    assert next(h.text for h in hits if h.indicator == "minors") == "Tiene 15 años"


def test_fold_keeps_an_index_into_the_original() -> None:
    folded, origin = fold("Ñandú  Straße")
    assert folded == "nandu strasse"
    assert len(origin) == len(folded)
    assert origin[folded.index("s")] == "Ñandú  Straße".index("S")
    # a letter that folds to two beside a mark that folds to none: lengths agree, indices do not
    text = "Straße quitaron \u0301x"
    folded, origin = fold(text)
    start = folded.index("quitaron")
    assert text[origin[start] : origin[start + len("quitaron") - 1] + 1] == "quitaron"


def test_highlight_escapes_html_and_marks_each_hit() -> None:
    text = '<script>alert("x")</script> They took their passports & "won\'t let them leave".'
    html = highlight(text, scan(text))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp;" in html
    assert '<mark data-indicator="documents_kept" data-family="control">took their passports</mark>' in html
    assert 'data-indicator="movement_restricted"' in html
    assert html.count("<mark") == 2
    titled = highlight(text, scan(text), "es")
    assert 'title="Le retienen sus documentos">took their passports</mark>' in titled


def test_overlapping_hits_become_one_mark() -> None:
    text = "Les quitaron el celular"
    html = highlight(text, scan(text))
    assert html.count("<mark") == 1


def test_triage_weighs_families_and_levels() -> None:
    none = triage("Hay un bache enorme en la avenida.")
    assert (none["score"], none["level"], none["hits"]) == (0, "none", [])
    minor = triage("Some of the girls look underage.")
    grave = triage("Some of the girls look underage and they make her see clients. They took their passports.")
    weights = lexicon().families
    assert minor["score"] == weights["minors"].weight
    assert grave["score"] == min(
        100, weights["minors"].weight + weights["sexual_exploitation"].weight + weights["control"].weight
    )
    assert grave["level"] == "high"
    assert minor["level"] in ("medium", "low")
    assert grave["score"] > minor["score"] > 0


def test_the_lexicon_is_versioned_and_checked() -> None:
    lex = lexicon()
    assert lex.version
    assert set(lex.families) == set(FAMILIES)
    assert all(r.family in FAMILIES for r in lex.rules)
    with pytest.raises(ValueError, match="unknown family"):
        parse_lexicon(
            {
                "version": "x",
                "families": {},
                "rules": [{"id": "a", "family": "b", "label": {}, "patterns": {"en": ["a"]}}],
            }
        )


def test_the_command_line_scans_and_evaluates(held_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_cli import run

    code, out, _ = run(capsys, "people", "scan", "--json", "Le kitaron el pasaporte. Some girls look underage.")
    assert code == 0
    found = json.loads(out)
    assert found["families"] == ["control", "minors"]
    assert found["version"] == lexicon().version
    assert [h["text"] for h in found["hits"]] == ["Le kitaron el pasaporte", "look underage"]
    code, out, _ = run(capsys, "people", "scan", "Hay un bache en la avenida.")
    assert code == 0
    assert "0 (none)" in out
    code, out, _ = run(capsys, "people", "indicators-evaluate", str(held_out), "--json")
    assert code == 0
    rows = json.loads(out)["rows"]
    assert {r["language"] for r in rows} == {"en", "es"}
    code, _, err = run(capsys, "people", "indicators-evaluate", str(held_out / "missing"))
    assert code == 2
    assert "Error" in err
