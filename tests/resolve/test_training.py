"""Training a linkage model: estimates that would stop a run are kept in bounds."""

from __future__ import annotations


def test_a_prior_estimated_at_zero_or_one_is_kept_inside() -> None:
    """With a few records the deterministic rules may find no pair or every pair; training goes on."""
    from types import SimpleNamespace

    from cruce.resolve.models import PRIOR_BOUNDS, _bound_prior

    for estimate, expected in ((0.0, PRIOR_BOUNDS[0]), (1.0, PRIOR_BOUNDS[1]), (1e-4, 1e-4)):
        linker = SimpleNamespace(_settings_obj=SimpleNamespace(_probability_two_random_records_match=estimate))
        _bound_prior(linker)
        assert linker._settings_obj._probability_two_random_records_match == expected
