"""asr_score: WER, and the rate the encoder's layers work at.

The rate is taken after the encoder's own subsampling, with the audio duration taken
from the 50 Hz units when the input is something else.
"""

import pytest
import torch

from espnet2_ext.bin.asr_score import (
    encoder_layer_lengths,
    read_lengths,
    read_text,
    wer,
)
from espnet2_ext.compat import TransformerEncoder


def test_encoder_layer_lengths_follow_the_input_layer():
    x = torch.randn(2, 50, 16)
    lengths = torch.tensor([50, 31])
    for input_layer in ("linear", "conv2d2", "conv2d"):
        enc = TransformerEncoder(
            16, output_size=16, num_blocks=1, input_layer=input_layer
        ).eval()
        with torch.no_grad():
            _, ref, _ = enc(x, lengths)
            got = encoder_layer_lengths(enc, x, lengths)
        assert got.tolist() == ref.tolist(), input_layer
    assert got.tolist()[0] < 50 // 3  # conv2d subsamples by 4


def test_wer_and_lengths(tmp_path):
    ref = tmp_path / "ref"
    ref.write_text("a HELLO world\nb one two three\nc x\n")
    hyp = tmp_path / "hyp"
    hyp.write_text("a hello word\nb one three\n")
    res = wer(read_text(ref), read_text(hyp))
    assert (
        res["errors"] == 1 + 1 + 1
        and res["words"] == 6
        and res["missing_hypotheses"] == 1
    )
    assert read_lengths(ref) == {"a": 2, "b": 3, "c": 1}


def test_sclite_columns():
    """Corr/Sub/Del/Ins/Err/S.Err as ESPnet's RESULTS tables give them."""
    from espnet2_ext.bin.asr_score import align_counts

    assert align_counts("a b c d".split(), "a x c d e".split()) == (1, 0, 1)
    assert align_counts("a b c".split(), []) == (0, 3, 0)
    assert align_counts([], "a b".split()) == (0, 0, 2)
    # a substitution is preferred to a deletion + an insertion at equal cost
    assert align_counts(["a"], ["b"]) == (1, 0, 0)
    res = wer(
        {"u1": "a b c d", "u2": "e f", "u3": "g"}, {"u1": "a x c d e", "u2": "e f"}
    )
    # 7 words: 1 sub, 1 del (u3 missing), 1 ins -> Err 3/7; 2 of 3 sentences wrong
    assert res["errors"] == 3 and res["words"] == 7
    assert abs(res["sub"] - 100 / 7) < 1e-9 and abs(res["del"] - 100 / 7) < 1e-9
    assert abs(res["corr"] - 500 / 7) < 1e-9 and abs(res["sent_err"] - 200 / 3) < 1e-9
    cer = wer({"u": "ab cd"}, {"u": "abd"}, unit="char")
    assert cer["words"] == 4 and cer["errors"] == 1 and cer["del"] == 25.0


def test_bleu_and_chrf_as_sacrebleu_reports_them(tmp_path):
    """--metric bleu: sacreBLEU's cased corpus BLEU (13a) and chrF on detokenised text,
    a missing hypothesis scored as an empty translation."""
    import json

    from sacrebleu.metrics import BLEU, CHRF

    from espnet2_ext.bin.asr_score import main

    ref = {
        "a": "Morgen kauft der Lehrer ein Buch.",
        "b": "Sie ruft ihren Bruder an.",
        "c": "Das Auto des Lehrers ist rot.",
    }
    hyp = {"a": "Morgen kauft der Lehrer ein Buch.", "b": "sie ruft  ihren Bruder an ."}
    (tmp_path / "ref").write_text("".join(f"{k} {v}\n" for k, v in ref.items()))
    (tmp_path / "hyp").write_text("".join(f"{k} {v}\n" for k, v in hyp.items()))
    out = tmp_path / "score.json"
    main(
        ["--ref", str(tmp_path / "ref"), "--hyp", str(tmp_path / "hyp")]
        + ["--out", str(out), "--metric", "bleu"]
    )
    res = json.loads(out.read_text())
    hyps = ["Morgen kauft der Lehrer ein Buch.", "sie ruft ihren Bruder an .", ""]
    refs = [list(ref.values())]
    assert res["bleu"] == pytest.approx(BLEU().corpus_score(hyps, refs).score)
    assert res["chrf"] == pytest.approx(CHRF().corpus_score(hyps, refs).score)
    assert 0 < res["bleu"] < 100  # cased: "sie" is not "Sie"
    assert res["missing_hypotheses"] == 1
    assert res["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert res["chrf_signature"].startswith("nrefs:1|case:mixed|eff:yes|nc:6|nw:0")


def test_st_results_block_has_espnet_bleu_tables(tmp_path):
    """asr_results --metric bleu: BLEU/chrF per test set in the summary, ESPnet's ST
    ``### BLEU`` table per experiment, and the sacreBLEU signatures."""
    from espnet2_ext.bin import asr_results
    from espnet2_ext.bin.asr_score import main

    (tmp_path / "ref").write_text("a Sie ruft ihren Bruder an.\nb Das Auto ist rot.\n")
    (tmp_path / "hyp").write_text("a Sie ruft ihren Bruder an.\nb Das Auto ist blau.\n")
    for t in ("test", "test_compositional"):
        out = tmp_path / "exp" / "st_dense" / f"decode_{t}" / "score.json"
        main(
            ["--ref", str(tmp_path / "ref"), "--hyp", str(tmp_path / "hyp")]
            + ["--out", str(out), "--metric", "bleu"]
        )
    (tmp_path / "exp" / "st_dense" / "train_seconds").write_text("12.5\n")
    readme = tmp_path / "README.md"
    rc = asr_results.main(
        ["--expdir", str(tmp_path / "exp"), "--exp_prefix", "st", "--exps", "dense"]
        + ["--test_sets", "test", "test_compositional", "--metric", "bleu"]
        + ["--out", str(readme)]
    )
    text = readme.read_text()
    assert rc == 0
    assert "| BLEU test | BLEU test_compositional | chrF test |" in text
    assert "### BLEU" in text and "|dataset|score|verbose_score|chrF|" in text
    assert "|decode_test|" in text and "BP = " in text
    assert "- `nrefs:1|case:mixed|eff:no|tok:13a" in text
    assert "### WER" not in text
