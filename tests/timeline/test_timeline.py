"""Timelines as the domain gives them: order, precision, undated items, filters, the resolved cluster,
and protected people kept protected."""

from __future__ import annotations

import pytest

from cruce.security import Principal
from cruce.timeline import Filters, PartialDate, Timeline, entity_timeline
from tests.timeline.conftest import (
    ADMIN,
    ANALYST,
    CASEWORKER,
    JUAN,
    RECRUIT,
    VICTIM,
    VIEWER,
    TimelineWorld,
)


def _timeline(tworld: TimelineWorld, who: Principal, record: str, **kw: object) -> Timeline:
    found = entity_timeline(tworld.guard, who, record, **kw)  # type: ignore[arg-type]
    assert found is not None
    return found


def _dates(tl: Timeline) -> list[tuple[str, str]]:
    return [(i.start.text if i.start else "", i.schema) for i in tl.items]


def test_the_cluster_s_events_in_order_with_their_precision(tworld: TimelineWorld) -> None:
    tl = _timeline(tworld, ADMIN, tworld.people.juan["P1"])
    assert set(tl.members) == set(tworld.people.juan.values())
    assert tl.clustered
    assert _dates(tl) == [
        ("1980-05-01", "Person"),  # born (one item, however many records give it)
        ("2018", "BorderCrossing"),  # known to the year only
        ("2019-03-14", "FirearmPurchase"),
        ("2020-07-02", "FirearmPurchase"),  # the purchase of another record of him
        ("2021-03", "FirearmRecovery"),  # known to the month only
        ("2022-06-11T23:39:00", "Tip"),  # reports him from the same row
    ]
    crossing, recovery = tl.items[1], tl.items[4]
    assert (crossing.start.precision, crossing.start.format("en")) == ("year", "2018")  # type: ignore[union-attr]
    assert recovery.start.precision == "month"  # type: ignore[union-attr]
    assert recovery.start.format("en") == "March 2021"  # type: ignore[union-attr]
    assert recovery.start.format("es") == "marzo de 2021"  # type: ignore[union-attr]
    birth = tl.items[0]
    assert birth.kind == "milestone"
    assert len(birth.sources) == 2  # both sales give the date of birth


def test_undated_items_are_kept_apart(tworld: TimelineWorld) -> None:
    tl = _timeline(tworld, ADMIN, tworld.people.juan["X3"])
    # (each crossing's CrossedAt relation only repeats the crossing: not shown twice)
    assert sorted(i.schema for i in tl.undated) == ["BorderCrossing", "Recruited"]
    assert all(i.start is None for i in tl.undated)
    recruitment = next(i for i in tl.undated if i.schema == "Recruited")
    assert recruitment.kind == "relation"
    assert recruitment.label == f"{JUAN} recruited {RECRUIT}"
    assert recruitment.roles == ("Recruiter",)


def test_a_record_alone_without_its_cluster(tworld: TimelineWorld) -> None:
    tl = _timeline(tworld, ADMIN, tworld.people.juan["P1"], cluster=False)
    assert tl.members == (tworld.people.juan["P1"],)
    assert _dates(tl) == [("1980-05-01", "Person"), ("2019-03-14", "FirearmPurchase")]


def test_each_item_says_who_took_part_how_where_it_comes_from_and_its_flow(tworld: TimelineWorld) -> None:
    tl = _timeline(tworld, ADMIN, tworld.people.juan["P1"], lang="es")
    purchase = next(i for i in tl.items if i.start and i.start.text == "2019-03-14")
    assert purchase.flows == ("firearms",)
    assert purchase.type_label == "Compra de arma de fuego"
    assert purchase.label == "Compra de arma de fuego"  # no name of its own
    assert purchase.roles == ("Comprador",)
    assert {(p.role, p.subject) for p in purchase.parties} == {("purchaser", True), ("firearm", False)}
    assert (purchase.sources[0].dataset, purchase.sources[0].file, purchase.sources[0].row) == (
        "gun-sales", "timeline-sales.csv", 2,
    )  # fmt: skip
    tip = next(i for i in tl.items if i.schema == "Tip")
    assert (tip.kind, tip.flows) == ("mention", ("drugs",))
    crossing = next(i for i in tl.items if i.schema == "BorderCrossing")
    assert crossing.flows == ("shared",)


def test_filters_by_type_flow_and_dates(tworld: TimelineWorld) -> None:
    juan = tworld.people.juan["P1"]

    def kept(**filters: object) -> list[tuple[str, str]]:
        return _dates(_timeline(tworld, ADMIN, juan, filters=Filters(**filters)))  # type: ignore[arg-type]

    assert kept(types=frozenset({"FirearmPurchase"})) == [
        ("2019-03-14", "FirearmPurchase"),
        ("2020-07-02", "FirearmPurchase"),
    ]
    assert [s for _d, s in kept(flows=frozenset({"firearms"}))] == [
        "FirearmPurchase",
        "FirearmPurchase",
        "FirearmRecovery",
    ]
    assert [s for _d, s in kept(flows=frozenset({"drugs", "shared"}))] == ["Person", "BorderCrossing", "Tip"]
    since, until = PartialDate.parse("2020"), PartialDate.parse("2021-03-15")
    assert kept(since=since, until=until) == [("2020-07-02", "FirearmPurchase"), ("2021-03", "FirearmRecovery")]
    # a date known to the year or the month is in a range that meets it
    assert kept(since=PartialDate.parse("2018-06-01"), until=PartialDate.parse("2018-06-30")) == [
        ("2018", "BorderCrossing")
    ]
    assert ("2021-03", "FirearmRecovery") not in kept(since=PartialDate.parse("2021-04"))
    # undated items stay (a date range cannot place them); types and flows still apply
    tl = _timeline(tworld, ADMIN, juan, filters=Filters(since=PartialDate.parse("2030")))
    assert (tl.items, len(tl.undated)) == ((), 2)
    assert _timeline(tworld, ADMIN, juan, filters=Filters(flows=frozenset({"firearms"}))).undated == ()
    # the choices offered are those found before filtering
    assert "Tip" in {t for t, _label in _timeline(tworld, ADMIN, juan, filters=Filters(types=frozenset({"Tip"}))).types}


def test_a_protected_person_s_events_only_inside_the_caseload(tworld: TimelineWorld) -> None:
    victim, traveler = tworld.people.victim, tworld.people.victim_traveler
    # her caseworker sees her screening and the crossing of her other record
    mine = _timeline(tworld, CASEWORKER, victim)
    assert [i.schema for i in mine.items] == ["BorderCrossing", "Screening"]
    # the analyst of her unit sees the dataset but may not name her: nothing of hers is shown,
    # not even the crossing of the named record merged with her
    for record in (victim, traveler):
        theirs = _timeline(tworld, ANALYST, record)
        assert (theirs.items, theirs.undated) == ((), ())
    # a viewer cannot see her record at all, and sees the traveller's crossing alone
    assert entity_timeline(tworld.guard, VIEWER, victim) is None
    alone = _timeline(tworld, VIEWER, traveler)
    assert alone.members == (traveler,)
    assert [i.schema for i in alone.items] == ["BorderCrossing"]


def test_names_of_protected_people_are_redacted_by_role(tworld: TimelineWorld) -> None:
    juan = tworld.people.juan["N1"]
    for who, shown in ((VIEWER, False), (ANALYST, False), (ADMIN, True)):
        tl = _timeline(tworld, who, juan)
        recruitment = next(i for i in tl.undated if i.schema == "Recruited")
        names = {p.caption for p in recruitment.parties}
        assert (RECRUIT in names) is shown, who.username
        assert (RECRUIT in recruitment.label) is shown
    assert VICTIM not in repr(_timeline(tworld, ANALYST, tworld.people.victim))


def test_not_a_record_or_not_visible(tworld: TimelineWorld) -> None:
    assert entity_timeline(tworld.guard, ADMIN, "not-an-id") is None
    assert entity_timeline(tworld.guard, ADMIN, "00000000-0000-0000-0000-000000000000") is None


def test_partial_dates() -> None:
    assert PartialDate.parse("2019-02").last.day == 28  # type: ignore[union-attr]
    assert PartialDate.parse("2019-13") is None
    assert PartialDate.parse("2021-02-31") is None  # not a date a source can hold
    assert PartialDate.bound("2021-02-31") == PartialDate.parse("2021-02-28")  # a range's end as written
    assert PartialDate.bound("2021-13-01") is None
    assert PartialDate.parse("[redacted]") is None
    moment = PartialDate.parse("2024-05-02T10:22:00")
    assert moment is not None
    assert (moment.precision, moment.exact) == ("time", True)
    assert PartialDate.parse("2024-05-02").format("es") == "2 may 2024"  # type: ignore[union-attr]


def test_the_axis_lanes_ticks_dots_and_bars(tworld: TimelineWorld) -> None:
    from cruce.timeline.axis import LEFT, WIDTH, layout

    tl = _timeline(tworld, ADMIN, tworld.people.juan["P1"])
    axis = layout(tl.items, "es")
    assert axis is not None
    assert [lane.flow for lane in axis.lanes] == ["firearms", "drugs", "shared"]
    assert [t.label for t in axis.ticks] == ["2018", "2019", "2020", "2021", "2022", "2023"]
    by_item = {m.n: m for m in axis.marks}
    assert 1 not in by_item  # born in 1980: in the list, not on an axis of 2018-2022
    assert by_item[2].width > 0  # 2018, known to the year: a bar across it
    assert by_item[3].point  # a day: a dot
    assert by_item[5].width > 0  # March 2021: a bar
    assert all(LEFT <= m.x <= WIDTH for m in axis.marks)
    assert by_item[2].x < by_item[3].x < by_item[4].x < by_item[5].x
    # a short span is ticked by month, in the reader's language
    short = layout([i for i in tl.items if i.schema == "FirearmRecovery"], "es")
    assert short is not None
    assert short.ticks[0].label == "mar 2021"
    assert layout(tl.undated, "en") is None


def test_a_timeline_reads_at_most_max_linked_records_and_says_how_many_it_left_out(
    tworld: TimelineWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dealer with fifty thousand sales is not read whole: past the cap, the least recently
    imported records are left out, and the timeline says how many."""
    from cruce.timeline import collect

    full = _timeline(tworld, ADMIN, tworld.people.juan["P1"])
    assert full.left_out == 0
    monkeypatch.setattr(collect, "MAX_LINKED", 2)
    capped = _timeline(tworld, ADMIN, tworld.people.juan["P1"])
    assert capped.left_out >= 1
    shown, everything = len(capped.items) + len(capped.undated), len(full.items) + len(full.undated)
    assert everything - capped.left_out <= shown < everything  # a linked record makes one item at most
    assert {(i.start.text if i.start else "", i.schema) for i in capped.items} <= set(_dates(full))
