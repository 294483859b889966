"""The resolution job: ``cruce.resolve.engine.resolve`` of one type, started from the web.

A run becomes current in one transaction at its end (``ResolutionStore.finish_run``), so a run
stopped part-way — killed, cancelled — changes no cluster: running the job again is the resume.
A model trained by the stopped run is kept, and the next attempt reuses it instead of training
again (unless the job asked for a new model and none was saved since the job was made).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC
from typing import Any

from cruce.jobs.work import JobContext, JobError
from cruce.resolve.engine import ResolutionError, resolve


def resolution_params(entity_type: str, retrain: bool, threshold: float | None, address: str | None) -> dict[str, Any]:
    return {"type": entity_type, "retrain": retrain, "threshold": threshold, "address": address}


def run_resolution(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    entity_type = str(params["type"])
    retrain = bool(params.get("retrain")) and not _trained_by_an_earlier_attempt(ctx, entity_type)
    try:
        result = resolve(
            ctx.store, entity_type, threshold=params.get("threshold"), retrain=retrain, actor=ctx.job.owner,
            on_progress=lambda label, done, total: ctx.progress(done, total, label),
        )  # fmt: skip
    except ResolutionError as exc:
        ctx.audit("resolve", target=entity_type, outcome="failed")
        raise JobError(str(exc)) from None
    ctx.audit("resolve", target=entity_type, run=result.run_id, clusters=result.clusters)
    return {
        "type": result.entity_type,
        "run_id": result.run_id,
        "model_version": result.model_version,
        "trained": result.trained,
        "threshold": result.threshold,
        "records": result.records,
        "pairs": result.pairs,
        "clusters": result.clusters,
        "merged_records": result.merged_records,
        "seconds": round(result.seconds, 3),
        "conflicts": len(result.conflicts),
        "purged": [asdict(p) for p in result.purged],
    }


def _trained_by_an_earlier_attempt(ctx: JobContext, entity_type: str) -> bool:
    """A model of this type saved after the job was made: an earlier attempt trained it."""
    if ctx.job.attempts <= 1:
        return False
    from cruce.resolve.store import ResolutionStore

    model = ResolutionStore(ctx.store).latest_model(entity_type)
    made = ctx.job.created_at.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)  # models keep local time
    return model is not None and model.trained_at >= made
