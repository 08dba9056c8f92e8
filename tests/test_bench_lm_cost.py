"""``espnet2_ext.bin.bench_lm_cost`` on a tiny configuration: the LibriSpeech recipe's
configs with the encoder, decoder, compressor and LMs shrunk by ``--set`` edits. The
report's structure and the consistency of its numbers are checked, never timings."""

import json
import statistics

import pytest
import torch

from espnet2_ext.bin.bench_lm_cost import main

SETS = {
    "--set": [
        "encoder_conf.output_size=32",
        "encoder_conf.attention_heads=2",
        "encoder_conf.linear_units=64",
        "encoder_conf.cgmlp_linear_units=64",
        "encoder_conf.cgmlp_conv_kernel=3",
        "encoder_conf.merge_conv_kernel=3",
        "encoder_conf.num_blocks=1",
        "decoder_conf.num_blocks=1",
        "decoder_conf.attention_heads=2",
        "decoder_conf.linear_units=64",
    ],
    "--dense_set": ["frontend_conf.embed_dim=32"],
    "--entropy_set": [
        "frontend_conf.d_model=32",
        "frontend_conf.num_heads=2",
        "frontend_conf.local_ffn=64",
        "frontend_conf.ffn=64",
        "frontend_conf.lm_window=32",
        "frontend_conf.lm_overlap=8",
    ],
}
TINY = [x for opt, values in SETS.items() for v in values for x in (opt, v)] + (
    "--vocab 20 --nbpe 30 --batch_size 2 --steps 2 --warmup 0 --mean_seconds 1.5 "
    "--std_seconds 0.5 --min_seconds 1.0 --max_seconds 2.0 --lm_sizes 1x16 2x16 "
    "--threads 1"
).split()


@pytest.fixture(autouse=True)
def _keep_threads():
    """main() sets torch's thread count; give the other tests theirs back."""
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.mark.timeout(120)
def test_bench_lm_cost_report(tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main(TINY + ["--out", str(out)]) == 0
    report = json.loads(out.read_text())
    names = ["dense", "entropy_1x16_fp32", "entropy_1x16_bf16", "entropy_2x16_fp32",
             "entropy_2x16_bf16"]  # fmt: skip
    assert list(report["methods"]) == names
    assert report["reference"] == "dense" and report["threads"] == 1
    assert len(report["load_average_1min"]) == 3  # at the start and after each batch
    assert report["model"]["encoder"] == "e_branchformer"  # the recipe's encoder
    assert report["model"]["encoder_conf"]["num_blocks"] == 1  # --set applied
    data = report["data"]
    assert len(data["seconds_per_batch"]) == 2
    assert all(1.0 <= s <= 2.0 for b in data["seconds_per_batch"] for s in b)
    assert data["units_per_batch"] == [
        round(sum(round(50 * s) for s in b)) for b in data["seconds_per_batch"]
    ]

    for size in ("1x16", "2x16"):
        lm = report["lm_sizes"][size]
        assert (
            lm["lm_conf"]["layer"] == int(size[0]) and lm["lm_conf"]["att_unit"] == 16
        )
        assert lm["lm_window"] == 32 and lm["params"] > 0
        assert abs(lm["achieved_rate"] - 15.0) < 2.0
        bf = lm["bfloat16"]
        assert 0 <= bf["max_abs_entropy_diff_nats"] < 0.1
        assert 0 <= bf["boundary_flip_fraction_of_units"] <= 1
        assert bf["segments_float32"] > 0 and bf["segments_bfloat16"] > 0

    dense = report["methods"]["dense"]
    assert len(dense["step_ms_samples"]) == 2
    for name in names:
        r = report["methods"][name]
        assert r["step_ms"] > 0 and r["params_trainable"] > 0
        assert r["step_ms"] == pytest.approx(statistics.median(r["step_ms_samples"]))
        assert r["fwd_ms"] > 0 and r["bwd_ms"] > 0 and r["opt_ms"] > 0
        assert r["samples_ms"]["step"] == r["step_ms_samples"]
        assert all(len(v) == 2 for v in r["samples_ms"].values())
        if name == "dense":
            continue
        ratios = [e / d for e, d in zip(r["step_ms_samples"], dense["step_ms_samples"])]
        assert r["step_vs_dense"] == pytest.approx(statistics.median(ratios))
        for part in ("lm", "segment", "compressor_fwd", "compressor_bwd"):
            assert r[f"{part}_ms"] > 0
        assert (
            r["compressor_fwd_ms"] < r["fwd_ms"]
            and r["compressor_bwd_ms"] < r["bwd_ms"]
        )
        shares = [r[f"{p}_share"] for p in ("lm", "segment", "compressor")]
        assert all(0 < s < 1 for s in shares) and sum(shares) < 1
        assert r["lm_size"] == name.split("_")[1]
        assert (
            r["lm_dtype"] == {"fp32": "float32", "bf16": "bfloat16"}[name.split("_")[2]]
        )
        assert 10.0 < r["segments_per_second"] < 20.0

    s = report["summary"]
    assert s["before"] == "entropy_1x16_fp32"
    assert s["lm_share_before"] == report["methods"]["entropy_1x16_fp32"]["lm_share"]
    assert set(s["after"]) == set(names[2:])
    for name, a in s["after"].items():
        m = report["methods"][name]
        assert a["lm_share"] == m["lm_share"]
        assert a["lm_ms_vs_before"] == pytest.approx(
            m["lm_ms"] / report["methods"]["entropy_1x16_fp32"]["lm_ms"]
        )
    printed = capsys.readouterr().out
    assert "LM share before (entropy_1x16_fp32)" in printed
    assert all(name in printed for name in names)


def test_bench_lm_cost_rejects_bad_options(tmp_path):
    assert main(TINY + ["--lm_sizes", "big"]) == 1
    assert main(TINY + ["--lm_dtypes", "float16"]) == 1
