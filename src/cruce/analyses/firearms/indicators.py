"""Straw-purchase and trafficking indicators: documented rules, each with its source, computed per
purchaser, per dealer and per firearm over the loaded tables, each with the records behind it.

A rule gives, per subject, how many times it was met (``count``) and the records that met it
(``evidence``: purchases, traces or the people shared with). Rules say what they say and no more:
none is proof of a crime, and each is one line of a lead's explanation (``cruce.analyses.firearms.score``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cruce.analyses.firearms.data import HANDGUN_TYPES, SHORT_TTC_DAYS, FirearmsData
from cruce.i18n import _

BORDER_STATES = ("US-AZ", "US-CA", "US-NM", "US-TX")
# Calibers and models that ATF traces, GAO and Mexican authorities name as the ones trafficking
# networks seek: AK- and AR-pattern rifles (7.62x39mm, 5.56mm/.223), .50 BMG rifles, 5.7x28mm
# pistols ("matapolicías") and .38 Super (GAO-09-709; GAO-21-322; ATF Mexico trace report of
# 2025-01-08 as read in ../shared/data/atf_mexico_traces/calibers_by_period.csv).
CARTEL_CALIBERS = ("7.62x39mm", "7.62x39", "5.56mm", "5.56x45mm", ".223", ".223 remington", ".50 bmg", "5.7x28mm",
                   ".38 super")  # fmt: skip
CARTEL_MODEL_WORDS = ("ak", "wasr", "draco", "ar-15", "ar15", "ar-556", "m&p15", "xm-15", "am-15", "pa-15", "psak",
                      "zpap", "vska", "five-seven", "ps90", "m82", "barrett")  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """One indicator: what it means, the source it follows, and to what it applies."""

    name: str
    subject: str  # purchaser, dealer or firearm
    label: str
    source: str


def _rules() -> tuple[Rule, ...]:
    return (
        Rule("short_ttc", "purchaser", _("A gun they bought was recovered within three years of the sale"),
             _("ATF: a time-to-crime under three years is an indicator of trafficking (ATF trace reports; "
               "GAO-21-322)")),
        Rule("multiple_handguns", "purchaser", _("Two or more handguns within five business days"),
             _("Multiple-sale reports of handguns: ATF Form 3310.4 (18 U.S.C. 923(g)(3)(A))")),
        Rule("multiple_rifles", "purchaser", _("Two or more semi-automatic rifles over .22 calibre within five "
                                              "business days, in Arizona, California, New Mexico or Texas"),
             _("Multiple-sale reports of rifles in the four border states: ATF Form 3310.12 (since 2011), "
               "required because trafficking networks buy such rifles for Mexico")),
        Rule("cartel_favoured", "purchaser", _("Bought two or more guns of the models and calibers trafficking "
                                              "networks seek"),
             _("GAO-09-709, GAO-21-322 and the ATF Mexico trace report of 2025-01-08: AK- and AR-pattern rifles, "
               ".50 calibre rifles, 5.7mm pistols, .38 Super")),
        Rule("purchaser_not_possessor", "purchaser", _("A gun they bought was recovered from someone else"),
             _("ATF: a recovered gun whose possessor is not its purchaser suggests a straw purchase or a resale")),
        Rule("recovered_abroad", "purchaser", _("A gun they bought was recovered outside the state of purchase "
                                               "(in Mexico, or another state)"),
             _("ATF: recovery far from the point of sale is an indicator of trafficking")),
        Rule("recovered_together", "purchaser", _("Guns they bought were recovered together with guns bought by "
                                                 "other people (same day and place, or same possessor)"),
             _("ATF trafficking investigations link purchasers through guns seized together")),
        Rule("bought_beside_flagged", "purchaser", _("Bought guns of those models at a dealer within 30 days of "
                                                    "someone whose guns were recovered abroad within three years"),
             _("ATF straw-purchase investigations: ring purchasers buy the same models at the same shops in "
               "the same weeks (for instance the purchasers of Operation Fast and Furious, DOJ OIG 2012)")),
        Rule("shared_contact", "purchaser", _("Shares an address, phone, e-mail or vehicle with another purchaser"),
             _("ATF: several purchasers giving one address or phone is a straw-purchase pattern (entity resolution "
               "and the graph)")),
        Rule("dealer_short_ttc", "dealer", _("Several short time-to-crime traces, well above the dealers' rate"),
             _("ATF Demand Letter 2 (18 U.S.C. 923(g)(5)(A)) goes to dealers with 25 or more traces a year of "
               "under three years; here, three or more and twice the overall rate")),
        Rule("obliterated_serial", "firearm", _("Serial number obliterated or partly removed"),
             _("Removing a serial is itself a federal crime (18 U.S.C. 922(k)) and a mark of trafficking")),
        Rule("short_ttc_firearm", "firearm", _("Recovered within three years of its retail sale"),
             _("ATF trace reports: time-to-crime under three years")),
    )  # fmt: skip


def rules() -> tuple[Rule, ...]:
    """Every rule, with its texts in the current language."""
    return _rules()


def _cartel_condition(alias: str) -> str:
    calibers = ", ".join(f"'{c}'" for c in CARTEL_CALIBERS)
    words = " OR ".join(f"contains(lower({alias}.model), '{w}')" for w in CARTEL_MODEL_WORDS)
    return f"(lower({alias}.caliber) IN ({calibers}) OR {words})"


def _rifle_over_22(alias: str) -> str:
    return (
        f"({alias}.f_type = 'rifle' AND {alias}.caliber IS NOT NULL AND NOT contains(lower({alias}.caliber), '22 lr') "
        f"AND NOT starts_with(lower({alias}.caliber), '.22') AND {alias}.purchase_state IN "
        f"({', '.join(repr(s) for s in BORDER_STATES)}))"
    )


FLAGS_TABLE = "purchaser_flags"


def purchaser_flags(data: FirearmsData) -> str:
    """The table of (subject, indicator, count, evidence) for every rule a purchaser met at least
    once, made once per loaded data (the rules do not depend on weights)."""
    return data.once(FLAGS_TABLE, lambda: data.execute(f"CREATE TABLE {FLAGS_TABLE} AS {_purchaser_sql()}"))


def purchaser_indicators(data: FirearmsData) -> list[dict[str, Any]]:
    """(purchaser, indicator, count, evidence) for every rule a purchaser met at least once."""
    return data.rows(f"SELECT * FROM {purchaser_flags(data)} ORDER BY subject, indicator")


def _purchaser_sql() -> str:
    handgun = f"p.f_type IN ({', '.join(repr(t) for t in HANDGUN_TYPES)})"
    return f"""
    WITH p AS (SELECT *, COALESCE(firearm, purchase) AS gun FROM purchases WHERE purchaser IS NOT NULL),
    -- multiple sales: a gun bought with another of the same kind by the same person within five
    -- business days (guns, not records: a trace names the sale of a gun the dealer's records hold too)
    kinds AS (
        SELECT purchase, gun, purchaser, business_day, multiple_sale,
               CASE WHEN {handgun} THEN 'handgun' WHEN {_rifle_over_22("p")} THEN 'rifle' END AS kind
        FROM p),
    multiple AS (
        SELECT a.purchaser, COALESCE(a.kind, 'handgun') AS kind, count(DISTINCT a.gun) AS n,
               list(DISTINCT a.purchase ORDER BY a.purchase) AS evidence
        FROM kinds a WHERE (a.kind IS NOT NULL AND EXISTS (
            SELECT 1 FROM kinds b WHERE b.purchaser = a.purchaser AND b.kind = a.kind AND b.gun <> a.gun
            AND abs(b.business_day - a.business_day) <= 4)) OR a.multiple_sale = 'yes'
        GROUP BY a.purchaser, COALESCE(a.kind, 'handgun')),
    cartel AS (
        SELECT purchaser, count(DISTINCT gun) AS n, list(DISTINCT purchase ORDER BY purchase) AS evidence FROM p
        WHERE {_cartel_condition("p")} GROUP BY purchaser HAVING count(DISTINCT gun) >= 2),
    t AS (SELECT * FROM traces WHERE purchaser IS NOT NULL),
    short AS (SELECT purchaser, list(trace ORDER BY trace) AS evidence FROM t WHERE ttc < {SHORT_TTC_DAYS}
              GROUP BY purchaser),
    other AS (SELECT purchaser, list(trace ORDER BY trace) AS evidence FROM t
              WHERE possessor IS NOT NULL AND possessor <> purchaser GROUP BY purchaser),
    abroad AS (SELECT purchaser, list(trace ORDER BY trace) AS evidence FROM t
               WHERE recovery_state IS NOT NULL AND purchase_state IS NOT NULL AND recovery_state <> purchase_state
               GROUP BY purchaser),
    together AS (  -- two equi-joins: one join on "this OR that" would compare every pair
        SELECT purchaser, list(DISTINCT other ORDER BY other) AS evidence FROM (
            SELECT a.purchaser, b.purchaser AS other FROM t a JOIN t b ON a.recovery_date = b.recovery_date
                AND a.municipality = b.municipality AND a.recovery_state = b.recovery_state
            UNION ALL
            SELECT a.purchaser, b.purchaser FROM t a JOIN t b ON a.possessor = b.possessor
        ) WHERE other <> purchaser GROUP BY purchaser),
    -- someone whose gun was recovered abroad within three years, and the cartel-favoured guns they bought
    flagged AS (SELECT DISTINCT purchaser FROM t WHERE ttc < {SHORT_TTC_DAYS} AND recovery_state <> purchase_state),
    wanted AS (SELECT purchase, purchaser, dealer_ffl, purchase_date FROM p WHERE {_cartel_condition("p")}),
    beside AS (
        SELECT a.purchaser, list(DISTINCT b.purchaser ORDER BY b.purchaser) AS evidence
        FROM wanted a JOIN wanted b ON b.dealer_ffl = a.dealer_ffl AND b.purchaser <> a.purchaser
            AND abs(b.purchase_date - a.purchase_date) <= 30
        WHERE b.purchaser IN (SELECT purchaser FROM flagged)
        GROUP BY a.purchaser),
    buyers AS (SELECT DISTINCT purchaser FROM p UNION SELECT DISTINCT purchaser FROM t),
    shared AS (
        SELECT a.person AS purchaser, list(DISTINCT b.person ORDER BY b.person) AS evidence
        FROM contacts a JOIN contacts b ON b.kind = a.kind AND b.value = a.value AND b.person <> a.person
        WHERE a.person IN (SELECT purchaser FROM buyers) AND b.person IN (SELECT purchaser FROM buyers)
        GROUP BY a.person)
    SELECT purchaser AS subject, 'multiple_' || kind || 's' AS indicator, n AS count, evidence FROM multiple
    UNION ALL SELECT purchaser, 'cartel_favoured', n, evidence FROM cartel
    UNION ALL SELECT purchaser, 'short_ttc', len(evidence), evidence FROM short
    UNION ALL SELECT purchaser, 'purchaser_not_possessor', len(evidence), evidence FROM other
    UNION ALL SELECT purchaser, 'recovered_abroad', len(evidence), evidence FROM abroad
    UNION ALL SELECT purchaser, 'recovered_together', len(evidence), evidence FROM together
    UNION ALL SELECT purchaser, 'bought_beside_flagged', len(evidence), evidence FROM beside
    UNION ALL SELECT purchaser, 'shared_contact', len(evidence), evidence FROM shared
    """


def dealer_indicators(data: FirearmsData, minimum: int = 3, times: float = 2.0) -> list[dict[str, Any]]:
    """Dealers with at least ``minimum`` short time-to-crime traces and ``times`` the overall share."""
    return data.rows(
        f"""
        WITH overall AS (SELECT count(*) FILTER (WHERE ttc < {SHORT_TTC_DAYS}) / count(*) AS rate
                         FROM traces WHERE ttc IS NOT NULL),
        d AS (SELECT dealer_ffl, count(*) AS traced, list(trace ORDER BY trace) FILTER (WHERE ttc < {SHORT_TTC_DAYS})
              AS evidence FROM traces WHERE dealer_ffl IS NOT NULL AND ttc IS NOT NULL GROUP BY dealer_ffl)
        SELECT dealer_ffl AS subject, 'dealer_short_ttc' AS indicator, len(evidence) AS count, evidence,
               round(len(evidence) / traced, 4) AS share, round(overall.rate, 4) AS overall_share
        FROM d, overall WHERE len(evidence) >= ? AND len(evidence) / traced >= ? * overall.rate
        ORDER BY count DESC, subject
        """,
        [minimum, times],
    )


def firearm_indicators(data: FirearmsData) -> list[dict[str, Any]]:
    """Traced guns with an obliterated serial, or recovered within three years of the sale."""
    return data.rows(
        "SELECT trace AS subject, 'obliterated_serial' AS indicator, 1 AS count, [trace] AS evidence FROM traces "
        "WHERE serial_condition IN ('obliterated', 'partial') "
        "UNION ALL SELECT trace, 'short_ttc_firearm', 1, [trace] FROM traces "
        f"WHERE ttc < {SHORT_TTC_DAYS} ORDER BY 1, 2"
    )
