"""egs2/TEMPLATE/pyscripts/segment_stats.py on a hand example."""

import json
import runpy
import sys
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).parents[1] / "egs2/TEMPLATE/pyscripts/segment_stats.py"


def test_segment_stats_by_hand(tmp_path, monkeypatch):
    tokens = ["<blank>", "<unk>", "a", "b", "c", "<sos/eos>"]
    (tmp_path / "tokens.txt").write_text("\n".join(tokens) + "\n")
    # windows of 2: u1 -> [a a][b b][c]; u2 -> [a b][a b][a b]
    (tmp_path / "units").write_text("u1 a a b b c\nu2 a b a b a b\n")
    exp = tmp_path / "exp_fixed"
    exp.mkdir()
    conf = dict(
        frontend="fixed_pool",
        frontend_conf=dict(pool_size=2, d_model=8, num_heads=2, local_ffn=8, ffn=8),
        src_token_list=str(tmp_path / "tokens.txt"),
    )
    (exp / "config.yaml").write_text(yaml.safe_dump(conf))
    dense = tmp_path / "exp_dense"
    dense.mkdir()
    (dense / "config.yaml").write_text(yaml.safe_dump(dict(frontend="embed")))
    out = tmp_path / "stats"
    argv = [
        str(SCRIPT),
        "--units",
        str(tmp_path / "units"),
        "--exp",
        f"fixed={exp}",
        "--exp",
        f"dense={dense}",
        "--out",
        str(out),
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as e:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert e.value.code == 0
    (row,) = json.loads(Path(f"{out}.json").read_text())  # dense: skipped
    assert row["segments"] == 6
    assert row["segments_per_s"] == round(6 / (11 / 50), 2)
    assert row["one_unit"] == round(1 / 6, 3)
    assert row["units_in_5plus"] == 0.0
    assert row["mean_len"] == round(11 / 6, 2)
    assert row["distinct_ids"] == 1.5  # (1 + 1 + 1 + 2 + 2 + 2) / 6
    assert row["starts_at_change"] == 1.0  # every window edge is a unit change
    assert "| fixed | 27.27 | 0.167 |" in Path(f"{out}.md").read_text()
