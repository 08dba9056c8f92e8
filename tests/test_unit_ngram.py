"""egs2/TEMPLATE/pyscripts/unit_ngram.py on a hand example."""

import json
import math
import runpy
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "egs2/TEMPLATE/pyscripts/unit_ngram.py"


def test_unigram_and_bigram_cross_entropy_by_hand(tmp_path, monkeypatch):
    tokens = ["<blank>", "<unk>", "a", "b", "<sos/eos>"]
    (tmp_path / "tokens.txt").write_text("\n".join(tokens) + "\n")
    # train tokens with the end token: a a b </s> (4); held out: a b </s> (3)
    (tmp_path / "train").write_text("u1 a a b\n")
    (tmp_path / "valid").write_text("v1 a b\n")
    (tmp_path / "train.log").write_text(
        "x [valid] loss=1.5, acc=0.1\ny [valid] loss=1.25, acc=0.2\n"
    )
    out = tmp_path / "ngram.json"
    argv = [
        str(SCRIPT),
        "--train",
        str(tmp_path / "train"),
        "--valid",
        str(tmp_path / "valid"),
        "--token_list",
        str(tmp_path / "tokens.txt"),
        "--lm_log",
        str(tmp_path / "train.log"),
        "--lambdas",
        "0.5",
        "--out",
        str(out),
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert e.value.code == 0
    res = json.loads(out.read_text())
    # add-one unigram over 5 tokens and 4 counts: a 3/9, b 2/9, </s> 2/9
    uni = {"a": 3 / 9, "b": 2 / 9, "</s>": 2 / 9}
    assert res["unigram"] == pytest.approx(
        -(math.log(uni["a"]) + math.log(uni["b"]) + math.log(uni["</s>"])) / 3, abs=1e-4
    )
    # bigram pairs of train: </s>->a, a->a, a->b, b->/s; held out: </s>->a, a->b, b->/s
    p = [
        0.5 * 1.0 + 0.5 * uni["a"],  # </s> -> a: always a
        0.5 * 0.5 + 0.5 * uni["b"],  # a -> b: half of a's successors
        0.5 * 1.0 + 0.5 * uni["</s>"],  # b -> </s>
    ]
    assert res["bigram"] == pytest.approx(-sum(map(math.log, p)) / 3, abs=1e-4)
    assert res["repeat_share"] == 0.0
    assert res["unit_lm_valid_loss"] == 1.25
