#!/usr/bin/env python3
"""Build the "dedup + BPE" unit input: deduplicate, map units to characters, BPE.

As in ESPnet's discrete-unit ASR recipes: in each utterance of ``<unitdir>/<set>/units``
(``utt_id 189 189 144 ...``, 0-based unit ids), runs of the same unit are collapsed to
one, each unit id ``k`` is written as the character ``chr(0x4E00 + k)`` (CJK
ideographs, ``0 <= k < 20000``), a sentencepiece model (bpe or unigram) is trained on
the strings of ``--train_set``, and every set is encoded with it.

Usage:
    python -m espnet2_ext.bin.prep_dedup_bpe --unitdir dump/units \\
        --sets train dev test --train_set train --nbpe 500 \\
        --outdir dump/units_dedup_bpe500 \\
        --token_list_dir dump/token_list/units_dedup_bpe500

Written:
    <outdir>/<set>/units        ``utt_id piece piece ...`` (pieces have no whitespace)
    <outdir>/<set>/units_shape  ``utt_id N`` (number of pieces)
    <outdir>/<set>/text, text_shape.bpe  copied from <unitdir>/<set>/ (if present),
                                restricted to the utterances written
    <outdir>/<set>/units.skipped  ``utt_id reason detail`` (utterances left out)
    <outdir>/rates.json         per set: utterances in/out/skipped and the average
                                rates (tokens/s) of the original units, after dedup,
                                after BPE; seconds = original units / --unit_rate
    <token_list_dir>/bpe.model, bpe.vocab, train.txt (the sentencepiece input)
    <token_list_dir>/tokens.txt ``<blank>``, ``<unk>``, the sentencepiece pieces (not
                                its own <unk>/<s>/</s>) by frequency in the encoded
                                train set (ties and unused pieces by piece id), then
                                ``<sos/eos>``

Characters not seen in the train set (units missing from it) are encoded by
sentencepiece as unknown pieces; they are written as the character itself (not in
tokens.txt, so ESPnet maps them to ``<unk>``) and counted in the log and rates.json.
An existing output is overwritten.
"""

import argparse
import itertools
import json
import logging
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from espnet2_ext.utils.shards import Tally, setup_logging

CHAR_OFFSET = 0x4E00
MAX_UNIT = 20000  # chr(0x4E00 + k) stays inside the CJK Unified Ideographs block

logger = logging.getLogger("prep_dedup_bpe")


def unit_to_char(k: int) -> str:
    return chr(CHAR_OFFSET + k)


def char_to_unit(c: str) -> int:
    k = ord(c) - CHAR_OFFSET
    if not 0 <= k < MAX_UNIT:
        raise ValueError(f"character {c!r} is not a mapped unit")
    return k


def dedup_to_string(ids: List[int]) -> str:
    """Collapse runs of the same id, map each to its character."""
    return "".join(unit_to_char(k) for k, _ in itertools.groupby(ids))


_UNIT_RE = re.compile(r"[0-9]+")


def parse_unit(tok: str, path: Path, lineno: int) -> int:
    k = int(tok) if _UNIT_RE.fullmatch(tok) else -1
    if not 0 <= k < MAX_UNIT:
        raise ValueError(
            f"{path}:{lineno}: bad unit {tok!r}: units must be non-negative integer "
            f"ids below {MAX_UNIT} (written as decimal numbers)"
        )
    return k


def read_and_dedup(path: Path, tally: Tally) -> Tuple[Dict[str, str], Dict[str, int]]:
    """The deduplicated units of a ``units`` file, and their original lengths.

    Returns utt_id -> dedup string (file order), utt_id -> original length.
    """
    out: Dict[str, str] = {}
    lengths: Dict[str, int] = {}
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            key = parts[0]
            tally.add_in()
            if key in out:
                tally.skip(key, "duplicate_id", f"{path}:{lineno}")
                continue
            if len(parts) == 1:
                tally.skip(key, "empty", "no units")
                continue
            ids = [parse_unit(t, path, lineno) for t in parts[1:]]
            lengths[key] = len(ids)
            out[key] = dedup_to_string(ids)
    return out, lengths


def read_keys(path: Path) -> List[str]:
    with path.open(encoding="utf-8") as f:
        return [line.split(maxsplit=1)[0] for line in f if line.strip()]


def check_shape(path: Path, lengths: Dict[str, int]) -> None:
    """Warn if an input ``units_shape`` disagrees with the unit counts read."""
    if not path.exists():
        return
    bad = 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] in lengths:
                bad += parts[1].split(",")[0] != str(lengths[parts[0]])
    if bad:
        logger.warning(
            "%s: %d utterance(s) whose shape differs from the units read", path, bad
        )


def copy_filtered(src: Path, dst: Path, keep: Set[str]) -> None:
    """Copy ``src`` to ``dst``, keeping only the lines of utterances in ``keep``."""
    if not src.exists():
        return
    keys = read_keys(src)
    missing = len(keep - set(keys))
    if missing:
        logger.warning("%s: %d written utterance(s) have no entry", src, missing)
    if all(k in keep for k in keys):
        shutil.copy(src, dst)
        return
    n_drop = 0
    with src.open(encoding="utf-8") as fin, dst.open("w", encoding="utf-8") as fout:
        for line in fin:
            if not line.strip():
                continue
            if line.split(maxsplit=1)[0] in keep:
                fout.write(line)
            else:
                n_drop += 1
    logger.info("%s: %d line(s) of utterances not written dropped", dst, n_drop)


def train_sentencepiece(train_txt: Path, prefix: Path, args, max_len: int):
    import sentencepiece as spm

    try:
        spm.SentencePieceTrainer.train(
            input=str(train_txt),
            model_prefix=str(prefix),
            vocab_size=args.nbpe,
            model_type=args.model_type,
            character_coverage=1.0,
            max_sentence_length=max(100000, max_len + 1),
            input_sentence_size=100000000,
            shuffle_input_sentence=True,
            minloglevel=2,
            add_dummy_prefix=False,
            split_by_unicode_script=False,
            split_by_number=False,
            split_by_whitespace=True,
            byte_fallback=False,
            normalization_rule_name="identity",  # keep the unit characters as they are
            num_threads=args.num_threads,
        )
    except RuntimeError as e:
        msg = str(e)
        if "smaller than required_chars" in msg:
            # every distinct unit is a required character of its own: K units need
            # at least K (+ sentencepiece's special pieces) entries
            m = re.search(r"(\d+)\s+vs\s+(\d+)", msg)
            hint = f" (at least {m.group(2)} here)" if m else ""
            raise ValueError(
                f"--nbpe {args.nbpe} is too small for the {args.model_type} model on "
                f"{train_txt}: each distinct unit is a piece of its own, so --nbpe "
                f"must exceed the number of units (the k-means K); choose a larger "
                f"--nbpe{hint}. sentencepiece: {msg}"
            ) from e
        if "Vocabulary size" in msg:
            m = re.search(r"<=\s*(\d+)", msg)
            hint = f" (at most {m.group(1)} here)" if m else ""
            raise ValueError(
                f"--nbpe {args.nbpe} is too large for the {args.model_type} model on "
                f"{train_txt}: choose a smaller --nbpe{hint}. sentencepiece: {msg}"
            ) from e
        raise
    return spm.SentencePieceProcessor(model_file=str(prefix) + ".model")


def build_token_list(sp, train_counts: Counter) -> List[str]:
    pieces = [
        (sp.id_to_piece(i), i)
        for i in range(sp.get_piece_size())
        if not (sp.is_unknown(i) or sp.is_control(i))
    ]
    pieces.sort(key=lambda p: (-train_counts.get(p[0], 0), p[1]))
    return ["<blank>", "<unk>"] + [p for p, _ in pieces] + ["<sos/eos>"]


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--unitdir", required=True, type=Path, help="e.g. dump/units")
    p.add_argument(
        "--sets", required=True, nargs="+", help="sets to convert, e.g. train dev test"
    )
    p.add_argument(
        "--train_set", required=True, help="set the sentencepiece model is trained on"
    )
    p.add_argument(
        "--nbpe", type=int, default=500, help="sentencepiece vocabulary size"
    )
    p.add_argument("--model_type", default="bpe", choices=["bpe", "unigram"])
    p.add_argument(
        "--outdir", required=True, type=Path, help="e.g. dump/units_dedup_bpe500"
    )
    p.add_argument(
        "--token_list_dir",
        required=True,
        type=Path,
        help="e.g. dump/token_list/units_dedup_bpe500",
    )
    p.add_argument(
        "--unit_rate", type=float, default=50.0, help="original units per second"
    )
    p.add_argument(
        "--num_threads",
        type=int,
        default=min(4, os.cpu_count() or 1),
        help="sentencepiece training threads",
    )
    p.add_argument("--log_level", default="INFO")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging(args.log_level)
    if args.nbpe < 1:
        raise ValueError(f"--nbpe must be positive, got {args.nbpe}")
    if args.unit_rate <= 0:
        raise ValueError(f"--unit_rate must be positive, got {args.unit_rate}")

    # 1. read + dedup every set (and the train set, even if it is not converted)
    data: Dict[str, Tuple[Dict[str, str], Dict[str, int], Tally]] = {}
    for s in dict.fromkeys(list(args.sets) + [args.train_set]):
        path = args.unitdir / s / "units"
        if not path.exists():
            raise FileNotFoundError(f"no units file {path}")
        tally = Tally(s)
        strings, lengths = read_and_dedup(path, tally)
        data[s] = (strings, lengths, tally)
    train_strings = data[args.train_set][0]
    if not train_strings:
        raise ValueError(
            f"no utterances with units in {args.unitdir / args.train_set / 'units'}"
        )

    # 2. sentencepiece on the dedup strings of the train set
    args.token_list_dir.mkdir(parents=True, exist_ok=True)
    train_txt = args.token_list_dir / "train.txt"
    with train_txt.open("w", encoding="utf-8") as f:
        for v in train_strings.values():
            f.write(v + "\n")
    max_len = max(len(v.encode("utf-8")) for v in train_strings.values())
    logger.info(
        "training sentencepiece (%s, vocab %d) on %d utterances",
        args.model_type,
        args.nbpe,
        len(train_strings),
    )
    sp = train_sentencepiece(train_txt, args.token_list_dir / "bpe", args, max_len)
    unk_id = sp.unk_id()

    # 3. encode, write, tally
    rates = {
        "unit_rate": args.unit_rate,
        "nbpe": args.nbpe,
        "model_type": args.model_type,
        "train_set": args.train_set,
        "sets": {},
    }
    train_counts: Counter = Counter()
    for s in args.sets:
        strings, lengths, tally = data[s]
        keys = list(strings)
        n_units = sum(lengths.values())
        encoded = sp.encode([strings[k] for k in keys], out_type=str) if keys else []
        odir = args.outdir / s
        odir.mkdir(parents=True, exist_ok=True)
        n_dedup = n_bpe = n_unk = 0
        with (
            (odir / "units").open("w", encoding="utf-8") as fu,
            (odir / "units_shape").open("w", encoding="utf-8") as fs,
        ):
            for k, pieces in zip(keys, encoded):
                fu.write(k + " " + " ".join(pieces) + "\n")
                fs.write(f"{k} {len(pieces)}\n")
                n_dedup += len(strings[k])
                n_bpe += len(pieces)
                n_unk += sum(sp.piece_to_id(p) == unk_id for p in pieces)
                if s == args.train_set:
                    train_counts.update(pieces)
                tally.add_out()
        tally.write_skipped(str(odir / "units.skipped"))
        check_shape(args.unitdir / s / "units_shape", lengths)
        written = set(keys)
        for name in ("text", "text_shape.bpe"):
            copy_filtered(args.unitdir / s / name, odir / name, written)
        if n_unk:
            logger.warning(
                "%s: %d piece(s) unknown to the model (units not in %s)",
                s,
                n_unk,
                args.train_set,
            )
        seconds = n_units / args.unit_rate

        def rate(n: int) -> float:
            return round(n / seconds, 4) if seconds else 0.0

        rates["sets"][s] = {
            **tally.to_dict(),
            "seconds": round(seconds, 3),
            "units": n_units,
            "dedup_units": n_dedup,
            "bpe_tokens": n_bpe,
            "unknown_pieces": n_unk,
            "rate_units": rate(n_units),
            "rate_dedup": rate(n_dedup),
            "rate_bpe": rate(n_bpe),
        }
        logger.info(
            "%s; %.1f s; units/s: original %.2f, dedup %.2f, bpe %.2f",
            tally.summary(),
            seconds,
            rate(n_units),
            rate(n_dedup),
            rate(n_bpe),
        )
        print(
            f"{s}: utts in={tally.n_in} out={tally.n_out} skipped={tally.n_skipped} "
            f"rate units/s: {rate(n_units):.2f} -> dedup {rate(n_dedup):.2f} "
            f"-> bpe {rate(n_bpe):.2f}"
        )

    if args.train_set not in args.sets:  # still needed for the token order
        strings = data[args.train_set][0]
        for pieces in sp.encode(list(strings.values()), out_type=str):
            train_counts.update(pieces)

    # 4. token list, in ESPnet order
    tokens = build_token_list(sp, train_counts)
    (args.token_list_dir / "tokens.txt").write_text(
        "\n".join(tokens) + "\n", encoding="utf-8"
    )
    n_unused = sum(train_counts.get(t, 0) == 0 for t in tokens[2:-1])
    logger.info(
        "wrote %s (%d tokens, %d piece(s) unused in %s)",
        args.token_list_dir / "tokens.txt",
        len(tokens),
        n_unused,
        args.train_set,
    )

    args.outdir.mkdir(parents=True, exist_ok=True)
    (args.outdir / "rates.json").write_text(
        json.dumps(rates, indent=2) + "\n", encoding="utf-8"
    )
    logger.info("wrote %s", args.outdir / "rates.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
