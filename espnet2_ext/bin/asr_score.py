#!/usr/bin/env python3
"""Score a decoding: WER (ASR) or BLEU and chrF (ST) against the reference, and the
encoder input rate.

* WER (``--metric wer``): word-level edit distance between ``--ref`` and ``--hyp``
  (Kaldi-style text, compared case-insensitively after whitespace normalisation).
  Utterances missing from the hypotheses count as all-deletion errors and are
  reported.
* BLEU and chrF (``--metric bleu``), as CoVoST 2 reports them: sacreBLEU's corpus
  scores on the detokenised, cased and punctuated text (tokenizer 13a, no
  lowercasing), with the metric signatures in the output. A missing hypothesis is
  scored as an empty translation and reported.
* Encoder rate: the model's own frontend and the encoder's input layer are run on the
  test units and the lengths the encoder's layers work on are summed (after any
  convolutional subsampling of the encoder, e.g. ``conv2d2``): tokens per second in
  the encoder and the compression ratio against the 50 Hz units. The audio duration
  comes from ``--duration_units`` (the 50 Hz units) when the model's input is not
  the units themselves (e.g. BPE over deduplicated units). The ``<sos/eos>`` that
  ESPnet's MT model prepends to the source is not counted (dense is 50.0/s, not
  50 + 1 per utterance).
* Parameters: ``params`` the trainable ones, ``frozen_params`` the frozen unit LM of
  an entropy frontend (not trained, not in the checkpoint, but run at every step).

Writes a JSON summary (``--out``) and prints one line.
"""

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Optional

logger = logging.getLogger("asr_score")


def read_text(path: Path) -> dict:
    out = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(maxsplit=1)
            if parts:
                out[parts[0]] = parts[1] if len(parts) > 1 else ""
    return out


def align_counts(ref: list, hyp: list) -> tuple:
    """Substitutions, deletions and insertions of a minimum-edit alignment.

    Among the alignments with the fewest errors, the one with the most substitutions
    (as sclite reports them). Plain dynamic programming over one utterance's tokens.
    """
    n, m = len(ref), len(hyp)
    # cost[i][j] = (errors, -substitutions) of aligning ref[:i] with hyp[:j]
    cost = [[(j, 0) for j in range(m + 1)]] + [
        [(i, 0)] + [None] * m for i in range(1, n + 1)
    ]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            e, ns = cost[i - 1][j - 1]
            diag = (e, ns) if ref[i - 1] == hyp[j - 1] else (e + 1, ns - 1)
            up = (cost[i - 1][j][0] + 1, cost[i - 1][j][1])
            left = (cost[i][j - 1][0] + 1, cost[i][j - 1][1])
            cost[i][j] = min(diag, up, left)
    errors, neg_sub = cost[n][m]
    sub = -neg_sub
    # errors = sub + del + ins and len(ref) - del = len(hyp) - ins
    dele = (errors - sub + n - m) // 2
    return sub, dele, errors - sub - dele


def wer(ref: dict, hyp: dict, unit: str = "word") -> dict:
    """Corpus error rate with ESPnet's (sclite's) columns.

    Args:
        ref, hyp: utt -> text; compared case-insensitively, whitespace-normalised.
        unit: ``word``, or ``char`` (characters without spaces) for the CER.

    Returns:
        ``wer`` (%), ``errors``, ``words`` (reference tokens), ``utterances``,
        ``missing_hypotheses``, ``extra_hypotheses``, and ``corr``/``sub``/``del``/
        ``ins``/``err``/``sent_err`` in percent (ESPnet's Corr, Sub, Del, Ins, Err,
        S.Err).
    """
    errors = words = missing = sub = dele = ins = sent_err = 0
    for utt, r in ref.items():
        if utt not in hyp:
            missing += 1
        h = hyp.get(utt, "")
        if unit == "char":
            rw, hw = list("".join(r.upper().split())), list("".join(h.upper().split()))
        else:
            rw, hw = r.upper().split(), h.upper().split()
        s_, d_, i_ = align_counts(rw, hw)
        sub, dele, ins = sub + s_, dele + d_, ins + i_
        errors += s_ + d_ + i_
        sent_err += int(s_ + d_ + i_ > 0)
        words += len(rw)
    extra = sorted(set(hyp) - set(ref))
    pct = lambda x: 100.0 * x / max(words, 1)  # noqa: E731
    return {
        "wer": pct(errors),
        "errors": errors,
        "words": words,
        "utterances": len(ref),
        "missing_hypotheses": missing,
        "extra_hypotheses": len(extra),
        "corr": pct(words - sub - dele),
        "sub": pct(sub),
        "del": pct(dele),
        "ins": pct(ins),
        "err": pct(errors),
        "sent_err": 100.0 * sent_err / max(len(ref), 1),
    }


def bleu(ref: dict, hyp: dict) -> dict:
    """Corpus BLEU and chrF with sacreBLEU's defaults (cased, tokenizer 13a).

    Args:
        ref, hyp: utt -> detokenised text; the references' utterances are scored, in
            their order, a missing hypothesis as an empty string.

    Returns:
        ``bleu``, ``chrf``, their ``*_signature`` strings, the BLEU details
        (``bleu_precisions``, ``bleu_bp``, ``hyp_len``, ``ref_len``), ``utterances``,
        ``missing_hypotheses``, ``extra_hypotheses``.
    """
    from sacrebleu.metrics import BLEU, CHRF

    utts = list(ref)
    hyps = [" ".join(hyp.get(u, "").split()) for u in utts]
    refs = [[" ".join(ref[u].split()) for u in utts]]
    b, c = BLEU(), CHRF()
    bs, cs = b.corpus_score(hyps, refs), c.corpus_score(hyps, refs)
    return {
        "bleu": bs.score,
        "bleu_signature": str(b.get_signature()),
        "bleu_precisions": [float(x) for x in bs.precisions],
        "bleu_bp": bs.bp,
        "hyp_len": bs.sys_len,
        "ref_len": bs.ref_len,
        "chrf": cs.score,
        "chrf_signature": str(c.get_signature()),
        "utterances": len(utts),
        "missing_hypotheses": sum(u not in hyp for u in utts),
        "extra_hypotheses": len(set(hyp) - set(ref)),
    }


def read_lengths(path: Path) -> dict:
    """Number of tokens per utterance of a Kaldi-style text."""
    with path.open(encoding="utf-8") as f:
        return {p[0]: len(p) - 1 for p in (line.split() for line in f) if p}


def encoder_rate(
    config: str,
    model_file: str,
    units: Path,
    unit_rate: float,
    batch: int = 16,
    duration_units: Optional[Path] = None,
) -> dict:
    """Tokens per second that the encoder's layers work on, for these inputs."""
    import torch

    from espnet2_ext.tasks.mt import CompressMTTask
    from espnet2_ext.utils.checkpoint import build_model_from_file

    model, args = build_model_from_file(CompressMTTask, config, model_file, "cpu")
    model.eval()
    index = {t: i for i, t in enumerate(args.src_token_list)}
    unk = index["<unk>"]
    ids, seqs = [], []
    with units.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) > 1:
                ids.append(parts[0])
                seqs.append(torch.tensor([index.get(t, unk) for t in parts[1:]]))
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    keeps_sos = model.frontend is not None and not getattr(
        model.frontend, "strip_sos", False
    )
    n_inputs = n_tokens = 0
    with torch.no_grad():
        for i in range(0, len(order), batch):
            chunk = [seqs[j] for j in order[i : i + batch]]
            lengths = torch.tensor([len(s) for s in chunk])
            x = torch.nn.utils.rnn.pad_sequence(
                chunk, batch_first=True, padding_value=-1
            )
            feats, feats_lengths = model._extract_feats(x, lengths)
            if keeps_sos:
                # ESPnet's MT model prepends <sos/eos>; a frontend that keeps it (embed,
                # dedup) would count it as one more token per utterance: not counted
                feats, feats_lengths = feats[:, 1:], feats_lengths - 1
            enc_lengths = encoder_layer_lengths(model.encoder, feats, feats_lengths)
            n_inputs += int(lengths.sum())
            n_tokens += int(enc_lengths.sum())
    if duration_units is not None:
        dur = read_lengths(duration_units)
        missing = [u for u in ids if u not in dur]
        if missing:
            raise ValueError(
                f"{len(missing)} utterances of {units} are not in {duration_units}, "
                f"e.g. {missing[0]}"
            )
        n_units = sum(dur[u] for u in ids)
    else:
        n_units = n_inputs
    seconds = n_units / unit_rate
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # the frozen unit LM of the entropy frontend is held outside the module tree (not
    # trained, not in the checkpoint): counted apart
    lm = getattr(model.frontend, "unit_lm", None)
    frozen = (
        sum(p.numel() for p in lm.parameters())
        if isinstance(lm, torch.nn.Module)
        else 0
    )
    return {
        "tokens_per_sec": n_tokens / seconds,
        "compression": n_units / max(n_tokens, 1),
        "units": n_units,
        "inputs": n_inputs,
        "encoder_tokens": n_tokens,
        "audio_seconds": seconds,
        "params": params,
        "frozen_params": frozen,
    }


def encoder_layer_lengths(encoder, feats, feats_lengths):
    """Lengths after the encoder's input layer (its convolutional subsampling, if any).

    Runs only the input layer (``encoder.embed``), not the encoder blocks.
    """
    import torch

    from espnet2_ext.compat import make_pad_mask

    embed = getattr(encoder, "embed", None)
    # ESPnet's subsampling layers take (x, mask); plain input layers (linear, embed)
    # are Sequential and keep the length
    if embed is None or isinstance(embed, torch.nn.Sequential):
        return feats_lengths

    masks = (~make_pad_mask(feats_lengths, maxlen=feats.size(1)))[:, None, :].to(
        feats.device
    )
    out = embed(feats, masks)
    if isinstance(out, tuple) and len(out) == 2 and out[1] is not None:
        m = out[1]
        if isinstance(m, torch.Tensor) and m.dim() == 3:
            return m.squeeze(1).sum(-1)
    return feats_lengths


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--ref", required=True, type=Path)
    p.add_argument("--hyp", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument(
        "--metric",
        choices=("wer", "bleu"),
        default="wer",
        help="wer: WER and CER (ASR); bleu: sacreBLEU BLEU and chrF (ST)",
    )
    p.add_argument("--mt_train_config")
    p.add_argument("--mt_model_file")
    p.add_argument(
        "--units", type=Path, help="the decoded units (for the encoder rate)"
    )
    p.add_argument(
        "--duration_units",
        type=Path,
        default=None,
        help="the 50 Hz units of the same utterances, for the audio duration "
        "(default: --units)",
    )
    p.add_argument("--unit_rate", type=float, default=50.0)
    p.add_argument("--decode_seconds_file", type=Path)
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    ref, hyp = read_text(args.ref), read_text(args.hyp)
    if args.metric == "bleu":
        res = bleu(ref, hyp)
        headline = f"BLEU {res['bleu']:.2f}, chrF {res['chrf']:.2f}"
    else:
        res = wer(ref, hyp)
        res["cer_detail"] = {
            k: v
            for k, v in wer(ref, hyp, unit="char").items()
            if k in ("words", "corr", "sub", "del", "ins", "err", "sent_err")
        }
        headline = f"WER {res['wer']:.2f}% ({res['errors']}/{res['words']})"
    if res["missing_hypotheses"]:
        logger.warning(
            "%d reference utterances have no hypothesis (scored as %s)",
            res["missing_hypotheses"],
            "empty translations" if args.metric == "bleu" else "deletions",
        )
    if args.units and args.mt_train_config:
        res.update(
            encoder_rate(
                args.mt_train_config,
                args.mt_model_file,
                args.units,
                args.unit_rate,
                duration_units=args.duration_units,
            )
        )
        if args.decode_seconds_file and args.decode_seconds_file.is_file():
            res["decode_seconds"] = float(args.decode_seconds_file.read_text())
            res["decode_rtf_wall"] = res["decode_seconds"] / res["audio_seconds"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(
        f"{args.hyp}: {headline}, "
        + (
            f"{res['tokens_per_sec']:.1f} tokens/s into the encoder"
            if "tokens_per_sec" in res
            else ""
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
