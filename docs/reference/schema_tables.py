"""Print the type and enum tables of docs/reference/schema.md from `cruce schema --json` on stdin.

    .venv/bin/cruce schema --json | .venv/bin/python docs/reference/schema_tables.py
"""

import json
import sys

KIND_ORDER = {"entity": 0, "event": 1, "relation": 2}


def main() -> None:
    schema = json.load(sys.stdin)
    print("| Type | Kind | English | Español | Extends | Properties | Edge |")
    print("|---|---|---|---|---|---|---|")
    concrete = [t for t in schema["types"].values() if not t["abstract"]]
    for t in sorted(concrete, key=lambda t: (KIND_ORDER[t["kind"]], t["name"])):
        edge = t["edge"]
        ends = f"{edge['source']} {'→' if edge['directed'] else '—'} {edge['target']}" if edge else ""
        print(
            f"| {t['name']} | {t['kind']} | {t['label']['en']} | {t['label']['es']} | "
            f"{', '.join(t['extends'])} | {len(t['properties'])} | {ends} |"
        )
    print()
    print("| Enum | English | Español | Codes | Standard |")
    print("|---|---|---|---|---|")
    for name, enum in sorted(schema["enums"].items()):
        print(
            f"| {name} | {enum['label']['en']} | {enum['label']['es']} | {len(enum['values'])} | "
            f"{enum['source'] or ''} |"
        )


if __name__ == "__main__":
    main()
