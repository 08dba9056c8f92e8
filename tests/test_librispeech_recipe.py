"""egs2/librispeech/asr end to end, mechanically (issue 9 item 16).

The real recipe's own run.sh, every stage from data preparation to packing, on a
miniature LibriSpeech tree (the real layout: ``LibriSpeech/<part>/<reader>/<chapter>/``
with flac files and ``<reader>-<chapter>.trans.txt``; speech synthesised by espeak-ng)
and a randomly initialised HuBERT Base of the real shape, given as a local torchaudio
checkpoint file (the path a GPU user takes with a downloaded checkpoint). Only the sizes
are overridden (tiny E-Branchformer, tiny unit LM, K=8, BPE 30, one epoch): the point is
that no stage dies on a path nobody ran, not the numbers.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import torchaudio

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "egs2" / "librispeech" / "asr"
PARTS = {  # part -> readers (each reader one chapter)
    "train-clean-100": (19, 26, 27),
    "dev-clean": (84,),
    "dev-other": (116,),
    "test-clean": (121,),
    "test-other": (367,),
}
SENTENCES = [
    "the cat sat on the mat",
    "a big red dog ran far away",
    "she read the old book again",
    "we walked home in the rain",
    "the sun rose over the hill",
    "he found a coin near the door",
]


def _speech(text: str, voice: str) -> np.ndarray:
    """espeak-ng speech at 16 kHz (LibriSpeech's rate)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True
    ).stdout
    import io

    x, sr = soundfile.read(io.BytesIO(wav), dtype="float32")
    return torchaudio.functional.resample(torch.from_numpy(x), sr, 16000).numpy()


def _mini_librispeech(root: Path) -> None:
    voices = ["en-us+m3", "en-us+f2", "en-gb+m1", "en-us+f4"]
    k = 0
    for part, readers in PARTS.items():
        for r, reader in enumerate(readers):
            chapter = 1000 + reader
            d = root / "LibriSpeech" / part / str(reader) / str(chapter)
            d.mkdir(parents=True)
            lines = []
            n = 4 if part.startswith("train") else 3
            for i in range(n):
                uid = f"{reader}-{chapter}-{i:04d}"
                text = SENTENCES[(k + i) % len(SENTENCES)]
                x = _speech(text, voices[(r + i) % len(voices)])
                soundfile.write(d / f"{uid}.flac", x, 16000)
                lines.append(f"{uid} {text.upper()}")
            k += 1
            (d / f"{reader}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")


@pytest.mark.timeout(1200)
def test_librispeech_recipe_all_stages(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (tools/setup.sh installs it)")
    from espnet2_ext.units.hubert_loader import build_hubert

    _mini_librispeech(tmp_path / "corpus")
    ckpt = tmp_path / "hubert_base_random.pth"
    torch.save(build_hubert("base", seed=0).state_dict(), ckpt)

    # the recipe as it is, with only its conf/ replaced by tiny sizes
    rec = tmp_path / "recipe"
    rec.mkdir()
    for item in RECIPE.iterdir():
        if item.name not in ("conf", "README.md"):
            (rec / item.name).symlink_to(item.resolve())
    (rec / "README.md").write_text("# LibriSpeech (test copy)\n")
    conf = rec / "conf"
    conf.mkdir()
    asr_yaml = (RECIPE / "conf/asr.yaml").read_text()
    for key, value in (
        ("output_size", "32"),
        ("attention_heads", "2"),
        ("cgmlp_linear_units", "64"),
        ("cgmlp_conv_kernel", "3"),
        ("merge_conv_kernel", "3"),
        ("num_blocks", "1"),
        ("linear_units", "64"),
        ("batch_bins", "20000"),
        ("max_epoch", "1"),
    ):  # the recipe's own config, sizes only
        lines = asr_yaml.splitlines()
        asr_yaml = "\n".join(
            (
                (ln.split(":")[0] + ": " + value)
                if ln.strip().startswith(key + ":")
                else ln
            )
            for ln in lines
        )
    asr_yaml += "\nnum_workers: 0\nkeep_nbest_models: 1\n"
    asr_yaml += "decoder_conf: {attention_heads: 2, linear_units: 64, num_blocks: 1}\n"
    (conf / "asr.yaml").write_text(asr_yaml)
    (conf / "unit_lm.yaml").write_text(
        "lm_conf: {embed_unit: 16, att_unit: 16, head: 2, unit: 32, layer: 1}\n"
        "batch_bins: 20000\nmax_epoch: 2\nnum_workers: 0\n"
    )
    (conf / "decode_asr.yaml").write_text("beam_size: 2\nmaxlenratio: 1.0\n")

    env = dict(
        os.environ,
        LIBRISPEECH=str(tmp_path / "corpus"),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        OMP_NUM_THREADS="1",
    )
    p = subprocess.run(
        [
            "./run.sh",
            "--stage",
            "1",
            "--stop_stage",
            "14",
            "--python",
            sys.executable,
            "--ngpu",
            "0",
            "--nj",
            "2",
            "--inference_nj",
            "2",
            "--feature_conf",
            f"checkpoint={ckpt} layer=9",
            "--n_clusters",
            "8",
            "--km_max_frames",
            "20000",
            "--target_rates",
            "15",
            "--asr_exps",  # the dense path is run by the mini_synth recipe tests
            "entropy_rate15",
            "--nbpe",
            "30",
        ],
        cwd=rec,
        env=env,
        capture_output=True,
        text=True,
    )
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    # every stage ran
    for s in range(1, 14):
        assert f"Stage {s}:" in out, (s, out[-3000:])
    assert "no --hf_repo given: skipping the upload" in out
    # nothing lost: every utterance of every set made it through units and decoding
    for dset, n in (
        ("train_100", 12),
        ("dev_clean", 3),
        ("test_clean", 3),
        ("test_other", 3),
        ("dev_other", 3),
    ):
        units = (rec / f"dump/units/{dset}/units").read_text().splitlines()
        assert len(units) == n, dset
    units_yaml = (rec / "exp/kmeans/units.yaml").read_text()
    assert "feature: hubert" in units_yaml and str(ckpt) in units_yaml
    for tag in ("entropy_rate15",):
        d = rec / f"exp/asr_{tag}"
        for dset in ("test_clean", "test_other", "dev_other"):
            hyp = (d / f"decode_{dset}/text").read_text().splitlines()
            assert len(hyp) == 3, (tag, dset)
            assert (d / f"decode_{dset}/score.json").is_file()
        assert (d / "packed.zip").is_file()
    readme = (rec / "README.md").read_text()
    assert "## Environments" in readme and "## asr_entropy_rate15" in readme
    assert "|decode_test_clean|3|" in readme
