"""``cruce pprl``: secret, encode and match, the three steps of a linkage between two agencies."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cruce import cli_support
from cruce.cli_support import cli_actor
from cruce.i18n import _
from cruce.pprl.match import DEFAULT_THRESHOLD
from cruce.pprl.worker import PprlError

console = Console()
errors = Console(stderr=True)


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``pprl secret|encode|match`` to the ``cruce`` command."""
    pprl = typer.Typer(
        help=_("Privacy-preserving record linkage: find the people two agencies share without sending names.")
    )
    app.add_typer(pprl, name="pprl")

    @pprl.command("secret", help=_("Write a new random secret for a linkage, to share with the other agency only."))
    def secret_command(
        file: Annotated[Path, typer.Argument(help=_("The file to write (an existing file is kept)."))],
    ) -> None:
        from cruce.pprl.files import write_secret

        with cli_support.user_errors(PprlError):
            write_secret(file)
        console.print(_("Secret written to {file}. Send it to the other agency by a safe channel.").format(file=file))

    @pprl.command(
        "encode",
        help=_("Encode people into Bloom filters with the shared secret; the file holds no names, dates or ids."),
    )
    def encode_command(
        ctx: typer.Context,
        secret_file: Annotated[
            Path, typer.Option("--secret-file", help=_("The secret shared with the other agency (16 bytes or more)."))
        ],
        out: Annotated[Path, typer.Option("--out", "-o", help=_("The encoded file to write (JSON), to send."))],
        dataset: Annotated[
            str | None,
            typer.Option("--dataset", "-d", help=_("Only the people of this dataset (with --csv: the dataset name).")),
        ] = None,
        type_: Annotated[str, typer.Option("--type", "-t", help=_("Entity type to encode: Person."))] = "Person",
        csv_file: Annotated[
            Path | None,
            typer.Option("--csv", help=_("Encode the people of this file (read through --mapping), not the store's.")),
        ] = None,
        mapping: Annotated[
            str | None, typer.Option("--mapping", "-m", help=_("Built-in mapping name or mapping file for --csv."))
        ] = None,
        map_path: Annotated[
            Path | None,
            typer.Option(
                "--map", help=_("Where to write the private map of pseudonyms to record ids (default: OUT.ids.csv).")
            ),
        ] = None,
    ) -> None:
        from cruce.pprl.encode import encode_file, encode_store
        from cruce.pprl.files import read_secret

        with user_errors(), cli_support.user_errors(PprlError):
            if type_ != "Person":
                raise PprlError(_("PPRL encodes people only: --type Person."))
            if (csv_file is None) != (mapping is None):
                raise PprlError(_("--csv and --mapping go together: the file, and how to read it."))
            secret = read_secret(secret_file)
            with open_store(ctx) as store, errors.status(_("Encoding…")):
                if csv_file is not None and mapping is not None:
                    result = encode_file(
                        csv_file, mapping, secret, out, audit_store=store, dataset=dataset, map_path=map_path,
                        actor=cli_actor(),
                    )  # fmt: skip
                else:
                    result = encode_store(store, secret, out, dataset=dataset, map_path=map_path, actor=cli_actor())
        console.print(
            _("{n} people encoded into {file} ({protected} of them protected). Send only that file.").format(
                n=result.records, file=result.out, protected=result.protected_people
            )
        )
        console.print(
            _("Keep {map} to yourself: it turns pseudonyms back into your records.").format(map=result.map_path)
        )

    @pprl.command(
        "match", help=_("Link two encoded files: only the matched pairs of pseudonyms, with their similarity.")
    )
    def match_command(
        file_a: Annotated[Path, typer.Argument(help=_("The first encoded file."))],
        file_b: Annotated[Path, typer.Argument(help=_("The second encoded file."))],
        out: Annotated[Path, typer.Option("--out", "-o", help=_("The CSV file of matched pairs to write."))],
        threshold: Annotated[
            float, typer.Option(help=_("Lowest Dice similarity of a match, above 0 and at most 1."))
        ] = DEFAULT_THRESHOLD,
        one_to_one: Annotated[
            bool,
            typer.Option(
                "--one-to-one",
                help=_("At most one partner per record, most similar first (when each file holds each person once)."),
            ),
        ] = False,
        ids: Annotated[
            list[Path] | None,
            typer.Option(
                "--ids", help=_("Your own map (from encode) to add your record ids to the pairs; repeatable.")
            ),
        ] = None,
    ) -> None:
        from cruce.pprl.files import read_map
        from cruce.pprl.match import match_files, write_pairs

        with cli_support.user_errors(PprlError):
            maps = [read_map(p) for p in ids or []]
            with errors.status(_("Matching…")):
                result = match_files(file_a, file_b, threshold, one_to_one=one_to_one)
            write_pairs(out, result, maps)
        console.print(
            _("{pairs} matched pairs between {a} ({na} records) and {b} ({nb} records) written to {file}.").format(
                pairs=len(result.pairs),
                a=file_a.name,
                na=len(result.a.ids),
                b=file_b.name,
                nb=len(result.b.ids),
                file=out,
            )
        )
