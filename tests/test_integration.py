"""End to end through the project's entry points: a unit LM trained by ESPnet's LM
task, a tiny ``discrete_asr`` model with ``frontend: entropy_compress`` trained by
``espnet2_ext.bin.mt_train``, then decoded by ``espnet2_ext.bin.mt_inference``."""

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORDS = "the cat sat on a mat dog ran far big red sun".split()
NUM_UNITS = 20


def _run(args, cwd, log):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    with open(log, "w") as f:
        p = subprocess.run(
            [sys.executable, "-m", *args],
            cwd=cwd,
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
        )
    if p.returncode != 0:
        raise AssertionError(
            f"{args[0]} failed (rc={p.returncode}):\n" + Path(log).read_text()[-4000:]
        )


def _write_data(d: Path, n: int, seed: int):
    """Kaldi-style text files: units (each character -> a run of 2-4 units) and text."""
    rng = random.Random(seed)
    d.mkdir(parents=True)
    units, text, ushape, tshape = [], [], [], []
    for i in range(n):
        sent = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 4)))
        u = []
        for c in sent:
            u += [str((ord(c) * 7) % NUM_UNITS)] * rng.randint(2, 4)
        uid = f"utt{i:03d}"
        units.append(f"{uid} {' '.join(u)}")
        text.append(f"{uid} {sent}")
        ushape.append(f"{uid} {len(u)}")
        tshape.append(f"{uid} {len(sent)}")
    (d / "units").write_text("\n".join(units) + "\n")
    (d / "text").write_text("\n".join(text) + "\n")
    (d / "units_shape").write_text("\n".join(ushape) + "\n")
    (d / "text_shape").write_text("\n".join(tshape) + "\n")


@pytest.mark.timeout(900)
def test_train_and_decode_discrete_asr_with_entropy_compress(tmp_path):
    _write_data(tmp_path / "train", 16, seed=0)
    _write_data(tmp_path / "valid", 4, seed=1)
    src_tokens = (
        ["<blank>", "<unk>"] + [str(i) for i in range(NUM_UNITS)] + ["<sos/eos>"]
    )
    chars = sorted({c for w in WORDS for c in w})
    tgt_tokens = ["<blank>", "<unk>", "<space>"] + chars + ["<sos/eos>"]
    (tmp_path / "src_tokens.txt").write_text("\n".join(src_tokens) + "\n")
    (tmp_path / "tgt_tokens.txt").write_text("\n".join(tgt_tokens) + "\n")
    common = [
        "--use_tensorboard",
        "false",
        "--use_matplotlib",
        "false",
        "--ngpu",
        "0",
        "--num_workers",
        "0",
        "--seed",
        "0",
        "--max_epoch",
        "2",
        "--batch_type",
        "folded",
        "--batch_size",
        "4",
        "--optim",
        "adam",
        "--optim_conf",
        "lr=0.002",
        "--num_att_plot",
        "0",
    ]

    # 1. unit LM with ESPnet's own LM task
    lm_conf = tmp_path / "lm.yaml"
    lm_conf.write_text(
        yaml.safe_dump(
            {
                "lm": "transformer",
                "lm_conf": {
                    "pos_enc": "sinusoidal",
                    "embed_unit": 16,
                    "att_unit": 32,
                    "head": 2,
                    "unit": 64,
                    "layer": 1,
                },
            }
        )
    )
    _run(
        [
            "espnet2.bin.lm_train",
            "--config",
            str(lm_conf),
            "--token_list",
            "src_tokens.txt",
            "--token_type",
            "word",
            "--output_dir",
            "exp/lm",
            "--train_data_path_and_name_and_type",
            "train/units,text,text",
            "--valid_data_path_and_name_and_type",
            "valid/units,text,text",
            "--train_shape_file",
            "train/units_shape",
            "--valid_shape_file",
            "valid/units_shape",
            "--fold_length",
            "150",
            *common,
        ],
        tmp_path,
        tmp_path / "lm.log",
    )
    assert (tmp_path / "exp/lm/valid.loss.ave.pth").exists() or (
        tmp_path / "exp/lm/2epoch.pth"
    ).exists()
    lm_file = "exp/lm/2epoch.pth"

    # 2. discrete ASR with the entropy_compress frontend, through our entry point
    asr_conf = tmp_path / "asr.yaml"
    asr_conf.write_text(
        yaml.safe_dump(
            {
                "model": "discrete_asr",
                "model_conf": {"ctc_weight": 0.3, "lsm_weight": 0.1},
                "frontend": "entropy_compress",
                "frontend_conf": {
                    "lm_train_config": "exp/lm/config.yaml",
                    "lm_file": lm_file,
                    "threshold": 1.0,
                    "max_len": 4,
                    "d_model": 32,
                    "num_heads": 2,
                    "local_ffn": 64,
                    "ffn": 64,
                    "lm_window": 32,
                    "lm_overlap": 8,
                },
                "encoder": "transformer",
                "encoder_conf": {
                    "output_size": 32,
                    "attention_heads": 2,
                    "linear_units": 64,
                    "num_blocks": 1,
                    "input_layer": "linear",
                },
                "decoder": "transformer",
                "decoder_conf": {
                    "attention_heads": 2,
                    "linear_units": 64,
                    "num_blocks": 1,
                },
            }
        )
    )
    asr_args = [
        "espnet2_ext.bin.mt_train",
        "--config",
        str(asr_conf),
        "--src_token_list",
        "src_tokens.txt",
        "--token_list",
        "tgt_tokens.txt",
        "--src_token_type",
        "word",
        "--token_type",
        "char",
        "--output_dir",
        "exp/asr",
        "--train_data_path_and_name_and_type",
        "train/units,src_text,text",
        "--train_data_path_and_name_and_type",
        "train/text,text,text",
        "--valid_data_path_and_name_and_type",
        "valid/units,src_text,text",
        "--valid_data_path_and_name_and_type",
        "valid/text,text,text",
        "--train_shape_file",
        "train/units_shape",
        "--train_shape_file",
        "train/text_shape",
        "--valid_shape_file",
        "valid/units_shape",
        "--valid_shape_file",
        "valid/text_shape",
        "--fold_length",
        "150",
        "--fold_length",
        "150",
        *common,
    ]
    _run(asr_args, tmp_path, tmp_path / "asr.log")
    cfg = yaml.safe_load((tmp_path / "exp/asr/config.yaml").read_text())
    assert cfg["frontend"] == "entropy_compress"
    assert cfg["frontend_conf"]["token_list"] == src_tokens  # saved with the experiment
    assert (tmp_path / "exp/asr/2epoch.pth").exists()

    # 3. decode through our inference entry point
    _run(
        [
            "espnet2_ext.bin.mt_inference",
            "--mt_train_config",
            "exp/asr/config.yaml",
            "--mt_model_file",
            "exp/asr/2epoch.pth",
            "--output_dir",
            "decode",
            "--data_path_and_name_and_type",
            "valid/units,src_text,text",
            "--beam_size",
            "2",
            "--maxlenratio",
            "3.0",
            "--ngpu",
            "0",
        ],
        tmp_path,
        tmp_path / "dec.log",
    )
    hyp = (tmp_path / "decode/1best_recog/text").read_text().splitlines()
    ids = sorted(line.split(maxsplit=1)[0] for line in hyp)
    assert ids == [f"utt{i:03d}" for i in range(4)]

    # an interrupted training (1 epoch, then resumed to 2) ends with the same weights
    # as the uninterrupted one: ESPnet reseeds every epoch and the checkpoint carries
    # the optimizer and scheduler
    import torch

    resumed = [a if a != "exp/asr" else "exp/asr_resumed" for a in asr_args]
    i = resumed.index("--max_epoch")
    _run(resumed[: i + 1] + ["1"] + resumed[i + 2 :], tmp_path, tmp_path / "r1.log")
    assert not (tmp_path / "exp/asr_resumed/2epoch.pth").exists()
    _run(resumed + ["--resume", "true"], tmp_path, tmp_path / "r2.log")
    log2 = (tmp_path / "r2.log").read_text()  # resumed, not retrained from the start
    assert "was resumed" in log2 and "2epoch results" in log2
    assert "1epoch results" not in log2
    a = torch.load(tmp_path / "exp/asr/2epoch.pth", weights_only=True)
    b = torch.load(tmp_path / "exp/asr_resumed/2epoch.pth", weights_only=True)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k

    # multi-process data parallel (DDP), the ESPnet way, on CPU: two ranks of
    # mt_train with the gloo backend (what --multiprocessing_distributed launches, one
    # process per GPU, with nccl). Each rank builds its own frontend, so the frozen unit
    # LM lives with its replica; it is not a parameter, so DDP neither broadcasts nor
    # all-reduces it, and the checkpoint holds the ASR model only.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ddp = [a if a != "exp/asr" else "exp/asr_ddp" for a in asr_args]
    i = ddp.index("--max_epoch")
    ddp = ddp[: i + 1] + ["1"] + ddp[i + 2 :]
    ddp += ["--dist_backend", "gloo", "--multiprocessing_distributed", "false"]
    procs = []
    for rank in (0, 1):
        env = dict(
            os.environ,
            OMP_NUM_THREADS="1",
            PYTHONWARNINGS="ignore",
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE="2",
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
        )
        log = open(tmp_path / f"ddp{rank}.log", "w")
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", *ddp],
                    cwd=tmp_path,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    for rank, (p, log) in enumerate(procs):
        rc = p.wait(timeout=600)
        log.close()
        text = (tmp_path / f"ddp{rank}.log").read_text()
        assert rc == 0, text[-4000:]
    import re

    # rank 0 logs (ESPnet's prefix [host:rank/world_size]; rank 1 logs errors only)
    text = (tmp_path / "ddp0.log").read_text()
    assert re.search(r"\[[^\]]*:0/2\]", text) and "1epoch results" in text
    sd = torch.load(tmp_path / "exp/asr_ddp/1epoch.pth", weights_only=True)
    assert not any("unit_lm" in k or k.startswith("frontend._lm") for k in sd)
    assert sd.keys() == a.keys()
