#!/usr/bin/env python3
"""Write the results block of a recipe's README.md from its experiments' score files
(stage 11 output), in ESPnet's RESULTS format.

The block (between ``BEGIN`` and ``END`` markers) holds ``# RESULTS``, the
``## Environments`` list ESPnet recipes give (date, Python, ESPnet and PyTorch
versions, git hash and commit date), a summary table (encoder input rate, compression,
trainable and frozen parameters, WER or BLEU per test set, training and decoding time;
tokens/s over all the test sets: total encoder vectors / total seconds),
then per experiment ESPnet's ``### WER`` and ``### CER`` tables (Snt, Wrd, Corr, Sub,
Del, Ins, Err, S.Err) for ASR (``--metric wer``), or for ST (``--metric bleu``) the
``### BLEU`` table of ESPnet's ST recipes (score and sacreBLEU's verbose score) with
chrF and the sacreBLEU signatures. Everything outside the block (how to run the
recipe, notes, the benchmark section that ``bench_report`` maintains) is kept when the
file is rewritten; a file without the block gets it at the top.

Usage (asr.sh stage 12)::

    python -m espnet2_ext.bin.asr_results --expdir exp --exps dense entropy_rate15 \
        --test_sets test test_unseen_voices --out README.md --command "./run.sh"
"""

import argparse
import datetime
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

# a README from this line on belongs to bench_report (the benchmark section)
KEEP_MARKER = "<!-- benchmark: written by espnet2_ext.bin.bench_report -->"
BEGIN_PREFIX = "<!-- RESULTS:"  # any writer's block starts so


def begin_marker(writer: str = "espnet2_ext.bin.asr_results (asr.sh stage 12)") -> str:
    """The first line of a results block written by ``writer``."""
    return f"{BEGIN_PREFIX} written by {writer}; edit outside this block -->"


BEGIN = begin_marker()
END = "<!-- end of RESULTS -->"

SCLITE_COLS = ("Snt", "Wrd", "Corr", "Sub", "Del", "Ins", "Err", "S.Err")


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--expdir", type=Path, default=Path("exp"))
    p.add_argument("--exps", nargs="+", required=True)
    p.add_argument(
        "--exp_prefix",
        default="asr",
        help="experiment dirs are <expdir>/<prefix>_<tag>",
    )
    p.add_argument("--test_sets", nargs="+", required=True)
    p.add_argument(
        "--metric",
        choices=("wer", "bleu"),
        default="wer",
        help="what the score files hold: wer (ASR) or bleu (ST, with chrF)",
    )
    p.add_argument("--out", type=Path, default=Path("README.md"))
    p.add_argument(
        "--command", default="", help="the command that produced the results"
    )
    return p


def _git(*args: str) -> str:
    repo = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def environment() -> List[str]:
    """ESPnet's ``## Environments`` list for this machine and checkout."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "not installed"

    git_hash = _git("rev-parse", "HEAD") or "unknown (not a git checkout)"
    dirty = (
        " (with uncommitted changes)"
        if _git("status", "--porcelain", "--untracked-files=no")
        else ""
    )
    now = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%a %b %d %H:%M:%S UTC %Y"
    )
    return [
        "## Environments",
        f"- date: `{now}`",
        f"- python version: `{sys.version.split(chr(10))[0]}`",
        f"- espnet version: `espnet {ver('espnet')}`",
        f"- pytorch version: `pytorch {ver('torch')}`",
        f"- espnet2_ext: `{ver('espnet2_ext')}` on `{platform.machine()}`",
        f"- Git hash: `{git_hash}`{dirty}",
        f"  - Commit date: `{_git('log', '-1', '--format=%cd') or 'unknown'}`",
    ]


def sclite_table(rows: Dict[str, dict]) -> List[str]:
    """ESPnet's ``|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|S.Err|`` table."""
    out = [
        "|dataset|" + "|".join(SCLITE_COLS) + "|",
        "|---" * (len(SCLITE_COLS) + 1) + "|",
    ]
    for name, d in rows.items():
        if d is None or "corr" not in d:
            out.append(f"|{name}|" + "|".join(["-"] * len(SCLITE_COLS)) + "|")
            continue
        vals = [str(d["snt"]), str(d["words"])] + [
            f"{d[k]:.1f}" for k in ("corr", "sub", "del", "ins", "err", "sent_err")
        ]
        out.append(f"|{name}|" + "|".join(vals) + "|")
    return out


def bleu_table(rows: Dict[str, dict]) -> List[str]:
    """ESPnet's ST ``|dataset|score|verbose_score|`` table, with chrF added."""
    out = ["|dataset|score|verbose_score|chrF|", "|---|---|---|---|"]
    for name, d in rows.items():
        if d is None or "bleu" not in d:
            out.append(f"|{name}|-|-|-|")
            continue
        prec = "/".join(f"{x:.1f}" for x in d["bleu_precisions"])
        ratio = d["hyp_len"] / max(d["ref_len"], 1)
        verbose = (
            f"{prec} (BP = {d['bleu_bp']:.3f} ratio = {ratio:.3f} hyp_len = "
            f"{d['hyp_len']} ref_len = {d['ref_len']})"
        )
        out.append(f"|{name}|{d['bleu']:.1f}|{verbose}|{d['chrf']:.1f}|")
    return out


def encoder_rate(scores: Dict[str, dict]) -> Tuple[float, float]:
    """tokens/s into the encoder and compression against the 50 Hz units over all the
    given test sets, weighted by their length: total encoder vectors / total seconds,
    total units / total encoder vectors (``bench_report``'s definition too). Score
    files without the counts (older ones) give the first set's own values."""
    vals = list(scores.values())
    if all(k in s for s in vals for k in ("encoder_tokens", "audio_seconds", "units")):
        tokens = sum(s["encoder_tokens"] for s in vals)
        return (
            tokens / sum(s["audio_seconds"] for s in vals),
            sum(s["units"] for s in vals) / max(tokens, 1),
        )
    return (
        vals[0].get("tokens_per_sec", float("nan")),
        vals[0].get("compression", float("nan")),
    )


def write_block(path: Path, block: List[str], writer: Optional[str] = None) -> None:
    """Replace the results block of ``path`` (or put it at the top), keep the rest.
    ``writer`` names the tool in the block's first line (default: asr_results)."""
    text = "\n".join([BEGIN if writer is None else begin_marker(writer), *block, END])
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    i, j = old.find(BEGIN_PREFIX), old.find(END)
    if 0 <= i < j:
        new = old[:i] + text + old[j + len(END) :]
    else:
        new = text + ("\n\n" + old.lstrip("\n") if old.strip() else "\n")
    path.write_text(new if new.endswith("\n") else new + "\n", encoding="utf-8")


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    head = [
        "method",
        "tokens/s into encoder",
        "compression vs 50 Hz",
        "params (trainable)",
        "frozen unit LM params",
    ]
    bleu = args.metric == "bleu"
    if bleu:
        head += [f"BLEU {t}" for t in args.test_sets]
        head += [f"chrF {t}" for t in args.test_sets]
    else:
        head += [f"WER {t} (%)" for t in args.test_sets]
    signatures = set()
    head += ["train time (s, epochs)", "decode time (s, all test sets)"]
    rows, missing, details = [], [], []
    for tag in args.exps:
        d = args.expdir / f"{args.exp_prefix}_{tag}"
        scores = {}
        for t in args.test_sets:
            f = d / f"decode_{t}" / "score.json"
            if f.is_file():
                scores[t] = json.loads(f.read_text())
            else:
                missing.append(str(f))
        if not scores:
            continue
        first = next(iter(scores.values()))
        train_s = (
            (d / "train_seconds").read_text().strip()
            if (d / "train_seconds").is_file()
            else "-"
        )
        dec = sum(s.get("decode_seconds", 0.0) for s in scores.values())
        rate, compression = encoder_rate(scores)
        row = [
            tag,
            f"{rate:.1f}",
            f"{compression:.2f}x",
            f"{first.get('params', 0) / 1e6:.2f} M",
            (
                f"{first['frozen_params'] / 1e6:.2f} M"
                if first.get("frozen_params")
                else "-"
            ),
        ]
        for key in ("bleu", "chrf") if bleu else ("wer",):
            row += [
                f"{scores[t][key]:.2f}" if t in scores and key in scores[t] else "-"
                for t in args.test_sets
            ]
        row += [train_s, f"{dec:.0f}"]
        rows.append(row)
        if bleu:
            rows_b = {f"decode_{t}": scores.get(t) for t in args.test_sets}
            details += ["", f"## {d.name}", "### BLEU", ""] + bleu_table(rows_b)
            for sc in scores.values():
                signatures.update(
                    sc[k] for k in ("bleu_signature", "chrf_signature") if k in sc
                )
            continue
        wer_rows = {
            f"decode_{t}": (
                dict(scores[t], snt=scores[t].get("utterances", "-"))
                if t in scores
                else None
            )
            for t in args.test_sets
        }
        cer_rows = {
            f"decode_{t}": (
                dict(scores[t]["cer_detail"], snt=scores[t].get("utterances", "-"))
                if t in scores and "cer_detail" in scores[t]
                else None
            )
            for t in args.test_sets
        }
        details += ["", f"## {d.name}", "### WER", ""] + sclite_table(wer_rows)
        details += ["", "### CER", ""] + sclite_table(cer_rows)
    block = [
        "# RESULTS",
        *environment(),
        "",
        "## Summary",
        "",
        f"Produced by `espnet2_ext.bin.asr_results` from `{args.expdir}`"
        + (f", after `{args.command}`" if args.command else "")
        + ".",
        "",
        "tokens/s and compression are measured over all the test sets of the "
        "table (total",
        "encoder input vectors / total seconds) by running each model's own "
        "frontend (the",
        "<sos/eos> ESPnet prepends is not counted); times are wall-clock on the "
        "machine that",
        "ran the recipe (training: the epochs' train and valid phases).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    block += ["| " + " | ".join(r) + " |" for r in rows]
    if signatures:
        block += ["", "sacreBLEU signatures (detokenised, cased output, as CoVoST 2):"]
        block += [f"- `{sig}`" for sig in sorted(signatures)]
    if missing:
        block += ["", "Missing score files: " + ", ".join(missing)]
    block += details
    write_block(args.out, block)
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
