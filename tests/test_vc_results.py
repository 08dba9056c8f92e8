"""vc_results: the VC results block's cells are the score.json values, in the table's
format; a missing system is a row of dashes."""

import json

from espnet2_ext.bin import vc_results

SCORES = {
    "ref_target": dict(
        scored=40,
        tokens_per_second=None,
        metrics=dict(
            wer_whisper=11.9047,
            wer_pocketsphinx=75.94,
            spk_cos_target=1.0,
            spk_cos_source=0.60912,
            mcd_dtw=0.0,
            dnsmos_ovrl=2.5449,
        ),
    ),
    "dense": dict(
        scored=40,
        tokens_per_second=50.0,
        metrics=dict(
            wer_whisper=101.149,
            wer_pocketsphinx=96.56,
            spk_cos_target=0.56996,
            spk_cos_source=0.53249,
            mcd_dtw=4.8237,
            dnsmos_ovrl=1.4061,
        ),
    ),
    "entropy_rate25": dict(
        scored=38,
        tokens_per_second=28.4649,
        metrics=dict(
            wer_whisper=108.25,
            wer_pocketsphinx=99.34,
            spk_cos_target=0.60449,
            spk_cos_source=0.5071,
            mcd_dtw=4.5549,
            dnsmos_ovrl=1.5151,
        ),
    ),
}


def test_vc_results_cells_are_the_score_values(tmp_path):
    for name, s in SCORES.items():
        d = tmp_path / "exp" / f"vc_{name}" / "eval"
        d.mkdir(parents=True)
        (d / "score.json").write_text(json.dumps(dict(s, dnsmos_mode="fast")))
    readme = tmp_path / "README.md"
    readme.write_text("# notes kept\n")
    rc = vc_results.main(
        ["--expdir", str(tmp_path / "exp"), "--exps", "dense", "entropy_rate25"]
        + ["--out", str(readme), "--command", "./run.sh"]
    )
    assert rc == 0
    text = readme.read_text()
    assert text.rstrip().endswith("# notes kept")
    assert "- command: `./run.sh`" in text and "- DNSMOS mode: fast" in text
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    head = lines[0].strip("|").split("|")
    assert head == ["system", "pairs"] + [c[0] for c in vc_results.COLS]
    rows = {ln.strip("|").split("|")[0]: ln.strip("|").split("|") for ln in lines[2:]}
    assert list(rows) == ["ref_target", "ref_resynth", "ref_source", "dense"] + [
        "entropy_rate25"
    ]
    # by hand, in each column's format
    assert rows["dense"] == [
        "dense", "40", "50.0", "101.1", "96.6", "0.570", "0.532", "4.82", "1.41",
    ]  # fmt: skip
    assert rows["entropy_rate25"] == [
        "entropy_rate25", "38", "28.5", "108.2", "99.3", "0.604", "0.507", "4.55",
        "1.52",
    ]  # fmt: skip
    assert rows["ref_target"][:3] == ["ref_target", "40", "-"]
    assert rows["ref_target"][3:] == ["11.9", "75.9", "1.000", "0.609", "0.00", "2.54"]
    # and generally: each cell is the score.json value in its column's format
    for name, s in SCORES.items():
        for (_, key, fmt), cell in zip(vc_results.COLS, rows[name][2:]):
            v = vc_results.value(s, key)
            assert cell == ("-" if v is None else fmt.format(v)), (name, key)
    assert rows["ref_resynth"] == ["ref_resynth"] + ["-"] * (len(head) - 1)
