"""vc_results' spectrogram figure of one parallel pair (vc.sh stage 12)."""

from pathlib import Path

import numpy as np
import soundfile as sf

from espnet2_ext.bin import vc_results


def _tone(path: Path, f: float, seconds: float = 0.5) -> None:
    t = np.arange(int(16000 * seconds)) / 16000
    sf.write(path, (0.2 * np.sin(2 * np.pi * f * t)).astype(np.float32), 16000)


def test_spectrogram_panels_and_png(tmp_path):
    exp = tmp_path / "exp"
    for i, utt in enumerate(("src1", "tgt1", "src2", "tgt2")):
        _tone(tmp_path / f"{utt}.wav", 200.0 + 100 * i)
    (tmp_path / "wav.scp").write_text(
        "".join(f"{u} {tmp_path / u}.wav\n" for u in ("src1", "tgt1", "src2", "tgt2"))
    )
    (tmp_path / "pairs").write_text("p1 src1 tgt1\np2 src2 tgt2\n")
    # dense converted both pairs, entropy_rate15 only p2; fixed_pool is not shown
    for tag, pairs in (
        ("dense", ["p1", "p2"]),
        ("entropy_rate15", ["p2"]),
        ("entropy_rate8", ["p1", "p2"]),
        ("fixed_pool2", ["p1", "p2"]),
    ):
        d = exp / f"vc_{tag}" / "convert_parallel"
        d.mkdir(parents=True)
        rows = []
        for p in pairs:
            _tone(d / f"{p}.wav", 440.0)
            rows.append(f"{p} {d / p}.wav\n")
        (d / "wav.scp").write_text("".join(rows))
    exps = ["fixed_pool2", "dense", "entropy_rate15", "entropy_rate8"]
    panels = vc_results.spectrogram_panels(
        exp, "vc", exps, tmp_path / "pairs", tmp_path / "wav.scp", "convert_parallel"
    )
    assert [t for t, _ in panels] == [
        "source src2",
        "target's reading tgt2",
        "dense conversion of p2",
        "entropy_rate15 conversion of p2",
    ]
    assert panels[2][1].endswith("vc_dense/convert_parallel/p2.wav")

    readme = tmp_path / "README.md"
    readme.write_text("# x\n")
    png = tmp_path / "vc_spectrograms.png"
    rc = vc_results.main(
        ["--expdir", str(exp), "--exps", *exps, "--out", str(readme)]
        + ["--spectrogram", str(png), "--pairs", str(tmp_path / "pairs")]
        + ["--wav_scp", str(tmp_path / "wav.scp")]
    )
    assert rc == 0 and png.stat().st_size > 5000
    assert f"entropy_rate15 conversion of p2]({png})" in readme.read_text()
    # nothing converted by every shown experiment: no figure, no link
    png.unlink()
    rc = vc_results.main(
        ["--expdir", str(exp), "--exps", "dense", "entropy_rate15", "--out"]
        + [str(readme), "--spectrogram", str(png), "--pairs", str(tmp_path / "pairs")]
        + ["--wav_scp", str(tmp_path / "wav.scp"), "--convert_dir", "nope"]
    )
    assert rc == 0 and not png.exists() and "spectrograms" not in readme.read_text()
