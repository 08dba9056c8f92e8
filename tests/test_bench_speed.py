"""``espnet2_ext.bin.bench_speed``: tiny dense and ``entropy_compress`` experiments
trained by ``espnet2_ext.bin.mt_train`` (one epoch, in-process), then benchmarked side
by side."""

import json
import math

import pytest
import torch
import yaml

from espnet2_ext.bin.bench_speed import build_batch, main
from test_integration import NUM_UNITS, WORDS, _write_data

FRONTENDS = {
    "dense": ("embed", {"embed_dim": 32, "positional_dropout_rate": 0.0}),
    "entropy": (
        "entropy_compress",
        {
            "threshold": 1.0,
            "max_len": 4,
            "d_model": 32,
            "num_heads": 2,
            "local_ffn": 64,
            "ffn": 64,
            "lm_window": 32,
            "lm_overlap": 8,
        },
    ),
}


def _train(root, name, frontend, frontend_conf):
    from espnet2_ext.bin.mt_train import main as mt_train

    conf = root / f"{name}.yaml"
    conf.write_text(
        yaml.safe_dump(
            {
                "model": "discrete_asr",
                "model_conf": {"ctc_weight": 0.3, "lsm_weight": 0.1},
                "frontend": frontend,
                "frontend_conf": frontend_conf,
                "encoder": "transformer",
                "encoder_conf": {
                    "output_size": 32,
                    "attention_heads": 2,
                    "linear_units": 64,
                    "num_blocks": 1,
                    "input_layer": "linear",
                },
                "decoder": "transformer",
                "decoder_conf": {
                    "attention_heads": 2,
                    "linear_units": 64,
                    "num_blocks": 1,
                },
                "optim": "adam",
                "optim_conf": {"lr": 0.002},
                "grad_clip": 5.0,
            }
        )
    )
    d = str(root)
    mt_train(
        [
            "--config",
            str(conf),
            "--src_token_list",
            f"{d}/src_tokens.txt",
            "--token_list",
            f"{d}/tgt_tokens.txt",
            "--src_token_type",
            "word",
            "--token_type",
            "char",
            "--output_dir",
            f"{d}/exp/{name}",
            "--train_data_path_and_name_and_type",
            f"{d}/train/units,src_text,text",
            "--train_data_path_and_name_and_type",
            f"{d}/train/text,text,text",
            "--valid_data_path_and_name_and_type",
            f"{d}/valid/units,src_text,text",
            "--valid_data_path_and_name_and_type",
            f"{d}/valid/text,text,text",
            "--train_shape_file",
            f"{d}/train/units_shape",
            "--train_shape_file",
            f"{d}/train/text_shape",
            "--valid_shape_file",
            f"{d}/valid/units_shape",
            "--valid_shape_file",
            f"{d}/valid/text_shape",
            "--fold_length",
            "150",
            "--fold_length",
            "150",
            "--use_tensorboard",
            "false",
            "--use_matplotlib",
            "false",
            "--ngpu",
            "0",
            "--num_workers",
            "0",
            "--seed",
            "0",
            "--max_epoch",
            "1",
            "--batch_type",
            "folded",
            "--batch_size",
            "4",
            "--num_att_plot",
            "0",
        ]
    )
    assert (root / "exp" / name / "valid.acc.ave.pth").exists()
    return root / "exp" / name


@pytest.fixture(scope="module")
def exps(tmp_path_factory, lm_files):
    root = tmp_path_factory.mktemp("bench")
    _write_data(root / "train", 8, seed=0)
    _write_data(root / "valid", 4, seed=1)
    src_tokens = (
        ["<blank>", "<unk>"] + [str(i) for i in range(NUM_UNITS)] + ["<sos/eos>"]
    )
    chars = sorted({c for w in WORDS for c in w})
    (root / "src_tokens.txt").write_text("\n".join(src_tokens) + "\n")
    (root / "tgt_tokens.txt").write_text(
        "\n".join(["<blank>", "<unk>", "<space>"] + chars + ["<sos/eos>"]) + "\n"
    )
    lm = {"lm_train_config": str(lm_files[0]), "lm_file": str(lm_files[1])}
    dirs = {
        name: _train(
            root, name, fe, dict(conf, **lm) if fe == "entropy_compress" else conf
        )
        for name, (fe, conf) in FRONTENDS.items()
    }
    # one more train utterance that only the dense method has: never drawn
    with (root / "train" / "units_dense").open("w") as f:
        f.write((root / "train" / "units").read_text() + "utt_only_dense 1 2 3\n")
    return root, dirs


def _argv(root, dirs, out, dense_train="units"):
    return [
        "--exp",
        f"dense={dirs['dense']}:{root}/train/{dense_train}:{root}/valid/units",
        "--exp",
        f"entropy={dirs['entropy']}:{root}/train/units:{root}/valid/units",
        "--train_text",
        str(root / "train" / "text"),
        "--test_duration_units",
        str(root / "valid" / "units"),
        "--decode_config",
        str(root / "decode.yaml"),
        "--rounds",
        "1",
        "--train_batches",
        "2",
        "--decode_utts",
        "2",
        "--batch_size",
        "2",
        "--warmup",
        "1",
        "--out",
        str(out),
    ]


def test_bench_speed_reports_every_method_on_the_same_utterances(
    exps, tmp_path, capsys
):
    root, dirs = exps
    (root / "decode.yaml").write_text(
        yaml.safe_dump(
            {
                "beam_size": 2,
                "ctc_weight": 0.3,
                "maxlenratio": 1,
                "minlenratio": 0.0,
                "penalty": 0.0,
                "ngpu": 0,
            }
        )
    )  # ngpu: not a Text2Text option, ignored
    out = tmp_path / "bench.json"
    assert main(_argv(root, dirs, out, dense_train="units_dense")) == 0
    rep = json.loads(out.read_text())
    assert (
        rep["batch_size"] == 2 and rep["threads"] == 1 and rep["reference"] == "dense"
    )
    assert list(rep["methods"]) == ["dense", "entropy"]
    assert len(rep["train_utt_ids"]) == 2 and all(
        len(b) == 2 for b in rep["train_utt_ids"]
    )
    drawn = [u for b in rep["train_utt_ids"] for u in b]
    assert len(set(drawn)) == 4 and "utt_only_dense" not in drawn
    assert len(rep["decode_utt_ids"]) == 2
    units = dict(
        line.split(maxsplit=1)
        for line in (root / "valid" / "units").read_text().splitlines()
    )
    audio = sum(len(units[u].split()) / 50 for u in rep["decode_utt_ids"])
    for name, r in rep["methods"].items():
        assert r["train_utt_ids"] == rep["train_utt_ids"], name
        assert r["decode_utt_ids"] == rep["decode_utt_ids"], name
        assert len(r["train_step_samples"]) == 2 and r["decode_utts"] == 2
        for key in (
            "train_step_ms",
            "train_step_ms_mean",
            "decode_rtf",
            "decode_seconds",
            "audio_seconds",
            "params",
            *r["train_step_samples"],
        ):
            v = r[key] if isinstance(key, str) else key
            assert math.isfinite(v) and v > 0, (name, key, v)
        assert r["audio_seconds"] == pytest.approx(audio)
        assert r["decode_rtf"] == pytest.approx(r["decode_seconds"] / audio)
        assert r["train_step_ms"] == pytest.approx(
            sorted(r["train_step_samples"])[0] / 2
            + sorted(r["train_step_samples"])[1] / 2
        )
    assert rep["methods"]["dense"]["train_step_ratio"] == 1.0
    printed = capsys.readouterr().out
    assert "entropy: train_step" in printed and "x of dense" in printed


def test_batches_are_what_espnet_training_loads(exps):
    """Our batch equals ESPnet's dataset + task preprocessor + collate function."""
    from espnet2_ext.bin.bench_speed import read_lines
    from espnet2_ext.compat import ESPnetDataset
    from espnet2_ext.tasks.mt import CompressMTTask

    root, dirs = exps
    model, args = CompressMTTask.build_model_from_file(
        str(dirs["entropy"] / "config.yaml"),
        str(dirs["entropy"] / "valid.acc.ave.pth"),
        "cpu",
    )
    pre = CompressMTTask.build_preprocess_fn(args, train=False)
    collate = CompressMTTask.build_collate_fn(args, train=True)
    uids = ["utt003", "utt005"]
    ours = build_batch(
        pre,
        collate,
        uids,
        read_lines(root / "train" / "units", set(uids)),
        read_lines(root / "train" / "text", set(uids)),
    )
    ds = ESPnetDataset(
        [
            (str(root / "train" / "units"), "src_text", "text"),
            (str(root / "train" / "text"), "text", "text"),
        ],
        preprocess=pre,
    )
    _, ref = collate([ds[u] for u in uids])
    assert set(ours) == set(ref)
    for k in ref:
        assert ours[k].dtype == ref[k].dtype and torch.equal(ours[k], ref[k]), k
    assert int(ours["src_text"].min()) == -1  # padded with -1 like the MT task


def test_clear_errors(exps, tmp_path, caplog):
    root, dirs = exps
    (root / "decode.yaml").write_text("beam_size: 2\n")
    argv = _argv(root, dirs, tmp_path / "x.json")
    assert main(argv + ["--model_file", "missing.pth"]) == 1
    assert "model file not found" in caplog.text and "missing.pth" in caplog.text
    caplog.clear()
    (tmp_path / "other_text").write_text("nobody here\n")
    argv[argv.index("--train_text") + 1] = str(tmp_path / "other_text")
    assert main(argv) == 1
    assert "no utterance is common" in caplog.text
    assert not (tmp_path / "x.json").exists()


def test_asr_score_rates_do_not_count_sos_and_report_the_frozen_lm(exps):
    """Issue 9 item 7: dense is 50.0 units/s (the <sos/eos> ESPnet prepends is not
    counted); the entropy frontend's unit LM is counted apart as frozen."""
    from espnet2_ext.bin.asr_score import encoder_rate
    from espnet2_ext.tasks.mt import CompressMTTask

    root, dirs = exps
    units = root / "valid" / "units"
    n = sum(len(line.split()) - 1 for line in units.read_text().splitlines())
    dense = encoder_rate(
        str(dirs["dense"] / "config.yaml"),
        str(dirs["dense"] / "valid.acc.ave.pth"),
        units,
        50.0,
    )
    assert dense["encoder_tokens"] == n and dense["tokens_per_sec"] == pytest.approx(
        50.0
    )
    assert dense["frozen_params"] == 0
    ent = encoder_rate(
        str(dirs["entropy"] / "config.yaml"),
        str(dirs["entropy"] / "valid.acc.ave.pth"),
        units,
        50.0,
    )
    assert (
        ent["encoder_tokens"] <= n and ent["frozen_params"] > 0
    )  # threshold 1.0: fires nearly everywhere
    model, _ = CompressMTTask.build_model_from_file(
        str(dirs["entropy"] / "config.yaml"),
        str(dirs["entropy"] / "valid.acc.ave.pth"),
        "cpu",
    )
    assert ent["frozen_params"] == sum(
        p.numel() for p in model.frontend.unit_lm.parameters()
    )
    assert ent["params"] == sum(
        p.numel() for p in model.parameters() if p.requires_grad
    )
