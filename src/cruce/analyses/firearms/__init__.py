"""The firearms flow: trace analytics, straw-purchase indicators, risk scores and leads.

``FirearmsData.load(store)`` reads traces, purchases, background checks and shared contacts once;
``figures`` answers the trace questions, ``indicators`` applies the documented rules, ``score``
ranks purchasers into leads, ``evaluate`` measures the leads against a synth scenario's rings.
"""

from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.firearms.score import DEFAULT_THRESHOLD, DEFAULT_WEIGHTS, Lead, score_purchasers

__all__ = ["DEFAULT_THRESHOLD", "DEFAULT_WEIGHTS", "Filters", "FirearmsData", "Lead", "score_purchasers"]
