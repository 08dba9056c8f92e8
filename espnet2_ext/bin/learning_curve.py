#!/usr/bin/env python3
"""Learning curves from ESPnet training logs (``<expdir>/train.log``).

espnet2's trainer (``python -m espnet2.bin.mt_train``, ``lm_train``, ``asr_train``,
...) logs one line per epoch, e.g.::

    ... (trainer:394) INFO: 3epoch results: [train] iter_time=0.008, ...,
    loss=111.427, ..., time=3 minutes and 20.94 seconds, total_count=600,
    [valid] loss=47.015, acc=0.270, ..., time=2.1 seconds, total_count=27

(one physical line). This tool parses those lines, ignores everything else in the
log (other log lines, ``[nltk_data]`` noise, ...) and writes, per experiment and
epoch:

* ``epoch``;
* ``updates``: the ``[train] total_count``, the cumulative number of training
  iterations (mini-batches) so far; with ``--accum_grad N`` in the training config
  the number of optimizer steps is ``updates / N``;
* ``cum_train_seconds`` / ``cum_valid_seconds``: the cumulative wall-clock seconds
  spent in the ``[train]`` / ``[valid]`` phases (sums of the per-epoch ``time=``);
* every value found in the sections, named ``<section>_<key>``: ``train_loss``,
  ``train_acc``, ``valid_acc``, ``valid_cer``, ... The per-epoch durations become
  ``train_time`` / ``valid_time`` (seconds); note that ESPnet's own per-iteration
  ``[train] train_time`` becomes ``train_train_time``.

A training resumed by ``asr.sh`` leaves its earlier logs as ``train.log.1``,
``train.log.2``, ...: they are read first, then ``train.log``. When an epoch is logged
more than once the last occurrence wins. Epochs that are not in any piece cannot be
counted in the cumulative times; a warning says so. ``--print_seconds`` prints only the
training time of one experiment (train + valid phases, what ``asr.sh`` records in
``train_seconds``).

Outputs: ``--out_csv`` (all columns, one row per experiment and epoch), ``--out_md``
(a compact markdown table; printed to stdout when not given) and ``--out_png`` (the
``--metric`` against training time, updates or epochs, one line per experiment).

Usage::

    python -m espnet2_ext.bin.learning_curve \\
        --exp base=exp/mt_train_base --exp exp/mt_train_entropy \\
        --metric valid_acc --x time \\
        --out_csv curves.csv --out_md curves.md --out_png curves.png
"""

import argparse
import csv
import logging
import math
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

logger = logging.getLogger("learning_curve")

Number = Union[int, float]
Record = Dict[str, Number]

DEFAULT_METRIC = "valid_acc"
FALLBACK_METRIC = "valid_loss"

# Columns computed by ``learning_curve`` (the rest are the logged values).
CURVE_COLUMNS = ("epoch", "updates", "cum_train_seconds", "cum_valid_seconds")

# Markdown table: the valid metrics shown when present in any experiment.
MD_METRICS = ("valid_acc", "valid_cer", "valid_cer_ctc", "valid_wer")

_EPOCH_RE = re.compile(r"\b(\d+)epoch results: (.*)$")
_SECTION_RE = re.compile(r"(?:^|, )\[([A-Za-z0-9_\-]+)\] ")
_KEY_RE = re.compile(r"(?:^|, )([A-Za-z_][\w.\-/]*)=")
_INT_RE = re.compile(r"[-+]?\d+")

# humanfriendly.format_timespan (used by espnet2.train.reporter for ``time=``) writes
# e.g. "0 seconds", "1 second", "2.1 seconds", "3 minutes and 20.94 seconds",
# "1 hour, 2 minutes and 3.5 seconds", "1 hour and 4 seconds",
# "2 days, 3 hours and 5 minutes" (at most three units, the smallest one rounded to
# two decimals); the units go from years (52 weeks) down to seconds.
_TIME_UNITS = {
    "nanosecond": 1e-9,
    "microsecond": 1e-6,
    "millisecond": 1e-3,
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 7 * 86400.0,
    "year": 52 * 7 * 86400.0,
}
_TIME_PART_RE = re.compile(
    r"(\d+(?:\.\d+)?)\s+(" + "|".join(_TIME_UNITS) + r")s?",
)
_TIME_SPLIT_RE = re.compile(r",\s*|\s+and\s+")


class TrainLogError(Exception):
    """A training log that is missing or holds no epoch results."""


def parse_timespan(text: str) -> Optional[float]:
    """Parse a timespan written by ``humanfriendly.format_timespan`` into seconds.

    Args:
        text: e.g. ``"2.1 seconds"``, ``"3 minutes and 20.94 seconds"`` or
            ``"1 hour, 2 minutes and 3 seconds"``.

    Returns:
        The number of seconds, or ``None`` if ``text`` is not such a timespan.
    """
    parts = [p for p in _TIME_SPLIT_RE.split(text.strip()) if p]
    if not parts:
        return None
    seconds = 0.0
    for part in parts:
        m = _TIME_PART_RE.fullmatch(part)
        if m is None:
            return None
        seconds += float(m.group(1)) * _TIME_UNITS[m.group(2)]
    return seconds


def parse_value(text: str) -> Optional[Number]:
    """Parse one logged value: an integer, a float (``nan``/``inf`` included) or a
    timespan (returned in seconds).

    Args:
        text: The text after ``key=``.

    Returns:
        The number, or ``None`` when the text is none of these.
    """
    text = text.strip()
    if _INT_RE.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return parse_timespan(text)


def parse_epoch_line(line: str) -> Optional[Tuple[int, Record]]:
    """Parse one ``<N>epoch results: [train] ..., [valid] ...`` log line.

    Args:
        line: A line of ``train.log``.

    Returns:
        ``(epoch, values)`` with the values keyed ``<section>_<key>`` (e.g.
        ``train_loss``, ``valid_acc``, ``train_time`` in seconds), or ``None`` when
        the line is not an epoch-results line.
    """
    m = _EPOCH_RE.search(line.rstrip("\r\n"))
    if m is None:
        return None
    epoch = int(m.group(1))
    body = m.group(2).rstrip()
    values: Record = {}
    pieces = _SECTION_RE.split(body)
    # pieces: [text before the first section, name1, text1, name2, text2, ...]
    for section, text in zip(pieces[1::2], pieces[2::2]):
        keys = list(_KEY_RE.finditer(text))
        for i, km in enumerate(keys):
            end = keys[i + 1].start() if i + 1 < len(keys) else len(text)
            raw = text[km.end() : end]
            value = parse_value(raw)
            if value is None:
                logger.debug("epoch %d: unparsed value %s=%r", epoch, km.group(1), raw)
                continue
            values[f"{section}_{km.group(1)}"] = value
    if not values:
        return None
    return epoch, values


def log_pieces(path: Union[str, Path]) -> List[Path]:
    """The pieces of one training log, oldest first.

    ``asr.sh`` keeps the log of an interrupted training as ``train.log.1``,
    ``train.log.2``, ... before it resumes into a new ``train.log``; these pieces, in
    numeric order, then ``path`` itself.

    Args:
        path: The current ``train.log``.

    Returns:
        The existing pieces (``path`` last when it exists).
    """
    path = Path(path)
    numbered = []
    for p in path.parent.glob(path.name + ".*"):
        suffix = p.name[len(path.name) + 1 :]
        if suffix.isdigit():
            numbered.append((int(suffix), p))
    pieces = [p for _, p in sorted(numbered)]
    if path.is_file():
        pieces.append(path)
    return pieces


def parse_train_log(path: Union[str, Path]) -> List[Record]:
    """Read the per-epoch results of an ESPnet ``train.log`` and its earlier pieces.

    Lines other than the trainer's ``<N>epoch results:`` lines are ignored. The pieces
    of a resumed training (:func:`log_pieces`) are read oldest first; when an epoch is
    logged more than once, its last occurrence is kept.

    Args:
        path: The ``train.log`` file.

    Returns:
        One record per epoch, sorted by epoch: ``{"epoch": N, "train_loss": ...,
        "train_time": <seconds>, "train_total_count": ..., "valid_...": ...}``.

    Raises:
        TrainLogError: the file does not exist or holds no epoch results.
    """
    path = Path(path)
    pieces = log_pieces(path)
    if not pieces:
        raise TrainLogError(f"training log not found: {path}")
    by_epoch: Dict[int, Record] = {}
    for piece in pieces:
        with piece.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                parsed = parse_epoch_line(line)
                if parsed is None:
                    continue
                epoch, values = parsed
                if epoch in by_epoch:
                    logger.info(
                        "%s: epoch %d logged again, keeping the last", piece, epoch
                    )
                by_epoch[epoch] = {"epoch": epoch, **values}
    if not by_epoch:
        raise TrainLogError(f"no '<N>epoch results:' lines in {path}")
    return [by_epoch[e] for e in sorted(by_epoch)]


def learning_curve(records: Sequence[Record], name: str = "") -> List[Record]:
    """Add the curve columns to parsed epoch records.

    Args:
        records: Output of :func:`parse_train_log` (sorted by epoch).
        name: Experiment name, for the warnings.

    Returns:
        New records with ``epoch``, ``updates`` (``train_total_count``),
        ``cum_train_seconds`` and ``cum_valid_seconds`` first, then the logged
        values. ``updates`` is NaN when the log has no ``total_count``.
    """
    epochs = [int(r["epoch"]) for r in records]
    missing = sorted(set(range(1, max(epochs) + 1)) - set(epochs)) if epochs else []
    if missing:
        logger.warning(
            "%s: epochs %s are not in the log; the cumulative times leave them out",
            name or "experiment",
            _ranges(missing),
        )
    out: List[Record] = []
    cum_train = cum_valid = 0.0
    for r in records:
        cum_train += _finite_or_zero(r.get("train_time"))
        cum_valid += _finite_or_zero(r.get("valid_time"))
        row: Record = {
            "epoch": int(r["epoch"]),
            "updates": r.get("train_total_count", math.nan),
            "cum_train_seconds": cum_train,
            "cum_valid_seconds": cum_valid,
        }
        row.update((k, v) for k, v in r.items() if k != "epoch")
        out.append(row)
    return out


def _finite_or_zero(value: Optional[Number]) -> float:
    """``value`` as a float, 0 when absent or not finite."""
    if value is None or not math.isfinite(value):
        return 0.0
    return float(value)


def _ranges(values: Sequence[int]) -> str:
    """Compact text for sorted integers: ``[1, 2, 3, 7]`` -> ``"1-3, 7"``."""
    spans: List[str] = []
    start = prev = values[0]
    for v in list(values[1:]) + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        spans.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(spans)


def resolve_log(path: Union[str, Path]) -> Path:
    """The ``train.log`` of an experiment: ``path`` itself if it is a file, else
    ``path/train.log``."""
    path = Path(path)
    return path if path.is_file() else path / "train.log"


def parse_exp_arg(text: str) -> Tuple[str, Path]:
    """Split an ``--exp`` argument ``[NAME=]PATH`` into ``(name, path)``.

    Without ``NAME=``, the name is the basename of the experiment directory (of the
    directory holding the log when ``PATH`` is a log file).
    """
    if "=" in text:
        name, path = text.split("=", 1)
        if name and "/" not in name:
            return name, Path(path)
    path = Path(text)
    base = path.parent if path.is_file() else path
    return base.resolve().name or str(path), path


def load_experiments(exps: Sequence[Tuple[str, Path]]) -> Dict[str, List[Record]]:
    """Parse the log of each experiment, skipping (with a warning) those that fail.

    Args:
        exps: ``(name, expdir or train.log)`` pairs.

    Returns:
        Experiment name -> curve records (:func:`learning_curve`), in input order,
        for the experiments whose log could be read.
    """
    curves: Dict[str, List[Record]] = {}
    for name, path in exps:
        try:
            records = parse_train_log(resolve_log(path))
        except TrainLogError as e:
            logger.warning("skipping experiment %s: %s", name, e)
            continue
        curves[name] = learning_curve(records, name)
        last = curves[name][-1]
        logger.info(
            "%s: %d epochs, last epoch %d, %s updates, %.1f train minutes",
            name,
            len(records),
            last["epoch"],
            _fmt_int(last["updates"]),
            last["cum_train_seconds"] / 60.0,
        )
    return curves


def columns(curves: Dict[str, List[Record]]) -> List[str]:
    """All columns of the curves: the curve columns, then the logged values in order
    of first appearance."""
    cols: Dict[str, None] = dict.fromkeys(CURVE_COLUMNS)
    for rows in curves.values():
        for row in rows:
            cols.update(dict.fromkeys(row))
    return list(cols)


def has_metric(rows: Sequence[Record], metric: str) -> bool:
    """Whether any record has a finite value for ``metric``."""
    return any(_is_finite(row.get(metric)) for row in rows)


def resolve_metric(curves: Dict[str, List[Record]], metric: str) -> Optional[str]:
    """The metric to plot: ``metric`` if any experiment has it, else ``valid_loss``
    (with a warning) if any has that, else ``None``."""
    if any(has_metric(rows, metric) for rows in curves.values()):
        return metric
    if metric != FALLBACK_METRIC and any(
        has_metric(rows, FALLBACK_METRIC) for rows in curves.values()
    ):
        logger.warning("no experiment logs %s; using %s", metric, FALLBACK_METRIC)
        return FALLBACK_METRIC
    return None


def write_csv(curves: Dict[str, List[Record]], path: Union[str, Path]) -> None:
    """Write all curves to a CSV file: ``experiment`` then :func:`columns`; empty
    cells where an experiment lacks a value."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = columns(curves)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["experiment"] + cols)
        for name, rows in curves.items():
            for row in rows:
                writer.writerow([name] + [_fmt_csv(row.get(c)) for c in cols])


def _fmt_csv(value: Optional[Number]) -> str:
    """A CSV cell: integers as such, floats with 10 significant digits."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return format(value, ".10g")


def _fmt_int(value: Optional[Number]) -> str:
    """An integer-valued cell, ``-`` when absent."""
    if not _is_finite(value):
        return "-"
    return str(int(value))


def _fmt3(value: Optional[Number]) -> str:
    """A float cell with 3 decimals, ``-`` when absent."""
    if value is None:
        return "-"
    return f"{value:.3f}"


def _is_finite(value: Optional[Number]) -> bool:
    return value is not None and math.isfinite(value)


def format_markdown(
    curves: Dict[str, List[Record]], metric: Optional[str] = None
) -> str:
    """A compact markdown table of the curves.

    Columns: experiment, epoch, updates, train minutes (cumulative), then those of
    ``valid_acc``, ``valid_cer``, ``valid_cer_ctc``, ``valid_wer`` that any
    experiment logs, plus ``metric`` if it is another one; values to 3 decimals.

    Args:
        curves: Experiment name -> curve records.
        metric: The plotted metric, added as a column when not already shown.

    Returns:
        The table, ending with a newline.
    """
    shown = [
        m for m in MD_METRICS if any(has_metric(rows, m) for rows in curves.values())
    ]
    if metric and metric not in shown:
        shown.append(metric)
    header = ["experiment", "epoch", "updates", "train min"]
    header += [m.replace("_", " ", 1) for m in shown]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for name, rows in curves.items():
        for row in rows:
            cells = [
                name,
                str(row["epoch"]),
                _fmt_int(row.get("updates")),
                _fmt3(row["cum_train_seconds"] / 60.0),
            ]
            cells += [_fmt3(row.get(m)) for m in shown]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_X_AXES = {
    "time": ("cum_train_seconds", 1.0 / 60.0, "training time [min] (train phases)"),
    "updates": ("updates", 1.0, "updates [iterations]"),
    "epoch": ("epoch", 1.0, "epoch"),
}


def _y_label(metric: str) -> str:
    """Axis label for a metric, with its unit where it has one."""
    label = metric.replace("_", " ", 1)
    key = metric.split("_", 1)[-1]
    if key in ("acc", "cer", "wer", "cer_ctc", "wer_ctc"):
        return f"{label} [fraction]"
    if key.endswith("time"):
        return f"{label} [s]"
    return label


def plot_curves(
    curves: Dict[str, List[Record]],
    metric: str,
    x: str,
    path: Union[str, Path],
) -> int:
    """Plot ``metric`` against training time / updates / epoch, one line per
    experiment, to a PNG (matplotlib, Agg backend, 6 x 3.5 in at 110 dpi).

    Args:
        curves: Experiment name -> curve records.
        metric: Column to plot on the y axis, e.g. ``valid_acc``.
        x: ``time`` (cumulative training minutes), ``updates`` or ``epoch``.
        path: Output PNG file.

    Returns:
        The number of experiments drawn (those with a value of ``metric``).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xkey, scale, xlabel = _X_AXES[x]
    fig = Figure(figsize=(6.0, 3.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    drawn = 0
    for name, rows in curves.items():
        pts = [
            (row[xkey] * scale, row[metric])
            for row in rows
            if _is_finite(row.get(xkey)) and _is_finite(row.get(metric))
        ]
        if not pts:
            logger.warning("%s: no %s against %s, not plotted", name, metric, x)
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.2, label=name)
        drawn += 1
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_y_label(metric))
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return drawn


def get_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(
        description="Learning curves (CSV, markdown, PNG) from ESPnet train.log files",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--exp",
        action="append",
        required=True,
        metavar="[NAME=]PATH",
        help="experiment directory (or its train.log); repeatable. NAME defaults "
        "to the directory's basename",
    )
    parser.add_argument(
        "--metric",
        default=DEFAULT_METRIC,
        help=f"y axis of the plot; {FALLBACK_METRIC} when no experiment logs it",
    )
    parser.add_argument(
        "--x",
        choices=list(_X_AXES),
        default="time",
        help="x axis: cumulative training minutes, updates or epochs",
    )
    parser.add_argument("--out_csv", type=Path, help="CSV with all columns")
    parser.add_argument(
        "--out_md", type=Path, help="markdown table (printed to stdout if not given)"
    )
    parser.add_argument("--out_png", type=Path, help="PNG plot of --metric")
    parser.add_argument(
        "--print_seconds",
        action="store_true",
        help="print only the training time of the (single) experiment: the sum of its "
        "epochs' train and valid phases, in whole seconds",
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point.

    Returns:
        0 on success, 2 when no experiment could be read (or nothing to plot).
    """
    parser = get_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    exps = [parse_exp_arg(e) for e in args.exp]
    names = [n for n, _ in exps]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        parser.error(f"experiment names given twice: {', '.join(dups)} (use NAME=PATH)")

    curves = load_experiments(exps)
    if args.print_seconds:
        if len(exps) != 1:
            parser.error("--print_seconds takes exactly one --exp")
        if not curves:
            logger.error("cannot read %s", resolve_log(exps[0][1]))
            return 2
        last = next(iter(curves.values()))[-1]
        print(round(last["cum_train_seconds"] + last["cum_valid_seconds"]))
        return 0
    if not curves:
        logger.error(
            "no experiment could be read: %s",
            "; ".join(str(resolve_log(p)) for _, p in exps),
        )
        return 2

    metric = resolve_metric(curves, args.metric)
    if args.out_csv:
        write_csv(curves, args.out_csv)
        logger.info("wrote %s", args.out_csv)
    table = format_markdown(curves, metric)
    if args.out_md:
        args.out_md.parent.mkdir(parents=True, exist_ok=True)
        args.out_md.write_text(table, encoding="utf-8")
        logger.info("wrote %s", args.out_md)
    else:
        sys.stdout.write(table)
    if args.out_png:
        if metric is None:
            logger.error(
                "no experiment logs %s or %s: nothing to plot",
                args.metric,
                FALLBACK_METRIC,
            )
            return 2
        plot_curves(curves, metric, args.x, args.out_png)
        logger.info("wrote %s (%s against %s)", args.out_png, metric, args.x)
    return 0


if __name__ == "__main__":
    sys.exit(main())
