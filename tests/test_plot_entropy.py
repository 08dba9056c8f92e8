import numpy as np
import soundfile as sf

from conftest import random_units
from espnet2_ext.bin.plot_entropy import main, plot_times


def test_plot_entropy_writes_png(tmp_path, lm_files, token_list):
    units = random_units(1, 90, len(token_list), seed=9)[0]
    (tmp_path / "units").write_text(
        "uttA " + " ".join(token_list[int(u)] for u in units) + "\n"
    )
    t = np.arange(int(1.8 * 22050)) / 22050
    sf.write(
        tmp_path / "a.wav",
        (0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 2 * t)).astype(
            "float32"
        ),
        22050,
    )
    out = tmp_path / "plots" / "entropy.png"
    rc = main(
        [
            "--lm_train_config",
            str(lm_files[0]),
            "--lm_file",
            str(lm_files[1]),
            "--units_text",
            str(tmp_path / "units"),
            "--utt",
            "uttA",
            "--audio",
            str(tmp_path / "a.wav"),
            "--threshold",
            "2.9",
            "--max_len",
            "10",
            "--feature",
            "whisper",
            "--lm_window",
            "32",
            "--lm_overlap",
            "8",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_plot_entropy_with_true_word_boundaries(tmp_path, lm_files, token_list, caplog):
    units = random_units(1, 60, len(token_list), seed=4)[0]
    (tmp_path / "units").write_text(
        "uttB " + " ".join(token_list[int(u)] for u in units) + "\n"
    )
    (tmp_path / "word.ctm").write_text(
        "uttB 1 0.10 0.40 THE\nuttB 1 0.50 0.60 FARMER\n"
    )
    args = [
        "--lm_train_config",
        str(lm_files[0]),
        "--lm_file",
        str(lm_files[1]),
        "--units_text",
        str(tmp_path / "units"),
        "--threshold",
        "2.9",
        "--feature",
        "hubert",
        "--word_ctm",
        str(tmp_path / "word.ctm"),
        "--lm_window",
        "64",
    ]
    assert main(args + ["--out", str(tmp_path / "w.png")]) == 0
    assert (tmp_path / "w.png").read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "word.ctm").write_text("other 1 0.10 0.40 THE\n")
    assert main(args + ["--out", str(tmp_path / "w2.png")]) == 0
    assert "no word boundaries drawn" in caplog.text


def test_plot_times_follow_the_extractors_frame_centres():
    """Issue 23, item 3: Whisper frame t is centred at 0.02 t s (MFCC/HuBERT: 0.02 t +
    12.5 ms); a segment start before unit t is drawn midway between two centres."""
    starts = np.array([1, 0, 0, 1, 0, 1], dtype=bool)
    x, b = plot_times(6, starts, 50.0, 0.0)  # whisper
    assert np.allclose(x, [0.0, 0.02, 0.04, 0.06, 0.08, 0.10])
    assert np.allclose(b, [0.05, 0.09])
    x, b = plot_times(6, starts, 50.0, 0.0125)  # hubert, mfcc
    assert np.allclose(x[:2], [0.0125, 0.0325])
    assert np.allclose(b, [0.0625, 0.1025])
