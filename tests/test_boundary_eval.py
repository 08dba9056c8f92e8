"""espnet2_ext.bin.boundary_eval end to end on synthetic units, a random unit LM and a
hand-made CTM whose phone boundaries sit exactly on 3-unit windows."""

import json

import pytest
import torch

from conftest import random_units
from espnet2_ext.bin.boundary_eval import (
    fixed_starts,
    main,
    parse_method,
    random_starts,
    unit_change_starts,
)

LENGTHS = [60, 75, 90, 75, 60, 90, 75, 60]  # units; multiples of 15 (0.3 s)


def write_ctms(tmp_path, utts, shift=0.0):
    """Words of 0.3 s and phones of 0.06 s up to 0.3 s before the end (silence), all
    times moved by ``shift`` seconds."""
    words, phones = [], []
    for utt, n in utts:
        end = (n - 15) * 0.02
        for k in range(round(end / 0.3)):
            words.append(f"{utt} 1 {0.3 * k + shift:.4f} 0.3000 W{k}\n")
        for k in range(round(end / 0.06)):
            phones.append(f"{utt} 1 {0.06 * k + shift:.4f} 0.0600 p{k % 7}\n")
    words.append("not_in_units 1 0.0 0.3 X\n")
    (tmp_path / "word.ctm").write_text("".join(words))
    (tmp_path / "phone.ctm").write_text("".join(phones))


def test_boundary_eval_end_to_end(tmp_path, lm_files, token_list):
    units = random_units(len(LENGTHS) + 1, 90, len(token_list), seed=5)
    names = [f"utt{i}" for i in range(len(LENGTHS))]
    lines = [
        f"{u} " + " ".join(token_list[int(x)] for x in units[i, :n])
        for i, (u, n) in enumerate(zip(names, LENGTHS))
    ]
    lines.append("utt_no_ctm " + " ".join(token_list[int(x)] for x in units[-1, :50]))
    (tmp_path / "units").write_text("\n".join(lines) + "\n")
    write_ctms(tmp_path, list(zip(names, LENGTHS)))
    out = tmp_path / "eval"
    rc = main(
        [
            "--units",
            str(tmp_path / "units"),
            "--lm_train_config",
            str(lm_files[0]),
            "--lm_file",
            str(lm_files[1]),
            "--word_ctm",
            str(tmp_path / "word.ctm"),
            "--phone_ctm",
            str(tmp_path / "phone.ctm"),
            "--target_rates",
            "25 15 8",
            "--feature",
            "hubert",
            "--lm_window",
            "32",
            "--lm_overlap",
            "8",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    assert res["counts"] == {
        "in": 9,
        "out": 8,
        "skipped": 1,
        "skipped_reasons": {"missing_word_ctm": 1},
        "ctm_utterances_without_units": {"word": 1, "phone": 0},
    }
    rows = {(r["method"], r["target_rate"]): r for r in res["rows"]}
    for rate in (25.0, 15.0, 8.0):
        for m in ("fixed", "fixed_frac", "random", "global", "relative", "combined"):
            assert (m, rate) in rows, (m, rate)
        assert rows[("fixed_frac", rate)]["rate"] == pytest.approx(rate, rel=0.06)
        assert rows[("random", rate)]["rate"] == pytest.approx(rate, rel=0.06)
        assert rows[("global", rate)]["rate"] == pytest.approx(rate, rel=0.1)
    # 3-unit windows (15/s -> n = 3) sit on every phone boundary (+2.5 ms), and on every
    # word boundary, which is every 5th phone boundary
    fixed15 = rows[("fixed", 15.0)]
    assert fixed15["phone"]["precision"] == 1.0 and fixed15["phone"]["recall"] == 1.0
    assert fixed15["word"]["recall"] == 1.0
    assert fixed15["word"]["precision"] == pytest.approx(0.2)
    # reference: phone boundaries every 0.06 s in the speech region, first start out
    n_phone = sum((n - 15) // 3 for n in LENGTHS)
    assert res["reference"]["phone"]["boundaries"] == n_phone
    # the units' own changes: one row at their own rate (target "-")
    uc = rows[("unit_change", None)]
    n_starts = sum(
        1 + int((units[i, 1:n] != units[i, : n - 1]).sum())
        for i, n in enumerate(LENGTHS)
    )
    assert uc["rate"] == pytest.approx(n_starts / (sum(LENGTHS) * 0.02))
    assert [r["method"] for r in res["rows"]].count("unit_change") == 1
    # unreachable settings are reported, not fatal; every row is in the table
    table = (out / "boundary_f1.md").read_text()
    assert table.count("\n| ") == len(res["rows"]) + 1
    assert "| unit_change | - |" in table
    png = (out / "boundary_f1.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) < 200_000


def test_fixed_and_random_starts():
    lengths = torch.tensor([20, 7])
    exact = fixed_starts(lengths, 20, 50 / 15, exact=True)
    assert torch.nonzero(exact[0]).flatten().tolist() == [0, 3, 7, 10, 13, 17]
    assert torch.nonzero(exact[1]).flatten().tolist() == [0, 3]
    win = fixed_starts(lengths, 20, 50 / 15, exact=False)
    assert torch.nonzero(win[0]).flatten().tolist() == [0, 3, 6, 9, 12, 15, 18]
    r = random_starts(torch.tensor([100, 10, 1]), 100, 10.0, 50.0, seed=0)
    assert r.sum(1).tolist() == [20, 2, 1] and r[:, 0].all()
    assert not r[1, 10:].any() and not r[2, 1:].any()
    assert torch.equal(r, random_starts(torch.tensor([100, 10, 1]), 100, 10.0, 50.0, 0))


def test_unit_change_starts():
    ids = torch.tensor([[3, 3, 5, 5, 5, 3, 7, 0], [4, 4, 4, 9, 0, 0, 0, 0]])
    starts = unit_change_starts(ids, torch.tensor([8, 4]))
    assert torch.nonzero(starts[0]).flatten().tolist() == [0, 2, 5, 6, 7]
    assert torch.nonzero(starts[1]).flatten().tolist() == [0, 3]  # padding: none


def test_parse_method():
    assert parse_method("global_min2") == ("global", 2)
    assert parse_method("fixed_frac") == ("fixed_frac", 1)
    with pytest.raises(ValueError):
        parse_method("fixed_min2")
    with pytest.raises(ValueError):
        parse_method("nope")


def test_boundary_times_follow_the_extractors_frame_centres(
    tmp_path, lm_files, token_list
):
    """Issue 23, item 3: a Whisper frame t is centred at 0.02 t s, an MFCC/HuBERT frame
    at 0.02 t + 0.0125 s; the boundary before unit t sits midway between two centres,
    so 12.5 ms earlier for Whisper units. Phones every 3 units whose boundaries sit
    exactly where Whisper's would (0.06 k - 0.01 s): with a 5 ms tolerance, fixed
    3-unit windows hit all of them scored as Whisper units and none as HuBERT units."""
    from espnet2_ext.metrics.boundaries import boundary_offset, starts_to_times
    from espnet2_ext.units.features import frame_centre

    assert frame_centre("whisper") == 0.0
    assert frame_centre("hubert") == frame_centre("mfcc") == 0.0125
    assert boundary_offset(frame_centre("hubert")) == pytest.approx(0.0025)
    assert boundary_offset(frame_centre("whisper")) == pytest.approx(-0.01)
    starts = torch.zeros(1, 8, dtype=torch.bool)
    starts[0, [0, 5]] = True
    times, _ = starts_to_times(starts, offset=boundary_offset(0.0))
    assert times.tolist() == [[pytest.approx(0.09)]]

    units = random_units(len(LENGTHS), 90, len(token_list), seed=5)
    lines = [
        f"utt{i} " + " ".join(token_list[int(x)] for x in units[i, :n])
        for i, n in enumerate(LENGTHS)
    ]
    (tmp_path / "units").write_text("\n".join(lines) + "\n")
    write_ctms(tmp_path, [(f"utt{i}", n) for i, n in enumerate(LENGTHS)], -0.01)
    base = [
        "--units",
        str(tmp_path / "units"),
        "--lm_train_config",
        str(lm_files[0]),
        "--lm_file",
        str(lm_files[1]),
        "--word_ctm",
        str(tmp_path / "word.ctm"),
        "--phone_ctm",
        str(tmp_path / "phone.ctm"),
        "--target_rates",
        "15",
        "--methods",
        "fixed",
        "--tolerance",
        "0.005",
        "--lm_window",
        "32",
    ]
    precision = {}
    for feature in ("whisper", "hubert"):
        out = tmp_path / feature
        assert main(base + ["--feature", feature, "--out", str(out)]) == 0
        (row,) = json.loads((out / "results.json").read_text())["rows"]
        precision[feature] = row["phone"]["precision"]
    assert precision == {"whisper": 1.0, "hubert": 0.0}
    # neither the extractor nor an explicit offset: a clear error
    assert main(base + ["--out", str(tmp_path / "none")]) == 2


def test_boundary_eval_with_an_lm_over_deduplicated_units(
    tmp_path, lm_files, token_list
):
    """--lm_dedup: the entropy rules' starts fall on run starts only."""
    units = random_units(len(LENGTHS), 90, len(token_list), seed=6)
    units[:, 1::3] = units[:, 0::3]
    units[:, 2::3] = units[:, 0::3]  # runs of 3 units (or longer): starts at 3k only
    names = [f"utt{i}" for i in range(len(LENGTHS))]
    lines = [
        f"{u} " + " ".join(token_list[int(x)] for x in units[i, :n])
        for i, (u, n) in enumerate(zip(names, LENGTHS))
    ]
    (tmp_path / "units").write_text("\n".join(lines) + "\n")
    write_ctms(tmp_path, list(zip(names, LENGTHS)))
    out = tmp_path / "eval"
    args = ["--units", str(tmp_path / "units"), "--lm_train_config", str(lm_files[0])]
    args += ["--lm_file", str(lm_files[1]), "--word_ctm", str(tmp_path / "word.ctm")]
    args += ["--phone_ctm", str(tmp_path / "phone.ctm"), "--target_rates", "8"]
    args += ["--feature", "hubert", "--lm_window", "32", "--lm_overlap", "8"]
    args += ["--methods", "global", "--max_len", "0", "--lm_dedup", "true"]
    assert main(args + ["--out", str(out)]) == 0
    (row,) = json.loads((out / "results.json").read_text())["rows"]
    assert row["details"]["snap_to_unit_start"] is True
    assert row["rate"] == pytest.approx(8, rel=0.15)
    # every start sits on a run start: on the 3-unit grid, so every one hits a phone
    # boundary (phones are 3 units long)
    assert row["phone"]["precision"] == 1.0
