"""The shared units stages (egs2/TEMPLATE/units.sh) on a miniature synthetic corpus:
data preparation, sharded MFCC features, k-means, unit dumps, token list; and a
re-run after an interrupted shard redoes only that shard."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng not installed"
)


def _run(recipe: Path, *args: str) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    p = subprocess.run(
        ["./units.sh", *args], cwd=recipe, env=env, capture_output=True, text=True
    )
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-4000:]
    return out


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    d = tmp_path_factory.mktemp("recipe")
    for name in ("utils", "units.sh", "path.sh"):
        (d / name).symlink_to(REPO / "egs2" / "TEMPLATE" / name)
    (d / "local").mkdir()
    shutil.copy(REPO / "egs2/mini_synth/asr/local/data.sh", d / "local/data.sh")
    shutil.copy(REPO / "egs2/mini_synth/asr/cmd.sh", d / "cmd.sh")
    return d


def test_units_stages_and_resume(recipe):
    synth = (
        "--num_sentences 24 --num_voices 3 --num_heldout_voices 1 --num_dev 3 "
        "--num_test 3 --num_test_unseen 3 --train_voices_per_sentence 1"
    )
    common = [
        "--nj",
        "2",
        "--python",
        sys.executable,
        "--n_clusters",
        "8",
        "--km_max_frames",
        "5000",
        "--valid_set",
        "dev",
        "--test_sets",
        "test test_unseen_voices",
        "--unit_lm_extra_sets",
        "train_unlab",
    ]
    out = _run(
        recipe,
        "--stage",
        "1",
        "--stop_stage",
        "5",
        *common,
        "--local_data_opts",
        f"--synth_opts '{synth}' --unlab_sentences 5",
    )
    # the unlabeled set for the unit LM gets units like the others (and only units)
    for s in ("train", "dev", "test", "test_unseen_voices", "train_unlab"):
        n = len((recipe / f"data/{s}/wav.scp").read_text().splitlines())
        units = (recipe / f"dump/units/{s}/units").read_text().splitlines()
        assert len(units) == n > 0
        assert f"units {s}: in={n} out={n} skipped=0" in out
        ids = [int(t) for line in units for t in line.split()[1:]]
        assert min(ids) >= 0 and max(ids) < 8
        shape = (recipe / f"dump/units/{s}/units_shape").read_text().splitlines()
        assert [ln.split()[1] for ln in shape] == [
            str(len(u.split()) - 1) for u in units
        ]
    tokens = (recipe / "dump/token_list/units/tokens.txt").read_text().split()
    assert (
        tokens[:2] == ["<blank>", "<unk>"]
        and tokens[-1] == "<sos/eos>"
        and len(tokens) <= 8 + 3
    )
    units_yaml = (recipe / "exp/kmeans/units.yaml").read_text()
    assert "feature: mfcc" in units_yaml and "n_clusters: 8" in units_yaml

    # interrupt: shard 1 of train lost its outputs and done marker; the re-run redoes
    # only that shard and ends with the same features
    featdir = recipe / "dump/feats/mfcc/train"

    def contents():  # every file of the feature directory (logs apart), byte for byte
        return {
            p.name: p.read_bytes() for p in sorted(featdir.iterdir()) if p.is_file()
        }

    before = contents()
    units_before = (recipe / "dump/units/train/units").read_text()
    for p in featdir.glob("*1*"):
        if p.is_file() and p.name != "feats.0.scp":
            p.unlink()
    out = _run(recipe, "--stage", "2", "--stop_stage", "2", *common)
    log0 = (featdir / "log/dump.1.log").read_text()
    log1 = (featdir / "log/dump.2.log").read_text()
    assert "already done" in log0 and "skipping" in log0
    assert "already done" not in log1 and "in=" in log1
    after = contents()
    assert sorted(after) == sorted(before)
    for name in before:  # the redone shard is the same, not just present
        if name.startswith("done."):  # JSON: counts equal; the time taken and when not
            a, b = (json.loads(x[name]) for x in (after, before))
            for k in ("seconds", "finished"):
                a.pop(k, None), b.pop(k, None)
            assert a == b, name
        else:
            assert after[name] == before[name], name
    _run(recipe, "--stage", "3", "--stop_stage", "5", *common)
    assert (recipe / "dump/units/train/units").read_text() == units_before


def test_trained_unit_lm_threshold_holds_on_held_out_sets(recipe):
    """Issue 9 item 14: units.sh stage 6 trains a (tiny) unit LM for real, stage 7
    calibrates on train; the threshold gives about the asked rate on the test sets,
    which the calibration never saw, with that LM's entropies."""
    import yaml

    from espnet2_ext.bin.boundary_eval import score_entropies
    from espnet2_ext.bin.calibrate_threshold import read_units
    from espnet2_ext.entropy.calibration import segment_rate
    from espnet2_ext.entropy.unit_lm import UnitLM

    if not (recipe / "dump/units/train/units").is_file():
        pytest.skip("needs the units of test_units_stages_and_resume")
    (recipe / "conf").mkdir(exist_ok=True)
    (recipe / "conf/unit_lm.yaml").write_text(
        "lm_conf: {embed_unit: 32, att_unit: 32, head: 2, unit: 64, layer: 1}\n"
        "scheduler_conf: {warmup_steps: 20}\nbatch_bins: 4000\nmax_epoch: 4\n"
        "num_workers: 0\n"
    )
    out = _run(
        recipe,
        "--stage",
        "6",
        "--stop_stage",
        "7",
        "--python",
        sys.executable,
        "--valid_set",
        "dev",
        "--test_sets",
        "test test_unseen_voices",
        "--target_rates",
        "15",
        "--unit_lm_extra_sets",
        "train_unlab",
    )
    lm_dir = recipe / "exp/unit_lm"
    log = (lm_dir / "train.log").read_text()
    assert "4epoch results" in log and (lm_dir / "valid.loss.ave.pth").is_file()
    # the extra LM: deduplicated units of train and train_unlab, validated on dev
    ext = recipe / "exp/unit_lm_dedup_ext"
    assert "4epoch results" in (ext / "train.log").read_text()
    assert (ext / "valid.loss.ave.pth").is_file()
    ext_cfg = yaml.safe_load((ext / "config.yaml").read_text())
    assert ext_cfg["train_data_path_and_name_and_type"][0][0] == (
        "dump/units/lm_train_ext/units_dedup"
    )
    text = (recipe / "dump/units/lm_train_ext/units_dedup").read_text().splitlines()
    n_unlab = len((recipe / "data/train_unlab/wav.scp").read_text().splitlines())
    n_train = len((recipe / "data/train/wav.scp").read_text().splitlines())
    assert len(text) == n_train + n_unlab and n_unlab == 5
    assert all(
        a != b for line in text for a, b in zip(line.split()[1:], line.split()[2:])
    )
    assert "extra LM text: " in out
    # a rerun of stage 6 keeps both finished LMs without starting ESPnet (train.stamp)
    again = _run(
        recipe,
        "--stage",
        "6",
        "--stop_stage",
        "6",
        "--python",
        sys.executable,
        "--valid_set",
        "dev",
        "--test_sets",
        "test test_unseen_voices",
        "--unit_lm_extra_sets",
        "train_unlab",
    )
    for d in (lm_dir, ext):
        assert f"{d.relative_to(recipe)}: trained before on the same config" in again
        assert not (d / "train.log.1").exists()
    report = yaml.safe_load((lm_dir / "calib/rate15.yaml").read_text())
    calib = report["frontend_conf"]
    assert "rate15" in out
    assert abs(report["calibration"]["achieved_rate"] - 15.0) < 0.5
    cwd = os.getcwd()
    os.chdir(recipe)  # the LM config's paths are relative to the recipe
    try:
        lm = UnitLM.from_files(lm_dir / "config.yaml", lm_dir / "valid.loss.ave.pth")
        tokens = (recipe / "dump/token_list/units/tokens.txt").read_text().split()
        rule = {k: calib[k] for k in ("rule", "threshold", "max_len", "min_len")}
        for dset in ("test", "test_unseen_voices"):
            units = read_units(recipe / f"dump/units/{dset}/units", tokens)
            h, lengths = score_entropies(lm, units, sorted(units), batch_size=8)
            rate = segment_rate(h, lengths, **rule)
            # a few utterances of unseen sentences (and voices): within 20 %
            assert abs(rate - 15.0) / 15.0 < 0.2, (dset, rate)
    finally:
        os.chdir(cwd)


def _run_script(recipe: Path, script: str, *args: str) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    p = subprocess.run(
        [f"./{script}", *args], cwd=recipe, env=env, capture_output=True, text=True
    )
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    return out


def test_variant_calibration_dedup_bpe_and_parallel_training(recipe):
    """Stage 7 calibrates an entropy variant from its conf; asr.sh builds the dedup +
    BPE input, trains two experiments at once (one per tag kind), decodes and scores
    them.
    """
    from espnet2_ext.entropy.unit_lm import write_lm_experiment

    if not (recipe / "dump/units/train/units").is_file():
        pytest.skip("needs the units of test_units_stages_and_resume")
    tokens = (recipe / "dump/token_list/units/tokens.txt").read_text().split()
    cfg, ckpt = write_lm_experiment(
        recipe / "exp/unit_lm",
        tokens,
        lm_conf={"att_unit": 16, "embed_unit": 16, "unit": 32, "head": 2, "layer": 1},
        train_shape_file=["dump/units/train/units_shape"],
    )
    shutil.copy(ckpt, recipe / "exp/unit_lm/valid.loss.ave.pth")
    for name in ("asr.sh", "benchmark.sh"):
        if not (recipe / name).exists():
            (recipe / name).symlink_to(REPO / "egs2" / "TEMPLATE" / name)
    conf = recipe / "conf"
    (conf / "frontend").mkdir(parents=True, exist_ok=True)
    (conf / "asr.yaml").write_text(
        "encoder_conf: {output_size: 32, attention_heads: 2, linear_units: 32, "
        "num_blocks: 1}\n"
        "decoder_conf: {attention_heads: 2, linear_units: 32, num_blocks: 1}\n"
        "batch_bins: 4000\nmax_epoch: 1\nkeep_nbest_models: 1\nnum_workers: 0\n"
    )
    for kind in ("dense", "dedup"):
        (conf / "frontend" / f"{kind}.yaml").write_text(
            "frontend_conf: {embed_dim: 32}\n"
        )
    (conf / "frontend/entropy.yaml").write_text(
        "frontend_conf: {d_model: 32, num_heads: 2, local_layers: 0, ffn: 32}\n"
    )
    (conf / "decode_asr.yaml").write_text("beam_size: 2\n")

    common = [
        "--python",
        sys.executable,
        "--valid_set",
        "dev",
        "--test_sets",
        "test",
        "--nj",
        "2",
    ]
    out = _run_script(
        recipe,
        "units.sh",
        "--stage",
        "7",
        "--stop_stage",
        "7",
        *common,
        "--target_rates",
        "15",
        "--entropy_variants",
        "combined",
    )
    import yaml

    calib = yaml.safe_load(
        (recipe / "exp/unit_lm/calib/combined_rate15.yaml").read_text()
    )
    assert calib["frontend_conf"]["rule"] == "combined"
    assert calib["frontend_conf"]["rel_threshold"] == 0.0
    # one source of truth: the calibration file carries the LM and its scoring window,
    # which is the longest training sequence (+ <sos>)
    longest = max(
        int(ln.split()[1])
        for ln in (recipe / "dump/units/train/units_shape").read_text().splitlines()
    )
    assert calib["frontend_conf"]["lm_window"] == longest + 1
    assert calib["frontend_conf"]["lm_file"] == "exp/unit_lm/valid.loss.ave.pth"
    assert (
        "combined_rate15" in out
        and (recipe / "exp/unit_lm/calib/rate15.yaml").is_file()
    )
    # again, with a variant that cannot reach 15/s (max_len 2: at least 25/s): the
    # finished calibrations are kept, the unreachable one is a logged skip; and a
    # variant over deduplicated units, calibrated with exp/unit_lm_dedup's LM
    (conf / "frontend/entropy_short.yaml").write_text("frontend_conf: {max_len: 2}\n")
    (conf / "frontend/entropy_dlm.yaml").write_text("frontend_conf: {lm_dedup: true}\n")
    _, dckpt = write_lm_experiment(
        recipe / "exp/unit_lm_dedup",
        tokens,
        lm_conf={"att_unit": 16, "embed_unit": 16, "unit": 32, "head": 2, "layer": 1},
        train_shape_file=["dump/units/train/units_shape"],
        seed=1,
    )
    shutil.copy(dckpt, recipe / "exp/unit_lm_dedup/valid.loss.ave.pth")
    # and a variant that names its LM: the one pre-trained on more speech
    (conf / "frontend/entropy_ext.yaml").write_text(
        "unit_lm: unit_lm_dedup_ext\nfrontend_conf: {lm_dedup: true}\n"
    )
    _, eckpt = write_lm_experiment(
        recipe / "exp/unit_lm_dedup_ext",
        tokens,
        lm_conf={"att_unit": 16, "embed_unit": 16, "unit": 32, "head": 2, "layer": 1},
        train_shape_file=["dump/units/train/units_shape"],
        seed=2,
    )
    shutil.copy(eckpt, recipe / "exp/unit_lm_dedup_ext/valid.loss.ave.pth")
    stage7 = ["--stage", "7", "--stop_stage", "7", *common, "--target_rates", "15"]
    variants = ["--entropy_variants", "combined short dlm ext"]
    out = _run_script(recipe, "units.sh", *stage7, *variants)
    assert "combined_rate15: calibrated before with the same inputs: kept" in out
    assert "variant short at 15/s: skipped, out of reach (outside what" in out
    assert not (recipe / "exp/unit_lm/calib/short_rate15.yaml").exists()
    dlm = yaml.safe_load((recipe / "exp/unit_lm/calib/dlm_rate15.yaml").read_text())
    assert dlm["frontend_conf"]["lm_dedup"] is True
    assert dlm["frontend_conf"]["lm_file"] == "exp/unit_lm_dedup/valid.loss.ave.pth"
    ext = yaml.safe_load((recipe / "exp/unit_lm/calib/ext_rate15.yaml").read_text())
    assert ext["frontend_conf"]["lm_file"] == "exp/unit_lm_dedup_ext/valid.loss.ave.pth"
    assert dlm["frontend_conf"]["threshold"] != ext["frontend_conf"]["threshold"]
    # a rerun knows the unreachable rate without calibrating again
    short_log = recipe / "exp/unit_lm/calib/short_rate15.log"
    mtime = short_log.stat().st_mtime_ns
    out = _run_script(recipe, "units.sh", *stage7, *variants)
    assert "variant short at 15/s: skipped, out of reach (outside what" in out
    assert "dlm_rate15: calibrated before with the same inputs: kept" in out
    assert short_log.stat().st_mtime_ns == mtime

    tags = "dedup_bpe_seed3 entropy_combined_rate15"  # _seed<N>: the same tag, --seed N
    out = _run_script(
        recipe,
        "asr.sh",
        "--stage",
        "8",
        "--stop_stage",
        "11",
        *common,
        "--nbpe",
        "30",
        "--dedup_nbpe",
        "12",
        "--asr_exps",
        tags,
        "--train_jobs",
        "2",
        "--train_threads",
        "1",
        "--asr_exp_prefix",
        "t",
        # per-experiment overrides: by base tag, so dedup_bpe covers its seeds
        "--asr_exp_overrides",
        "entropy_combined_rate15:max_epoch=2 dedup_bpe:batch_bins=3000",
    )
    din = recipe / "dump/units_dedup_bpe12"
    assert (din / "train/units").is_file() and (din / "rates.json").is_file()
    assert "starting entropy_combined_rate15 (1 other training job(s) running)" in out
    ecfg = yaml.safe_load(
        (recipe / "exp/t_entropy_combined_rate15/config.yaml").read_text()
    )
    assert ecfg["frontend_conf"]["rule"] == "combined"
    assert ecfg["frontend_conf"]["threshold"] == calib["frontend_conf"]["threshold"]
    bcfg = yaml.safe_load((recipe / "exp/t_dedup_bpe_seed3/config.yaml").read_text())
    assert bcfg["seed"] == 3 and ecfg["seed"] == 0
    assert ecfg["max_epoch"] == 2 and bcfg["max_epoch"] == 1
    assert bcfg["batch_bins"] == 3000 and ecfg["batch_bins"] == 4000
    # training time: the epochs' train + valid phases, from the log
    edir = recipe / "exp/t_entropy_combined_rate15"
    assert int((edir / "train_seconds").read_text()) >= 0
    # resumed to one more epoch: the first log is kept as train.log.1 and both count
    out = _run_script(
        recipe,
        "asr.sh",
        "--stage",
        "9",
        "--stop_stage",
        "9",
        *common,
        "--nbpe",
        "30",
        "--asr_exps",
        "entropy_combined_rate15",
        "--force",
        "true",
        "--asr_exp_prefix",
        "t",
        "--asr_exp_overrides",
        "entropy_combined_rate15:max_epoch=3",
    )
    assert (
        "resuming; the earlier log is now" in out and (edir / "train.log.1").is_file()
    )
    from espnet2_ext.bin.learning_curve import learning_curve, parse_train_log

    curve = learning_curve(parse_train_log(edir / "train.log"))
    assert [int(r["epoch"]) for r in curve] == [1, 2, 3]
    assert int((edir / "train_seconds").read_text()) == round(
        curve[-1]["cum_train_seconds"] + curve[-1]["cum_valid_seconds"]
    )
    assert (
        bcfg["src_token_list"][-1] == "<sos/eos>" and len(bcfg["src_token_list"]) == 12
    )
    assert (
        bcfg["train_data_path_and_name_and_type"][0][0]
        == "dump/units_dedup_bpe12/train/units"
    )
    import json

    for tag in tags.split():
        score = json.loads((recipe / f"exp/t_{tag}/decode_test/score.json").read_text())
        assert score["utterances"] == score["words"] * 0 + len(
            (recipe / "data/test/text").read_text().splitlines()
        )
        # the audio duration comes from the 50 Hz units, whatever the model's input
        n50 = sum(
            len(ln.split()) - 1
            for ln in (recipe / "dump/units/test/units").read_text().splitlines()
        )
        assert score["units"] == n50 and score["tokens_per_sec"] < 50.0
        if tag.startswith("entropy"):  # the calibrated rate, on unseen test sentences
            assert abs(score["tokens_per_sec"] - 15.0) / 15.0 < 0.25, score

    # benchmark.sh stages 4-5: boundary F1 against reference times that --align_cmd
    # writes, the report with a method run twice (mean and sd), learning curves, PNGs to
    # docs_dir
    align = (
        "python -c \"import sys; lines = [f'{u.split()[0]} 1 {0.2 * i:.2f} 0.2 "
        "w{i}' for u in open('dump/units/test/units') for i in range(3)]; import "
        "os; [os.makedirs(f'data/al/test/', exist_ok=True)]; "
        "[open(f'data/al/test/{k}.ctm', 'w').write(chr(10).join(lines) + chr(10)) "
        "for k in ('word', 'phone')]\""
    )
    bench_methods = (
        "bpe=dedup_bpe_seed3 ent=entropy_combined_rate15 ent=entropy_combined_rate15"
    )
    (recipe / "bench").mkdir(exist_ok=True)
    (recipe / "bench/speed.json").write_text(
        json.dumps(
            {
                "methods": {
                    n: {"train_step_ms": 10.0, "decode_rtf": 0.1}
                    for n in ("bpe", "ent")
                }
            }
        )
    )
    out = _run_script(
        recipe,
        "benchmark.sh",
        "--stage",
        "4",
        "--stop_stage",
        "5",
        "--methods",
        bench_methods,
        "--bench_prefix",
        "t",
        "--test_sets",
        "test",
        "--main",
        "ent",
        "--target_rates",
        "8",
        "--curve_methods",
        "ent",
        "--align_dir",
        "data/al",
        "--align_cmd",
        align,
        "--outdir",
        "bench",
        "--docs_dir",
        "docs",
    )
    rows = (recipe / "bench/results.csv").read_text().splitlines()
    assert rows[0].startswith(
        "method,runs,tokens_per_sec,compression,wer_test,wer_test_sd,"
    )
    assert rows[2].startswith("ent,2,") and ",0," in rows[2]  # the same run twice: sd 0
    assert (recipe / "bench/boundaries/boundary_f1.md").is_file()
    assert (recipe / "bench/curves.csv").read_text().count(
        "entropy_combined_rate15"
    ) >= 1
    assert sorted(p.name for p in (recipe / "docs").iterdir()) == [
        "benchmark_boundary_f1.png",
        "benchmark_curves.png",
        "benchmark_results.png",
    ]

    # stamps: an unchanged rerun skips training and decoding; hypotheses of a model that
    # changed are decoded again; a finished model whose config changed is not kept
    # silently
    common9 = [
        *common,
        "--nbpe",
        "30",
        "--dedup_nbpe",
        "12",
        "--asr_exp_prefix",
        "t",
        "--asr_exp_overrides",
        "entropy_combined_rate15:max_epoch=3",
    ]
    out = _run_script(
        recipe,
        "asr.sh",
        "--stage",
        "9",
        "--stop_stage",
        "10",
        *common9,
        "--asr_exps",
        "entropy_combined_rate15",
    )
    assert "config and inputs are unchanged: skipping" in out
    # other decoding options: the hypotheses are stale and decoded again; then kept
    for expect in (
        "decode_test/text is stale",
        "exists for this model, config and test set: skipping",
    ):
        out = _run_script(
            recipe,
            "asr.sh",
            "--stage",
            "10",
            "--stop_stage",
            "10",
            *common9,
            "--asr_exps",
            "entropy_combined_rate15",
            "--decode_args",
            "--beam_size 1",
        )
        assert expect in out
    p = subprocess.run(
        [
            "./asr.sh",
            "--stage",
            "9",
            "--stop_stage",
            "9",
            *common9[:-1],
            "entropy_combined_rate15:max_epoch=4",
            "--asr_exps",
            "entropy_combined_rate15",
        ],
        cwd=recipe,
        capture_output=True,
        text=True,
        env=dict(
            os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        ),
    )
    assert p.returncode != 0 and "changed since" in p.stdout + p.stderr

    # stage 12: the results block of the recipe README, in ESPnet's RESULTS format
    (recipe / "README.md").write_text("# my recipe\n\nhow to run\n")
    out = _run_script(
        recipe,
        "asr.sh",
        "--stage",
        "11",
        "--stop_stage",
        "12",
        *common,
        "--nbpe",
        "30",
        "--dedup_nbpe",
        "12",
        "--asr_exps",
        tags,
        "--asr_exp_prefix",
        "t",
    )
    readme = (recipe / "README.md").read_text()
    assert readme.startswith("<!-- RESULTS") and "## Environments" in readme
    assert (
        "## t_entropy_combined_rate15\n### WER" in readme
        and "|decode_test|3|" in readme
    )
    assert readme.rstrip().endswith("# my recipe\n\nhow to run")

    # benchmark.sh in pieces (--archive_dir): stage 2 archives each finished
    # experiment's results (no checkpoint) with a provenance line; where the experiment
    # is missing (another machine; here: deleted) it is restored, not retrained; stage 3
    # times only what has its checkpoint here; stage 5 averages every piece's ratios
    # (the experiments are trained and scored above: a run.sh that only notes its call)
    (recipe / "run.sh").write_text('#!/usr/bin/env bash\necho "$*" >> run_calls.txt\n')
    (recipe / "run.sh").chmod(0o755)
    bench2 = [
        "--methods",
        "bpe=dedup_bpe_seed3 ent=entropy_combined_rate15",
        "--bench_prefix",
        "t",
        "--bench_conf_dir",
        "conf",
        "--test_sets",
        "test",
        "--main",
        "ent",
        "--outdir",
        "bench",
        "--archive_dir",
        "arch",
    ]
    out = _run_script(
        recipe, "benchmark.sh", "--stage", "2", "--stop_stage", "2", *bench2
    )
    arch = recipe / "arch/t_entropy_combined_rate15"
    edir = recipe / "exp/t_entropy_combined_rate15"
    assert "entropy_combined_rate15: results archived in arch/" in out
    made = (arch / "archived").read_text()
    # when, at which commit and by which command (bench_report lists the pieces)
    assert ", git " in made and ", command: " in made and "benchmark.sh" in made
    kept = sorted(str(p.relative_to(arch)) for p in arch.rglob("*") if p.is_file())
    for f in (
        "archived",
        "config.yaml",
        "decode_test/score.json",
        "decode_test/text",
        "train.log",
        "train.log.1",
        "train_seconds",
    ):
        assert f in kept, (f, kept)
    assert not any(f.endswith(".pth") for f in kept)
    score = (edir / "decode_test/score.json").read_text()
    shutil.rmtree(edir)
    out = _run_script(
        recipe, "benchmark.sh", "--stage", "2", "--stop_stage", "2", *bench2
    )
    assert "entropy_combined_rate15: restored from arch/" in out
    assert "nothing left to train" in out
    calls = (recipe / "run_calls.txt").read_text().splitlines()
    assert len(calls) == 1 and "--asr_exps dedup_bpe_seed3 entropy_combined_rate15" in (
        calls[0]
    )
    assert (edir / "decode_test/score.json").read_text() == score
    assert not (edir / "valid.acc.ave.pth").exists()
    # the reference (here ent, restored) has no checkpoint: no speed in this piece
    out = _run_script(
        recipe,
        "benchmark.sh",
        "--stage",
        "3",
        "--stop_stage",
        "3",
        *bench2[:1],
        "ent=entropy_combined_rate15 bpe=dedup_bpe_seed3",
        *bench2[2:],
    )
    assert "the reference ent has no valid.acc.ave.pth here" in out
    assert not (recipe / "arch/speed").exists()
    (recipe / "arch/speed").mkdir()
    for i, (b, e) in enumerate(((10.0, 5.0), (20.0, 6.0))):
        (recipe / f"arch/speed/{i}.json").write_text(
            json.dumps(
                {
                    "methods": {
                        "bpe": {"train_step_ms": b, "decode_rtf": 0.1},
                        "ent": {"train_step_ms": e, "decode_rtf": 0.05},
                    }
                }
            )
        )
    _run_script(recipe, "benchmark.sh", "--stage", "5", "--stop_stage", "5", *bench2)
    md = (recipe / "bench/results.md").read_text()
    assert "Made in more than one piece" in md and "t_entropy_combined_rate15" in md
    assert "Speed measured in 2 pieces" in md
    assert "training step ent / bpe = 0.40" in md  # (5/10 + 6/20) / 2

    # an unknown variant is a clear error
    p = subprocess.run(
        [
            "./asr.sh",
            "--stage",
            "9",
            "--stop_stage",
            "9",
            *common,
            "--asr_exps",
            "entropy_nosuch_rate15",
        ],
        cwd=recipe,
        capture_output=True,
        text=True,
        env=dict(
            os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"
        ),
    )
    assert (
        p.returncode != 0
        and "no conf/frontend/entropy_nosuch.yaml" in p.stdout + p.stderr
    )
