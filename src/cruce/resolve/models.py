"""Linkage models per entity type: Splink settings (blocking rules and comparisons) and training.

Every comparison is written as plain SQL levels over the prepared fields (``cruce.resolve.prepare``),
so a saved model is a JSON document that any deployment can read back, and the match weight of
each level is a constant that an analyst can read in an explanation. Term-frequency adjustments
are not used, for that reason. Comparisons of optional fields (phones, identifiers, aliases,
addresses, and for retail buyers the serials, dealers and states of what they bought) are added
only when the data have them.

Training (``train``): u probabilities by random sampling, m probabilities by EM on two or three
blocking passes (sampled, so the cost is bounded at any size), and the prior from deterministic
rules.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

import duckdb

DEFAULT_THRESHOLD = 0.8
PAIR_FLOOR = 0.2
U_PAIRS = 2e6
EM_PAIRS = 1e6


def _(text: str) -> str:
    """Marks a label for the message catalog; it is stored in English and translated when shown
    (``cruce.i18n.gettext`` at display), so a saved model reads the same in any language."""
    return text


@dataclass(frozen=True)
class Rule:
    """A blocking rule: a label for people, and the SQL join condition."""

    label: str
    sql: str
    needs: tuple[str, ...] = ()


@dataclass
class ModelSpec:
    """What a type's model compares and how it proposes pairs."""

    entity_type: str
    comparisons: list[dict[str, Any]]
    blocking: list[Rule]
    training_blocks: list[str]
    deterministic: list[str]
    recall: float = 0.7
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _level(sql: str, label: str, *, null: bool = False) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    return level


def _else() -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": _("All other comparisons")}


def _comparison(name: str, description: str, levels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"output_column_name": name, "comparison_description": description, "comparison_levels": levels}


def _null(*cols: str) -> dict[str, Any]:
    return _level(" OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in cols), _("Missing on either side"), null=True)


def _overlap(name: str, col: str, description: str) -> dict[str, Any]:
    return _comparison(
        name,
        description,
        [_null(col), _level(f"list_has_any({col}_l, {col}_r)", _("At least one in common")), _else()],
    )


def _exact(name: str, col: str, description: str) -> dict[str, Any]:
    return _comparison(name, description, [_null(col), _level(f"{col}_l = {col}_r", _("Exact match")), _else()])


def _jw(name: str, col: str, description: str, high: float = 0.92, low: float = 0.8) -> dict[str, Any]:
    return _comparison(
        name,
        description,
        [
            _null(col),
            _level(f"{col}_l = {col}_r", _("Exact match")),
            _level(f"jaro_winkler_similarity({col}_l, {col}_r) >= {high}", f"Jaro-Winkler >= {high}"),
            _level(f"jaro_winkler_similarity({col}_l, {col}_r) >= {low}", f"Jaro-Winkler >= {low}"),
            _else(),
        ],
    )


def _jw_sql(a: str, b: str, at: float) -> str:
    return f"jaro_winkler_similarity({a}, {b}) >= {at}"


# -- Person ---------------------------------------------------------------------------------------
def _person() -> ModelSpec:
    f1, f2, s1, s2 = "first_surname_l", "first_surname_r", "second_surname_l", "second_surname_r"
    given = _comparison(
        "given_name",
        _("Given names"),
        [
            _null("first_given"),
            _level("first_given_l = first_given_r AND given_l = given_r", _("All given names equal")),
            _level("first_given_l = first_given_r", _("First given name equal")),
            _level("name_tokens_l = name_tokens_r", _("Same words of the name, in another order")),
            _level(
                "list_has_any(string_split(given_l, ' '), string_split(given_r, ' '))",
                _("One given name in common"),
            ),
            _level(
                _jw_sql("first_given_l", "first_given_r", 0.92), _("First given name similar (Jaro-Winkler >= 0.92)")
            ),
            _level(
                "left(first_given_l, 1) = left(first_given_r, 1) "
                "AND (length(first_given_l) = 1 OR length(first_given_r) = 1)",
                _("Initial agrees"),
            ),
            _level(_jw_sql("first_given_l", "first_given_r", 0.8), _("First given name alike (Jaro-Winkler >= 0.8)")),
            _else(),
        ],
    )
    ends = f"({f1} LIKE '% ' || {f2} OR {f2} LIKE '% ' || {f1} OR replace({f1}, ' ', '') = replace({f2}, ' ', ''))"
    surnames = _comparison(
        "surnames",
        _("Surnames"),
        [
            _null("first_surname"),
            _level(f"{f1} = {f2} AND {s1} = {s2}", _("Both surnames equal")),
            _level(
                f"({f1} = {f2} OR {ends}) AND ({s1} IS NULL OR {s2} IS NULL)", _("First surname equal, second missing")
            ),
            _level(f"{f1} = {s2} AND {s1} = {f2}", _("Surnames swapped")),
            _level("name_tokens_l = name_tokens_r", _("Same words of the name, in another order")),
            _level(f"({f1} = {f2} OR {ends}) AND {_jw_sql(s1, s2, 0.9)}", _("First surname equal, second similar")),
            _level(
                f"{_jw_sql(f1, f2, 0.9)} AND ({s1} IS NULL OR {s2} IS NULL OR {_jw_sql(s1, s2, 0.9)})",
                _("Surnames similar (a typo)"),
            ),
            _level(f"{f1} = {f2} OR {ends}", _("First surname equal, second different")),
            _level(f"{f1} = {s2} OR {s1} = {f2}", _("One surname in the other's place")),
            _level(_jw_sql(f1, f2, 0.8), _("First surname alike (Jaro-Winkler >= 0.8)")),
            _else(),
        ],
    )
    dob = _comparison(
        "birth_date",
        _("Date of birth"),
        [
            _null("dob"),
            _level("dob_l = dob_r", _("Exact match")),
            _level(
                "birth_year_l = birth_year_r AND birth_month_l = birth_day_r AND birth_day_l = birth_month_r",
                _("Day and month transposed"),
            ),
            _level("levenshtein(dob_l, dob_r) <= 1", _("One digit differs")),
            _level("levenshtein(dob_l, dob_r) <= 2", _("Two digits differ")),
            _level("birth_year_l = birth_year_r", _("Same year")),
            _else(),
        ],
    )
    comparisons = [given, surnames, dob]
    optional: dict[str, tuple[str, ...]] = {
        "sex": ("sex",),
        "aliases": ("aliases",),
        "phones": ("phones",),
        "ids": ("ids",),
        "emails": ("emails",),
        "address": ("address",),
        "postcode": ("postcode",),
        "nationality": ("nationality",),
        "serials": ("serials",),
        "purchases": ("purchase_states",),
    }
    return ModelSpec(
        entity_type="Person",
        comparisons=comparisons,
        blocking=[
            Rule(_("surname + given name"), "l.first_surname = r.first_surname AND l.first_given = r.first_given"),
            Rule(_("date of birth + sound of surname"), "l.dob = r.dob AND l.surname_key = r.surname_key"),
            Rule(_("date of birth + sound of given name"), "l.dob = r.dob AND l.given_key = r.given_key"),
            Rule(
                _("sound of both surnames + given name"),
                "l.surname_key = r.surname_key AND l.second_surname_key = r.second_surname_key "
                "AND l.given_key = r.given_key",
            ),
            Rule(
                _("sound of surname + given name + year of birth"),
                "l.surname_key = r.surname_key AND l.given_key = r.given_key AND l.birth_year = r.birth_year",
            ),
            Rule(_("same words of the name"), "l.name_tokens = r.name_tokens"),
            Rule(_("surnames swapped"), "l.first_surname = r.second_surname AND l.second_surname = r.first_surname"),
            Rule(
                _("given name + second surname"),
                "l.first_given = r.first_given AND l.second_surname = r.second_surname",
            ),
            Rule(
                _("alias + sound of surname"),
                "l.aliases[1] = r.aliases[1] AND l.surname_key = r.surname_key",
                ("aliases",),
            ),
            Rule(_("phone"), "l.phones[1] = r.phones[1]", ("phones",)),
            Rule(_("firearm bought (serial)"), "l.serials[1] = r.serials[1]", ("serials",)),
            Rule(_("identifier"), "l.ids[1] = r.ids[1]", ("ids",)),
            Rule(
                _("postcode + sound of given name"),
                "l.postcode = r.postcode AND l.given_key = r.given_key",
                ("postcode",),
            ),
        ],
        training_blocks=[
            "l.dob = r.dob",
            "l.first_surname = r.first_surname AND l.first_given = r.first_given",
            "l.surname_key = r.surname_key AND l.given_key = r.given_key AND l.birth_year = r.birth_year",
        ],
        deterministic=[
            "l.first_surname = r.first_surname AND l.first_given = r.first_given AND l.dob = r.dob",
        ],
        recall=0.7,
        optional=optional,
    )


def _optional_person(name: str) -> dict[str, Any]:
    return {
        "sex": _exact("sex", "sex", _("Sex")),
        "aliases": _overlap("aliases", "aliases", _("Aliases")),
        "phones": _overlap("phones", "phones", _("Phone numbers")),
        "ids": _overlap("ids", "ids", _("Identifiers")),
        "emails": _overlap("emails", "emails", _("E-mail addresses")),
        "address": _jw("address", "address", _("Address"), 0.9, 0.7),
        "postcode": _comparison(
            "postcode",
            _("Postal code"),
            [
                _null("postcode"),
                _level("postcode_l = postcode_r", _("Exact match")),
                _level("levenshtein(postcode_l, postcode_r) <= 1", _("One digit differs")),
                _else(),
            ],
        ),
        "nationality": _exact("nationality", "nationality", _("Nationality")),
        "serials": _overlap("serials", "serials", _("A firearm bought at retail in common (serial number)")),
        "purchases": _comparison(
            "purchases",
            _("Where they bought firearms"),
            [
                _null("purchase_states"),
                _level("list_has_any(dealers_l, dealers_r)", _("From a dealer in common")),
                _level("list_has_any(purchase_states_l, purchase_states_r)", _("In a state in common")),
                _else(),
            ],
        ),
    }[name]


# -- the other types ------------------------------------------------------------------------------
def _organization() -> ModelSpec:
    return ModelSpec(
        entity_type="Organization",
        comparisons=[
            _jw("name", "name", _("Name")),
            _overlap("names", "names", _("Any name or alias in common")),
            _overlap("ids", "ids", _("Licence or registration numbers")),
            _exact("country", "country", _("Country")),
            _exact("org_type", "org_type", _("Type")),
        ],
        blocking=[
            Rule(_("name"), "l.name = r.name"),
            Rule(_("sound of name"), "l.name_key = r.name_key"),
            Rule(_("identifier"), "l.ids[1] = r.ids[1]"),
        ],
        training_blocks=["l.name_key = r.name_key", "l.ids[1] = r.ids[1]"],
        deterministic=["l.name = r.name AND l.country = r.country"],
    )


def _firearm() -> ModelSpec:
    serial = _comparison(
        "serial",
        _("Serial number"),
        [
            _null("serial"),
            _level("serial_l = serial_r", _("Exact match")),
            _level("serial_key_l = serial_key_r", _("Equal up to look-alike characters (O/0, I/1, S/5)")),
            _level(
                "(serial_partial_l OR serial_partial_r) AND (contains(serial_key_l, serial_key_r) "
                "OR contains(serial_key_r, serial_key_l))",
                _("Partial serial contained in the other"),
            ),
            _level("levenshtein(serial_key_l, serial_key_r) <= 1", _("One character differs")),
            _else(),
        ],
    )
    return ModelSpec(
        entity_type="Firearm",
        comparisons=[
            serial,
            _jw("manufacturer", "manufacturer", _("Manufacturer")),
            _jw("model", "model", _("Model")),
            _exact("caliber", "caliber", _("Caliber")),
            _exact("firearm_type", "firearm_type", _("Type")),
        ],
        blocking=[
            Rule(_("serial (look-alike key)"), "l.serial_key = r.serial_key"),
            Rule(
                _("start of serial + manufacturer"),
                "left(l.serial_key, 4) = left(r.serial_key, 4) AND l.manufacturer = r.manufacturer",
            ),
        ],
        training_blocks=["l.manufacturer = r.manufacturer AND l.model = r.model", "l.serial_key = r.serial_key"],
        deterministic=["l.serial = r.serial AND l.manufacturer = r.manufacturer"],
    )


def _vehicle() -> ModelSpec:
    return ModelSpec(
        entity_type="Vehicle",
        comparisons=[
            _comparison(
                "plate",
                _("Plate"),
                [
                    _null("plate"),
                    _level("plate_l = plate_r", _("Exact match")),
                    _level("levenshtein(plate_l, plate_r) <= 1", _("One character differs")),
                    _else(),
                ],
            ),
            _exact("vin", "vin", _("VIN")),
            _exact("plate_state", "plate_state", _("Plate state")),
            _jw("make", "make", _("Make")),
            _jw("model", "model", _("Model")),
            _exact("color", "color", _("Colour")),
        ],
        blocking=[Rule(_("plate"), "l.plate = r.plate"), Rule(_("VIN"), "l.vin = r.vin")],
        training_blocks=["l.plate = r.plate", "l.make = r.make AND l.model = r.model"],
        deterministic=["l.plate = r.plate AND l.plate_state = r.plate_state"],
    )


def _phone() -> ModelSpec:
    return ModelSpec(
        entity_type="Phone",
        comparisons=[
            _exact("number", "number", _("Number")),
            _comparison(
                "digits",
                _("Last ten digits"),
                [_null("digits"), _level("right(digits_l, 10) = right(digits_r, 10)", _("Equal")), _else()],
            ),
        ],
        blocking=[
            Rule(_("number"), "l.number = r.number"),
            Rule(_("last seven digits"), "right(l.digits, 7) = right(r.digits, 7)"),
        ],
        training_blocks=["right(l.digits, 7) = right(r.digits, 7)"],
        deterministic=["l.number = r.number"],
    )


SPECS = {"Person": _person, "Organization": _organization, "Firearm": _firearm, "Vehicle": _vehicle, "Phone": _phone}


def spec_for(entity_type: str, con: duckdb.DuckDBPyConnection, table: str) -> ModelSpec:
    """The model spec of a type, with the optional comparisons and rules the data can use."""
    spec = SPECS[entity_type]()
    if spec.optional:
        filled = _filled(con, table, [c for cols in spec.optional.values() for c in cols])
        for name, cols in spec.optional.items():
            if all(filled.get(c, 0) >= 10 for c in cols):
                spec.comparisons.append(_optional_person(name))
    present = {c["output_column_name"] for c in spec.comparisons}
    spec.blocking = [r for r in spec.blocking if all(n in present for n in r.needs)]
    return spec


def _filled(con: duckdb.DuckDBPyConnection, table: str, cols: list[str]) -> dict[str, int]:
    if not cols:
        return {}
    row = con.execute("SELECT " + ", ".join(f"count({c})" for c in cols) + f" FROM {table}").fetchone()
    return dict(zip(cols, (int(v) for v in row), strict=True)) if row else {}


def settings_dict(spec: ModelSpec, link_type: str = "dedupe_only") -> dict[str, Any]:
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "comparisons": spec.comparisons,
        "blocking_rules_to_generate_predictions": [{"blocking_rule": r.sql} for r in spec.blocking],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "probability_two_random_records_match": 1e-4,
        "em_convergence": 1e-4,
        "max_iterations": 25,
    }


def quiet_splink() -> None:
    """Splink logs every step, and warns about levels it could not train; cruce reports its own
    figures, so only Splink's errors get through."""
    logging.getLogger("splink").setLevel(logging.ERROR)


PRIOR_BOUNDS = (1e-9, 0.5)


def _bound_prior(linker: Any) -> None:
    """Keep the estimated prior inside (0, 1): with a handful of records the deterministic rules can
    find no pair (0) or every pair (1), and a match weight of log2(0) stops the whole run."""
    settings = linker._settings_obj
    low, high = PRIOR_BOUNDS
    settings._probability_two_random_records_match = min(
        max(float(settings._probability_two_random_records_match), low), high
    )


def train(linker: Any, spec: ModelSpec) -> None:
    """Estimate the model's parameters on the linker's data (see the module's docstring)."""
    quiet_splink()
    training = linker.training
    try:
        training.estimate_probability_two_random_records_match(spec.deterministic, recall=spec.recall)
    except Exception as exc:  # too few records for the rules: keep the default prior
        logging.getLogger(__name__).info("prior not estimated: %s", exc)
    _bound_prior(linker)
    training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=1)
    for block in spec.training_blocks:
        # Splink takes the block's own comparisons out of the settings while it trains on it and
        # puts them back only when it succeeds: a block that fails (too few pairs) would leave a
        # model with no comparisons at all, whose scoring SQL does not parse
        kept = copy.deepcopy(linker._settings_obj)
        try:
            training.estimate_parameters_using_expectation_maximisation(block, max_pairs=EM_PAIRS)
        except Exception as exc:  # a block with no pairs (a field nobody has) trains nothing
            linker._settings_obj = kept
            logging.getLogger(__name__).info("EM on %s skipped: %s", block, exc)
