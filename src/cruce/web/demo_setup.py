"""Demo accounts and markings for ``make demo``: one user per role, the people-flow datasets amber.

The passwords are fixed and printed: they are for the demo database on a laptop only, never for
a real deployment (where ``cruce users add`` makes up a password and shows it once).
"""

from __future__ import annotations

import argparse

from cruce.security import AccountError, Marking, Security
from cruce.security.audit import now
from cruce.store import open_store

DEMO_NOTE = "DEMO ONLY - never use these accounts outside the demo database"
DEMO_GROUP = "victim-services"
DEMO_USERS: tuple[tuple[str, str, set[str], str], ...] = (
    # user name, role, groups, password
    ("admin", "admin", set(), "demo-admin-password"),
    ("analyst", "analyst", {DEMO_GROUP}, "demo-analyst-password"),
    ("caseworker", "caseworker", {DEMO_GROUP}, "demo-caseworker-password"),
    ("viewer", "viewer", set(), "demo-viewer-password"),
)
PEOPLE_DATASETS = ("htcds-cases", "ctdc-derived")


def people_datasets(names: list[str]) -> list[str]:
    """The datasets of the people flow: the HTCDS and CTDC ones and any screening or tip dataset."""
    return sorted(n for n in names if n in PEOPLE_DATASETS or "screening" in n or "tip" in n)


def set_up(db: str) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Create the demo users (kept if they exist) and mark the people-flow datasets amber.

    Returns the accounts (user, role, password) and the datasets marked.
    """
    with open_store(db) as store:
        security = Security(store)
        accounts = []
        t = now()
        for username, role, groups, password in DEMO_USERS:
            try:
                security.accounts.add(username, password, role, groups=groups, display_name=f"Demo {role}", now=t)
                security.audit.record("demo", "user_add", target=username, detail={"role": role, "demo": True})
            except AccountError:
                pass  # already there from an earlier `make demo`
            accounts.append((username, role, password))
        marked = people_datasets([d.name for d in store.datasets()])
        for name in marked:
            security.policies.set(name, Marking.AMBER, {DEMO_GROUP}, now=t)
            detail = {"marking": "amber", "groups": [DEMO_GROUP]}
            security.audit.record("demo", "dataset_mark", target=name, detail=detail)
    return accounts, marked


def main() -> None:
    parser = argparse.ArgumentParser(description="Create cruce's demo accounts and mark the people-flow datasets.")
    parser.add_argument("--db", default="var/demo.duckdb")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    accounts, marked = set_up(args.db)
    print(f"Datasets marked amber for the group {DEMO_GROUP!r}: {', '.join(marked) or '(none found)'}")
    print(f"\ncruce will be at http://{args.host}:{args.port}/ - demo accounts ({DEMO_NOTE}):")
    for username, role, password in accounts:
        print(f"  {username:<11} {role:<11} {password}")
    print(f"The anonymous tip form: http://{args.host}:{args.port}/tip\n")


if __name__ == "__main__":
    main()
