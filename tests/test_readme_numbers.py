"""Every results table of the recipe READMEs (``egs2/*/*/README.md`` and those of their
subdirectories, e.g. ``boundaries/``, ``tuning/``) is backed by a committed artefact
written by the project's scripts, or marked as not reproducible.

Each table with numbers (and each results block, ESPnet's RESULTS written by stage 12)
carries a provenance comment: the nearest one above the table in its section (for a
results block: on the first line after its end marker, since the block itself is
rewritten by the recipe):

* ``<!-- numbers: PATH [PATH ...] -->``: committed files (relative to the README's
  directory) written by the project's scripts (``score.json``, hypotheses, a results
  table, a probe's JSON). Every number of the table's cells (the first column, which
  names the row, aside) must be found in them at the table's precision (as it is, as a
  percentage of a fraction, or in millions for parameter counts).
* ``<!-- numbers: not results -->``: a table whose numbers are settings, not results
  (e.g. a list of stages).
* ``<!-- numbers: not reproducible -->``: no committed artefact. The section of the
  table (for a results block: the text after it, up to the next heading) must then
  say so in words a reader sees: "not reproducible from committed artefacts" or
  "results block only; the run's score.json was not kept".

Numbers quoted in prose are not parsed: the prose of a section whose table is marked
repeats that table's numbers, and the notes name the artefact of each probe they quote
or carry the same mark.
"""

import csv
import json
import re
import subprocess
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]
READMES = sorted(ROOT.glob("egs2/*/*/README.md")) + sorted(
    ROOT.glob("egs2/*/*/*/README.md")
)
BEGIN, END = "<!-- RESULTS:", "<!-- end of RESULTS -->"
MARKER = re.compile(r"^\s*<!--\s*numbers:\s*(.*?)\s*-->\s*$")
NOT_REPRODUCIBLE = "not reproducible"
NOT_RESULTS = "not results"
MARKS = (
    "not reproducible from committed artefacts",
    "results block only; the run's score.json was not kept",
)
# a number standing alone (not the tail of a name such as fixed_pool3.333)
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")


class Table(NamedTuple):
    readme: Path
    line: int  # 1-based line of the table's first row (or of the block's start)
    cells: List[str]  # body cells, first column left out
    rows: List[List[str]]  # body rows, all cells (the first names the row)
    marker: Optional[str]  # the provenance comment's content, None if missing
    context: str  # the text a "not reproducible" mark must be in


def _is_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _headings(lines: List[str]) -> List[int]:
    out, fence = [], False
    for i, ln in enumerate(lines):
        if ln.lstrip().startswith("```"):
            fence = not fence
        elif not fence and ln.startswith("#"):
            out.append(i)
    return out


def _body_cells(rows: List[str]) -> List[str]:
    cells = []
    for r in rows:
        parts = r.strip().strip("|").split("|")
        if all(set(p.strip()) <= set("-: ") for p in parts):
            continue  # the separator row
        cells += parts[1:]
    return cells[len(rows[0].strip().strip("|").split("|")) - 1 :]  # no header


def _body_rows(rows: List[str]) -> List[List[str]]:
    out = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    return [r for r in out[1:] if not all(set(c) <= set("-: ") for c in r)]


def _marker(line: str) -> Optional[str]:
    m = MARKER.match(line)
    return m.group(1) if m else None


def tables(readme: Path) -> Iterator[Table]:
    """The numeric tables of a README and its results block (one entry)."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    heads = _headings(lines)

    def section(i: int) -> str:
        lo = max([h for h in heads if h <= i], default=0)
        hi = min([h for h in heads if h > i], default=len(lines))
        return "\n".join(lines[lo:hi])

    i, fence = 0, False
    while i < len(lines):
        ln = lines[i]
        if ln.lstrip().startswith("```"):
            fence = not fence
        if not fence and ln.startswith(BEGIN):
            j = next(k for k in range(i, len(lines)) if lines[k].startswith(END))
            cells = _block_cells(lines[i:j])
            after = next((k for k in range(j + 1, len(lines)) if lines[k].strip()), j)
            hi = min([h for h in heads if h > j], default=len(lines))
            if any(NUMBER.search(c) for c in cells):
                yield Table(
                    readme,
                    i + 1,
                    cells,
                    [],
                    _marker(lines[after]) if after > j else None,
                    "\n".join(lines[j + 1 : hi]),
                )
            i = j + 1
            continue
        if not fence and _is_row(ln):
            j = i
            while j < len(lines) and _is_row(lines[j]):
                j += 1
            cells = _body_cells(lines[i:j])
            lo = max([h for h in heads if h <= i], default=0)
            marks = [_marker(lines[k]) for k in range(i - 1, lo - 1, -1)]
            if any(NUMBER.search(c) for c in cells):
                yield Table(
                    readme,
                    i + 1,
                    cells,
                    _body_rows(lines[i:j]),
                    next((m for m in marks if m is not None), None),
                    section(i),
                )
            i = j
            continue
        i += 1


def _block_cells(lines: List[str]) -> List[str]:
    """Body cells (first column aside) of every table inside a results block."""
    cells, i = [], 0
    while i < len(lines):
        if _is_row(lines[i]):
            j = i
            while j < len(lines) and _is_row(lines[j]):
                j += 1
            cells += _body_cells(lines[i:j])
            i = j
        else:
            i += 1
    return cells


def _tracked() -> Optional[set]:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return set(out.stdout.splitlines()) if out.returncode == 0 else None


TRACKED = _tracked()


def _numbers(path: Path) -> List[float]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":  # exact floats, not their repr's digits only
        out: List[float] = []

        def walk(x):
            if isinstance(x, bool):
                return
            if isinstance(x, (int, float)):
                out.append(float(x))
            elif isinstance(x, dict):
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)

        walk(json.loads(text))
        return out
    if path.suffix == ".csv":
        return _numbers_of(c for row in csv.reader(text.splitlines()) for c in row)
    return [float(m.replace(",", "")) for m in NUMBER.findall(text)]


def _numbers_of(cells) -> List[float]:
    out = []
    for cell in cells:
        try:
            out.append(float(cell))
        except ValueError:
            pass
    return out


def backed(token: str, values: List[float]) -> bool:
    """``token`` (as printed, e.g. ``19.1``) is one of ``values`` at its precision:
    as it is, as a percentage of a fraction, or in millions (parameter counts)."""
    t = token.replace(",", "")
    v = float(t)
    tol = 0.5 * 10 ** -(len(t.split(".")[1]) if "." in t else 0) + 1e-9
    return any(
        abs(x * scale - v) <= tol for x in values for scale in (1.0, 100.0, 1e-6)
    )


ALL = [t for r in READMES for t in tables(r)]


def _id(t: Table) -> str:
    return f"{t.readme.relative_to(ROOT).parent}:{t.line}"


def test_the_check_sees_the_tables():
    assert len(ALL) >= 12
    assert sum(t.marker is not None and "/" in t.marker for t in ALL) >= 3


@pytest.mark.parametrize("table", ALL, ids=_id)
def test_every_table_has_its_artefact_or_a_mark(table):
    where = f"{table.readme.relative_to(ROOT)}:{table.line}"
    assert table.marker is not None, (
        f"{where}: a table of results with no provenance comment "
        "(<!-- numbers: PATH ... --> or <!-- numbers: not reproducible -->)"
    )
    if table.marker.startswith(NOT_RESULTS):
        return
    if table.marker.startswith(NOT_REPRODUCIBLE):
        context = " ".join(table.context.split()).lower()
        assert any(m in context for m in MARKS), (
            f"{where}: marked not reproducible, but its section does not say so "
            f"to the reader (one of {MARKS})"
        )
        return
    values: List[float] = []
    by_row = {}  # a CSV artefact keyed by its first column: checked row by row
    for rel in table.marker.split():
        path = table.readme.parent / rel
        assert path.is_file(), f"{where}: {rel} does not exist"
        if TRACKED is not None:
            assert (
                str(path.relative_to(ROOT)) in TRACKED
            ), f"{where}: {rel} not committed"
        values += _numbers(path)
        if path.suffix == ".csv":
            with path.open(encoding="utf-8") as f:
                for row in csv.reader(f):
                    by_row[row[0]] = _numbers_of(row[1:])
    if by_row and table.rows and all(r[0] in by_row for r in table.rows):
        unbacked = [
            (r[0], tok)
            for r in table.rows
            for c in r[1:]
            for tok in NUMBER.findall(c)
            if not backed(tok, by_row[r[0]])
        ]
        assert not unbacked, f"{where}: not in {table.marker}'s rows: {unbacked}"
        return
    unbacked = [
        tok for c in table.cells for tok in NUMBER.findall(c) if not backed(tok, values)
    ]
    assert not unbacked, f"{where}: not in {table.marker}: {unbacked}"


def test_backed_by_hand():
    assert backed("19.1", [19.14]) and not backed("19.1", [19.16])
    assert backed("62.4", [0.6241]) and backed("1.26", [1261234.0])
    assert backed("1,648", [1648.0]) and not backed("3", [3.6])
