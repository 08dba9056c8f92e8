"""Speech translation end to end, mechanically: egs2/covost2/st's own run.sh, every
stage from data preparation to packing, then ``translate`` on a packed model.

The corpus is a miniature one in the exact layout of Common Voice v4 + CoVoST 2
(``validated.tsv``, ``clips/*.mp3`` at 48 kHz, ``covost_v2.en_de.tsv``), made by the
embedded recipe's generator (``local/synth_st_corpus.py``: espeak-ng reading pairs of
the En->De grammar), plus the bad rows a real download has (an empty translation, a
clip missing on disk). HuBERT Base is randomly initialised, of the real shape, given as
a local torchaudio checkpoint (the path a GPU user takes). Only the sizes are
overridden (tiny E-Branchformer, tiny unit LM, K=8, BPE 60, one epoch): the point is
that no stage dies on a path nobody ran -- the ST configs (CTC off), the transcript
upper bound, BLEU scoring, the results block, packing and translation -- not the
numbers.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "egs2" / "covost2" / "st"


def _tiny_corpus(root: Path) -> Path:
    """Common Voice v4 ``en`` + CoVoST 2 en_de, tiny, with two bad rows appended."""
    cv = root / "cv" / "en"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "local" / "synth_st_corpus.py"),
            "--out",
            str(cv),
            "--num_train",
            "24",
            "--num_dev",
            "3",
            "--num_test",
            "4",
            "--num_test_compositional",
            "2",
            "--num_voices",
            "3",
            "--num_heldout_voices",
            "1",
            "--nj",
            "2",
        ],
        check=True,
        capture_output=True,
    )
    # the rows a real download has: an empty translation, a clip missing on disk
    tsv = cv / "covost_v2.en_de.tsv"
    rows = tsv.read_text(encoding="utf-8").splitlines()
    test_rows = [r for r in rows if r.endswith("\ttest")]
    first = test_rows[0].split("\t")[0]
    rows = [r if not r.startswith(first + "\t") else f"{first}\t\ttest" for r in rows]
    validated = cv / "validated.tsv"
    v_lines = validated.read_text(encoding="utf-8").splitlines()
    extra = v_lines[1].split("\t")
    extra[1] = "common_voice_en_99999999.mp3"  # listed, never on disk
    validated.write_text("\n".join(v_lines + ["\t".join(extra)]) + "\n")
    rows.append("common_voice_en_99999999.mp3\tDas fehlt.\ttest")
    tsv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return cv


@pytest.mark.timeout(1200)
def test_covost2_recipe_all_stages_and_translate(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (tools/setup.sh installs it)")
    from espnet2_ext.units.hubert_loader import build_hubert

    cv = _tiny_corpus(tmp_path)
    ckpt = tmp_path / "hubert_base_random.pth"
    torch.save(build_hubert("base", seed=0).state_dict(), ckpt)

    # the recipe as it is, with only its conf/ replaced by tiny sizes
    rec = tmp_path / "recipe"
    rec.mkdir()
    for item in RECIPE.iterdir():
        if item.name not in ("conf", "README.md"):
            (rec / item.name).symlink_to(item.resolve())
    (rec / "README.md").write_text("# CoVoST 2 (test copy)\n")
    conf = rec / "conf"
    conf.mkdir()
    st = yaml.safe_load((RECIPE / "conf/st.yaml").read_text())
    st["encoder_conf"].update(
        output_size=32,
        attention_heads=2,
        cgmlp_linear_units=64,
        cgmlp_conv_kernel=3,
        merge_conv_kernel=3,
        num_blocks=1,
        linear_units=64,
    )
    st.update(batch_bins=20000, max_epoch=1, num_workers=0, keep_nbest_models=1)
    st["decoder_conf"] = {"attention_heads": 2, "linear_units": 64, "num_blocks": 1}
    (conf / "st.yaml").write_text(yaml.safe_dump(st))
    (conf / "unit_lm.yaml").write_text(
        "lm_conf: {embed_unit: 16, att_unit: 16, head: 2, unit: 32, layer: 1}\n"
        "batch_bins: 20000\nmax_epoch: 2\nnum_workers: 0\n"
    )
    (conf / "decode_st.yaml").write_text("beam_size: 2\nmaxlenratio: 1.5\n")

    env = dict(
        os.environ,
        COMMONVOICE=str(cv.parent),
        COVOST2=str(cv),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        OMP_NUM_THREADS="1",
    )
    p = subprocess.run(
        ["./run.sh", "--stage", "1", "--stop_stage", "14"]
        + ["--python", sys.executable, "--ngpu", "0", "--nj", "2"]
        + ["--inference_nj", "2", "--feature_conf", f"checkpoint={ckpt} layer=9"]
        + ["--n_clusters", "8", "--km_max_frames", "20000", "--target_rates", "15"]
        + ["--asr_exps", "entropy_rate15 transcript", "--nbpe", "60"]
        + ["--src_nbpe", "60"],
        cwd=rec,
        env=env,
        capture_output=True,
        text=True,
    )
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    for s in range(1, 14):  # every stage ran
        assert f"Stage {s}:" in out, (s, out[-3000:])

    # stage 1: the bad rows were skipped and reported, nothing else lost
    report = json.loads((rec / "data/test_en_de/prep_report.json").read_text())
    reasons = json.dumps(report)
    assert "empty_translation" in reasons and "missing_clip" in reasons
    sets = {"train_en_de": 24, "dev_en_de": 3, "test_en_de": 3}
    for dset, n in sets.items():
        assert len((rec / f"data/{dset}/wav.scp").read_text().splitlines()) == n
        units = (rec / f"dump_en_de/units/{dset}/units").read_text().splitlines()
        assert len(units) == n, dset
    text = (rec / "data/test_en_de/text").read_text()
    assert text == (rec / "data/test_en_de/text.tc.de").read_text()
    assert any(c.isupper() for c in text) and "." in text  # cased, punctuated

    # the ST model: no CTC; scored with BLEU and chrF; results block; packed
    d = rec / "exp_en_de/st_entropy_rate15"
    cfg = yaml.safe_load((d / "config.yaml").read_text())
    assert cfg["model_conf"]["ctc_weight"] == 0.0
    assert cfg["frontend"] == "entropy_compress"
    hyp = (d / "decode_test_en_de/text").read_text().splitlines()
    assert len(hyp) == 3
    score = json.loads((d / "decode_test_en_de/score.json").read_text())
    assert {"bleu", "chrf", "bleu_signature", "tokens_per_sec"} <= set(score)
    assert score["bleu_signature"].startswith("nrefs:1|case:mixed")
    readme = (rec / "README.md").read_text()
    assert "## st_entropy_rate15" in readme and "### BLEU" in readme
    assert "|decode_test_en_de|" in readme and "### WER" not in readme
    # the BLEU table's score is this score.json's BLEU, in the table's format
    assert f"|decode_test_en_de|{score['bleu']:.1f}|" in readme
    assert (d / "packed.zip").is_file()

    # the upper bound: the same model on the source transcript's words, no source CTC
    t = rec / "exp_en_de/st_transcript"
    cfg = yaml.safe_load((t / "config.yaml").read_text())
    assert cfg["model_conf"]["src_ctc_weight"] == 0.0 and cfg["frontend"] == "embed"
    words = (rec / "dump_en_de/units_transcript/test_en_de/units").read_text()
    assert len(words.splitlines()) == 3 and words.islower() and "." not in words
    assert len((t / "decode_test_en_de/text").read_text().splitlines()) == 3
    # its length cap counts output tokens per input word, not per unit vector
    decode_log = (t / "decode_test_en_de/log/decode.1.log").read_text()
    assert "--maxlenratio 6.0" in decode_log.splitlines()[0]
    decode_log = (d / "decode_test_en_de/log/decode.1.log").read_text()
    assert "--maxlenratio" not in decode_log.splitlines()[0]
    assert "## st_transcript" in readme
    assert not (t / "packed.zip").exists()  # no audio front makes its input
    assert "skipping transcript: the packed model's audio-to-units front" in out

    # translate: raw audio (a 48 kHz MP3 clip) -> German text with the packed model
    clip = (rec / "data/test_en_de/wav.scp").read_text().split()[1]
    p = subprocess.run(
        [sys.executable, "-m", "espnet2_ext.bin.translate"]
        + ["--model", str(d / "packed.zip"), clip, str(tmp_path / "missing.wav")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 3, p.stderr[-3000:]  # one translated, one skipped
    lines = p.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(clip + "\t")
    assert "skipped 1 of 2 files: missing_file=1" in p.stderr
