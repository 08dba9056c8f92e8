#!/usr/bin/env python3
"""Build the "transcript" input of speech translation: the gold source words.

The upper bound of the ST recipes' comparison: the same encoder-decoder (dense
frontend) reads the *source transcript* as words instead of the units of the audio,
i.e. a cascade whose ASR makes no errors. It tells how much BLEU the model, the
training budget and the corpus allow at all, apart from how well the units carry the
content. Each utterance of ``<unitdir>/<set>/src_transcript`` (``utt_id The Cat
sat.``, made by asr.sh stage 8 from ``data/<set>/text.tc.<src>``) is lowercased and
stripped of punctuation (what a word-level ASR outputs; apostrophes and hyphens inside
a word are kept), and split into words.

Usage:
    python -m espnet2_ext.bin.prep_transcript_input --unitdir dump/units \\
        --sets train dev test --train_set train \\
        --outdir dump/units_transcript \\
        --token_list dump/token_list/transcript/tokens.txt

Written:
    <outdir>/<set>/units        ``utt_id word word ...``
    <outdir>/<set>/units_shape  ``utt_id N`` (number of words)
    <outdir>/<set>/text, text_shape.bpe  copied from <unitdir>/<set>/ (if present),
                                restricted to the utterances written
    <outdir>/<set>/units.skipped  ``utt_id reason`` (utterances left out: no words)
    <outdir>/prep_report.json   per set: utterances in/out/skipped, words, words not in
                                the token list (ESPnet maps them to ``<unk>``)
    <token_list>                ``<blank>``, ``<unk>``, the train set's words by
                                frequency (ties alphabetically), ``<sos/eos>``
"""

import argparse
import json
import logging
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

from espnet2_ext.bin.prep_dedup_bpe import copy_filtered
from espnet2_ext.utils.shards import Tally, read_scp, setup_logging

logger = logging.getLogger("prep_transcript_input")

# a word: letters or digits, with inner apostrophes or hyphens ("don't", "twenty-one")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def transcript_words(text: str) -> List[str]:
    """Lowercased words of a cased, punctuated sentence; punctuation dropped.

    >>> transcript_words("At half past three, Anna doesn't sing.")
    ['at', 'half', 'past', 'three', 'anna', "doesn't", 'sing']
    """
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--unitdir",
        required=True,
        type=Path,
        help="e.g. dump/units, with <set>/src_transcript",
    )
    p.add_argument("--sets", required=True, nargs="+", help="e.g. train dev test")
    p.add_argument("--train_set", required=True, help="the token list's set")
    p.add_argument("--outdir", required=True, type=Path)
    p.add_argument("--token_list", required=True, type=Path)
    p.add_argument("--log_level", default="INFO")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    setup_logging(args.log_level)
    sets = list(dict.fromkeys([args.train_set] + list(args.sets)))
    words: Dict[str, Dict[str, List[str]]] = {}
    tallies: Dict[str, Tally] = {}
    for s in sets:
        path = args.unitdir / s / "src_transcript"
        if not path.exists():
            raise FileNotFoundError(
                f"no {path}: the transcript input needs asr.sh --src_transcript"
            )
        tally = Tally(s)
        out: Dict[str, List[str]] = {}
        for key, text in read_scp(str(path)):
            tally.add_in()
            w = transcript_words(text)
            if not w:
                tally.skip(key, "no_words", text)
                continue
            out[key] = w
            tally.add_out()
        words[s] = out
        tallies[s] = tally
    counts: Counter = Counter(w for ws in words[args.train_set].values() for w in ws)
    if not counts:
        raise ValueError(f"no words in {args.unitdir / args.train_set}/src_transcript")
    vocab = sorted(counts, key=lambda w: (-counts[w], w))
    args.token_list.parent.mkdir(parents=True, exist_ok=True)
    args.token_list.write_text(
        "\n".join(["<blank>", "<unk>"] + vocab + ["<sos/eos>"]) + "\n",
        encoding="utf-8",
    )
    logger.info("wrote %s (%d words)", args.token_list, len(vocab))

    known = set(vocab)
    report = {"train_set": args.train_set, "vocabulary": len(vocab), "sets": {}}
    for s in args.sets:
        odir = args.outdir / s
        odir.mkdir(parents=True, exist_ok=True)
        n_words = n_oov = 0
        with (
            (odir / "units").open("w", encoding="utf-8") as fu,
            (odir / "units_shape").open("w", encoding="utf-8") as fs,
        ):
            for key, ws in words[s].items():
                fu.write(key + " " + " ".join(ws) + "\n")
                fs.write(f"{key} {len(ws)}\n")
                n_words += len(ws)
                n_oov += sum(w not in known for w in ws)
        for name in ("text", "text_shape.bpe"):
            copy_filtered(args.unitdir / s / name, odir / name, set(words[s]))
        tallies[s].write_skipped(str(odir / "units.skipped"))
        report["sets"][s] = {**tallies[s].to_dict(), "words": n_words, "oov": n_oov}
        print(f"{tallies[s].summary()} words={n_words} not in the token list={n_oov}")
    args.outdir.mkdir(parents=True, exist_ok=True)
    (args.outdir / "prep_report.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
