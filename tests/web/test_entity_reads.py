"""The entity page reads an entity with its links in a few queries (``Guard.entity_with_links``):
every role gets the same entities, redactions, links and audit entries as from the three reads
it replaced (the entity, what it points at, what points at it), with one read of the statement
table. On both backends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cruce.schema.model import PropertyType
from cruce.security import REDACTED, SYSTEM, Guard, Principal
from cruce.store.base import Entity
from cruce.store.sql import EntityCache, SqlStore
from tests.web.conftest import USERS, World, build_world, drop_pg_schema, pg_url_or_skip


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"reads-{request.param}")
    url = str(tmp / "reads.duckdb") if request.param == "duckdb" else pg_url_or_skip()
    built = build_world(url, tmp)
    yield built
    built.app.state.services.close()
    if request.param == "postgresql":
        drop_pg_schema(url)


def _shown(entity: Entity | None) -> Any:
    return (
        None
        if entity is None
        else (entity.id, entity.schema, sorted((s.prop, s.value, s.dataset) for s in entity.statements))
    )


def _three_reads(guard: Guard, who: Principal, entity_id: str) -> Any:
    """What the entity page read before: the entity, then what it points at, then what points at it."""
    access = guard.access(who)
    entity = guard.entity(who, entity_id, access=access)
    if entity is None:
        return None
    stype = guard.schema.types[entity.schema]
    links = [
        s.value
        for s in entity.statements
        if s.prop in stype.properties and stype.properties[s.prop].type is PropertyType.ENTITY and s.value != REDACTED
    ]
    targets = guard.entities_by_id(who, links, access=access)
    references = guard.references(who, entity_id, access=access)
    return entity, targets, references


def _summary(found: Any) -> Any:
    if found is None:
        return None
    entity, targets, references = found
    return (
        _shown(entity),
        {k: _shown(v) for k, v in targets.items()},
        [(r.entity_id, r.schema, r.prop, r.caption, _shown(r.entity)) for r in references],
    )


def _audited(world: World, who: str) -> list[tuple[str, str | None, str | None]]:
    entries = world.view.security.audit.entries(actor=who, action="view_protected", limit=100_000)
    return [(e.action, e.target, e.detail) for e in reversed(entries)]


def _ids(world: World) -> list[str]:
    screenings = [r.entity_id for r in world.view.guard.references(SYSTEM, world.victim_id)]
    assert screenings, "the victim's screening points at her"
    return [world.victim_id, world.other_victim_id, world.xss_id, *screenings, "not-an-id"]


@pytest.mark.parametrize("who", sorted(USERS))
def test_the_entity_page_read_matches_the_three_reads(world: World, who: str) -> None:
    guard = world.view.guard
    user = world.view.security.accounts.find(who)
    assert user is not None
    principal = user.principal()
    for entity_id in _ids(world):
        before = _audited(world, who)
        old = _summary(_three_reads(guard, principal, entity_id))
        audited_old = _audited(world, who)[len(before) :]
        found = guard.entity_with_links(principal, entity_id)
        new = _summary(None if found is None else (found.entity, found.targets, found.references))
        audited_new = _audited(world, who)[len(before) + len(audited_old) :]
        assert new == old, (who, entity_id)
        assert audited_new == audited_old, (who, entity_id)


def test_the_victim_is_protected_through_her_links(world: World) -> None:
    """The screening points at the victim through a protected property: the analyst of her unit sees
    neither the link nor her name, the unit's caseworker sees both."""
    guard = world.view.guard
    screening = guard.references(SYSTEM, world.victim_id)[0].entity_id
    for who, sees_name in (("analyst", False), ("caseworker", True)):
        user = world.view.security.accounts.find(who)
        assert user is not None
        found = guard.entity_with_links(user.principal(), screening)
        assert found is not None
        assert (found.entity.first("person") == world.victim_id) is sees_name
        assert list(found.targets) == ([world.victim_id] if sees_name else [])
        victim = guard.entity_with_links(user.principal(), world.victim_id)
        assert victim is not None
        assert (victim.entity.first("name") != REDACTED) is sees_name
        assert [r.entity_id for r in victim.references] == [screening]


def test_the_entity_page_reads_the_statement_table_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    services = world.app.state.services
    reads: list[list[str]] = []
    original = SqlStore._read_statements

    def counted(self: SqlStore, ids: list[str]) -> Any:
        reads.append(ids)
        return original(self, ids)

    monkeypatch.setattr(SqlStore, "_read_statements", counted)
    for view in [services.main, *services._views]:  # forget what earlier tests read
        view.store._entity_caches[0] = EntityCache((-2, -2))
    client = world.session("admin")
    screening = world.view.guard.references(SYSTEM, world.victim_id)[0].entity_id
    reads.clear()
    page = client.get(f"/entity/{screening}")
    assert page.status_code == 200
    assert len(reads) == 1, reads  # the screening and the victim it points at, together
    assert world.victim_id in reads[0]
