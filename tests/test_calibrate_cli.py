import yaml

from conftest import random_units
from espnet2_ext.bin.calibrate_threshold import main
from espnet2_ext.entropy.boundaries import segment
from espnet2_ext.entropy.calibration import pad_entropies
from espnet2_ext.entropy.unit_lm import UnitLM


def test_calibrate_cli_writes_threshold_that_hits_the_rate(
    tmp_path, lm_files, token_list
):
    units = random_units(40, 120, len(token_list), seed=7)
    lines = [
        f"utt{i:03d} " + " ".join(token_list[int(u)] for u in units[i, : 60 + i])
        for i in range(40)
    ]
    lines.append("utt_empty")  # no units: skipped with a warning
    (tmp_path / "units").write_text("\n".join(lines) + "\n")
    out = tmp_path / "calib.yaml"
    rc = main(
        [
            "--lm_train_config",
            str(lm_files[0]),
            "--lm_file",
            str(lm_files[1]),
            "--units",
            str(tmp_path / "units"),
            "--target_rate",
            "20",
            "--max_len",
            "10",
            "--lm_window",
            "32",
            "--lm_overlap",
            "8",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    rep = yaml.safe_load(out.read_text())
    conf = rep["frontend_conf"]
    assert conf["rule"] == "global" and conf["max_len"] == 10
    assert abs(rep["calibration"]["achieved_rate"] - 20) / 20 < 0.05
    # applying the written threshold reproduces the rate
    lm = UnitLM.from_files(*lm_files, window=32, overlap=8)
    seqs = [units[i, : 60 + i] for i in range(40)]
    x, lengths = pad_entropies(seqs)
    h = lm.entropy(x.long(), lengths)
    seg = segment(h, lengths, threshold=conf["threshold"], max_len=10, warn=False)
    rate = float(seg.counts.sum()) / (float(lengths.sum()) / 50)
    assert abs(rate - 20) / 20 < 0.05


def test_calibration_file_carries_every_shared_option(tmp_path, lm_files, token_list):
    """Issue 9 item 5: the rule and LM options come from the frontend config, and the
    calibration file repeats them with the LM it used (merged last into training)."""
    units = random_units(20, 80, len(token_list), seed=3)
    lines = [
        f"u{i:02d} " + " ".join(token_list[int(u)] for u in units[i, : 40 + i])
        for i in range(20)
    ]
    (tmp_path / "units").write_text("\n".join(lines) + "\n")
    fconf = tmp_path / "frontend.yaml"
    fconf.write_text(
        yaml.safe_dump(
            {
                "frontend": "entropy_compress",
                "frontend_conf": {
                    "rule": "combined",
                    "rel_threshold": 0.1,
                    "max_len": 8,
                    "min_len": 2,
                    "lm_window": 32,
                    "lm_overlap": 8,
                    "lm_dtype": "float32",
                    "d_model": 64,
                },
            }
        )
    )
    out = tmp_path / "calib.yaml"
    base = [
        "--lm_train_config",
        str(lm_files[0]),
        "--lm_file",
        str(lm_files[1]),
        "--units",
        str(tmp_path / "units"),
        "--target_rate",
        "7",
        "--out",
        str(out),
    ]
    assert main(base + ["--frontend_config", str(fconf)]) == 0
    conf = yaml.safe_load(out.read_text())["frontend_conf"]
    assert conf["rule"] == "combined" and conf["rel_threshold"] == 0.1
    assert (
        conf["max_len"],
        conf["min_len"],
        conf["lm_window"],
        conf["lm_overlap"],
    ) == (8, 2, 32, 8)
    assert conf["lm_train_config"] == str(lm_files[0]) and conf["lm_file"] == str(
        lm_files[1]
    )
    assert (
        conf["lm_dtype"] == "float32" and "threshold" in conf and "d_model" not in conf
    )
    # an option given on the command line too must agree with the config
    assert main(base + ["--frontend_config", str(fconf), "--min_len", "3"]) == 2
    assert main(base + ["--frontend_config", str(fconf), "--min_len", "2"]) == 0
    # a rate the rule cannot give (max_len 8 never goes below 50 / 8 = 6.25/s): exit 3
    low = [a if a != "7" else "3" for a in base]
    assert main(low + ["--frontend_config", str(fconf)]) == 3
    # lengths the split mode cannot hold: a clear refusal (exit 2), not a traceback;
    # the cut mode holds them and the calibration file repeats the mode
    assert main(base + ["--min_len", "3", "--max_len", "4", "--lm_window", "32"]) == 2
    cut = base + ["--min_len", "3", "--max_len", "4", "--max_len_mode", "cut"]
    cut += ["--lm_window", "32"]
    cut[cut.index("7")] = "14"
    assert main(cut) == 0
    conf = yaml.safe_load(out.read_text())["frontend_conf"]
    assert (conf["min_len"], conf["max_len"], conf["max_len_mode"]) == (3, 4, "cut")


def test_missing_lm_window_names_the_option(tmp_path, lm_files, caplog):
    """An LM whose config names no training shape file (lm_files is such a one): the
    error says which option or config key gives the window."""
    (tmp_path / "units").write_text("utt1 3 4 5\n")
    rc = main(
        ["--lm_train_config", str(lm_files[0]), "--lm_file", str(lm_files[1])]
        + ["--units", str(tmp_path / "units"), "--target_rate", "20"]
        + ["--out", str(tmp_path / "calib.yaml")]
    )
    assert rc == 1
    assert "--lm_window, or lm_window under frontend_conf" in caplog.text


def test_calibration_of_a_deduplicated_units_lm_counts_run_starts(
    tmp_path, lm_files, token_list
):
    """lm_dedup: the entropy of the deduplicated units, starts on run starts, as the
    frontend makes them; the calibration file says so (merged last into training)."""
    units = random_units(30, 100, len(token_list), seed=9)
    units[:, 1::2] = units[:, 0::2]
    lines = [
        f"utt{i:03d} " + " ".join(token_list[int(u)] for u in units[i, : 50 + i])
        for i in range(30)
    ]
    (tmp_path / "units").write_text("\n".join(lines) + "\n")
    (tmp_path / "fe.yaml").write_text(
        yaml.safe_dump({"frontend_conf": {"lm_dedup": True, "max_len": None}})
    )
    out = tmp_path / "calib.yaml"
    args = ["--lm_train_config", str(lm_files[0]), "--lm_file", str(lm_files[1])]
    args += ["--units", str(tmp_path / "units"), "--target_rate", "12"]
    args += ["--lm_window", "32", "--lm_overlap", "8", "--out", str(out)]
    assert main(args + ["--frontend_config", str(tmp_path / "fe.yaml")]) == 0
    conf = yaml.safe_load(out.read_text())["frontend_conf"]
    assert conf["lm_dedup"] is True
    lm = UnitLM.from_files(*lm_files, window=32, overlap=8)
    seqs = [units[i, : 50 + i] for i in range(30)]
    x, lengths = pad_entropies(seqs)
    h = lm.run_entropy(x.long(), lengths)
    seg = segment(
        h,
        lengths,
        threshold=conf["threshold"],
        max_len=None,  # max_len splits in frames, anywhere: none here
        warn=False,
        units=x.long(),
        snap_to_unit_start=True,
    )
    rate = float(seg.counts.sum()) / (float(lengths.sum()) / 50)
    assert abs(rate - 12) / 12 < 0.05
    # every start is a run start (the units come in pairs: even positions)
    assert not bool(seg.starts[:, 1::2].any())
