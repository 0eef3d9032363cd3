"""Shared helpers for the CLI commands: options, output, clean exits.

Commands stay thin: parse options, call one library function, print its result
(readable with rich, or ``--json``), and turn user errors into exit code 2 with a message.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from coding.codesets import NO_CODESETS, CodeSets
from coding.config import Config, ConfigError, load_config
from coding.display import visible
from coding.findings import Finding
from reconcile.ledger.db import Connection, DatabaseError, is_server_url, redact_url

DEFAULT_LEDGER = "dripline.db"
LEDGER_ENV = "DRIPLINE_DB"

console = Console()
err_console = Console(stderr=True)

ConfigOption = typer.Option(None, "--config", help="TOML config (default: bundled fixtures/dripline.toml).")
LedgerOption = typer.Option(
    None,
    "--ledger",
    help=f"Ledger: a SQLite file (default ./{DEFAULT_LEDGER}) or a postgresql:// URL; else ${LEDGER_ENV}.",
)
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def ledger_path(option: str | Path | None) -> Path | str:
    """--ledger wins, then $DRIPLINE_DB, then ./dripline.db: a SQLite file's path, or a
    ``postgresql://`` URL (kept as text: a path would fold its ``//``)."""
    target = option if option is not None else os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER
    return str(target) if is_server_url(str(target)) else Path(target)


def ledger_name(target: Path | str) -> str:
    """How a ledger is named in messages (a server URL without its password)."""
    return redact_url(target) if isinstance(target, str) else str(target)


def fail(messages: Iterable[str], code: int = 2) -> NoReturn:
    """Print user-facing errors (no traceback) and exit."""
    for m in messages:
        err_console.print(Text.assemble(("error:", "red"), " ", cell(m)), highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def cell(value: Any, style: str = "") -> Text:
    """A value from data as rich text: never read as markup (``[/]``, ``[link=...]``), control
    characters shown as escapes (:func:`coding.display.visible`)."""
    return Text(visible("" if value is None else str(value)), style=style)


def say(*parts: Any, style: str = "", out: Console | None = None) -> None:
    """Print one line made of data and text: no markup, no highlighting, escapes for controls."""
    (out or console).print(cell("".join("" if p is None else str(p) for p in parts), style), highlight=False)


# ---------------------------------------------------------------- tables that never hide money

ColumnKind = Literal["keep", "words", "text"]
TEXT_FLOOR = 10  # a "text" column is never narrower than this (or its content)


@dataclass(frozen=True, slots=True)
class Col:
    """One table column.

    ``kind``: ``keep`` (amounts, codes, claim and line numbers: always shown whole on one line;
    only the header may wrap between its words),
    ``words`` (may wrap between words, never inside one: lists of codes with amounts), ``text``
    (free text: wraps, and a long word folds). ``drop``: when the terminal is too narrow,
    columns with the highest ``drop`` go first (0: never dropped).
    """

    header: str
    kind: ColumnKind = "text"
    drop: int = 0
    justify: Literal["left", "right", "center"] = "left"


def _width(value: Text) -> int:
    return max((len(line) for line in value.plain.split("\n")), default=0)


def _floor(col: Col, values: list[Text]) -> int:
    """The narrowest a column may get: its content for ``keep``, its longest word for ``words``."""
    header_word = max((len(w) for w in col.header.split()), default=0)  # a header may wrap between words
    if col.kind == "keep":
        return max([_width(v) for v in values] + [header_word])
    if col.kind == "words":
        return max([len(w) for v in values for w in v.plain.split()] + [header_word])
    return min(max([_width(v) for v in values] + [len(col.header)]), TEXT_FLOOR)


def _fit_widths(
    cols: Sequence[Col], rows: list[list[Text]], room: int, overhead: Any
) -> tuple[list[int], list[int]] | None:
    """Column indexes kept and their widths so the table fits ``room`` characters, dropping
    columns by ``drop`` priority; None when even the columns that cannot go do not fit."""
    keep = list(range(len(cols)))
    columns = [[r[i] for r in rows] for i in range(len(cols))]
    natural = [max([_width(v) for v in columns[i]] + [len(cols[i].header)]) for i in keep]
    floor = [_floor(cols[i], columns[i]) for i in keep]
    droppable = sorted((i for i in keep if cols[i].drop), key=lambda i: (-cols[i].drop, -i))
    while True:
        avail = room - overhead(len(keep))
        need = sum(floor[i] for i in keep)
        if need <= avail:
            break
        if not droppable:
            return None
        keep.remove(droppable.pop(0))
    widths = {i: floor[i] for i in keep}
    spare = avail - need
    # give the spare room to the columns that want more, narrowest want first (water filling)
    wanting = sorted((i for i in keep if natural[i] > widths[i]), key=lambda i: natural[i] - widths[i])
    while wanting and spare > 0:
        share = max(1, spare // len(wanting))
        i = wanting.pop(0)
        extra = min(natural[i] - widths[i], share)
        widths[i] += extra
        spare -= extra
    return keep, [widths[i] for i in keep]


def print_table(
    cols: Sequence[Col],
    rows: Iterable[Sequence[Any]],
    title: str | None = None,
    *,
    box: Any = "default",
    pad_edge: bool = True,
    out: Console | None = None,
) -> None:
    """A table whose amounts, codes and claim numbers are never cut.

    Every cell is data (:func:`cell`: no markup, escaped controls; pass a ``Text`` for a styled
    value). When the console is too narrow, free text wraps first, then the least important
    columns are dropped (a note names them); when even the columns that must stay do not fit,
    each row is printed as ``header: value`` lines instead, so no value is ever cut to ``…``.
    """
    from rich import box as boxes
    from rich.table import Table

    out = out or console
    chosen = boxes.HEAVY_HEAD if box == "default" else box
    body = [[v if isinstance(v, Text) else cell(v) for v in row] for row in rows]
    n_pad = 2  # rich's default padding: one space either side of a cell

    def overhead(n: int) -> int:
        frame = (2 + n - 1) if chosen is not None else 0
        return frame + n * n_pad - (0 if pad_edge else n_pad)

    fitted = _fit_widths(cols, body, out.width, overhead)
    heading = cell(title) if title else None
    if fitted is None:
        _print_records(cols, body, heading, out)
        return
    keep, widths = fitted
    t = Table(title=heading, box=chosen, pad_edge=pad_edge, show_lines=False)
    for i, w in zip(keep, widths):
        col = cols[i]
        t.add_column(
            col.header,
            width=w,
            justify=col.justify,
            overflow="fold",  # a "keep" column is as wide as its widest value: values never wrap
        )
    for row in body:
        t.add_row(*[row[i] for i in keep])
    out.print(t)
    hidden = [cols[i].header for i in range(len(cols)) if i not in keep]
    if hidden:
        say(f"(hidden for width: {', '.join(hidden)}; widen the terminal or use --json)", out=out)


def _print_records(cols: Sequence[Col], rows: list[list[Text]], title: Text | None, out: Console) -> None:
    """The narrow-terminal form of a table: one block per row, ``header: value`` per line."""
    if title is not None:
        out.print(title)
    for n, row in enumerate(rows):
        if n:
            out.print()
        for col, value in zip(cols, row):
            if value.plain:
                out.print(Text.assemble((f"{col.header}: ", "bold"), value), overflow="fold", highlight=False)


# ---------------------------------------------------------------- report files


class ReportPathError(Exception):
    """The path given for a report must not be written (not ours, the ledger, a link)."""


REPORT_MARKER = b'<meta name="generator" content="dripline">'
_OLD_REPORT_TITLE = b"<title>dripline denial worklist</title>"  # reports written before the marker


def write_report(path: Path, data: bytes, ledger: Path | None = None) -> None:
    """Write a report readable by its owner only, in one step (a temporary file in the same
    folder, then renamed over ``path``), so a reader never sees half a report.

    Refuses (:class:`ReportPathError`) a symbolic link, the ledger, and an existing file that is
    not a dripline report: a mistyped path must never destroy a file.
    """
    if path.is_symlink():
        raise ReportPathError(f"{path} is a symbolic link; write the report to a plain file path")
    if path.exists():
        if not path.is_file():
            raise ReportPathError(f"{path} exists and is not a file")
        if ledger is not None and ledger.exists() and path.samefile(ledger):
            raise ReportPathError(f"{path} is the ledger; choose another path for the report")
        with open(path, "rb") as fh:
            head = fh.read(4096)
        if REPORT_MARKER not in head and _OLD_REPORT_TITLE not in head:
            raise ReportPathError(f"{path} exists and is not a dripline report; not overwritten")
    folder = path.parent if str(path.parent) else Path(".")
    _sweep_stale_report_temps(folder, path.name)
    tmp = _write_unnamed_then_link(folder, path.name, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: A named temporary report older than this was left by a killed run (a live one exists for
#: microseconds: the data is written to an unnamed file first).
_STALE_TEMP_SECONDS = 60


def _sweep_stale_report_temps(folder: Path, name: str) -> None:
    """Remove temporary copies of this report that a killed run left (they hold claim data)."""
    now = time.time()
    for leftover in folder.glob(f".{glob.escape(name)}.*.tmp"):
        try:
            if (
                leftover.is_file()
                and not leftover.is_symlink()
                and now - leftover.stat().st_mtime > _STALE_TEMP_SECONDS
            ):
                leftover.unlink()
        except OSError:
            pass


def _write_unnamed_then_link(folder: Path, name: str, data: bytes) -> Path:
    """The report's bytes in a 0600 file named ``.NAME.<random>.tmp`` in ``folder``.

    Where the system allows it (Linux ``O_TMPFILE``) the bytes are written and synced to a file
    without a name, which the kernel frees if the process is killed, and only then given its
    temporary name; elsewhere a named temporary file is written (a killed run's copy is swept by
    the next run)."""
    flag = getattr(os, "O_TMPFILE", 0)
    if flag:
        try:
            fd = os.open(folder, flag | os.O_WRONLY, 0o600)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                _write_all(fd, data)
                os.fsync(fd)
                for _ in range(8):
                    tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
                    try:
                        os.link(f"/proc/self/fd/{fd}", tmp, follow_symlinks=True)
                        return tmp
                    except FileExistsError:
                        continue
                    except OSError:
                        break
            finally:
                os.close(fd)
    fd, name_tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(name_tmp).unlink(missing_ok=True)
        raise
    return Path(name_tmp)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def open_ledger(option: str | Path | None) -> Connection:
    """Open the ledger named by --ledger / $DRIPLINE_DB / ./dripline.db, or exit 2 with a message."""
    from reconcile.ledger.store import LedgerError, connect

    try:
        return connect(ledger_path(option))
    except LedgerError as exc:
        fail([str(exc)])


def open_codesets(ledger: str | Path | None) -> CodeSets:
    """The CMS code sets loaded into the ledger (``dripline codesets load``) that ``dripline code``,
    ``claims build`` and ``validate`` code and scrub with; ``ledger`` is the ``--ledger`` option
    (then ``$DRIPLINE_DB``, then ``./dripline.db``).

    The single place where the CLI turns a ledger into a :class:`coding.codesets.CodeSets`: the
    ledger's :class:`reconcile.codesets.LedgerCodeSets`. A ledger that does not exist (it is not
    created here) or holds no loaded set gives :data:`coding.codesets.NO_CODESETS`: the bundled
    tables serve and the scrubber finds nothing. An unusable ledger exits 2 with a message.
    """
    path = ledger_path(ledger)
    if isinstance(path, Path) and str(path) != ":memory:" and not path.is_file():
        return NO_CODESETS
    from reconcile.codesets import open_codesets as ledger_codesets
    from reconcile.ledger.store import LedgerError, connect

    try:
        conn = connect(path)
        if conn.execute("SELECT 1 FROM codesets WHERE effective_from != '' LIMIT 1").fetchone() is None:
            conn.close()
            return NO_CODESETS
    except LedgerError as exc:
        fail([str(exc)])
    except DatabaseError as exc:
        fail([str(exc)])
    return ledger_codesets(conn)


def get_config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(exc.messages)


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return str(o)
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def dumps(data: Any) -> str:
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False)


def print_json(data: Any) -> None:
    sys.stdout.write(dumps(data) + "\n")


def print_json_list(key: str, items: Iterable[Any], tail: Callable[[], dict[str, Any]] | None = None) -> None:
    """``print_json({key: list(items), **tail()})``, the list written item by item (never held whole).

    ``tail`` is called once the items are written (findings known only then). The text is the
    same as :func:`print_json` gives: ``json`` indents a value at nesting level n by 2n spaces
    on every line of it, and never writes a raw line break inside a value.
    """
    out = sys.stdout
    head = dumps({key: []})[: -len("[]\n}")]  # '{\n  "key": '
    first = True
    for item in items:
        text = dumps(item).replace("\n", "\n    ")
        out.write((head + "[\n    " if first else ",\n    ") + text)
        first = False
    out.write(head + "[]" if first else "\n  ]")
    for k, v in (tail() if tail is not None else {}).items():
        out.write(",\n  " + json.dumps(k, ensure_ascii=False) + ": " + dumps(v).replace("\n", "\n  "))
    out.write("\n}\n")


def print_json_fields(fields: dict[str, Any]) -> None:
    """``print_json`` of a dict whose iterator values are written as lists, item by item.

    A value that is an :class:`~collections.abc.Iterator` (e.g. a generator) is consumed one item
    at a time, so a long list is never held whole as objects or as text; every other value is
    written as :func:`print_json` writes it. The text is the same as ``print_json`` gives for
    the dict with those iterators turned into lists (same indentation rules as
    :func:`print_json_list`).
    """
    if not fields:
        print_json({})
        return
    out = sys.stdout
    sep = "{\n  "
    for key, value in fields.items():
        out.write(sep + json.dumps(key, ensure_ascii=False) + ": ")
        sep = ",\n  "
        if isinstance(value, Iterator):
            first = True
            for item in value:
                out.write(("[\n    " if first else ",\n    ") + dumps(item).replace("\n", "\n    "))
                first = False
            out.write("[]" if first else "\n  ]")
        else:
            out.write(dumps(value).replace("\n", "\n  "))
    out.write("\n}\n")


FINDING_COLUMNS = (Col("severity", "keep"), Col("code", "keep"), Col("where"), Col("message"))


def print_findings(findings: Iterable[Finding], title: str = "Findings") -> None:
    """Readable findings table (severity, code, where, message)."""
    rows = list(findings)
    if not rows:
        return
    table = []
    for f in rows:
        where = " ".join(
            f"{k}={v}"
            for k, v in (
                ("enc", f.encounter_id),
                ("adm", f.administration_id),
                ("field", f.field),
                ("file", f.file),
                ("line", f.line),
                ("seg", f.segment),
                ("loop", f.loop),
                ("ele", f.element),
                ("seg#", getattr(f, "segment_number", None)),
            )
            if v is not None
        )
        color = {"error": "red", "warning": "yellow"}.get(f.severity, "cyan")
        table.append([cell(f.severity, color), f.code, where, f.message])
    print_table(FINDING_COLUMNS, table, title)
