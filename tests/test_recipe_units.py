"""The shared units stages (egs2/TEMPLATE/units.sh) on a miniature synthetic corpus:
data preparation, sharded MFCC features, k-means, unit dumps, token list; and a
re-run after an interrupted shard redoes only that shard."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def _run(recipe: Path, *args: str) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    p = subprocess.run(["./units.sh", *args], cwd=recipe, env=env, capture_output=True, text=True)
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
    synth = ("--num_sentences 24 --num_voices 3 --num_heldout_voices 1 --num_dev 3 "
             "--num_test 3 --num_test_unseen 3 --train_voices_per_sentence 1")
    common = ["--nj", "2", "--python", sys.executable, "--n_clusters", "8",
              "--km_max_frames", "5000", "--valid_set", "dev", "--test_sets", "test test_unseen_voices"]
    out = _run(recipe, "--stage", "1", "--stop_stage", "5", *common,
               "--local_data_opts", f"--synth_opts '{synth}'")
    for s in ("train", "dev", "test", "test_unseen_voices"):
        n = len((recipe / f"data/{s}/wav.scp").read_text().splitlines())
        units = (recipe / f"dump/units/{s}/units").read_text().splitlines()
        assert len(units) == n > 0
        assert f"units {s}: in={n} out={n} skipped=0" in out
        ids = [int(t) for line in units for t in line.split()[1:]]
        assert min(ids) >= 0 and max(ids) < 8
        shape = (recipe / f"dump/units/{s}/units_shape").read_text().splitlines()
        assert [ln.split()[1] for ln in shape] == [str(len(u.split()) - 1) for u in units]
    tokens = (recipe / "dump/token_list/units/tokens.txt").read_text().split()
    assert tokens[:2] == ["<blank>", "<unk>"] and tokens[-1] == "<sos/eos>" and len(tokens) <= 8 + 3
    units_yaml = (recipe / "exp/kmeans/units.yaml").read_text()
    assert "feature: mfcc" in units_yaml and "n_clusters: 8" in units_yaml

    # interrupt: shard 1 of train lost its outputs and done marker; the re-run redoes
    # only that shard and ends with the same features
    featdir = recipe / "dump/feats/mfcc/train"
    before = sorted(p.name for p in featdir.iterdir())
    for p in featdir.glob("*1*"):
        if p.is_file() and p.name != "feats.0.scp":
            p.unlink()
    out = _run(recipe, "--stage", "2", "--stop_stage", "2", *common)
    log0 = (featdir / "log/dump.1.log").read_text()
    log1 = (featdir / "log/dump.2.log").read_text()
    assert "already done" in log0 and "skipping" in log0
    assert "already done" not in log1 and "in=" in log1
    assert sorted(p.name for p in featdir.iterdir()) == before
