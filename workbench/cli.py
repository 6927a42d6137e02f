"""The `workbench` command: opens the terminal app, or runs one task and exits.

Imports are deferred into each command so that quick commands (`tools list`) start fast
and never load SQLAlchemy or Textual when they do not need them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from audit_tools.registry import ToolRegistry
    from schemas.audit import Actor
    from schemas.learning import LearningFilter
    from workbench.config import Settings
    from workbench.services.exporting import ExportOptions, ExportResult

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Case Audit Workbench: multi-agency case file audits for safeguarding partnerships.",
)
tools_app = typer.Typer(help="Audit tools: list, show, validate, schema.", no_args_is_help=True)
audits_app = typer.Typer(help="Audits in the database.", no_args_is_help=True)
bundle_app = typer.Typer(help="Move or back up one audit as a JSON bundle.", no_args_is_help=True)
db_app = typer.Typer(help="The database: upgrade its schema.", no_args_is_help=True)
learning_app = typer.Typer(help="The learning log: list and search.", no_args_is_help=True)
actions_app = typer.Typer(help="The action plan: owners, due dates, status.", no_args_is_help=True)
themes_app = typer.Typer(help="The theme vocabulary.", no_args_is_help=True)
export_app = typer.Typer(
    help="Documents to share: the audit report, briefing, learning log and subgroup summary.",
    no_args_is_help=True,
)
app.add_typer(tools_app, name="tools")
app.add_typer(audits_app, name="audits")
app.add_typer(bundle_app, name="bundle")
app.add_typer(db_app, name="db")
app.add_typer(learning_app, name="learning")
app.add_typer(actions_app, name="actions")
app.add_typer(themes_app, name="themes")
app.add_typer(export_app, name="export")
users_app = typer.Typer(
    help="Workbench users and their roles (the administrator's).", no_args_is_help=True
)
app.add_typer(users_app, name="users")
identifiers_app = typer.Typer(
    help="Real identifiers of a case, held apart from the audit: its leads only, never exported.",
    no_args_is_help=True,
)
app.add_typer(identifiers_app, name="identifiers")
retention_app = typer.Typer(
    help="Retention: delete closed audits past the retention period; legal holds.",
    no_args_is_help=True,
)
app.add_typer(retention_app, name="retention")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///FILE or postgresql://...). Default: WORKBENCH_DATABASE_URL, "
        "else the SQLite file in your data directory.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"workbench: {message}", err=True)
    raise SystemExit(code)


# -- shared plumbing -------------------------------------------------------------------------


def _settings(db: str | None) -> Settings:
    from workbench.config import Settings

    settings = Settings()
    if db:
        settings = settings.model_copy(update={"database_url": db})
    return settings


def _registry(settings: Settings) -> ToolRegistry:
    from audit_tools.registry import ToolRegistry

    return ToolRegistry.load(settings.tool_dirs)


def _actor(factory: sessionmaker[Session]) -> Actor:
    """Who acts: the principal the store was opened for (see _open_store)."""
    from workbench.services.access import factory_principal

    principal = factory_principal(factory)
    if principal is None:  # pragma: no cover - _open_store always binds one
        raise CliError("the store was opened without a user")
    return principal.actor


def _open_store(settings: Settings, *, upgrade: bool = False) -> tuple[sessionmaker[Session], str]:
    from workbench.services.access import bind
    from workbench.services.users import resolve_principal
    from workbench.store.engine import describe, make_engine, make_session_factory, parse_url
    from workbench.store.migrate import ensure_schema

    url = parse_url(settings.resolved_database_url)
    where = describe(url)
    engine = make_engine(url)
    # The embedded SQLite file is the user's own: create or upgrade it without asking.
    # A shared server is upgraded only on purpose, with `workbench db upgrade`.
    auto = upgrade or url.get_backend_name() == "sqlite"
    ensure_schema(engine, where, upgrade_if_needed=auto)
    # Every command acts for the connected user: their role decides what the services allow.
    factory = make_session_factory(engine)
    principal = resolve_principal(factory, settings.actor, settings.agency)
    return bind(factory, principal), where


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers], *[["" if v is None else str(v) for v in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            typer.echo("  ".join("-" * w for w in widths))


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _audit_id(factory: sessionmaker[Session], audit: str) -> int:
    from workbench.services.audits import list_audits

    audits = list_audits(factory)
    for summary in audits:
        if audit in (str(summary.id), summary.uid):
            return summary.id
    raise CliError(f"no audit {audit!r} (see `workbench audits list`)")


# -- the terminal app ------------------------------------------------------------------------


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context, db: DbOption = None) -> None:
    """Without a command, open the workbench in the terminal."""
    if ctx.invoked_subcommand is not None:
        return
    from workbench.tui.app import make_app

    settings = _settings(db)
    factory, where = _open_store(settings)
    make_app(settings, factory, database_label=where).run()


@app.command()
def demo(db: DbOption = None) -> None:
    """Load a demo partnership: an audit per starting tool, with cases, returns and voices."""
    from workbench.services.demo import load_demo

    settings = _settings(db)
    factory, where = _open_store(settings)
    loaded = load_demo(factory, _registry(settings))
    typer.echo(f"Loaded {len(loaded)} demo audits into {where}:")
    for audit in loaded:
        typer.echo(f"  {audit.id}: {audit.title} ({len(audit.cases)} cases)")


# -- tools -----------------------------------------------------------------------------------


@tools_app.command("list")
def tools_list(json_out: JsonOption = False, db: DbOption = None) -> None:
    """Every tool version known: shipped ones and the partnership's own folder."""
    summaries = _registry(_settings(db)).summaries()
    if json_out:
        _print_json([s.model_dump(mode="json") for s in summaries])
        return
    _print_table(
        ["id", "version", "title", "kind", "scale", "criteria"],
        [[s.id, s.version, s.title, s.kind.value, s.scale, s.criteria] for s in summaries],
    )


@tools_app.command("show")
def tools_show(
    tool_id: Annotated[str, typer.Argument(help="The tool's id, e.g. cse")],
    version: Annotated[int | None, typer.Option(help="A version; default the latest")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """A tool's sections and criteria, with guidance and typical evidence."""
    registry = _registry(_settings(db))
    try:
        definition = registry.definition(tool_id, version)
    except KeyError as exc:
        raise CliError(str(exc.args[0]), EXIT_BAD_INPUT) from None
    if json_out:
        _print_json(definition.model_dump(mode="json"))
        return
    tool, scale = definition.tool, definition.scale
    typer.echo(f"{tool.title} ({tool.id} v{tool.version}, {tool.kind.value})")
    typer.echo(
        f"Theme: {tool.theme}. Scale: {scale.title}: "
        + ", ".join(level.label for level in scale.levels)
        + f"; {scale.not_applicable_label}; {scale.not_evidenced_label}."
    )
    for section in tool.sections:
        typer.echo(f"\n{section.title}")
        for criterion in section.criteria:
            applies = f" [{', '.join(criterion.agencies)}]" if criterion.agencies else ""
            typer.echo(f"  {criterion.id}{applies}: {criterion.question}")


@tools_app.command("validate")
def tools_validate(
    paths: Annotated[list[Path], typer.Argument(help="Tool or scale files, or folders of them")],
) -> None:
    """Check tool files; one line per file; exit status 2 when any is broken."""
    from audit_tools.errors import ToolFileError
    from audit_tools.registry import ToolRegistry, yaml_files

    files: list[Path] = []
    broken = 0
    for path in paths:
        try:
            files.extend(yaml_files(path) if path.is_dir() else [path])
        except ToolFileError as exc:
            typer.echo(f"error {exc}", err=True)
            broken += 1
    registry = ToolRegistry.load()
    # Scales first, so each tool can be checked against scales given alongside it.
    from audit_tools.loader import is_scale_file

    for path in sorted(files, key=lambda p: not is_scale_file(p)):
        try:
            registry.add_files([path])
        except ToolFileError as exc:
            typer.echo(f"error {exc}", err=True)
            broken += 1
            continue
        typer.echo(f"ok    {path}")
    if broken:
        raise SystemExit(EXIT_BAD_INPUT)


@tools_app.command("schema")
def tools_schema(
    scale: Annotated[bool, typer.Option("--scale", help="The scale file's schema instead")] = False,
) -> None:
    """Print the JSON Schema that tool files (or scale files) follow."""
    from schemas.tools import AuditTool, GradeScale

    model = GradeScale if scale else AuditTool
    _print_json(model.model_json_schema())


# -- audits ----------------------------------------------------------------------------------


@audits_app.command("list")
def audits_list(json_out: JsonOption = False, db: DbOption = None) -> None:
    """The audits in the database, with their progress."""
    from workbench.services.audits import list_audits

    factory, _ = _open_store(_settings(db))
    audits = list_audits(factory)
    if json_out:
        _print_json([a.model_dump(mode="json") | {"progress": a.progress} for a in audits])
        return
    _print_table(
        ["id", "title", "tool", "status", "audit day", "returns", "answered"],
        [
            [
                a.id,
                a.title,
                f"{a.tool_id} v{a.tool_version}",
                a.status.value,
                a.audit_day,
                f"{a.returns_submitted}/{a.returns_total}",
                f"{a.findings_answered}/{a.findings_expected} ({a.progress:.0%})",
            ]
            for a in audits
        ],
    )


# -- themes, the learning log and actions ---------------------------------------------------


@themes_app.command("list")
def themes_list(json_out: JsonOption = False, db: DbOption = None) -> None:
    """The theme vocabulary with the keywords that suggest each theme."""
    from workbench.services.themes import list_themes

    themes = list_themes(_open_store(_settings(db))[0])
    if json_out:
        _print_json([t.model_dump(mode="json") for t in themes])
        return
    _print_table(
        ["code", "label", "active", "keywords"],
        [
            [t.code, t.label, "yes" if t.active else "retired", ", ".join(t.keywords)]
            for t in themes
        ],
    )


def _learning_filter(
    text: str, theme: str | None, agency: str | None, source: str | None, status: str | None
) -> LearningFilter:
    from pydantic import ValidationError

    from schemas.learning import LearningFilter
    from schemas.text import friendly_message

    try:
        return LearningFilter(text=text, theme=theme, agency=agency, source=source, status=status)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        raise CliError(f"--{error['loc'][0]}: {friendly_message(error)}", EXIT_BAD_INPUT) from None


def _learning(
    db: str | None,
    text: str,
    theme: str | None,
    agency: str | None,
    source: str | None,
    status: str | None,
    json_out: bool,
) -> None:
    from workbench.services.learning import list_learning

    where = _learning_filter(text, theme, agency, source, status)
    items = list_learning(_open_store(_settings(db))[0], where)
    if json_out:
        _print_json([i.model_dump(mode="json") for i in items])
        return
    _print_table(
        ["reference", "raised", "source", "status", "themes", "learning"],
        [
            [
                i.reference,
                i.raised_on,
                i.source.label,
                i.status.value,
                ", ".join(i.themes),
                i.learning if len(i.learning) <= 70 else i.learning[:69] + "…",
            ]
            for i in items
        ],
    )
    if not json_out:
        typer.echo(f"{len(items)} item{'s' if len(items) != 1 else ''}")


ThemeOption = Annotated[str | None, typer.Option("--theme", help="Only items with this theme code")]
AgencyOption = Annotated[
    str | None, typer.Option("--agency", help="Only items affecting this agency code")
]
SourceOption = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="case-audit, case-review, section-11, practitioner-feedback, family-feedback, "
        "performance-data or research",
    ),
]
StatusOption = Annotated[
    str | None, typer.Option("--status", help="open, shared, embedded or signed-off")
]


@learning_app.command("list")
def learning_list(
    theme: ThemeOption = None,
    agency: AgencyOption = None,
    source: SourceOption = None,
    status: StatusOption = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The learning log, newest first, optionally filtered."""
    _learning(db, "", theme, agency, source, status, json_out)


@learning_app.command("search")
def learning_search(
    words: Annotated[str, typer.Argument(help="Words that must all appear in the item")],
    theme: ThemeOption = None,
    agency: AgencyOption = None,
    source: SourceOption = None,
    status: StatusOption = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Items whose learning, evidence, impact, reference or themes hold every word."""
    if not words.strip():
        raise CliError("give at least one word to search for", EXIT_BAD_INPUT)
    _learning(db, words, theme, agency, source, status, json_out)


@actions_app.command("list")
def actions_list(
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only actions past their due date and not complete")
    ] = False,
    audit: Annotated[
        str | None, typer.Option("--audit", help="Only this audit (id or uid)")
    ] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The action plan, overdue first (most overdue at the top), then by due date."""
    import datetime as dt

    from workbench.services.actions import list_actions

    factory, _ = _open_store(_settings(db))
    audit_id = _audit_id(factory, audit) if audit else None
    today = dt.date.today()
    actions = list_actions(factory, today=today, audit_id=audit_id, overdue_only=overdue)
    if json_out:
        _print_json([a.model_dump(mode="json") for a in actions])
        return
    _print_table(
        ["id", "due", "status", "owner", "agency", "overdue", "action"],
        [
            [
                a.id,
                a.due_on,
                a.status.label,
                a.owner_name,
                a.owner_agency,
                f"{a.days_overdue} days" if a.overdue else "",
                a.description if len(a.description) <= 60 else a.description[:59] + "…",
            ]
            for a in actions
        ],
    )


# -- bundles ---------------------------------------------------------------------------------


@bundle_app.command("export")
def bundle_export(
    audit: Annotated[str, typer.Argument(help="The audit's id or uid")],
    out: Annotated[Path, typer.Option("--out", help="The .json file to write")],
    db: DbOption = None,
) -> None:
    """Write one audit (tool version, cases, returns, findings, history) to a JSON file."""
    from workbench.files import write_private
    from workbench.services.bundle import bundle_json, export_bundle, record_export

    settings = _settings(db)
    factory, _ = _open_store(settings)
    bundle = export_bundle(factory, _audit_id(factory, audit))
    write_private(out, bundle_json(bundle).encode("utf-8"))
    record_export(factory, _actor(factory), bundle, str(out.resolve()))
    typer.echo(f"Wrote {out}: {bundle.audit.title}, {len(bundle.cases)} cases")


@bundle_app.command("import")
def bundle_import(
    file: Annotated[Path, typer.Argument(help="A bundle written by `workbench bundle export`")],
    db: DbOption = None,
) -> None:
    """Load a bundle into the database: all of it, or (on any problem) none of it."""
    from workbench.files import read_input
    from workbench.services.bundle import import_bundle, parse_bundle

    data = read_input(file)
    bundle = parse_bundle(data, str(file))
    settings = _settings(db)
    factory, where = _open_store(settings)
    detail = import_bundle(factory, _actor(factory), bundle, str(file))
    typer.echo(f"Imported {detail.title} ({len(detail.cases)} cases) into {where} as {detail.id}")


@bundle_app.command("schema")
def bundle_schema() -> None:
    """Print the bundle's JSON Schema."""
    from schemas.bundle import Bundle

    _print_json(Bundle.model_json_schema())


# -- documents -------------------------------------------------------------------------------

OutOption = Annotated[
    Path, typer.Option("--out", help="The file to write (owner-only)", show_default=False)
]
ForOption = Annotated[
    str,
    typer.Option(
        "--for", metavar="RECIPIENT", help="Who it is for: shown on it and recorded with it"
    ),
]
OverrideOption = Annotated[
    str | None,
    typer.Option(
        "--override-identifiers",
        metavar="REASON",
        help="Export although it holds text that looks like an identifier; the reason is "
        "recorded in the change history",
        show_default=False,
    ),
]
AuditArgument = Annotated[str, typer.Argument(help="The audit's id or uid")]


@contextmanager
def _exporting(db: str | None) -> Iterator[tuple[sessionmaker[Session], Actor, ExportOptions]]:
    """The store, who is acting and the partnership's options; export refusals become exits."""
    from workbench.services.exporting import ExportInputError, ExportOptions, IdentifiersFoundError

    try:
        settings = _settings(db)
        options = ExportOptions.from_settings(settings)
        factory, _ = _open_store(settings)
        yield factory, _actor(factory), options
    except IdentifiersFoundError as exc:
        # Where each one is, masked: the identifiers themselves never reach the terminal.
        lines = [str(exc), *(f"  {hit}" for hit in exc.hits)]
        raise CliError("\n".join(lines), EXIT_REFUSED) from None
    except ExportInputError as exc:
        raise CliError(str(exc), EXIT_BAD_INPUT) from None


def _wrote(result: ExportResult, recipient: str) -> None:
    size = f"{max(1, round(result.bytes_written / 1024))} KB"
    kind = result.kind.replace("-", " ")
    typer.echo(f"Wrote {result.path} ({kind}, {size})" + (f" for {recipient}" if recipient else ""))
    if result.hits_overridden:
        n = len(result.hits_overridden)
        typer.echo(
            f"{n} identifier-like item{'' if n == 1 else 's'} kept by override; "
            "the reason is in the change history"
        )


def _day(option: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option}: {value!r} is not a date (YYYY-MM-DD)", EXIT_BAD_INPUT) from None


@export_app.command("report")
def export_report(
    audit: AuditArgument,
    out: OutOption,
    recipient: ForOption = "",
    override: OverrideOption = None,
    db: DbOption = None,
) -> None:
    """The audit report (Word): findings, grades, learning, recommendations and actions."""
    from workbench.services import exporting

    with _exporting(db) as (factory, actor, options):
        result = exporting.export_report(
            factory,
            actor,
            options,
            _audit_id(factory, audit),
            out,
            recipient=recipient,
            override_reason=override,
        )
    _wrote(result, recipient)


@export_app.command("briefing")
def export_briefing(
    audit: AuditArgument,
    out: OutOption,
    recipient: ForOption = "",
    override: OverrideOption = None,
    db: DbOption = None,
) -> None:
    """The one-page lessons-learnt (7-minute) briefing for one audit (Word)."""
    from workbench.services import exporting

    with _exporting(db) as (factory, actor, options):
        result = exporting.export_briefing(
            factory,
            actor,
            options,
            _audit_id(factory, audit),
            out,
            recipient=recipient,
            override_reason=override,
        )
    _wrote(result, recipient)


@export_app.command("learning-log")
def export_learning_log(
    out: OutOption,
    theme: ThemeOption = None,
    agency: AgencyOption = None,
    source: SourceOption = None,
    status: StatusOption = None,
    items: Annotated[
        list[str] | None,
        typer.Option("--item", metavar="REF", help="Only this item (repeat for more)"),
    ] = None,
    file_format: Annotated[
        str | None,
        typer.Option(
            "--format", help="docx, xlsx or csv; default from the --out suffix", show_default=False
        ),
    ] = None,
    recipient: ForOption = "",
    override: OverrideOption = None,
    db: DbOption = None,
) -> None:
    """The learning log, whole, filtered or item by item, as Word, Excel or CSV."""
    from workbench.services import exporting

    filtered = any(v is not None for v in (theme, agency, source, status))
    where = _learning_filter("", theme, agency, source, status) if filtered else None
    with _exporting(db) as (factory, actor, options):
        exporting.learning_log_format(out, file_format)  # a bad format before anything else
        result = exporting.export_learning_log(
            factory,
            actor,
            options,
            out,
            where=where,
            item_references=tuple(items or ()),
            file_format=file_format,
            recipient=recipient,
            override_reason=override,
        )
    _wrote(result, recipient)


@export_app.command("summary")
def export_summary(
    start: Annotated[
        str,
        typer.Option("--from", metavar="DATE", help="First day (YYYY-MM-DD)", show_default=False),
    ],
    end: Annotated[
        str, typer.Option("--to", metavar="DATE", help="Last day (YYYY-MM-DD)", show_default=False)
    ],
    out: OutOption,
    recipient: ForOption = "",
    override: OverrideOption = None,
    db: DbOption = None,
) -> None:
    """The subgroup's summary of a period (Word): audits, learning, actions, forward plan."""
    from workbench.services import exporting

    first, last = _day("--from", start), _day("--to", end)
    with _exporting(db) as (factory, actor, options):
        result = exporting.export_summary(
            factory,
            actor,
            options,
            first,
            last,
            out,
            recipient=recipient,
            override_reason=override,
        )
    _wrote(result, recipient)


# -- change history --------------------------------------------------------------------------


def _cut(value: str | None, width: int = 40) -> str:
    if value is None:
        return ""
    value = " ".join(value.split())
    return value if len(value) <= width else value[: width - 1] + "…"


@app.command("history")
def history(
    audit: AuditArgument,
    case: Annotated[
        str | None, typer.Option("--case", metavar="REF", help="Only this case")
    ] = None,
    agency: Annotated[
        str | None,
        typer.Option("--agency", metavar="CODE", help="Only this agency's return (needs --case)"),
    ] = None,
    criterion: Annotated[
        str | None,
        typer.Option(
            "--criterion", metavar="ID", help="Only this finding (needs --case and --agency)"
        ),
    ] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Who changed what and when, before and after: per audit, case, return or finding."""
    if criterion is not None and (case is None or agency is None):
        raise CliError("--criterion needs --case and --agency", EXIT_BAD_INPUT)
    if agency is not None and case is None:
        raise CliError("--agency needs --case", EXIT_BAD_INPUT)
    from workbench.services import change_history as ch

    factory, _ = _open_store(_settings(db))
    audit_id = _audit_id(factory, audit)
    if case is not None and agency is not None and criterion is not None:
        rows = ch.history_of_finding(factory, audit_id, case, agency, criterion)
    elif case is not None and agency is not None:
        rows = ch.history_of_return(factory, audit_id, case, agency)
    elif case is not None:
        rows = ch.history_of_case(factory, audit_id, case)
    else:
        rows = ch.history_of_audit(factory, audit_id)
    if json_out:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    _print_table(
        ["when", "who", "what", "operation", "field", "before → after"],
        [
            [
                r.at.astimezone().strftime("%Y-%m-%d %H:%M"),
                r.actor,
                r.entity_key,
                r.operation,
                r.field or "",
                f"{_cut(r.before)} → {_cut(r.after)}".strip(),
            ]
            for r in rows
        ],
    )
    typer.echo(f"{len(rows)} change{'s' if len(rows) != 1 else ''}")


# -- retention -------------------------------------------------------------------------------


@retention_app.command("apply")
def retention_apply(
    months: Annotated[
        int | None,
        typer.Option(
            "--months",
            help="Keep closed audits this many months; default WORKBENCH_RETENTION_MONTHS",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be deleted")
    ] = False,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Delete closed audits past retention (not held); each deletion is recorded, no content."""
    from workbench.services.retention import apply_retention

    settings = _settings(db)
    period = months if months is not None else settings.retention_months
    if period is None:
        raise CliError(
            "no retention period: give --months or set WORKBENCH_RETENTION_MONTHS", EXIT_BAD_INPUT
        )
    if period < 1:
        raise CliError(
            f"the retention period must be at least one month, not {period}", EXIT_BAD_INPUT
        )
    factory, _ = _open_store(settings)
    result = apply_retention(
        factory, _actor(factory), months=period, today=dt.date.today(), dry_run=dry_run
    )
    listed = result.due if dry_run else result.deleted
    if json_out:
        _print_json(
            {
                "dry_run": dry_run,
                "months": period,
                "closed_before": result.cutoff.isoformat(),
                "audits": [
                    {
                        "id": c.id,
                        "uid": c.uid,
                        "tool_id": c.tool_id,
                        "tool_version": c.tool_version,
                        "closed_at": c.closed_at.isoformat(),
                        "cases": c.cases,
                    }
                    for c in listed
                ],
            }
        )
        return
    n = len(listed)
    verb = "Would delete" if dry_run else "Deleted"
    typer.echo(
        f"{verb} {n} audit{'' if n == 1 else 's'} closed before {result.cutoff.isoformat()} "
        f"(retention {period} months)" + (":" if n else ".")
    )
    if n:
        _print_table(
            ["id", "uid", "tool", "closed", "cases"],
            [
                [c.id, c.uid, f"{c.tool_id} v{c.tool_version}", c.closed_at.date(), c.cases]
                for c in listed
            ],
        )


@retention_app.command("hold")
def retention_hold(
    audit: AuditArgument,
    release: Annotated[
        bool, typer.Option("--release", help="Release the hold instead of placing it")
    ] = False,
    db: DbOption = None,
) -> None:
    """Place a legal hold on an audit (retention never deletes it), or release one."""
    from workbench.services.retention import set_legal_hold

    settings = _settings(db)
    factory, _ = _open_store(settings)
    detail = set_legal_hold(factory, _actor(factory), _audit_id(factory, audit), not release)
    state = "released from" if release else "placed under"
    typer.echo(f"Audit {detail.id} ({detail.uid}) {state} legal hold")


# -- users, leads and held identifiers -------------------------------------------------------

RoleOption = Annotated[
    str, typer.Option("--role", help="auditor, lead, subgroup or admin", show_default=False)
]


@app.command("whoami")
def whoami(json_out: JsonOption = False, db: DbOption = None) -> None:
    """Who the workbench acts for here, with their role and agency."""
    from workbench.services.access import factory_principal

    factory, where = _open_store(_settings(db))
    principal = factory_principal(factory)
    assert principal is not None
    if json_out:
        _print_json({**principal.model_dump(mode="json"), "database": where})
        return
    typer.echo(f"{principal.description} on {where}")


@users_app.command("list")
def users_list(json_out: JsonOption = False, db: DbOption = None) -> None:
    """Every workbench user, with role, agency and whether switched on."""
    from workbench.services.users import list_users

    factory, _ = _open_store(_settings(db))
    users = list_users(factory)
    if json_out:
        _print_json([u.model_dump(mode="json") for u in users])
        return
    _print_table(
        ["login", "name", "role", "agency", "active"],
        [
            [u.login, u.name, u.role.label, u.agency or "", "yes" if u.active else "no"]
            for u in users
        ],
    )


def _save_user(
    db: str | None, login: str, role: str, agency: str | None, name: str, active: bool
) -> None:
    from pydantic import ValidationError

    from schemas.access import Role, UserIn
    from workbench.services.users import save_user

    try:
        user = UserIn(login=login, name=name, role=Role(role), agency=agency, active=active)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            message = str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
        else:
            message = f"{role!r} is not a role (use auditor, lead, subgroup or admin)"
        raise CliError(message, EXIT_BAD_INPUT) from None
    factory, _ = _open_store(_settings(db))
    saved = save_user(factory, _actor(factory), user)
    state = "" if saved.active else " (switched off)"
    agency_text = f" for {saved.agency}" if saved.agency else ""
    typer.echo(f"{saved.login}: {saved.role.label}{agency_text}{state}")


@users_app.command("add")
def users_add(
    login: Annotated[
        str, typer.Argument(help="The user's login (on PostgreSQL, the database login)")
    ],
    role: RoleOption,
    agency: Annotated[str | None, typer.Option("--agency", help="An auditor's agency code")] = None,
    name: Annotated[str, typer.Option("--name", help="The user's name, as shown")] = "",
    db: DbOption = None,
) -> None:
    """Add a user, or change one's role or agency; on PostgreSQL grant the role's privileges."""
    _save_user(db, login, role, agency, name, True)


@users_app.command("disable")
def users_disable(
    login: Annotated[str, typer.Argument(help="The user's login")], db: DbOption = None
) -> None:
    """Switch a user off (their history stays); on PostgreSQL revoke every privilege."""
    from workbench.services.users import list_users

    factory, _ = _open_store(_settings(db))
    found = next((u for u in list_users(factory) if u.login == login), None)
    if found is None:
        raise CliError(f"no workbench user {login!r} (see `workbench users list`)")
    _save_user(db, login, found.role.value, found.agency, found.name, False)


@audits_app.command("lead")
def audits_lead(
    audit: AuditArgument,
    login: Annotated[str | None, typer.Argument(help="Add this login as a lead")] = None,
    db: DbOption = None,
) -> None:
    """List an audit's leads, or add one (an audit lead sees everything in their audits)."""
    from workbench.services.users import add_lead, leads_of

    factory, _ = _open_store(_settings(db))
    audit_id = _audit_id(factory, audit)
    leads = (
        add_lead(factory, _actor(factory), audit_id, login)
        if login
        else leads_of(factory, audit_id)
    )
    typer.echo(f"Audit {audit_id} leads: {', '.join(leads) or 'none'}")


CaseArgument = Annotated[str, typer.Argument(help="The case reference (pseudonymous)")]
KindArgument = Annotated[str, typer.Argument(help="What the identifier is, e.g. name, dob")]


def _case_id(factory: sessionmaker[Session], audit_id: int, reference: str) -> int:
    from workbench.services.audits import get_audit

    detail = get_audit(factory, audit_id)
    for case in detail.cases:
        if case.reference == reference:
            return case.id
    raise CliError(f"no case {reference!r} in audit {audit_id}")


@identifiers_app.command("hold")
def identifiers_hold(
    audit: AuditArgument,
    case: CaseArgument,
    kind: KindArgument,
    db: DbOption = None,
) -> None:
    """Hold one real identifier of a case; the value is asked for, never typed on the command
    line (where shell history would keep it)."""
    from workbench.services.identifiers import hold_identifier

    factory, _ = _open_store(_settings(db))
    audit_id = _audit_id(factory, audit)
    case_id = _case_id(factory, audit_id, case)
    value = typer.prompt(f"{kind} for case {case}", hide_input=True)
    hold_identifier(factory, _actor(factory), case_id, kind, value)
    typer.echo(f"Held the {kind} of case {case}; only the audit's leads can read it")


@identifiers_app.command("show")
def identifiers_show(audit: AuditArgument, case: CaseArgument, db: DbOption = None) -> None:
    """The identifiers held for a case (its audit's leads only; the reading is recorded)."""
    from workbench.services.identifiers import identifiers_of

    factory, _ = _open_store(_settings(db))
    audit_id = _audit_id(factory, audit)
    held = identifiers_of(factory, _actor(factory), _case_id(factory, audit_id, case))
    if not held:
        typer.echo(f"No identifiers are held for case {case}")
        return
    _print_table(["kind", "value"], [[h.kind, h.value] for h in held])


@identifiers_app.command("forget")
def identifiers_forget(
    audit: AuditArgument, case: CaseArgument, kind: KindArgument, db: DbOption = None
) -> None:
    """Remove one held identifier of a case."""
    from workbench.services.identifiers import forget_identifier

    factory, _ = _open_store(_settings(db))
    audit_id = _audit_id(factory, audit)
    forget_identifier(factory, _actor(factory), _case_id(factory, audit_id, case), kind)
    typer.echo(f"No longer holding the {kind} of case {case}")


# -- database --------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the schema, or bring it up to this version of the workbench."""
    from workbench.store.migrate import head_revision

    _open_store(_settings(db), upgrade=True)
    typer.echo(f"Database is at schema revision {head_revision()}")


# -- entry point -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; every expected failure becomes one line on stderr and an exit status."""
    from audit_tools.errors import ToolFileError
    from workbench.files import OutputFileError
    from workbench.services.errors import ServiceError
    from workbench.store.errors import StoreError

    try:
        app(args=list(argv) if argv is not None else None, prog_name="workbench")
    except ToolFileError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except CliError as exc:
        _fail(str(exc), exc.code)
    except (OutputFileError, StoreError, ServiceError) as exc:
        from workbench.services.bundle import BundleFileError

        _fail(str(exc), EXIT_BAD_INPUT if isinstance(exc, BundleFileError | OutputFileError) else 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        _fail(
            f"unexpected error ({type(exc).__name__}: {exc}); "
            "run again with WORKBENCH_DEBUG=1 for details",
            1,
        )
    sys.exit(0)
