"""``python manage.py catalog SUBCOMMAND``: the catalog from the command line."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.cli import check_commands, index_commands
from catalog.cli.learn_commands import add_learn_arguments, run_learn
from catalog.domain import transfer
from catalog.domain.model_input import ModelInputError
from catalog.domain.queries import InvalidCursor
from catalog.domain.registry import InvalidName, RegistryError, get_registry, version_info
from catalog.onnxdoc import DocumentError
from catalog.store import StoreError

SUBCOMMANDS = [
    "init",
    "publish",
    "list",
    "show",
    "load",
    "alias",
    "delete",
    "demo",
    "export",
    "import",
    "learn",
    "check",
    "index",
]


class Command(BaseCommand):
    help = "Manage the model catalog: " + ", ".join(SUBCOMMANDS)

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")

        sub.add_parser("init", help="create the catalog's collections and indexes (idempotent)")

        p = sub.add_parser("publish", help="publish a .onnx file as a new version")
        p.add_argument("name")
        p.add_argument("path", help="path to a .onnx file")
        p.add_argument("--description")
        p.add_argument("--tags", help="comma-separated tags")
        p.add_argument("--task")
        p.add_argument("--framework")
        p.add_argument("--metadata", help="extra metadata as a JSON object")
        p.add_argument("--format", choices=["json", "binary"], default="json")
        p.add_argument("--alias", help="also point this alias at the new version")
        p.add_argument("--json", action="store_true", help="print the result as JSON")

        p = sub.add_parser("list", help="list models, or the versions of one model")
        p.add_argument("name", nargs="?")
        p.add_argument("--json", action="store_true")
        p.add_argument("--limit", type=int, help="one page of at most this many (1-1000)")
        p.add_argument("--cursor", help="the page after the one that printed this cursor")

        p = sub.add_parser("show", help="show one version (default: latest)")
        p.add_argument("name")
        p.add_argument("ref", nargs="?", default="latest", help="version number or alias")
        p.add_argument("--json", action="store_true", help="print the whole stored document")

        p = sub.add_parser("load", help="write a version to a .onnx file")
        p.add_argument("name")
        p.add_argument("ref", nargs="?", default="latest")
        p.add_argument("-o", "--output", required=True)

        p = sub.add_parser("alias", help="point an alias at a version, or remove it")
        p.add_argument("name")
        p.add_argument("alias")
        p.add_argument("version", nargs="?", type=int)
        p.add_argument("--remove", action="store_true")

        p = sub.add_parser("delete", help="delete a version")
        p.add_argument("name")
        p.add_argument("version", help="a version number (or the key part of a damaged one)")
        p.add_argument("--force", action="store_true", help="delete even if aliased")
        check_commands.add_arguments(sub)
        index_commands.add_arguments(sub)

        p = sub.add_parser("demo", help="publish the demo catalog (idempotent)")

        p = sub.add_parser("export", help="write every document as JSON Lines")
        p.add_argument("file", help="output file, or - for standard output")

        p = sub.add_parser("import", help="read documents written by export")
        p.add_argument("file", help="input file, or - for standard input")

        p = sub.add_parser("learn", help="start online learning, learn a CSV batch, or status")
        add_learn_arguments(p)

        p = sub.add_parser("token", help="create an API token for a user (printed once)")
        p.add_argument("username")
        p.add_argument("--name", default="", help="a label to tell tokens apart")
        p.add_argument("--revoke", action="store_true", help="delete every token of the user")

        p = sub.add_parser("serve-grpc", help="serve the OIP gRPC inference API")
        p.add_argument("--host", default="0.0.0.0")
        p.add_argument("--port", type=int, default=8001)
        p.add_argument("--threads", type=int, help="request threads per process (default 2)")
        p.add_argument("--workers", type=int, default=1, help="processes sharing the port")

    def handle(self, *args: Any, **opts: Any) -> None:
        name = opts["subcommand"]
        try:
            getattr(self, f"do_{name.replace('-', '_')}")(opts)
        except (
            RegistryError,
            StoreError,
            ModelInputError,
            DocumentError,
            transfer.TransferError,
        ) as e:
            raise CommandError(str(e)) from None
        except OSError as e:
            raise CommandError(f"{e.strerror}: {e.filename}") from None

    # -- subcommands -----------------------------------------------------------------------

    def do_init(self, opts: dict[str, Any]) -> None:
        from catalog.domain.setup import init_catalog

        for line in init_catalog(get_registry(), progress=self.stdout.write):
            self.stdout.write(line)

    def do_publish(self, opts: dict[str, Any]) -> None:
        path = Path(opts["path"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        metadata: dict[str, Any] = {}
        if opts["metadata"]:
            try:
                metadata = json.loads(opts["metadata"])
            except ValueError as e:
                raise CommandError(f"--metadata is not valid JSON: {e}") from None
            except RecursionError:
                raise CommandError("--metadata is nested too deeply") from None
            if not isinstance(metadata, dict):
                raise CommandError("--metadata must be a JSON object")
        for field in ("task", "framework"):
            if opts[field]:
                metadata[field] = opts[field]
        tags = [t.strip() for t in opts["tags"].split(",") if t.strip()] if opts["tags"] else None
        ref = get_registry().publish(
            opts["name"],
            path,
            metadata=metadata,
            tags=tags,
            description=opts["description"],
            format=opts["format"],
            alias=opts["alias"],
        )
        if opts["json"]:
            self.stdout.write(json.dumps({"name": ref.name, "version": ref.version}))
        else:
            self.stdout.write(f"published {ref.name} version {ref.version}")

    def do_list(self, opts: dict[str, Any]) -> None:
        reg = get_registry()
        paged = opts["limit"] is not None or opts["cursor"] is not None
        next_cursor: str | None = None
        try:
            if opts["name"]:
                if paged:
                    page = reg.versions_page(
                        opts["name"], cursor=opts["cursor"], limit=opts["limit"]
                    )
                    rows, next_cursor = page.items, page.next
                else:
                    rows = reg.list_versions(opts["name"])
                if not rows and not opts["cursor"]:
                    raise CommandError(f"model {opts['name']!r} not found")
                columns = ["version", "createdAt", "format", "aliases", "paramCount"]
            else:
                if paged:
                    page = reg.models_page(cursor=opts["cursor"], limit=opts["limit"])
                    rows, next_cursor = page.items, page.next
                else:
                    rows = reg.list_models()
                columns = ["name", "version", "versions", "task", "framework", "tags"]
        except InvalidCursor as e:
            raise CommandError(str(e)) from None
        if opts["json"]:
            body: Any = {"items": rows, "next": next_cursor} if paged else rows
            self.stdout.write(json.dumps(body, indent=2))
            return
        self._table(rows, columns)
        if next_cursor:
            self.stdout.write(f"more: --cursor {next_cursor}")

    def do_show(self, opts: dict[str, Any]) -> None:
        doc = get_registry().document(opts["name"], opts["ref"])
        if opts["json"]:
            self.stdout.write(json.dumps(doc, indent=2))
            return
        info = version_info(doc)
        summary = doc.get("summary", {})
        lines = [
            f"{info['name']} version {info['version']} ({info['format']}, {info['createdAt']})",
            f"  description: {info['description']}",
            f"  tags:        {', '.join(info['tags'])}",
            f"  task:        {info['task']}   framework: {info['framework']}",
            f"  operators:   {', '.join(summary.get('opTypes', []))}",
            f"  parameters:  {summary.get('paramCount')}   size: {summary.get('sizeBytes')} bytes",
        ]
        for kind in ("inputs", "outputs"):
            for io in summary.get(kind, []):
                lines.append(
                    f"  {kind[:-1]:<12} {io.get('name')}: {io.get('dataType')} {io.get('shape')}"
                )
        self.stdout.write("\n".join(lines))

    def do_load(self, opts: dict[str, Any]) -> None:
        data = get_registry().load_bytes(opts["name"], opts["ref"])
        Path(opts["output"]).write_bytes(data)
        self.stdout.write(f"wrote {len(data)} bytes to {opts['output']}")

    def do_alias(self, opts: dict[str, Any]) -> None:
        reg = get_registry()
        if opts["remove"]:
            reg.remove_alias(opts["name"], opts["alias"], user="cli")
            self.stdout.write(f"removed alias {opts['alias']} of {opts['name']}")
            return
        if opts["version"] is None:
            raise CommandError("give a version to point the alias at, or --remove")
        before = reg.set_alias(opts["name"], opts["alias"], opts["version"], user="cli")
        self.stdout.write(f"{opts['name']}@{opts['alias']}: {before} -> {opts['version']}")

    def do_delete(self, opts: dict[str, Any]) -> None:
        reg, version = get_registry(), opts["version"]
        if not (version.isascii() and version.isdigit()):
            self.stdout.write(check_commands.delete_damaged(reg, opts["name"], version))
            return
        try:
            removed = reg.delete_version(
                opts["name"], int(version), force=opts["force"], user="cli"
            )
        except InvalidName:  # a damaged document's name (a/b): no healthy version has it
            self.stdout.write(check_commands.delete_damaged(reg, opts["name"], version))
            return
        extra = f" (removed aliases: {', '.join(removed)})" if removed else ""
        self.stdout.write(f"deleted {opts['name']} version {opts['version']}{extra}")

    def do_index(self, opts: dict[str, Any]) -> None:
        index_commands.run(get_registry(), opts, self.stdout)

    def do_check(self, opts: dict[str, Any]) -> None:
        count, index_problems = check_commands.check(get_registry(), self.stdout)
        if count:
            raise CommandError(
                f"{count} damaged document(s); remove one with: catalog delete NAME VERSION"
            )
        if index_problems:
            raise CommandError(
                f"{index_problems} index problem(s); rebuild with: catalog index drop NAME,"
                " then catalog init"
            )

    def do_demo(self, opts: dict[str, Any]) -> None:
        from catalog.cli.demo import demo_items, publish_demo

        reg = get_registry()
        total = sum(1 for _ in demo_items())
        with tqdm(
            total=total, desc="demo catalog", unit="model", file=sys.stderr, disable=None
        ) as bar:

            def progress(name: str) -> None:
                bar.set_postfix_str(name)
                bar.update(1)

            published = publish_demo(reg, progress)
        self.stdout.write(
            f"demo catalog: {len(published)} models published, "
            f"{total - len(published)} already there"
        )

    def do_export(self, opts: dict[str, Any]) -> None:
        reg = get_registry()
        with contextlib.ExitStack() as stack:
            out = (
                sys.stdout
                if opts["file"] == "-"
                else stack.enter_context(open(opts["file"], "w", encoding="utf-8"))
            )
            bar = stack.enter_context(
                tqdm(desc="export", unit="doc", file=sys.stderr, disable=None)
            )
            n = transfer.write_jsonl(
                transfer.export_records(reg.store, reg.ks.all()), out, bar.update
            )
        self.stderr.write(f"exported {n} documents")

    def do_import(self, opts: dict[str, Any]) -> None:
        reg = get_registry()
        if opts["file"] == "-":
            lines = sys.stdin.readlines()
        else:
            with open(opts["file"], encoding="utf-8") as f:
                lines = f.readlines()
        # Check every line before writing anything, so a bad file imports nothing.
        count = transfer.check_jsonl(lines, reg.ks.all())
        with tqdm(total=count, desc="import", unit="doc", file=sys.stderr, disable=None) as bar:
            n = transfer.import_records(reg.store, transfer.read_jsonl(lines), bar.update)
        self.stdout.write(f"imported {n} documents")

    def do_learn(self, opts: dict[str, Any]) -> None:
        run_learn(self, opts)

    def do_token(self, opts: dict[str, Any]) -> None:
        from catalog.domain.tokens import TokenError, create_token, revoke_tokens

        if opts["revoke"]:
            count = revoke_tokens(opts["username"])
            self.stdout.write(f"revoked {count} token(s) of {opts['username']}")
            return
        try:
            self.stdout.write(create_token(opts["username"], name=opts["name"]))
        except TokenError as e:
            raise CommandError(str(e)) from None

    def do_serve_grpc(self, opts: dict[str, Any]) -> None:
        from inference.grpc.serve import serve_forever
        from inference.grpc.server import DEFAULT_THREADS

        threads = opts["threads"] or DEFAULT_THREADS
        serve_forever(opts["host"], opts["port"], threads, opts["workers"], self.stdout.write)

    # -- output ----------------------------------------------------------------------------

    def _table(self, rows: list[dict[str, Any]], columns: list[str]) -> None:
        def cell(value: Any) -> str:
            if isinstance(value, list):
                return ",".join(str(v) for v in value)
            return "" if value is None else str(value)

        cells = [[cell(r.get(c)) for c in columns] for r in rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
        self.stdout.write(
            "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=False))
        )
        for row in cells:
            self.stdout.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)))
