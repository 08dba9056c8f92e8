"""Voice conversion end to end, mechanically: egs2/mini_synth/vc's own run.sh, stages
1-13, on a tiny synthetic VCTK tree (4 espeak-ng voices, one held out as the target,
a few sentences), MFCC units K=8, a tiny unit LM and VC model on the recipe's WORLD
envelope, one epoch, two experiments (dense, entropy_rate15). The point is that every
stage runs and hands on what the next one reads -- the 16 kHz audio and d-vectors, the
merged VC config with the calibration under tts_conf, the conversion of every pair,
the scores, the results block, the plots -- not the numbers. A rerun skips what is up
to date.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "egs2" / "mini_synth" / "vc"
EXPS = ["dense", "entropy_rate15"]
# the eval metrics that need no downloaded model besides Resemblyzer's and the
# pocketsphinx wheel's (Whisper and DNSMOS are covered by tests/test_vc_metrics.py)
METRICS = "pocketsphinx similarity mcd"


def _have(mod: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(mod) is not None


@pytest.mark.timeout(1200)
def test_mini_synth_vc_recipe_all_stages(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (tools/setup.sh installs it)")
    for mod in ("resemblyzer", "webrtcvad", "pocketsphinx"):
        if not _have(mod):
            pytest.skip(f"{mod} is not installed")

    rec = tmp_path / "recipe"
    rec.mkdir()
    for item in RECIPE.iterdir():
        # stage 12 writes README.md and the plot: the test copy gets its own
        if item.name not in ("conf", "README.md") and item.suffix != ".png":
            (rec / item.name).symlink_to(item.resolve())
    (rec / "README.md").write_text("# mini_synth VC (test copy)\n\nkept text\n")
    conf = rec / "conf"
    (conf / "frontend").mkdir(parents=True)
    # the recipe's acoustics (the WORLD envelope) with a tiny model
    acoustics = yaml.safe_load((RECIPE / "conf" / "vc.yaml").read_text())
    (conf / "vc.yaml").write_text(
        yaml.safe_dump(
            dict(
                tts_conf=dict(
                    adim=16,
                    decoder_conf=dict(num_blocks=1, attention_heads=2, linear_units=32),
                ),
                feats_extract=acoustics["feats_extract"],
                feats_extract_conf=acoustics["feats_extract_conf"],
                batch_bins=4000,
                max_epoch=1,
                num_workers=0,
                keep_nbest_models=1,
            )
        )
    )
    small = dict(d_model=16, num_heads=2, local_ffn=32, ffn=32, local_layers=1)
    for kind, fconf in (
        ("dense", dict(embed_dim=16)),
        ("dedup", dict(embed_dim=16)),
        ("fixed_pool", small),
        ("entropy", small),
    ):
        (conf / "frontend" / f"{kind}.yaml").write_text(
            yaml.safe_dump(dict(frontend_conf=fconf))
        )
    # the variants run.sh calibrates (--entropy_variants): the recipe's own files
    for v in ("min2max5", "min3max4"):
        name = f"entropy_{v}.yaml"
        shutil.copy(RECIPE / "conf" / "frontend" / name, conf / "frontend" / name)
    (conf / "unit_lm.yaml").write_text(
        "lm_conf: {embed_unit: 16, att_unit: 16, head: 2, unit: 32, layer: 1}\n"
        "batch_bins: 4000\nmax_epoch: 1\nnum_workers: 0\n"
        "scheduler_conf: {warmup_steps: 10}\n"
    )

    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        OMP_NUM_THREADS="1",
    )
    data_opts = (
        "--synth_opts '--num_voices 4 --num_heldout 1 --num_shared 4 --num_own 4' "
        "--prep_opts '--num_dev 1 --num_test_own 1 --num_test_shared 2'"
    )
    cmd = (
        ["./run.sh", "--stage", "1", "--stop_stage", "13"]
        + ["--python", sys.executable, "--ngpu", "0", "--nj", "1"]
        + ["--local_data_opts", data_opts, "--feature", "mfcc", "--feature_conf", ""]
        + ["--n_clusters", "8", "--km_max_frames", "20000", "--km_args", ""]
        + ["--target_rates", "15", "--vc_exps", " ".join(EXPS)]
        + ["--train_jobs", "1", "--eval_metrics", METRICS]
    )
    p = subprocess.run(cmd, cwd=rec, env=env, capture_output=True, text=True)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    for s in range(1, 14):  # every stage ran
        assert f"Stage {s}:" in out, (s, out[-3000:])

    # data: 3 seen voices, 1 held out; pairs = 3 sources x 2 shared ids -> the target
    pairs = (rec / "data/parallel/pairs").read_text().split("\n")
    pairs = [line.split() for line in pairs if line.strip()]
    assert len(pairs) == 6 and all(t.startswith("p360_") for _, _, t in pairs)

    # stage 8: 16 kHz audio and d-vectors for every set, speaker means, counts logged
    for dset in ("train", "dev", "parallel", "heldout"):
        n = len((rec / f"data/{dset}/wav.scp").read_text().splitlines())
        info = json.loads((rec / f"dump/dvector/{dset}/dvectors.json").read_text())
        assert info["in"] == n and info["out"] == n and info["skipped"] == 0, dset
        assert f"d-vectors {dset}: in={n} out={n} skipped=0" in out
        assert f"16 kHz audio {dset}: in={n} out={n} skipped=0" in out
    spk = (rec / "dump/dvector/heldout/spk_xvector.scp").read_text().split()
    assert spk[0] == "p360"
    assert "training list train: in=" in out

    # stage 9: the merged configs (frontend settings and calibration under tts_conf)
    for tag in EXPS:
        d = rec / f"exp/vc_{tag}"
        cfg = yaml.safe_load((d / "config.yaml").read_text())
        assert cfg["tts"] == "unit_vc" and cfg["tts_conf"]["adim"] == 16
        assert cfg["feats_extract"] == "world" and cfg["tts_conf"]["condition_norm"]
        assert cfg["feats_extract_conf"]["num_coded"] == 40
        assert "n_mels" not in cfg["feats_extract_conf"]
        kind = tag.split("_rate")[0]
        assert cfg["tts_conf"]["frontend"] == kind
        assert cfg["tts_conf"]["frontend_conf"].get("d_model", 16) == 16
        assert (d / "train.stamp").is_file() and (d / "valid.loss.ave.pth").exists()
    ent = yaml.safe_load((rec / "exp/vc_entropy_rate15/train.yaml").read_text())
    assert "threshold" in ent["tts_conf"]["frontend_conf"]
    assert "calibration" not in ent and "frontend" not in ent

    # stage 10: every pair converted, 16 kHz wavs
    import soundfile as sf

    for tag in EXPS:
        c = rec / f"exp/vc_{tag}/convert_parallel"
        info = json.loads((c / "convert.json").read_text())
        assert info["in"] == 6 and info["out"] == 6 and info["skipped"] == 0
        # WORLD with the source's F0 mapped to the held-out target's statistics
        assert info["vocoder"] == "world" and list(info["target_log_f0"]) == ["p360"]
        rows = (c / "wav.scp").read_text().splitlines()
        assert sorted(r.split()[0] for r in rows) == sorted(p[0] for p in pairs)
        wav, sr = sf.read(rows[0].split()[1])
        assert sr == 16000 and wav.ndim == 1 and len(wav) > 1600
        assert f"converted {tag}: in=6 out=6 skipped=0" in out
    dense = json.loads((rec / "exp/vc_dense/convert_parallel/convert.json").read_text())
    assert dense["tokens_per_second"] == pytest.approx(50.0)
    ent = json.loads(
        (rec / "exp/vc_entropy_rate15/convert_parallel/convert.json").read_text()
    )
    assert 0 < ent["tokens_per_second"] < 50.0

    # stage 11: score.json of every experiment and reference
    keys = {
        "wer_whisper",
        "wer_pocketsphinx",
        "spk_cos_target",
        "spk_cos_source",
        "mcd_dtw",
        "dnsmos_ovrl",
        "dnsmos_sig",
        "dnsmos_bak",
        "dnsmos_p808",
    }
    scores = {}
    for name in ["ref_target", "ref_resynth", "ref_source"] + EXPS:
        s = json.loads((rec / f"exp/vc_{name}/eval/score.json").read_text())
        assert set(s["metrics"]) == keys, name
        assert s["pairs"] == 6 and s["scored"] == 6 and s["skipped"] == 0, name
        assert s["metrics"]["wer_whisper"] is None  # not asked for
        for k in ("wer_pocketsphinx", "spk_cos_target", "spk_cos_source", "mcd_dtw"):
            assert s["metrics"][k] is not None, (name, k)
        assert f"{name}: in=6 out=6 skipped=0" in out
        scores[name] = s["metrics"]
    assert scores["ref_target"]["mcd_dtw"] == pytest.approx(0.0, abs=1e-6)
    assert scores["ref_target"]["spk_cos_target"] == pytest.approx(1.0, abs=1e-4)
    assert "--resynth world" in (rec / "exp/vc_ref_resynth/eval/score.log").read_text()
    # the vocoder's floor lies below an untrained model's distortion
    assert scores["ref_resynth"]["mcd_dtw"] < scores["dense"]["mcd_dtw"]

    # stage 12: the results block (README's own text kept) and the plot
    readme = (rec / "README.md").read_text()
    assert "## Environments" in readme and "kept text" in readme
    for name in ["ref_target", "ref_resynth", "ref_source"] + EXPS:
        assert f"|{name}|6|" in readme, name
        # the row's similarity and MCD cells are this score.json's, in their format
        m = scores[name]
        row = next(ln for ln in readme.splitlines() if ln.startswith(f"|{name}|6|"))
        cells = f"|{m['spk_cos_target']:.3f}|{m['spk_cos_source']:.3f}|"
        assert cells + f"{m['mcd_dtw']:.2f}|" in row, (name, row)
    assert (rec / "vc_results.png").stat().st_size > 1000
    assert (rec / "vc_spectrograms.png").stat().st_size > 1000
    assert (
        "entropy_rate15 conversion of" in readme and "(vc_spectrograms.png)" in readme
    )

    # stage 13: every experiment packed, entropy with its unit LM (under ESPnet's TTS
    # names, task vc: what espnet2_ext.bin.convert loads)
    import zipfile

    for tag in EXPS:
        with zipfile.ZipFile(rec / f"exp/vc_{tag}/packed.zip") as zf:
            meta = yaml.safe_load(zf.read("meta.yaml"))
        assert meta["task"] == "vc" and "tts_model_file" in meta["files"], tag
        assert ("unit_lm_file" in meta["files"]) == tag.startswith("entropy"), tag

    # a rerun of stages 8-11 finds everything up to date
    p = subprocess.run(
        ["./run.sh", "--stage", "8", "--stop_stage", "11"]
        + ["--python", sys.executable, "--ngpu", "0"]
        + ["--vc_exps", " ".join(EXPS), "--eval_metrics", METRICS],
        cwd=rec,
        env=env,
        capture_output=True,
        text=True,
    )
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    assert out.count("audio and d-vectors exist for this wav.scp: skipping") == 4
    assert out.count("config and inputs are unchanged: skipping") == 2
    assert out.count("exists for this model, these pairs and d-vectors: skipping") == 2
    assert out.count("score.json exists for these inputs: skipping") == 5
