"""Demo data: synthetic gun-shop sales written as a dealer's CSV extract, and the demo database.

Every person here is made up from common Spanish and English names, with the noise real files
have (accents dropped, upper case), used by the ingest benchmark. ``python -m cruce.demo`` (run
by ``make demo``) writes a ``cruce synth`` scenario, imports it and every public dataset found in
``../shared/data``, loads the public laws and figures of ``cruce legal seed``, and shows the status.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

FIRST = (
    "José",
    "María",
    "Juan",
    "Luis",
    "Ana",
    "Carlos",
    "Jorge",
    "Lucía",
    "Miguel",
    "Rosa",
    "Jesús",
    "Guadalupe",
    "Francisco",
    "Alejandra",
    "James",
    "Robert",
    "Michael",
    "Linda",
    "David",
    "Sarah",
)
LAST = (
    "Ramírez",
    "Hernández",
    "García",
    "López",
    "Martínez",
    "Pérez",
    "González",
    "Rodríguez",
    "Sánchez",
    "Flores",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Treviño",
    "Muñoz",
)
MODELS = (
    ("Colt", "AR-15 Sporter", "5.56mm", "rifle"),
    ("Romarm/Cugir", "WASR-10", "7.62x39mm", "rifle"),
    ("Barrett", "M82A1", ".50 BMG", "rifle"),
    ("FN Herstal", "FNX-45", ".45 ACP", "pistol"),
    ("Glock", "19", "9mm", "pistol"),
    ("Smith & Wesson", "686", ".357 Magnum", "revolver"),
    ("Ruger", "LCP", ".380 ACP", "pistol"),
    ("Mossberg", "500", "12 gauge", "shotgun"),
)
STATES = ("TX", "TX", "TX", "AZ", "AZ", "CA", "NM")
COLUMNS = (
    "purchase_id",
    "sale_date",
    "buyer_first",
    "buyer_last",
    "buyer_second_last",
    "buyer_dob",
    "buyer_sex",
    "dealer_ffl",
    "dealer_name",
    "dealer_state",
    "serial",
    "manufacturer",
    "model",
    "caliber",
    "firearm_type",
    "price",
    "multiple_sale",
)


def _strip_accents(text: str) -> str:
    return text.translate(str.maketrans("áéíóúñÁÉÍÓÚÑ", "aeiounAEIOUN"))


def purchase_rows(rows: int, seed: int = 7) -> list[list[str]]:
    """``rows`` synthetic sales; people and dealers repeat, as they do in real sales records."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    people = [
        (
            rng.choice(FIRST),
            rng.choice(LAST),
            rng.choice(LAST),
            date(1950, 1, 1) + timedelta(days=rng.randrange(19000)),
            rng.choice("MF"),
        )
        for _ in range(max(10, rows // 4))
    ]
    dealers = [
        (
            f"5-74-{rng.randrange(100, 999)}-01-{rng.randrange(1, 9)}K-{rng.randrange(10000, 99999)}",
            f"{rng.choice(LAST)} Guns & Ammo",
            rng.choice(STATES),
        )
        for _ in range(max(5, rows // 500))
    ]
    out = []
    start = date(2015, 1, 1)
    for i in range(rows):
        first, last, second, dob, sex = rng.choice(people)
        if rng.random() < 0.2:
            first, last, second = (_strip_accents(x).upper() for x in (first, last, second))
        ffl, dealer, state = rng.choice(dealers)
        maker, model, caliber, kind = rng.choice(MODELS)
        out.append(
            [
                f"P{i:08d}",
                (start + timedelta(days=rng.randrange(3000))).strftime("%m/%d/%Y"),
                first,
                last,
                second,
                dob.strftime("%m/%d/%Y"),
                sex,
                ffl,
                dealer,
                state,
                f"{rng.choice('ABCDKLMRTX')}{rng.randrange(10**7):07d}",
                maker,
                model,
                caliber,
                kind,
                f"{rng.randrange(300, 9000)}.{rng.randrange(100):02d}",
                rng.choice(("N", "N", "N", "Y")),
            ]
        )
    return out


def write_purchases_csv(path: Path, rows: int, seed: int = 7, chunk: int = 100_000) -> Path:
    """Write ``rows`` synthetic sales to ``path`` in chunks (memory stays small for big files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        done = 0
        while done < rows:
            n = min(chunk, rows - done)
            for row in purchase_rows(n, seed + done):
                row[0] = f"P{done + int(row[0][1:]):08d}"
                writer.writerow(row)
            done += n
    return path


# Real public datasets (see ../shared/data/README.md) and the built-in mapping for each.
PUBLIC_DATA = (
    ("border_crossing/border_crossing_entry_data_us_mexico.csv.gz", "bts-border-crossings"),
    ("nics_background_checks/nics-firearm-background-checks.csv", "nics-background-checks"),
    ("mexico_homicide_rates/mexico-state-month-homicide-rates-2000-2022.csv", "mx-homicides-state-month"),
    ("ctdc_trafficking_derived/trafficking_cleaned.csv", "ctdc-derived"),
    ("cbp_drug_seizures/nationwide-drugs-fy19-fy22.csv", "cbp-drug-seizures"),
    ("cbp_drug_seizures/amo-drug-seizures-fy19-fy22.csv", "cbp-amo-drug-seizures"),
    ("unodc_drug_seizures/drug_seizures_annual_1970s_unodc.csv.gz", "unodc-drug-seizures"),
    ("mexico_drugwar_diegovalle/executions-bystate.csv", "diegovalle-executions-by-state"),
    ("mexico_drugwar_diegovalle/executions-bymonth.csv", "diegovalle-executions-by-month"),
    ("mexico_drugwar_diegovalle/firearm-executions.csv", "diegovalle-firearm-executions"),
    ("mexico_drugwar_diegovalle/firearm-hom-state.csv", "diegovalle-firearm-homicide-rates"),
    ("geo_mexico/mexico_states.json", "geo-mexico-states"),
    ("geo_us_states/us-states.json", "geo-us-states"),
    *(
        (f"geo_mexico/municipios_{n}.json.gz", "geo-mexico-municipalities")
        for n in ("02_BajaCalifornia", "05_Coahuila", "08_Chihuahua", "19_Nuevo_Leon", "26_Sonora", "28_Tamaulipas")
    ),
)
DEFAULT_PUBLIC_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"


def synthetic_files(folder: Path, scale: int) -> list[tuple[Path, str]]:
    """A ``cruce synth`` scenario of the three flows (synthetic people only), each file with its mapping."""
    import json

    from cruce.synth.scenario import MANIFEST, generate

    generate(folder, scale=scale, seed=1)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return [(folder / entry["path"], entry["mapping"]) for entry in manifest["files"]]


def public_files(folder: Path) -> list[tuple[Path, str]]:
    """The public datasets present in ``folder``, each with its built-in mapping."""
    return [(folder / rel, mapping) for rel, mapping in PUBLIC_DATA if (folder / rel).exists()]


def main() -> None:
    parser = argparse.ArgumentParser(description="Build cruce's demo database.")
    parser.add_argument("--db", default="var/demo.duckdb")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--screenshot", type=Path, help="also save the status screen as an SVG file")
    parser.add_argument(
        "--public-data", type=Path, default=DEFAULT_PUBLIC_DIR, help="folder of the public datasets, if any"
    )
    args = parser.parse_args()
    from rich.console import Console

    from cruce import cli as cli_module
    from cruce.cli import main as cli

    if args.screenshot:
        cli_module.console = Console(record=True, width=110)

    sources = [*synthetic_files(Path(args.db).parent / "scenario", args.rows), *public_files(args.public_data)]
    for path, mapping in sources:
        try:
            cli(["--db", args.db, "import", str(path), "--mapping", mapping])
        except SystemExit as exc:
            if exc.code:
                raise
    try:  # the public laws, enforcement figures and programs shipped with cruce (cruce legal seed)
        cli(["--db", args.db, "legal", "seed"])
    except SystemExit as exc:
        if exc.code:
            raise
    if args.screenshot:
        cli_module.console.export_text(clear=True)  # the screenshot shows the status alone
    try:
        cli(["--db", args.db, "status"])
    except SystemExit as exc:
        if exc.code:
            raise
    if args.screenshot:
        args.screenshot.parent.mkdir(parents=True, exist_ok=True)
        cli_module.console.save_svg(str(args.screenshot), title="cruce status")


if __name__ == "__main__":
    main()
