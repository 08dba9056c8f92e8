"""asr_score: WER, and the rate the encoder's layers work at.

The rate is taken after the encoder's own subsampling, with the audio duration taken
from the 50 Hz units when the input is something else.
"""

import json

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


def _summary(text: str, first_cell: str) -> dict:
    """The summary table's row of ``first_cell`` as {column: cell}."""
    lines = [ln for ln in text.splitlines() if ln.startswith("| ")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    for ln in lines[1:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        if cells[0] == first_cell:
            return dict(zip(head, cells))
    raise AssertionError(f"no row {first_cell}")


def _detail(text: str, exp: str, table: str, dataset: str) -> dict:
    """ESPnet's per-experiment table (``### WER``/``### CER``/``### BLEU``) row."""
    part = text[text.index(f"## {exp}") :]
    part = part[part.index(f"### {table}") :]
    lines = [ln for ln in part.splitlines() if ln.startswith("|")]
    head = lines[0].strip("|").split("|")
    for ln in lines[2:]:
        cells = ln.strip("|").split("|")
        if cells[0] == dataset:
            return dict(zip(head, cells))
    raise AssertionError(f"no {dataset} in {exp} {table}")


RATES = {  # encoder vectors, seconds, 50 Hz units of each test set
    "test": dict(encoder_tokens=300, audio_seconds=20.0, units=1000),
    "test_unseen_voices": dict(encoder_tokens=500, audio_seconds=30.0, units=1500),
}


def _score(tmp_path, exp, dset, ref, hyp, metric):
    from espnet2_ext.bin.asr_score import main

    (tmp_path / "ref").write_text(ref)
    (tmp_path / "hyp").write_text(hyp)
    out = tmp_path / "exp" / exp / f"decode_{dset}" / "score.json"
    main(
        ["--ref", str(tmp_path / "ref"), "--hyp", str(tmp_path / "hyp")]
        + ["--out", str(out), "--metric", metric]
    )
    s = json.loads(out.read_text())
    # the rate keys asr_score adds when given the model (not run here)
    r = RATES[dset]
    s.update(r, tokens_per_sec=r["encoder_tokens"] / r["audio_seconds"])
    s.update(compression=r["units"] / r["encoder_tokens"], params=1234567)
    s.update(frozen_params=54321, decode_seconds=2.5)
    out.write_text(json.dumps(s))
    return s


def test_asr_results_cells_are_the_score_values(tmp_path):
    """--metric wer: every cell of the summary and of ESPnet's WER / CER tables reads
    back as the score.json value in the table's format; tokens/s and compression are
    over both test sets (total vectors / total seconds)."""
    from espnet2_ext.bin import asr_results

    scores = {
        "test": _score(
            tmp_path, "asr_dense", "test", "a x y z\nb p q\n", "a x z w\nb p q\n", "wer"
        ),
        "test_unseen_voices": _score(
            tmp_path,
            "asr_dense",
            "test_unseen_voices",
            "c one two three\n",
            "c one too\n",
            "wer",
        ),
    }
    (tmp_path / "exp" / "asr_dense" / "train_seconds").write_text("321\n")
    readme = tmp_path / "README.md"
    asr_results.main(
        ["--expdir", str(tmp_path / "exp"), "--exps", "dense", "--out", str(readme)]
        + ["--test_sets", "test", "test_unseen_voices"]
    )
    text = readme.read_text()
    row = _summary(text, "dense")
    assert row["tokens/s into encoder"] == f"{800 / 50.0:.1f}" == "16.0"
    assert row["compression vs 50 Hz"] == f"{2500 / 800:.2f}x" == "3.12x"
    assert row["params (trainable)"] == "1.23 M"
    assert row["frozen unit LM params"] == "0.05 M"
    for t, s in scores.items():
        assert row[f"WER {t} (%)"] == f"{s['wer']:.2f}"
        wer_row = _detail(text, "asr_dense", "WER", f"decode_{t}")
        cer_row = _detail(text, "asr_dense", "CER", f"decode_{t}")
        for col, key in (("Corr", "corr"), ("Sub", "sub"), ("Del", "del")):
            assert wer_row[col] == f"{s[key]:.1f}"
            assert cer_row[col] == f"{s['cer_detail'][key]:.1f}"
        for col, key in (("Ins", "ins"), ("Err", "err"), ("S.Err", "sent_err")):
            assert wer_row[col] == f"{s[key]:.1f}"
            assert cer_row[col] == f"{s['cer_detail'][key]:.1f}"
        assert wer_row["Wrd"] == str(s["words"])
        assert cer_row["Wrd"] == str(s["cer_detail"]["words"])
    assert float(scores["test"]["wer"]) == pytest.approx(100 * 2 / 5)
    assert row["train time (s, epochs)"] == "321"
    assert row["decode time (s, all test sets)"] == "5"
    assert "measured over all the test sets of the table" in text


def test_asr_results_bleu_cells_are_the_score_values(tmp_path):
    """--metric bleu: BLEU and chrF cells and ESPnet's ST BLEU table (score, n-gram
    precisions, BP, ratio, lengths) read back as the score.json values."""
    from espnet2_ext.bin import asr_results

    ref = "a Sie ruft ihren Bruder an.\nb Das Auto ist rot.\n"
    scores = {
        "test": _score(
            tmp_path,
            "st_dense",
            "test",
            ref,
            "a Sie ruft ihren Bruder an.\nb Das Auto ist blau.\n",
            "bleu",
        ),
        "test_unseen_voices": _score(
            tmp_path,
            "st_dense",
            "test_unseen_voices",
            ref,
            "a Sie ruft Bruder an.\nb Das Auto rot.\n",
            "bleu",
        ),
    }
    readme = tmp_path / "README.md"
    asr_results.main(
        ["--expdir", str(tmp_path / "exp"), "--exp_prefix", "st", "--exps", "dense"]
        + ["--test_sets", "test", "test_unseen_voices", "--metric", "bleu"]
        + ["--out", str(readme)]
    )
    text = readme.read_text()
    row = _summary(text, "dense")
    assert row["tokens/s into encoder"] == "16.0"
    for t, s in scores.items():
        assert row[f"BLEU {t}"] == f"{s['bleu']:.2f}"
        assert row[f"chrF {t}"] == f"{s['chrf']:.2f}"
        d = _detail(text, "st_dense", "BLEU", f"decode_{t}")
        assert d["score"] == f"{s['bleu']:.1f}" and d["chrF"] == f"{s['chrf']:.1f}"
        prec = "/".join(f"{p:.1f}" for p in s["bleu_precisions"])
        ratio = s["hyp_len"] / s["ref_len"]
        assert d["verbose_score"] == (
            f"{prec} (BP = {s['bleu_bp']:.3f} ratio = {ratio:.3f} hyp_len = "
            f"{s['hyp_len']} ref_len = {s['ref_len']})"
        )
    assert scores["test_unseen_voices"]["bleu_bp"] < 1.0  # shorter: a brevity penalty
