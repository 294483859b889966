"""PostgreSQL restarted under load: requests fail cleanly (503, in the user's language), the server
reconnects by itself, and every write it acknowledged is stored.

A private, throw-away PostgreSQL 15 cluster (initdb in a temporary folder, a free port on
127.0.0.1, its socket in that folder) is run as the ``postgres`` OS user, so that the shared server
on 5432 is never touched. ``cruce serve`` runs on it in a process of its own while threads drive
reads (search and an entity through the API, the search and entity pages signed in) and writes
(watches through the API, tips through the public form); PostgreSQL is restarted
(``pg_ctl restart -m fast``), then stopped for a few seconds and started again.
"""

from __future__ import annotations

import itertools
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cruce.web.i18n import translator
from cruce.web.launch import free_port, stop_server
from cruce.web.unavailable import DETAIL as UNAVAILABLE
from cruce.web.unavailable import TITLE
from tests.faults.environment import unavailable

PG_BIN = Path(os.environ.get("CRUCE_PG_BIN", "/usr/lib/postgresql/15/bin"))
REQUEST_TIMEOUT = 20.0  # a request that takes longer hangs: the test fails
START_TIMEOUT = 60.0
RECOVERY_TIMEOUT = 20.0  # for every kind of request to succeed again once PostgreSQL is back
DOWN_SECONDS = 3.0
SETTLE_SECONDS = 1.0  # every request begun this long after PostgreSQL is back must succeed
PAUSE = 0.02  # between one worker's requests: a steady load that leaves the 2 cores some air
PEOPLE = 200
PASSWORD = "demo-admin-password"  # the demo admin's (cruce.web.demo_setup)
MAPPING = """
name: fault-people
dataset: people
entities:
  person:
    schema: Person
    key: [pid]
    properties:
      name: name
      nationality: nationality
"""


# -- a private PostgreSQL cluster --------------------------------------------------------------
def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _why_no_cluster() -> str | None:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        return f"PostgreSQL 15 binaries are missing in {PG_BIN} (apt-get install postgresql-15)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no 'postgres' OS user to run a private PostgreSQL cluster as"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser (util-linux) is missing: cannot run PostgreSQL as the postgres user"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return "a private PostgreSQL cluster needs root (to run it as 'postgres') or the postgres user"
    return None


def _run(command: list[str], what: str, timeout: float = 60) -> None:
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{what} failed: {done.stdout}{done.stderr}"


@dataclass
class Cluster:
    """A throw-away PostgreSQL cluster on 127.0.0.1:``port``, its data, log and socket in ``folder``."""

    folder: Path
    port: int

    def ctl(self, *args: str) -> None:
        """``pg_ctl`` on this cluster, waiting (at most 30 s) for the start or stop to finish; the
        server's output goes to the log file, never to a pipe of ours."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "log")]
        _run(_as_postgres([*command, "-w", "-t", "30", "-o", options + " -c fsync=off", *args]), f"pg_ctl {args}")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    reason = _why_no_cluster()
    if reason:
        unavailable(reason)
    import psycopg

    folder = Path(tempfile.mkdtemp(prefix="cruce-pg-"))  # not under pytest's tmp: postgres must reach it
    try:
        shutil.chown(folder, "postgres", "postgres")
        folder.chmod(0o700)
        initdb = [str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        _run(_as_postgres([*initdb, "--no-sync"]), "initdb", timeout=120)
        running = Cluster(folder, free_port())
        running.ctl("start")
        try:
            with psycopg.connect(running.url("postgres"), autocommit=True, connect_timeout=10) as conn:
                conn.execute("CREATE DATABASE cruce")
            yield running
        finally:
            stop = [str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "-w", "-t", "30", "stop"]
            subprocess.run(_as_postgres(stop), stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- the store and the server --------------------------------------------------------------------
def _prepare_store(url: str, folder: Path) -> tuple[list[str], str]:
    """People imported, the demo accounts, an API token; returns (entity ids, token)."""
    from cruce.ingest.pipeline import import_file
    from cruce.security import Security
    from cruce.security.audit import now
    from cruce.store import open_store
    from cruce.web.demo_setup import set_up

    csv = folder / "people.csv"
    csv.write_text("pid,name,nationality\n" + "".join(f"p{i},Maria Lopez {i},MX\n" for i in range(PEOPLE)))
    mapping = folder / "people.yaml"
    mapping.write_text(MAPPING)
    with open_store(url) as store:
        import_file(store, csv, mapping)
        ids = [e.id for e in itertools.islice(store.iter_entities(schema="Person"), 20)]
    set_up(url)
    with open_store(url) as store:
        token = Security(store).accounts.create_token("admin", "faults", ["read"], now=now())
    return ids, token


@dataclass
class Serving:
    url: str
    log: Path


def _serve(db: str, folder: Path) -> tuple[subprocess.Popen[bytes], Serving]:
    """``cruce serve`` behind the (trusted, loopback) proxy headers, so that each tip comes from an
    address of its own, as it would from the public: the tip form allows 5 per address."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "serve.log"
    command = [sys.executable, "-m", "cruce", "--db", db, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--behind-proxy"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"cruce serve exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/static/cruce.css", timeout=2).status_code == 200:
                return process, Serving(url, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise AssertionError(f"cruce serve did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text(errors='replace')}")


# -- the load ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    kind: str
    started: float
    ended: float
    status: int | None  # None: no answer (timeout, connection error)
    body: str
    key: str | None = None  # a write's identity: the watch's id, the tip's text


OK = {"search": 200, "entity": 200, "search page": 200, "entity page": 200, "watch": 201, "tip": 303}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


@contextmanager
def signed_in(serving: Serving, lang: str | None = None) -> Iterator[httpx.Client]:
    """A client signed in as the demo admin; with ``lang``, the language switch's cookie set to it."""
    with httpx.Client(base_url=serving.url, timeout=REQUEST_TIMEOUT, follow_redirects=False) as client:
        form = client.get("/signin")
        data = {"username": "admin", "password": PASSWORD, "csrf_token": _csrf(form.text), "next": "/"}
        assert client.post("/signin", data=data).status_code == 303
        if lang:
            client.cookies.set("cruce_lang", lang)
        yield client


class Load:
    """Worker threads, each repeating one kind of request until ``stop``; every outcome is kept."""

    def __init__(self, serving: Serving, token: str, ids: list[str]) -> None:
        self.serving = serving
        self.token = token
        self.ids = ids
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._counter = itertools.count()
        self._threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.serving.url, timeout=REQUEST_TIMEOUT, follow_redirects=False)

    def _record(self, kind: str, send: Callable[[int], tuple[httpx.Response, str | None]]) -> None:
        n = next(self._counter)
        started = time.monotonic()
        try:
            response, key = send(n)
            status, body = response.status_code, response.text
        except httpx.HTTPError as exc:
            status, body, key = None, f"{type(exc).__name__}: {exc}", None
        with self._lock:
            self.outcomes.append(Outcome(kind, started, time.monotonic(), status, body[:2000], key))

    def _api_reads(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with self._client() as client:
            while not self._stop.is_set():
                self._record(
                    "search", lambda n: (client.get(f"/api/v1/search?q=maria+{n % PEOPLE}", headers=headers), None)
                )
                self._record(
                    "entity",
                    lambda n: (client.get(f"/api/v1/entities/{self.ids[n % len(self.ids)]}", headers=headers), None),
                )
                time.sleep(PAUSE)

    def _pages(self) -> None:
        with signed_in(self.serving) as client:
            while not self._stop.is_set():
                self._record("search page", lambda n: (client.get(f"/search?q=lopez+{n % PEOPLE}"), None))
                self._record("entity page", lambda n: (client.get(f"/entity/{self.ids[n % len(self.ids)]}"), None))
                time.sleep(PAUSE)

    def _watches(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}

        def add(n: int) -> tuple[httpx.Response, str | None]:
            response = client.post(
                "/api/v1/watches", json={"kind": "name", "target": f"Fault Watch {n}"}, headers=headers
            )
            return response, response.json().get("id") if response.status_code == 201 else None

        with self._client() as client:
            while not self._stop.is_set():
                self._record("watch", add)
                time.sleep(PAUSE)

    def _tips(self) -> None:
        with self._client() as client:
            csrf = _csrf(client.get("/tip").text)

            def send(n: int) -> tuple[httpx.Response, str | None]:
                text = f"fault test tip {n}"
                forwarded = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}
                response = client.post("/tip", data={"csrf_token": csrf, "what": text}, headers=forwarded)
                return response, text

            while not self._stop.is_set():
                self._record("tip", send)
                time.sleep(PAUSE * 5)  # the form allows 200 tips from everyone in 10 minutes

    def _guarded(self, work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:  # raised again by __exit__, in the test's thread
                self.errors.append(exc)
                self._stop.set()

        return run

    def __enter__(self) -> Load:
        for work in (self._api_reads, self._api_reads, self._pages, self._watches, self._tips):
            thread = threading.Thread(target=self._guarded(work), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT * 2 + 5)
        assert not any(t.is_alive() for t in self._threads), "a load thread did not stop"
        if self.errors:
            raise self.errors[0]

    def since(self, moment: float) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.started >= moment]

    def wait_until_all_succeed(self, back: float) -> float:
        """When every kind of request begun after ``back`` has succeeded; fails after RECOVERY_TIMEOUT."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while time.monotonic() < deadline and not self.errors:
            ok = {o.kind: o.ended for o in self.since(back) if o.status == OK[o.kind]}
            if set(ok) == set(OK):
                return max(ok.values())
            time.sleep(0.1)
        seen = sorted({(o.kind, o.status) for o in self.since(back)}, key=str)
        raise AssertionError(f"the server did not recover within {RECOVERY_TIMEOUT:.0f} s: {seen}")


def _stored(url: str, watches: set[str], tips: set[str]) -> tuple[set[str], set[str]]:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        found_watches = {str(r[0]) for r in conn.execute("SELECT id FROM watch").fetchall()}
        found_tips = {str(r[0]) for r in conn.execute("SELECT what_text FROM tip_submission").fetchall()}
    return watches & found_watches, tips & found_tips


# -- the test ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_postgresql_restarted_under_load(cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRUCE_SECRET_KEY_FILE", str(tmp_path / "cruce.key"))  # the server's, inherited
    db = cluster.url("cruce")
    ids, token = _prepare_store(db, tmp_path)
    process, serving = _serve(db, tmp_path)
    try:
        with signed_in(serving, "es") as reader, Load(serving, token, ids) as load:
            load.wait_until_all_succeed(0)  # warmed up: every kind of request answered once
            time.sleep(1.0)
            failed = {(o.kind, o.status, o.body[:200]) for o in load.since(0) if o.status != OK[o.kind]}
            assert not failed, failed

            cluster.ctl("-m", "fast", "restart")
            back = time.monotonic()
            load.wait_until_all_succeed(back)
            time.sleep(SETTLE_SECONDS + 1.0)

            stopping = time.monotonic()
            cluster.ctl("-m", "fast", "stop")
            down = time.monotonic()
            time.sleep(DOWN_SECONDS / 2)
            spanish_page = reader.get("/search?q=x")
            spanish_api = httpx.get(
                f"{serving.url}/api/v1/search?q=x",
                headers={"Authorization": f"Bearer {token}", "Accept-Language": "es-MX,es;q=0.9"},
                timeout=REQUEST_TIMEOUT,
            )
            time.sleep(DOWN_SECONDS / 2)
            up_again = time.monotonic()
            cluster.ctl("start")
            back_again = time.monotonic()
            load.wait_until_all_succeed(back_again)
            time.sleep(SETTLE_SECONDS + 1.0)
        outcomes = list(load.outcomes)
    finally:
        stop_server(process)
    log = serving.log.read_text(errors="replace")

    # Nothing hung, nothing answered 500: each request succeeded or was refused with a 503.
    unanswered = [o for o in outcomes if o.status is None]
    assert not unanswered, unanswered[:5]
    wrong = [(o.kind, o.status, o.body[:300]) for o in outcomes if o.status not in (OK[o.kind], 503)]
    assert not wrong, wrong[:5]
    assert max(o.ended - o.started for o in outcomes) < REQUEST_TIMEOUT
    assert "Traceback" not in log, log[-3000:]

    # While PostgreSQL was down every request was refused, with the message, in the user's language.
    during = [o for o in outcomes if o.started >= down + 0.2 and o.ended <= up_again]
    assert {o.kind for o in during} == set(OK), {o.kind for o in during}
    assert all(o.status == 503 for o in during), {(o.kind, o.status) for o in during}
    api = next(o for o in during if o.kind == "search")
    assert UNAVAILABLE in api.body
    page = next(o for o in during if o.kind == "search page")
    assert TITLE in page.body
    assert 'lang="en"' in page.body
    assert spanish_page.status_code == 503
    assert spanish_page.headers["content-language"] == "es"
    assert 'lang="es"' in spanish_page.text
    assert translator("es")(TITLE) in spanish_page.text
    assert int(spanish_page.headers["retry-after"]) > 0
    assert spanish_api.status_code == 503
    assert spanish_api.json() == {"detail": translator("es")(UNAVAILABLE)}

    # Once it was back, the server reconnected by itself: from shortly after, everything succeeded.
    for start, end in ((back + SETTLE_SECONDS, stopping), (back_again + SETTLE_SECONDS, float("inf"))):
        after = [o for o in outcomes if o.started >= start and o.ended <= end]
        assert {o.kind for o in after} == set(OK), "not every kind of request was made after PostgreSQL came back"
        failed = [(o.kind, o.status, o.body[:200]) for o in after if o.status != OK[o.kind]]
        assert not failed, failed[:5]

    # Every acknowledged write is stored.
    watches = {o.key for o in outcomes if o.kind == "watch" and o.status == 201 and o.key}
    tips = {o.key for o in outcomes if o.kind == "tip" and o.status == 303 and o.key}
    assert len(watches) > 10, len(watches)
    assert len(tips) > 5, len(tips)
    stored_watches, stored_tips = _stored(db, watches, tips)
    assert stored_watches == watches, (
        f"{len(watches) - len(stored_watches)} of {len(watches)} acknowledged watches lost"
    )
    assert stored_tips == tips, f"{len(tips) - len(stored_tips)} of {len(tips)} acknowledged tips lost"
