"""Tests of espnet2_ext.bin.learning_curve on synthetic ESPnet train.log files."""

import csv
import logging
import math
from pathlib import Path

import pytest

from espnet2_ext.bin.learning_curve import (
    TrainLogError,
    format_markdown,
    learning_curve,
    main,
    parse_timespan,
    parse_train_log,
)

PREFIX = "[vm] 2026-12-01 03:45:33,626 (trainer:394) INFO: "


def epoch_line(epoch: int, train_time: str, count: int, acc: float, extra=()) -> str:
    """One trainer results line of an MT run (as espnet2's reporter writes it)."""
    train = (
        "iter_time=0.008, forward_time=0.531, loss_ctc=244.864, loss_att=54.240, "
        f"acc={acc:.3f}, loss=111.427, backward_time=0.441, grad_norm=56.601, "
        "clip=98.000, loss_scale=1.000, optim_step_time=0.013, optim0_lr0=4.060e-04, "
        f"train_time=1.004, time={train_time}, total_count={count}"
    )
    valid = (
        f"loss_ctc=64.460, cer_ctc=1.000, loss_att=39.539, acc={acc + 0.1:.3f}, "
        f"cer=0.893, wer=1.000, loss=47.015, time=2.1 seconds, total_count={9 * epoch}"
    )
    return f"{PREFIX}{epoch}epoch results: [train] {train}, [valid] {valid}" + "".join(
        extra
    )


MT_LOG = "\n".join(
    [
        "[nltk_data] Downloading package averaged_perceptron_tagger_eng to",
        "[nltk_data]     /root/nltk_data...",
        f"{PREFIX}Checkpoint: epoch 1",
        epoch_line(1, "3 minutes and 20.94 seconds", 200, 0.110),
        "[nltk_data]   Package averaged_perceptron_tagger_eng is already up-to-date!",
        epoch_line(2, "1 hour, 2 minutes and 3.5 seconds", 400, 0.200),
        f"{PREFIX}The best model has been updated: valid.acc",
        # epoch 2 logged again (rerun appended to the same log): the last one wins
        epoch_line(2, "45.5 seconds", 410, 0.250),
        epoch_line(3, "59 seconds", 610, 0.300),
        "",
    ]
)

LM_LOG = "\n".join(
    [
        f"{PREFIX}1epoch results: [train] iter_time=0.002, forward_time=0.010, "
        "loss=3.204, backward_time=0.011, optim_step_time=0.003, "
        "optim0_lr0=1.000e-03, train_time=0.030, time=1 minute and 2 seconds, "
        "total_count=50, [valid] loss=2.953, time=1 second, total_count=5",
        "[nltk_data] Error loading punkt: <urlopen error [Errno -3]>",
        f"{PREFIX}2epoch results: [train] iter_time=0.002, forward_time=0.010, "
        "loss=2.870, backward_time=0.011, optim_step_time=0.003, "
        "optim0_lr0=1.000e-03, train_time=0.030, time=58.25 seconds, "
        "total_count=100, [valid] loss=nan, time=0.98 seconds, total_count=10",
        "",
    ]
)


@pytest.fixture
def logs(tmp_path: Path):
    mt = tmp_path / "exp" / "mt_base"
    lm = tmp_path / "exp" / "lm_units"
    mt.mkdir(parents=True)
    lm.mkdir(parents=True)
    (mt / "train.log").write_text(MT_LOG)
    (lm / "train.log").write_text(LM_LOG)
    return mt, lm


def test_parse_timespan_formats():
    assert parse_timespan("0 seconds") == 0.0
    assert parse_timespan("1 second") == 1.0
    assert parse_timespan("2.1 seconds") == pytest.approx(2.1)
    assert parse_timespan("3 minutes and 20.94 seconds") == pytest.approx(200.94)
    assert parse_timespan("1 hour, 2 minutes and 3.5 seconds") == pytest.approx(3723.5)
    assert parse_timespan("1 hour and 4 seconds") == pytest.approx(3604.0)
    assert parse_timespan("2 days, 3 hours and 5 minutes") == pytest.approx(
        2 * 86400 + 3 * 3600 + 300
    )
    assert parse_timespan("4.060e-04") is None
    assert parse_timespan("minutes") is None


def test_parse_mt_log(logs):
    mt, _ = logs
    recs = parse_train_log(mt / "train.log")
    assert [r["epoch"] for r in recs] == [1, 2, 3]
    r1, r2, r3 = recs
    assert r1["train_time"] == pytest.approx(200.94)
    assert r1["train_total_count"] == 200 and isinstance(r1["train_total_count"], int)
    assert r1["train_acc"] == pytest.approx(0.110)
    assert r1["train_optim0_lr0"] == pytest.approx(4.06e-4)
    assert r1["train_train_time"] == pytest.approx(1.004)
    assert r1["valid_cer_ctc"] == pytest.approx(1.0)
    assert r1["valid_time"] == pytest.approx(2.1)
    assert r1["valid_total_count"] == 9
    # duplicated epoch 2: the last occurrence is kept
    assert r2["train_time"] == pytest.approx(45.5)
    assert r2["train_total_count"] == 410
    assert r2["valid_acc"] == pytest.approx(0.35)
    assert r3["train_time"] == pytest.approx(59.0)

    curve = learning_curve(recs)
    assert [c["updates"] for c in curve] == [200, 410, 610]
    assert [c["cum_train_seconds"] for c in curve] == pytest.approx(
        [200.94, 246.44, 305.44]
    )
    assert [c["cum_valid_seconds"] for c in curve] == pytest.approx([2.1, 4.2, 6.3])


def test_parse_lm_log(logs):
    _, lm = logs
    recs = parse_train_log(lm / "train.log")
    assert [r["epoch"] for r in recs] == [1, 2]
    assert "train_acc" not in recs[0] and "valid_acc" not in recs[0]
    assert recs[0]["train_time"] == pytest.approx(62.0)
    assert recs[0]["valid_time"] == pytest.approx(1.0)
    assert recs[0]["valid_loss"] == pytest.approx(2.953)
    assert math.isnan(recs[1]["valid_loss"])
    assert recs[1]["train_time"] == pytest.approx(58.25)


def test_gap_in_epochs_warns(tmp_path, caplog):
    log = tmp_path / "train.log"
    log.write_text(epoch_line(3, "10 seconds", 30, 0.5) + "\n")
    with caplog.at_level(logging.WARNING):
        curve = learning_curve(parse_train_log(log), "resumed")
    assert curve[0]["cum_train_seconds"] == pytest.approx(10.0)
    assert "epochs 1-2 are not in the log" in caplog.text


def test_cli_outputs(logs, tmp_path):
    mt, lm = logs
    out_csv = tmp_path / "out" / "curves.csv"
    out_md = tmp_path / "out" / "curves.md"
    out_png = tmp_path / "out" / "curves.png"
    rc = main(
        [
            "--exp",
            f"base={mt}",
            "--exp",
            str(lm / "train.log"),
            "--out_csv",
            str(out_csv),
            "--out_md",
            str(out_md),
            "--out_png",
            str(out_png),
        ]
    )
    assert rc == 0

    with out_csv.open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["experiment"], r["epoch"]) for r in rows] == [
        ("base", "1"),
        ("base", "2"),
        ("base", "3"),
        ("lm_units", "1"),
        ("lm_units", "2"),
    ]
    header = list(rows[0])
    assert header[:5] == [
        "experiment",
        "epoch",
        "updates",
        "cum_train_seconds",
        "cum_valid_seconds",
    ]
    assert {"train_loss", "valid_acc", "valid_wer", "train_optim0_lr0"} <= set(header)
    assert rows[2]["updates"] == "610"
    assert float(rows[2]["cum_train_seconds"]) == pytest.approx(305.44)
    assert rows[3]["valid_acc"] == ""  # LM: no acc
    assert float(rows[3]["cum_train_seconds"]) == pytest.approx(62.0)

    md = out_md.read_text().splitlines()
    assert md[0] == (
        "| experiment | epoch | updates | train min | valid acc | valid cer "
        "| valid cer_ctc | valid wer |"
    )
    assert md[1].startswith("|---|---:|")
    assert md[4] == "| base | 3 | 610 | 5.091 | 0.400 | 0.893 | 1.000 | 1.000 |"
    assert md[5] == "| lm_units | 1 | 50 | 1.033 | - | - | - | - |"

    png = out_png.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_lm_only_falls_back_to_valid_loss(logs, tmp_path, capsys):
    _, lm = logs
    out_png = tmp_path / "lm.png"
    rc = main(["--exp", str(lm), "--x", "updates", "--out_png", str(out_png)])
    assert rc == 0
    assert out_png.read_bytes()[:4] == b"\x89PNG"
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| experiment | epoch | updates | train min | valid loss |"
    assert table[2] == "| lm_units | 1 | 50 | 1.033 | 2.953 |"
    assert table[3] == "| lm_units | 2 | 100 | 2.004 | nan |"


def test_missing_log(tmp_path, logs, caplog):
    mt, _ = logs
    missing = tmp_path / "exp" / "nope"
    with pytest.raises(TrainLogError, match=str(missing / "train.log")):
        parse_train_log(missing / "train.log")
    empty = tmp_path / "empty.log"
    empty.write_text("[nltk_data] nothing here\n")
    with pytest.raises(TrainLogError, match="empty.log"):
        parse_train_log(empty)

    # no readable experiment: exit code 2, the file named in the error
    with caplog.at_level(logging.WARNING):
        assert main(["--exp", str(missing)]) == 2
    assert str(missing / "train.log") in caplog.text

    # one readable experiment: the other is skipped with a warning
    caplog.clear()
    out_csv = tmp_path / "one.csv"
    with caplog.at_level(logging.WARNING):
        rc = main(["--exp", str(missing), "--exp", str(mt), "--out_csv", str(out_csv)])
    assert rc == 0
    assert "skipping experiment nope" in caplog.text
    assert {r["experiment"] for r in csv.DictReader(out_csv.open())} == {"mt_base"}


def test_markdown_of_curves_directly(logs):
    mt, _ = logs
    curves = {"x": learning_curve(parse_train_log(mt / "train.log"))}
    md = format_markdown(curves, "valid_loss")
    assert md.splitlines()[0].endswith("| valid wer | valid loss |")
    assert md.endswith("\n")


def test_resumed_training_pieces_and_print_seconds(tmp_path: Path, capsys):
    """A training resumed by asr.sh: the earlier piece (train.log.1) counts too."""
    exp = tmp_path / "exp" / "asr_entropy"
    exp.mkdir(parents=True)
    # first piece: epochs 1-2, killed during epoch 3 (no results line for it)
    (exp / "train.log.1").write_text(
        "\n".join(
            [
                epoch_line(1, "100 seconds", 200, 0.1),
                epoch_line(2, "100 seconds", 400, 0.2),
                f"{PREFIX}3/4epoch started",
                "",
            ]
        )
    )
    # second piece: resumed at epoch 3
    (exp / "train.log").write_text(
        epoch_line(3, "50 seconds", 600, 0.3)
        + "\n"
        + epoch_line(4, "50 seconds", 800, 0.4)
    )
    records = parse_train_log(exp / "train.log")
    assert [int(r["epoch"]) for r in records] == [1, 2, 3, 4]
    curve = learning_curve(records)
    assert curve[-1]["cum_train_seconds"] == pytest.approx(300.0)
    assert curve[-1]["cum_valid_seconds"] == pytest.approx(4 * 2.1)
    assert main(["--exp", str(exp), "--print_seconds"]) == 0
    assert capsys.readouterr().out.strip() == str(round(300 + 4 * 2.1))
    # without the first piece the cumulative time would miss epochs 1-2
    (exp / "train.log.1").unlink()
    assert learning_curve(parse_train_log(exp / "train.log"))[-1][
        "cum_train_seconds"
    ] == pytest.approx(100)
