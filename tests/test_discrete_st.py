"""discrete_st: the ST model with a CTC on the source transcript (espnet2_ext/st)."""

import argparse

import numpy as np
import pytest
import torch

from espnet2_ext.compat import MTTask
from espnet2_ext.tasks.mt import CompressMTTask

UNITS = ["<blank>", "<unk>"] + [str(i) for i in range(20)] + ["<sos/eos>"]
TGT = ["<blank>", "<unk>", "ich", "du", "ihn", "▁", "<sos/eos>"]
SRC_TR = ["<blank>", "<unk>", "a", "b", "c", "d", "<sos/eos>"]


def _args(tmp_path, model_conf: str, extra=()) -> argparse.Namespace:
    (tmp_path / "units.txt").write_text("\n".join(UNITS) + "\n")
    (tmp_path / "tgt.txt").write_text("\n".join(TGT) + "\n")
    (tmp_path / "src_tr.txt").write_text("\n".join(SRC_TR) + "\n")
    return CompressMTTask.get_parser().parse_args(
        [
            "--model", "discrete_st",
            "--model_conf", model_conf,
            "--src_token_list", str(tmp_path / "units.txt"),
            "--token_list", str(tmp_path / "tgt.txt"),
            "--src_token_type", "word",
            "--token_type", "word",
            "--src_transcript_token_list", str(tmp_path / "src_tr.txt"),
            "--src_transcript_token_type", "word",
            "--frontend", "embed",
            "--frontend_conf", "embed_dim=16",
            "--encoder", "transformer",
            "--encoder_conf", "output_size=16",
            "--encoder_conf", "num_blocks=1",
            "--encoder_conf", "linear_units=32",
            "--encoder_conf", "input_layer=linear",
            "--decoder", "transformer",
            "--decoder_conf", "num_blocks=1",
            "--decoder_conf", "linear_units=32",
            "--output_dir", str(tmp_path / "exp"),
            *extra,
        ]
    )  # fmt: skip


def _batch(b=3, t=40, s=5, n=4):
    g = torch.Generator().manual_seed(0)
    return dict(
        src_text=torch.randint(2, 22, (b, t), generator=g),
        src_text_lengths=torch.tensor([t, t - 5, t - 9][:b]),
        text=torch.randint(2, 6, (b, n), generator=g),
        text_lengths=torch.tensor([n, n - 1, n - 2][:b]),
        src_transcript=torch.randint(2, 6, (b, s), generator=g),
        src_transcript_lengths=torch.tensor([s, s - 1, s - 3][:b]),
    )


def test_source_ctc_trains_the_encoder_and_weights_the_loss(tmp_path):
    args = _args(tmp_path, "src_ctc_weight=0.4")
    torch.manual_seed(0)
    model = CompressMTTask.build_model(args)
    assert type(model).__name__ == "DiscreteSTModel"
    # the token list is stored in model_conf: the saved config is portable
    assert args.model_conf["src_transcript_token_list"] == SRC_TR
    assert model.src_ctc.ctc_lo.out_features == len(SRC_TR)
    model.eval()  # no dropout: the losses below are deterministic
    batch = _batch()
    loss, stats, w = model(**batch)
    assert int(w) == 3
    expected = 0.6 * stats["loss_att"] + 0.4 * stats["loss_src_ctc"]
    assert torch.allclose(loss.detach(), expected, rtol=1e-5)
    assert stats["cer_src_ctc"] is not None  # reported on validation
    # its gradient reaches the encoder through the source CTC alone
    model.zero_grad()
    loss_ctc = model.src_ctc(
        model.encode(batch["src_text"], batch["src_text_lengths"])[0],
        model.encode(batch["src_text"], batch["src_text_lengths"])[1],
        batch["src_transcript"],
        batch["src_transcript_lengths"],
    )
    loss_ctc.backward()
    g = [p.grad for p in model.encoder.parameters() if p.grad is not None]
    assert g and sum(float(x.abs().sum()) for x in g) > 0
    assert all(p.grad is None for p in model.decoder.parameters())


def _padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """x with -1 after each row's length, as ESPnet's collate pads token ids."""
    x = x.clone()
    x[torch.arange(x.shape[1])[None] >= lengths[:, None]] = -1
    return x


def test_loss_computed_independently(tmp_path):
    """The loss equals one computed here from the encoder output with plain PyTorch:
    (1 - w) x the decoder's cross entropy (no label smoothing, summed over tokens,
    divided by the batch size) + w x the CTC loss on the source transcript (summed,
    divided by the batch size), w = 0.4."""
    import torch.nn.functional as F

    args = _args(tmp_path, "src_ctc_weight=0.4")
    torch.manual_seed(0)
    model = CompressMTTask.build_model(args).eval()
    batch = _batch()
    batch["text"] = _padded(batch["text"], batch["text_lengths"])
    batch["src_transcript"] = _padded(
        batch["src_transcript"], batch["src_transcript_lengths"]
    )
    with torch.no_grad():
        loss, _, _ = model(**batch)
        enc, enc_lens = model.encode(batch["src_text"], batch["src_text_lengths"])
        B, sos = enc.shape[0], len(TGT) - 1
        text, lens = batch["text"], batch["text_lengths"]
        ys_in = torch.full((B, int(lens.max()) + 1), sos)  # <sos> y, <eos> padded
        ys_out = torch.full((B, int(lens.max()) + 1), -100)  # y <eos>, ignored pad
        for b in range(B):
            y = text[b, : lens[b]]
            ys_in[b, 1 : lens[b] + 1] = y
            ys_out[b, : lens[b]] = y
            ys_out[b, lens[b]] = sos
        logits, _ = model.decoder(enc, enc_lens, ys_in, lens + 1)
        ce = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ys_out.reshape(-1), reduction="sum"
        )
        log_probs = model.src_ctc.ctc_lo(enc).log_softmax(-1).transpose(0, 1)
        ctc = F.ctc_loss(
            log_probs,
            batch["src_transcript"].clamp_min(0),
            enc_lens,
            batch["src_transcript_lengths"],
            blank=0,
            reduction="sum",
            zero_infinity=True,
        )
    want = 0.6 * ce / B + 0.4 * ctc / B
    assert float(loss) == pytest.approx(float(want), rel=1e-4)


def test_without_source_ctc_the_loss_is_the_decoders(tmp_path):
    args = _args(tmp_path, "src_ctc_weight=0.0")
    model = CompressMTTask.build_model(args).eval()
    batch = _batch()
    batch.pop("src_transcript"), batch.pop("src_transcript_lengths")
    loss, stats, _ = model(**batch)
    assert model.src_ctc is None and "loss_src_ctc" not in stats
    assert torch.allclose(loss.detach(), stats["loss_att"])


def test_clear_errors(tmp_path):
    model = CompressMTTask.build_model(_args(tmp_path, "src_ctc_weight=0.3"))
    batch = _batch()
    batch.pop("src_transcript"), batch.pop("src_transcript_lengths")
    with pytest.raises(ValueError, match="src_transcript"):
        model(**batch)
    with pytest.raises(ValueError, match="not monotonic"):
        CompressMTTask.build_model(_args(tmp_path, "ctc_weight=0.3"))
    args = _args(tmp_path, "src_ctc_weight=0.3")
    args.src_transcript_token_list = None
    with pytest.raises(ValueError, match="token list"):
        CompressMTTask.build_model(args)


def test_espnets_own_mt_task_rebuilds_it_from_the_saved_config(tmp_path):
    """Inference (ESPnet's Text2Text) builds the model with MTTask, not ours: the saved
    config alone must give the same parameters, without the transcript arguments."""
    args = _args(tmp_path, "src_ctc_weight=0.3")
    model = CompressMTTask.build_model(args)
    saved = argparse.Namespace(**vars(args))
    saved.src_transcript_token_list = None  # not an MTTask argument
    again = MTTask.build_model(saved)
    a, b = model.state_dict(), again.state_dict()
    assert a.keys() == b.keys()
    assert all(a[k].shape == b[k].shape for k in a)
    again.load_state_dict(a, strict=True)


def test_the_preprocessor_tokenises_the_transcript(tmp_path):
    args = _args(tmp_path, "src_ctc_weight=0.3")
    pre = CompressMTTask.build_preprocess_fn(args, train=True)
    out = pre("u1", {"text": "ich du", "src_text": "3 4 5", "src_transcript": "a c d"})
    np.testing.assert_array_equal(out["src_transcript"], [2, 4, 5])
    np.testing.assert_array_equal(out["text"], [2, 3])
    np.testing.assert_array_equal(out["src_text"], [5, 6, 7])
    assert CompressMTTask.optional_data_names(train=True) == ("src_transcript",)
    assert CompressMTTask.optional_data_names(inference=True) == ()
