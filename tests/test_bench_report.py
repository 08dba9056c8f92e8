"""bench_report: results.csv columns, targets from the numbers, the PNG, RESULTS.md."""

import csv
import json
from pathlib import Path

import pytest

from espnet2_ext.bin import asr_results, bench_report


def _exp(
    root: Path,
    name: str,
    wers,
    tokens: int,
    units: int = 5000,
    params: int = 1000,
    train_seconds=None,
):
    d = root / f"bench_{name}"
    for dset, w in zip(("test", "test_unseen_voices"), wers):
        p = d / f"decode_{dset}"
        p.mkdir(parents=True)
        p.joinpath("score.json").write_text(
            json.dumps(
                {
                    "wer": w,
                    "errors": 1,
                    "words": 10,
                    "missing_hypotheses": 0,
                    "encoder_tokens": tokens,
                    "audio_seconds": units / 50.0,
                    "units": units,
                    "params": params,
                }
            )
        )
    if train_seconds is not None:
        (d / "train_seconds").write_text(f"{train_seconds}\n")
    return d


def test_report(tmp_path):
    methods = {
        "dense": ([50.0, 60.0], 5000),
        "dedup_bpe": ([48.0, 58.0], 2000),
        "fixed_pool_15": ([47.0, 59.0], 1600),
        "entropy_15": ([44.0, 55.0], 1500),
        "entropy_25": ([44.0, 56.0], 2500),
    }
    speed = {"threads": 1, "batch_size": 16, "decode_utts": 20, "methods": {}}
    args = []
    for i, (name, (w, tok)) in enumerate(methods.items()):
        d = _exp(tmp_path, name, w, tok, train_seconds=1000 - 100 * i)
        args += ["--method", f"{name}={d}"]
        speed["methods"][name] = {
            "train_step_ms": 100.0 / (i + 1),
            "decode_rtf": 0.5 / (i + 1),
            "params": 10 + i,
        }
    # two more seeds of entropy_15 (the same NAME again): WER 44, 46, 48 -> 46 +- 2
    for seed, w in ((1, [46.0, 57.0]), (2, [48.0, 53.0])):
        d = _exp(
            tmp_path, f"entropy_15_seed{seed}", w, 1500, train_seconds=700 + 30 * seed
        )
        args += ["--method", f"entropy_15={d}"]
    (tmp_path / "speed.json").write_text(json.dumps(speed))
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("# RESULTS\n\nrecipe table\n")
    out = tmp_path / "out"
    assert (
        bench_report.main(
            args
            + [
                "--speed",
                str(tmp_path / "speed.json"),
                "--outdir",
                str(out),
                "--results_md",
                str(results_md),
                "--command",
                "./run_benchmark.sh",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert list(rows[0].keys()) == [
        "method",
        "runs",
        "tokens_per_sec",
        "compression",
        "wer_test",
        "wer_test_sd",
        "wer_test_unseen_voices",
        "wer_test_unseen_voices_sd",
        "train_seconds",
        "train_step_ms",
        "decode_rtf",
        "train_step_ratio",
        "decode_rtf_ratio",
        "speed_runs",
        "params",
        "frozen_params",
    ]
    assert [r["method"] for r in rows] == list(methods)
    e = rows[3]
    assert (
        float(e["tokens_per_sec"]) == 15.0
        and abs(float(e["compression"]) - 50 / 15) < 1e-3
    )
    # three runs: means and sample sds; one run: empty sd
    assert (
        e["runs"] == "3"
        and float(e["wer_test"]) == 46.0
        and float(e["wer_test_sd"]) == 2.0
    )
    assert (
        float(e["wer_test_unseen_voices"]) == 55.0
        and float(e["wer_test_unseen_voices_sd"]) == 2.0
    )
    assert float(e["train_seconds"]) == 730.0
    assert (
        rows[0]["runs"] == "1"
        and rows[0]["wer_test_sd"] == ""
        and rows[0]["train_seconds"] == "1000"
    )
    md = (out / "results.md").read_text()
    assert "| entropy_15 | 3 | 15.0 |" in md and "46.0 ± 2.0" in md
    # entropy_15 has lower WER than dense, fixed_pool_15 and dedup_bpe (at a lower
    # rate); its speed ratios are 0.25 (train) and 0.25 (decode)
    assert md.count(": met") == 6 and "missed" not in md
    assert "training step entropy_15 / dense = 0.25" in md
    # 46 vs 47 (fixed_pool_15) on test is inside entropy_15's spread; 46 vs 50 (dense)
    # is not
    assert "inside the spread over seeds on test: difference 1.00, sd up to 2.00" in md
    assert "on test: 46.00 vs 50.00: met\n" in md
    png = (out / "results.png").read_bytes()
    assert png[:4] == b"\x89PNG"
    text = results_md.read_text()
    assert (
        text.startswith("# RESULTS")
        and "recipe table" in text
        and "## Benchmark" in text
    )
    # a second report replaces the section instead of appending another one
    bench_report.main(
        args
        + [
            "--speed",
            str(tmp_path / "speed.json"),
            "--outdir",
            str(out),
            "--results_md",
            str(results_md),
        ]
    )
    assert results_md.read_text().count("## Benchmark") == 1
    # the recipe's own RESULTS.md writer keeps the benchmark section
    asr_exp = tmp_path / "exp"
    _exp(asr_exp, "x", [10.0, 20.0], 100)
    asr_results.main(
        [
            "--expdir",
            str(asr_exp),
            "--exp_prefix",
            "bench",
            "--exps",
            "x",
            "--test_sets",
            "test",
            "test_unseen_voices",
            "--out",
            str(results_md),
        ]
    )
    text = results_md.read_text()
    assert "| x |" in text and text.count("## Benchmark") == 1


def test_missed_target_is_reported(tmp_path):
    args = []
    speed = {"methods": {}}
    for name, w in (("dense", [40.0, 50.0]), ("entropy_15", [45.0, 49.0])):
        d = _exp(tmp_path, name, w, 1000)
        args += ["--method", f"{name}={d}"]
        speed["methods"][name] = {"train_step_ms": 100.0, "decode_rtf": 0.5}
    (tmp_path / "s.json").write_text(json.dumps(speed))
    bench_report.main(
        args + ["--speed", str(tmp_path / "s.json"), "--outdir", str(tmp_path / "o")]
    )
    md = (tmp_path / "o" / "results.md").read_text()
    assert "on test: 45.00 vs 40.00: **missed**" in md
    assert "on test_unseen_voices: 49.00 vs 50.00: met" in md
    assert "(target <= 0.5): **missed**" in md


def test_readme_results_block_in_espnet_format(tmp_path):
    """asr.sh stage 12: ESPnet's RESULTS format (environment list, WER/CER tables) in a
    block of the recipe README; the hand-written text and the benchmark section stay."""
    exp = tmp_path / "exp"
    for name in ("dense", "entropy_rate15"):
        for dset in ("test", "test_unseen_voices"):
            p = exp / f"asr_{name}" / f"decode_{dset}"
            p.mkdir(parents=True)
            detail = {
                "words": 40,
                "corr": 90.0,
                "sub": 7.5,
                "del": 2.5,
                "ins": 1.25,
                "err": 11.25,
                "sent_err": 30.0,
            }
            p.joinpath("score.json").write_text(
                json.dumps(
                    {
                        "wer": 11.25,
                        "errors": 9,
                        "words": 80,
                        "utterances": 10,
                        "missing_hypotheses": 0,
                        "corr": 90.0,
                        "sub": 7.5,
                        "del": 2.5,
                        "ins": 1.25,
                        "err": 11.25,
                        "sent_err": 30.0,
                        "cer_detail": detail,
                        "tokens_per_sec": 15.0,
                        "compression": 3.3,
                        "params": 1_000_000,
                        "frozen_params": 500_000 if name != "dense" else 0,
                        "decode_seconds": 5.0,
                    }
                )
            )
    readme = tmp_path / "README.md"
    readme.write_text(
        "## How to run\n\n./run.sh\n\n"
        + asr_results.KEEP_MARKER
        + "\n\n## Benchmark\n\nold\n"
    )
    argv = [
        "--expdir",
        str(exp),
        "--exps",
        "dense",
        "entropy_rate15",
        "--test_sets",
        "test",
        "test_unseen_voices",
        "--out",
        str(readme),
        "--command",
        "./run.sh",
    ]
    assert asr_results.main(argv) == 0
    text = readme.read_text()
    assert text.startswith(
        asr_results.BEGIN + "\n# RESULTS\n## Environments\n- date: `"
    )
    for key in (
        "- python version: `3.",
        "- espnet version: `espnet ",
        "- pytorch version: `pytorch ",
        "- Git hash: `",
        "  - Commit date: `",
    ):
        assert key in text, key
    assert (
        "## asr_entropy_rate15\n### WER\n\n|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|S.Err|"
        in text
    )
    assert "|decode_test_unseen_voices|10|80|90.0|7.5|2.5|1.2|11.2|30.0|" in text
    assert (
        "### CER\n\n|dataset|Snt|Wrd|Corr|Sub|Del|Ins|Err|S.Err|\n"
        "|---|---|---|---|---|---|---|---|---|\n|decode_test|10|40|" in text
    )
    assert (
        "| entropy_rate15 | 15.0 | 3.30x | 1.00 M | 0.50 M | 11.25 | 11.25 | - | 10 |"
        in text
    )
    # rewritten in place: one block, the rest kept
    assert asr_results.main(argv) == 0
    text = readme.read_text()
    assert text.count("# RESULTS") == 1 and text.count(asr_results.BEGIN) == 1
    assert "## How to run\n\n./run.sh" in text and text.rstrip().endswith(
        "## Benchmark\n\nold"
    )


def test_partial_report_and_pieces(tmp_path):
    """A benchmark in progress: a run not scored yet and a method not timed yet are
    listed as missing, not fatal; speed from two pieces gives ratios taken inside each
    piece, then averaged; archived runs carry their provenance into the report."""
    dense = _exp(tmp_path, "dense", [40.0, 50.0], 5000)
    ent = _exp(tmp_path, "ent", [42.0, 52.0], 1500)
    (ent / "archived").write_text("2026-12-01T10:00Z, git abc1234, python 3.12.1\n")
    late = _exp(tmp_path, "late", [30.0, 30.0], 1500)
    pieces = []
    for i, (d, e) in enumerate(((100.0, 30.0), (200.0, 80.0))):
        p = tmp_path / f"speed{i}.json"
        methods = {
            "dense": {"train_step_ms": d, "decode_rtf": 1.0},
            "entropy_15": {"train_step_ms": e, "decode_rtf": 0.5},
        }
        p.write_text(json.dumps({"reference": "dense", "methods": methods}))
        pieces.append(str(p))
    args = [
        "--method",
        f"dense={dense}",
        "--method",
        f"entropy_15={ent}",
        "--method",
        f"entropy_15={tmp_path / 'not_yet'}",
        "--method",
        f"late={late}",
        "--speed",
        *pieces,
        "--outdir",
        str(tmp_path / "o"),
    ]
    assert bench_report.main(args) == 0
    rows = {r["method"]: r for r in csv.DictReader((tmp_path / "o/results.csv").open())}
    e = rows["entropy_15"]
    assert e["runs"] == "1" and e["speed_runs"] == "2"
    assert float(e["train_step_ratio"]) == 0.35  # (0.3 + 0.4) / 2
    assert float(e["train_step_ms"]) == 55.0 and float(e["decode_rtf_ratio"]) == 0.5
    assert rows["late"]["train_step_ms"] == "" and rows["late"]["speed_runs"] == "0"
    md = (tmp_path / "o/results.md").read_text()
    assert "**Partial report** (2 item(s) missing" in md
    assert "not_yet: not scored yet" in md and "- late: speed not measured yet" in md
    assert "- 2026-12-01T10:00Z, git abc1234, python 3.12.1: bench_ent" in md
    # each piece's command beside its provenance (--piece_command), and the command
    # line says it wrote the report, not every run
    piece = "./run_benchmark.sh --only_tags 'entropy_rate15'"
    extra = ["--piece_command", f"2026-12-01T10:00Z={piece}", "--command", "./rb.sh"]
    assert bench_report.main(args + extra) == 0
    md = (tmp_path / "o/results.md").read_text()
    assert (
        "- 2026-12-01T10:00Z, git abc1234, python 3.12.1: bench_ent; command: "
        f"`{piece}`" in md
    )
    assert "Report written by: `./rb.sh`; the runs were made in the pieces" in md
    assert "Produced by" not in md
    assert "Speed measured in 2 pieces" in md
    assert "training step entropy_15 / dense = 0.35 (target <= 0.5): met" in md
    # a speed file without the reference cannot give side-by-side ratios
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"methods": {"entropy_15": pieces and {}}}))
    with pytest.raises(KeyError, match="reference 'dense' was not measured"):
        bench_report.main(args[:-3] + [str(bad), "--outdir", str(tmp_path / "o")])


def test_a_results_block_names_its_writer_and_replaces_any_earlier_one(tmp_path):
    p = tmp_path / "README.md"
    p.write_text(asr_results.BEGIN + "\nold\n" + asr_results.END + "\n\n# notes\n")
    vc = "espnet2_ext.bin.vc_results (vc.sh stage 12)"
    asr_results.write_block(p, ["new"], writer=vc)
    text = p.read_text()
    assert "old" not in text and "new" in text and text.endswith("# notes\n")
    assert text.startswith(asr_results.begin_marker(vc))
    assert text.count(asr_results.BEGIN_PREFIX) == 1
