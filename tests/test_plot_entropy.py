import numpy as np
import soundfile as sf

from espnet2_ext.bin.plot_entropy import main

from conftest import random_units


def test_plot_entropy_writes_png(tmp_path, lm_files, token_list):
    units = random_units(1, 90, len(token_list), seed=9)[0]
    (tmp_path / "units").write_text("uttA " + " ".join(token_list[int(u)] for u in units) + "\n")
    t = np.arange(int(1.8 * 22050)) / 22050
    sf.write(tmp_path / "a.wav", (0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(2 * np.pi * 2 * t)).astype("float32"), 22050)
    out = tmp_path / "plots" / "entropy.png"
    rc = main(["--lm_train_config", str(lm_files[0]), "--lm_file", str(lm_files[1]),
               "--units_text", str(tmp_path / "units"), "--utt", "uttA", "--audio", str(tmp_path / "a.wav"),
               "--threshold", "2.9", "--max_len", "10", "--lm_window", "32", "--lm_overlap", "8",
               "--out", str(out)])
    assert rc == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
