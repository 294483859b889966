"""After the whole suite: no victim's or tipster's name or contact, of those the tests use, is in
any log file the run wrote (servers' logs, import logs) — identities are never logged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_people_privacy import VICTIM as EXPLOITED
from tests.e2e.test_screening import SUBJECT as INTERVIEWED_IN_BROWSER
from tests.people.test_screening import SUBJECT as INTERVIEWED
from tests.web.conftest import VICTIM
from tests.web.test_tips import CONTACT as TIPSTER_CONTACT

CONFIDENTIAL = (VICTIM, EXPLOITED, INTERVIEWED, INTERVIEWED_IN_BROWSER, TIPSTER_CONTACT)


@pytest.mark.last
def test_no_victim_or_tipster_in_any_log(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.getbasetemp()
    logs = [p for p in root.rglob("*.log") if p.is_file()] + [p for p in Path.cwd().glob("*.log") if p.is_file()]
    if not logs:
        pytest.skip("this run wrote no log file (run with the browser tests, which start servers)")
    found = [
        (str(path), name)
        for path in logs
        for name in CONFIDENTIAL
        if name in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert found == []
