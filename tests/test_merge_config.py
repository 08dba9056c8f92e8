import yaml

from espnet2_ext.bin.merge_config import main


def test_merge_later_wins_mappings_merge_lists_replace(tmp_path):
    (tmp_path / "base.yaml").write_text(
        yaml.safe_dump(
            {
                "encoder": "transformer",
                "encoder_conf": {"output_size": 256, "num_blocks": 12},
                "frontend_conf": {"d_model": 256, "threshold": None},
                "best_model_criterion": [["valid", "acc", "max"]],
            }
        )
    )
    (tmp_path / "recipe.yaml").write_text(
        yaml.safe_dump(
            {
                "encoder_conf": {"num_blocks": 2},
                "best_model_criterion": [["valid", "loss", "min"]],
            }
        )
    )
    (tmp_path / "calib.yaml").write_text(
        yaml.safe_dump(
            {
                "frontend_conf": {"threshold": 2.5, "rule": "global"},
                "calibration": {"achieved_rate": 15.0},
            }
        )
    )
    out = tmp_path / "exp" / "train.yaml"
    assert (
        main(
            [str(tmp_path / n) for n in ("base.yaml", "recipe.yaml", "calib.yaml")]
            + [
                "--out",
                str(out),
                "--drop",
                "calibration",
                "--set",
                "encoder_conf.output_size=128",
            ]
        )
        == 0
    )
    text = out.read_text()
    assert text.startswith("# merged by espnet2_ext.bin.merge_config")
    conf = yaml.safe_load(text)
    assert conf["encoder"] == "transformer"
    assert conf["encoder_conf"] == {"output_size": 128, "num_blocks": 2}
    assert conf["frontend_conf"] == {"d_model": 256, "threshold": 2.5, "rule": "global"}
    assert conf["best_model_criterion"] == [["valid", "loss", "min"]]
    assert "calibration" not in conf


def test_missing_config_is_a_clear_error(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="config not found"):
        main([str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o.yaml")])


def test_merge_to_stdout(tmp_path, capsys):
    from espnet2_ext.bin.merge_config import main

    a = tmp_path / "a.yaml"
    a.write_text("frontend_conf: {rule: global, max_len: 10}\n")
    b = tmp_path / "b.yaml"
    b.write_text("frontend_conf: {rule: combined, rel_threshold: 0.0}\n")
    assert main([str(a), str(b), "--out", "-"]) == 0
    import yaml

    conf = yaml.safe_load(capsys.readouterr().out)
    assert conf == {
        "frontend_conf": {"rule": "combined", "max_len": 10, "rel_threshold": 0.0}
    }
    assert not (tmp_path / "-").exists()


def test_nest_puts_the_merged_files_under_a_key(tmp_path):
    # vc.sh: the MT-style frontend and calibration files go under the VC model's
    # tts_conf, without their top-level frontend class and calibration record
    front = tmp_path / "fixed_pool.yaml"
    front.write_text(
        "frontend: fixed_pool\nfrontend_conf: {pool_size: 4, d_model: 8}\n"
    )
    calib = tmp_path / "rate15.yaml"
    calib.write_text("frontend_conf: {threshold: 2.5}\ncalibration: {achieved: 15}\n")
    out = tmp_path / "nested.yaml"
    assert (
        main(
            [str(front), str(calib), "--drop", "frontend", "--drop", "calibration"]
            + ["--nest", "tts_conf", "--out", str(out)]
        )
        == 0
    )
    assert "nested under tts_conf" in out.read_text()
    assert yaml.safe_load(out.read_text()) == {
        "tts_conf": {"frontend_conf": {"pool_size": 4, "d_model": 8, "threshold": 2.5}}
    }


def test_get_prints_one_value_of_the_merged_config(tmp_path, capsys):
    import json

    import pytest

    a = tmp_path / "a.yaml"
    a.write_text("normalize: null\nfeats_extract_conf: {fs: 16000, hop_length: 320}\n")
    b = tmp_path / "b.yaml"
    b.write_text("normalize: global_mvn\nfeats_extract_conf: {n_mels: 80}\n")
    for key, want in (
        ("normalize", "global_mvn"),
        ("feats_extract_conf", {"fs": 16000, "hop_length": 320, "n_mels": 80}),
        ("feats_extract_conf.hop_length", 320),
        ("missing.key", None),
    ):
        assert main([str(a), str(b), "--get", key]) == 0
        assert json.loads(capsys.readouterr().out) == want
    with pytest.raises(SystemExit):  # --out and --get together
        main([str(a), "--get", "normalize", "--out", "-"])
    with pytest.raises(SystemExit):  # neither
        main([str(a)])


def test_replace_marker_replaces_a_mapping_as_a_whole(tmp_path):
    from espnet2_ext.bin.merge_config import merge

    a, b, c = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    a.write_text(
        "feats_extract: fbank\n"
        "feats_extract_conf: {fs: 16000, n_fft: 1024, n_mels: 80}\n"
        "tts_conf: {adim: 256, decoder_conf: {num_blocks: 6, heads: 4}}\n"
    )
    b.write_text(
        "feats_extract: world\n"
        "feats_extract_conf: {_replace_: true, fs: 16000, num_coded: 40}\n"
        "tts_conf: {decoder_conf: {_replace_: true, num_blocks: 2}}\n"
        "new: {_replace_: true, x: 1}\n"
    )
    c.write_text("feats_extract_conf: {num_coded: 30}\n")
    out = merge([a, b, c])
    assert out["feats_extract"] == "world"
    assert out["feats_extract_conf"] == {"fs": 16000, "num_coded": 30}
    assert out["tts_conf"] == {"adim": 256, "decoder_conf": {"num_blocks": 2}}
    assert out["new"] == {"x": 1}
    # without the marker, mappings merge
    assert merge([a, c])["feats_extract_conf"]["n_mels"] == 80
