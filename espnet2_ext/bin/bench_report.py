#!/usr/bin/env python3
"""Collect a benchmark run into ``results.csv``, a markdown table and a PNG.

For every method (``--method NAME=DIR``, DIR its experiment directory; the same NAME
given again adds a repeated run, e.g. another seed) it reads

* ``DIR/decode_<set>/score.json`` (``espnet2_ext.bin.asr_score``): WER per test
  set, tokens per second in the encoder and the compression against the 50 Hz units
  (summed over the test sets), trainable parameters;
* ``DIR/train_seconds`` (written by ``asr.sh``: the epochs' train and valid phases);
* the JSON of ``espnet2_ext.bin.bench_speed`` (``--speed``): training step time and
  decoding real-time factor, measured side by side in one process. Several files may be
  given (a benchmark run in pieces, e.g. one per session, each measuring its own methods
  beside its own run of the reference): a method's ratios to the reference are taken
  inside each file, then averaged over the files that measured it;
* ``DIR/archived`` when the run was restored from a results archive
  (``benchmark.sh --archive_dir``): when, where and with what it was made.

A benchmark still in progress gives a partial report: a run without its scores, or a
method without a speed measurement, is listed as missing (with a warning) instead of
stopping the report, and the targets it would decide are "not checked yet".

Writes ``<outdir>/results.csv`` with the columns
``method,runs,tokens_per_sec,compression,wer_test,wer_test_sd,wer_test_unseen_voices,
wer_test_unseen_voices_sd,train_seconds,train_step_ms,decode_rtf,train_step_ratio,
decode_rtf_ratio,speed_runs,params,frozen_params`` (``*_ratio``: to ``--ref``, measured
side by side; ``speed_runs``: the speed measurements averaged)
(``params``: trainable; ``frozen_params``: the frozen unit LM, run but not trained; the
WER columns are named after ``--test_sets``; WER, rate and training time are means over
the runs, ``_sd`` the sample standard deviation, empty for a single run),
``<outdir>/results.md`` (the table, ratios against the reference method and the
targets of the benchmark checked from the numbers, with a note where a difference is
inside the spread over seeds) and ``<outdir>/results.png`` (WER against tokens per
second, one line per method family, error bars of one sd, one panel per test set).
"""

import argparse
import csv
import json
import logging
import math
import re
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

logger = logging.getLogger("bench_report")


def family(method: str) -> str:
    """Line a method belongs to in the plot: the name without its trailing rate."""
    m = re.match(r"^(.*)_(\d+(?:\.\d+)?)$", method)
    return m.group(1) if m else method


def _run(name: str, expdir: Path, test_sets: List[str]) -> dict:
    """WER per test set, encoder tokens / audio seconds / units, params of one run."""
    run = {
        "wer": {},
        "tokens": 0.0,
        "seconds": 0.0,
        "units": 0.0,
        "params": None,
        "frozen_params": 0,
    }
    for dset in test_sets:
        path = expdir / f"decode_{dset}" / "score.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"{name}: no {path} (run the decoding and scoring stages)"
            )
        s = json.loads(path.read_text())
        if s.get("missing_hypotheses"):
            logger.warning(
                "%s %s: %d utterances without hypothesis (counted as deletions)",
                name,
                dset,
                s["missing_hypotheses"],
            )
        run["wer"][dset] = s["wer"]
        run["tokens"] += s["encoder_tokens"]
        run["seconds"] += s["audio_seconds"]
        run["units"] += s["units"]
        run["params"] = s.get("params", run["params"])
        run["frozen_params"] = s.get("frozen_params", run["frozen_params"])
    ts = expdir / "train_seconds"
    run["train_seconds"] = float(ts.read_text().strip()) if ts.is_file() else math.nan
    made = expdir / "archived"
    run["made"] = made.read_text().strip() if made.is_file() else None
    return run


def load_speed(paths: Sequence[Path], ref: str) -> Tuple[dict, Dict[str, List[dict]]]:
    """Read one or more ``bench_speed`` JSONs.

    Returns:
        The first file's settings (threads, batch size, decode utterances) and, per
        method, one dict per file that measured it: ``train_step_ms``, ``decode_rtf``,
        ``params`` and the ratios ``train_step_ratio`` / ``decode_rtf_ratio`` to
        ``ref`` in the same file (side by side; ``ref`` must be in every file).
    """
    first: dict = {}
    per_method: Dict[str, List[dict]] = OrderedDict()
    for path in paths:
        sp = json.loads(Path(path).read_text())
        first = first or sp
        methods = sp.get("methods", {})
        if ref not in methods:
            raise KeyError(
                f"{path}: the reference {ref!r} was not measured in this file, so its "
                "ratios cannot be taken side by side (bench_speed's first --exp)"
            )
        r = methods[ref]
        for name, m in methods.items():
            per_method.setdefault(name, []).append(
                dict(
                    m,
                    train_step_ratio=m["train_step_ms"] / r["train_step_ms"],
                    decode_rtf_ratio=m["decode_rtf"] / r["decode_rtf"],
                    file=str(path),
                )
            )
    return first, per_method


def mean_sd(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (NaN for fewer than two values)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def collect(
    methods: Dict[str, List[str]],
    test_sets: List[str],
    speed: Dict[str, List[dict]],
    missing: Optional[List[str]] = None,
    made: Optional[Dict[str, List[str]]] = None,
) -> List[dict]:
    """One row per method: means over its runs, ``_sd`` columns for the WERs.

    Args:
        methods: Method name -> its runs' experiment directories.
        test_sets: The test sets (``decode_<set>`` in every directory).
        speed: Second output of :func:`load_speed`.
        missing: When given, runs without scores and methods without a speed
            measurement are appended to it (one line each, with the reason) instead of
            raising; a method with no scored run gets no row.
        made: When given, filled with ``archived`` provenance line -> run directories.
    """
    rows = []
    for name, expdirs in methods.items():
        runs = []
        for d in expdirs:
            try:
                runs.append(_run(name, Path(d), test_sets))
            except FileNotFoundError as e:
                if missing is None:
                    raise
                missing.append(f"{name} run {d}: not scored yet ({e})")
                logger.warning("%s run %s: not scored yet, left out", name, d)
                continue
            if made is not None and runs[-1]["made"]:
                made.setdefault(runs[-1]["made"], []).append(str(d))
        if not runs:
            continue
        sps = speed.get(name, [])
        if not sps:
            if missing is None:
                raise KeyError(
                    f"{name}: not in the speed measurements "
                    f"(bench_speed --exp {name}=...)"
                )
            missing.append(f"{name}: speed not measured yet")
            logger.warning("%s: no speed measurement, speed columns left empty", name)
        row = OrderedDict(method=name, runs=len(runs))
        row["tokens_per_sec"] = mean_sd([r["tokens"] / r["seconds"] for r in runs])[0]
        row["compression"] = mean_sd([r["units"] / r["tokens"] for r in runs])[0]
        for dset in test_sets:
            row[f"wer_{dset}"], row[f"wer_{dset}_sd"] = mean_sd(
                [r["wer"][dset] for r in runs]
            )
        row["train_seconds"] = mean_sd([r["train_seconds"] for r in runs])[0]
        for key in (
            "train_step_ms",
            "decode_rtf",
            "train_step_ratio",
            "decode_rtf_ratio",
        ):
            row[key] = mean_sd([m[key] for m in sps])[0] if sps else math.nan
        row["speed_runs"] = len(sps)
        row["params"] = next(
            (m["params"] for m in sps if m.get("params")), runs[0]["params"]
        )
        row["frozen_params"] = runs[0]["frozen_params"]
        rows.append(row)
    return rows


def write_csv(rows: List[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _csv_cell(v) for k, v in r.items()})


def _csv_cell(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return v


def targets(rows: List[dict], test_sets: List[str], ref: str, main: str) -> List[str]:
    """The benchmark's targets, each checked from the numbers: one line per target."""
    by = {r["method"]: r for r in rows}
    out = []
    if ref not in by or main not in by:
        return [f"- targets not checked yet: {ref!r} or {main!r} missing"]
    d, e = by[ref], by[main]

    def mark(ok: bool) -> str:
        return "met" if ok else "**missed**"

    for dset in test_sets:
        k = f"wer_{dset}"
        out.append(
            f"- {main} WER <= {ref} WER on {dset}: {e[k]:.2f} vs {d[k]:.2f}: "
            f"{mark(e[k] <= d[k])}{_spread_note(e, d, k)}"
        )
    fam = family(main)
    rate = main[len(fam) + 1 :]
    fp = by.get(f"fixed_pool_{rate}")
    if fp:
        ok = all(e[f"wer_{s}"] < fp[f"wer_{s}"] for s in test_sets)
        out.append(
            f"- {main} beats fixed_pool_{rate} (WER "
            + ", ".join(
                f"{e[f'wer_{s}']:.2f} vs {fp[f'wer_{s}']:.2f}" for s in test_sets
            )
            + f"; {e['tokens_per_sec']:.1f} vs {fp['tokens_per_sec']:.1f} "
            f"tokens/s): {mark(ok)}"
            + "".join(_spread_note(e, fp, f"wer_{s}", s) for s in test_sets)
        )
    db = by.get("dedup_bpe")
    if db:
        ok = all(e[f"wer_{s}"] < db[f"wer_{s}"] for s in test_sets)
        rate_ok = e["tokens_per_sec"] <= db["tokens_per_sec"] * 1.02
        out.append(
            f"- {main} beats dedup_bpe at an equal or lower rate (WER "
            + ", ".join(
                f"{e[f'wer_{s}']:.2f} vs {db[f'wer_{s}']:.2f}" for s in test_sets
            )
            + f"; {e['tokens_per_sec']:.1f} vs {db['tokens_per_sec']:.1f} tokens/s): "
            + (mark(ok) if rate_ok else "not comparable (higher rate)")
        )
    r = e["train_step_ratio"]
    if math.isnan(r):
        out.append(f"- training step {main} / {ref}: not checked yet (no speed)")
        out.append(f"- decoding time {main} / {ref}: not checked yet (no speed)")
        return out
    out.append(
        f"- training step {main} / {ref} = {r:.2f} (target <= 0.5): {mark(r <= 0.5)}"
    )
    r = e["decode_rtf_ratio"]
    out.append(
        f"- decoding time, unit LM included, {main} / {ref} = {r:.2f} (target <= "
        f"0.6): {mark(r <= 0.6)}"
    )
    return out


def _spread_note(a: dict, b: dict, key: str, label: str = "") -> str:
    """`` (inside the spread ...)`` when two means differ by less than the larger sd."""
    sds = [
        x
        for x in (a.get(key + "_sd"), b.get(key + "_sd"))
        if x is not None and not math.isnan(x)
    ]
    if not sds:
        return ""
    diff = abs(a[key] - b[key])
    if diff < max(sds):
        where = f" on {label}" if label else ""
        return (
            f" (inside the spread over seeds{where}: difference {diff:.2f}, sd up to "
            f"{max(sds):.2f})"
        )
    return ""


def write_markdown(
    rows: List[dict],
    path: Path,
    test_sets: List[str],
    ref: str,
    main: str,
    command: Optional[str],
    speed: dict,
    missing: Sequence[str] = (),
    made: Optional[Dict[str, List[str]]] = None,
    n_speed_files: int = 1,
    piece_commands: Optional[Dict[str, str]] = None,
) -> None:
    ratio_cols = ("train_step_ratio", "decode_rtf_ratio", "speed_runs")
    cols = [c for c in rows[0].keys() if not c.endswith("_sd") and c not in ratio_cols]
    lines = []
    if command and made:
        lines += [
            f"Report written by: `{command}`; the runs were made in the pieces "
            "listed below.",
            "",
        ]
    elif command:
        lines += [f"Produced by: `{command}`", ""]
    if missing:
        lines += [
            f"**Partial report** ({len(missing)} item(s) missing; the benchmark is "
            "still running or was run in pieces not all done yet):",
            "",
        ]
        lines += [f"- {m}" for m in missing] + [""]
    if made:
        lines += [
            "Made in more than one piece: runs restored from the results archive "
            "(`benchmark.sh --archive_dir`) were trained, decoded and scored as "
            "follows; the others in this run.",
            "",
        ]
        lines += [
            f"- {how}: {', '.join(Path(d).name for d in dirs)}"
            + piece_command(how, piece_commands or {})
            for how, dirs in made.items()
        ] + [""]
    if n_speed_files > 1:
        lines += [
            f"Speed measured in {n_speed_files} pieces, each with its own run of "
            f"{ref} side by side: the `x{ref}` ratios are taken inside a piece and "
            "averaged over the pieces that measured the method; `train_step_ms` and "
            "`decode_rtf` are means of the absolute values.",
            "",
        ]
    n_dec = len(speed.get("decode_utt_ids", [])) or speed.get("decode_utts", "?")
    lines += [
        "Speed columns: median training step (forward, backward, optimizer step) on "
        f"the same {speed.get('batch_size', '?')}-utterance batches, and decoding "
        f"real-time factor on the same {n_dec} test utterances (unit LM included), "
        f"all methods interleaved in one process with {speed.get('threads', '?')} "
        f"thread(s). `x{ref}`: ratio to {ref}. `runs`: trainings with different "
        "seeds; their WERs as mean ± sample sd, `train_seconds` their mean (the "
        "epochs' train and valid phases, as trained, two at a time).",
        "",
        "| " + " | ".join(cols + ["train x" + ref, "decode x" + ref]) + " |",
        "|" + "---|" * (len(cols) + 2),
    ]
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            if c in ("params", "frozen_params"):
                cells.append(f"{v / 1e6:.2f} M" if v else "-")
            elif c.startswith("wer_") and not math.isnan(r.get(c + "_sd", math.nan)):
                cells.append(f"{v:.1f} ± {r[c + '_sd']:.1f}")
            elif c == "train_seconds":
                cells.append("-" if math.isnan(v) else f"{v:.0f}")
            elif isinstance(v, float) and math.isnan(v):
                cells.append("-")
            elif c.startswith("wer_") or c in ("tokens_per_sec", "train_step_ms"):
                cells.append(f"{v:.1f}" if c != "train_step_ms" else f"{v:.0f}")
            elif isinstance(v, float):
                cells.append(f"{v:.3f}" if c == "decode_rtf" else f"{v:.2f}")
            else:
                cells.append(str(v))
        for c in ("train_step_ratio", "decode_rtf_ratio"):
            cells.append("-" if math.isnan(r[c]) else f"{r[c]:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Targets (checked from the table):", ""] + targets(
        rows, test_sets, ref, main
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def plot(rows: List[dict], path: Path, test_sets: List[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fams = OrderedDict()
    for r in rows:
        fams.setdefault(family(r["method"]), []).append(r)
    fig, axes = plt.subplots(
        1, len(test_sets), figsize=(6 * len(test_sets), 4.5), squeeze=False
    )
    for ax, dset in zip(axes[0], test_sets):
        for fam, rs in fams.items():
            rs = sorted(rs, key=lambda r: r["tokens_per_sec"])
            x = [r["tokens_per_sec"] for r in rs]
            y = [r[f"wer_{dset}"] for r in rs]
            err = [
                (
                    0.0
                    if math.isnan(r.get(f"wer_{dset}_sd", math.nan))
                    else r[f"wer_{dset}_sd"]
                )
                for r in rs
            ]
            ax.errorbar(
                x,
                y,
                yerr=err if any(err) else None,
                marker="o",
                capsize=3,
                linestyle="-" if len(rs) > 1 else "none",
                label=fam,
            )
            if len(rs) == 1:
                ax.annotate(
                    fam,
                    (x[0], y[0]),
                    textcoords="offset points",
                    xytext=(4, 4),
                    fontsize=7,
                )
        ax.set_xlabel("tokens per second in the encoder")
        ax.set_ylabel("WER (%)")
        ax.set_title(dset)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def piece_command(how: str, commands: Dict[str, str]) -> str:
    """``; command: ...`` for a piece's provenance line that contains a key of
    ``commands`` (``--piece_command``), unless the line names its command itself."""
    hits = [c for key, c in commands.items() if key in how]
    if len(hits) > 1:
        raise ValueError(f"more than one --piece_command matches {how!r}")
    return f"; command: `{hits[0]}`" if hits and "command:" not in how else ""


def update_results_md(path: Path, outdir: Path, command: Optional[str]) -> None:
    """Replace (or append) the benchmark section of a recipe's README.md (RESULTS)."""
    from espnet2_ext.bin.asr_results import KEEP_MARKER

    old = path.read_text(encoding="utf-8") if path.is_file() else "# README\n"
    head = (
        old[: old.index(KEEP_MARKER)].rstrip("\n")
        if KEEP_MARKER in old
        else old.rstrip("\n")
    )
    rel = lambda p: str(p)  # noqa: E731
    body = [
        KEEP_MARKER,
        "",
        "## Benchmark",
        "",
        # the table's numbers are results.csv's (tests/test_readme_numbers.py)
        f"<!-- numbers: {rel(outdir / 'results.csv')} -->",
        "",
        f"`{rel(outdir / 'results.csv')}`, `{rel(outdir / 'results.md')}` and "
        f"`{rel(outdir / 'results.png')}`"
        + (f", produced by `{command}`" if command else "")
        + ":",
        "",
        (outdir / "results.md").read_text(encoding="utf-8").rstrip("\n"),
        "",
        f"![WER against tokens per second]({rel(outdir / 'results.png')})",
    ]
    path.write_text(head + "\n\n" + "\n".join(body) + "\n", encoding="utf-8")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--method",
        action="append",
        required=True,
        help="NAME=DIR: the method's name in the table and its experiment directory; "
        "the same NAME again adds a repeated run (another seed)",
    )
    p.add_argument("--test_sets", nargs="+", default=["test", "test_unseen_voices"])
    p.add_argument(
        "--speed",
        type=Path,
        nargs="+",
        required=True,
        help="JSON(s) of espnet2_ext.bin.bench_speed; several for a benchmark made in "
        "pieces (each with the reference measured in it)",
    )
    p.add_argument("--ref", default="dense", help="reference method for the ratios")
    p.add_argument(
        "--main", default="entropy_15", help="method whose targets are checked"
    )
    p.add_argument("--command", default=None, help="the command that produced the run")
    p.add_argument(
        "--piece_command",
        action="append",
        default=[],
        metavar="MATCH=COMMAND",
        help="for a benchmark made in pieces: the command of the piece whose archived "
        "provenance line contains MATCH (e.g. its time, 2026-12-05T20:47Z), written "
        "beside it in results.md (archives made since record their command "
        "themselves)",
    )
    p.add_argument("--outdir", type=Path, required=True)
    p.add_argument(
        "--results_md",
        type=Path,
        default=None,
        help="a recipe README.md whose benchmark section is replaced",
    )
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    methods = OrderedDict()
    for m in args.method:
        if "=" not in m:
            raise ValueError(f"--method {m!r}: expected NAME=DIR")
        name, d = m.split("=", 1)
        methods.setdefault(name, []).append(d)
    speed_files = [p for p in args.speed if p.is_file()]
    for p in args.speed:
        if not p.is_file():
            logger.warning("%s: no such speed file, left out", p)
    settings, speed = load_speed(speed_files, args.ref)
    missing: List[str] = []
    made: Dict[str, List[str]] = OrderedDict()
    rows = collect(methods, args.test_sets, speed, missing=missing, made=made)
    if not rows:
        raise FileNotFoundError("no method has a scored run yet: nothing to report")
    args.outdir.mkdir(parents=True, exist_ok=True)
    write_csv(rows, args.outdir / "results.csv")
    write_markdown(
        rows,
        args.outdir / "results.md",
        args.test_sets,
        args.ref,
        args.main,
        args.command,
        settings,
        missing=missing,
        made=made,
        n_speed_files=len(speed_files),
        piece_commands=dict(pc.split("=", 1) for pc in args.piece_command),
    )
    plot(rows, args.outdir / "results.png", args.test_sets)
    if args.results_md is not None:
        update_results_md(args.results_md, args.outdir, args.command)
    print((args.outdir / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
