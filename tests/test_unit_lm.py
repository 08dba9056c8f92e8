import pytest
import torch

from conftest import SMALL_LM_CONF, make_token_list, random_units
from espnet2_ext.entropy.unit_lm import UnitLM, UnitLMError, write_lm_experiment


def _direct_entropy(lm_module, units_row, sos):
    """Entropy from one plain LM forward over <sos> + units (no windows or batching)."""
    x = torch.cat([torch.tensor([sos]), units_row[:-1]])[None]
    with torch.no_grad():
        logits, _ = lm_module(x, None)
    logp = logits.log_softmax(-1)[0]
    return -(logp.exp() * logp).sum(-1)


def test_entropy_matches_direct_forward_and_definition(unit_lm, token_list):
    units = random_units(1, 12, len(token_list))
    h = unit_lm.entropy(units, torch.tensor([12]))
    ref = _direct_entropy(unit_lm.lm, units[0], unit_lm.sos)
    assert h.shape == (1, 12)
    torch.testing.assert_close(h[0], ref, atol=1e-5, rtol=1e-5)
    # entropy of a distribution over V tokens lies in [0, log V]
    assert bool((h >= 0).all()) and bool(
        (h <= torch.log(torch.tensor(len(token_list))) + 1e-4).all()
    )


def test_batch_equals_each_utterance_alone(unit_lm, token_list):
    units = random_units(3, 40, len(token_list), seed=3)
    lengths = torch.tensor([40, 7, 23])
    units[1, 7:] = 0
    units[2, 23:] = 5  # padding content must not matter
    h = unit_lm.entropy(units, lengths)
    for b in range(3):
        n = int(lengths[b])
        alone = unit_lm.entropy(units[b : b + 1, :n], lengths[b : b + 1])
        torch.testing.assert_close(h[b, :n], alone[0], atol=1e-5, rtol=1e-5)
        assert bool((h[b, n:] == 0).all())


def test_windowed_equals_full_context_where_window_covers_it(lm_files, token_list):
    units = random_units(2, 50, len(token_list), seed=4)
    lengths = torch.tensor([50, 33])
    big = UnitLM.from_files(*lm_files, window=64, overlap=8)
    small = UnitLM.from_files(*lm_files, window=16, overlap=6)
    h_big = big.entropy(units, lengths)
    h_small = small.entropy(units, lengths)
    for b in range(2):
        n = int(lengths[b])
        full = _direct_entropy(big.lm, units[b, :n], big.sos)
        # window >= sequence: identical to one forward over the whole sequence
        torch.testing.assert_close(h_big[b, :n], full, atol=1e-5, rtol=1e-5)
        # the first window covers positions 0..15 with their full context
        torch.testing.assert_close(h_small[b, :16], full[:16], atol=1e-5, rtol=1e-5)
        # later positions: exactly the entropy of an LM run on the window's context
        x = torch.cat([torch.tensor([big.sos]), units[b, : n - 1]])
        hop = 16 - 6
        for i in range(16, n):
            k = (i - 6) // hop
            ctx = x[k * hop : i + 1][None]
            with torch.no_grad():
                logp = big.lm(ctx, None)[0].log_softmax(-1)[0, -1]
            assert i - k * hop >= 6  # at least `overlap` units of left context
            torch.testing.assert_close(
                h_small[b, i], -(logp.exp() * logp).sum(), atol=1e-5, rtol=1e-5
            )


def test_no_truncation_of_long_sequences(unit_lm, token_list):
    units = random_units(1, 200, len(token_list), seed=5)
    h = unit_lm.entropy(units, torch.tensor([200]))
    assert h.shape == (1, 200) and bool((h > 0).all())


def test_frozen(unit_lm, token_list):
    assert all(not p.requires_grad for p in unit_lm.parameters())
    unit_lm.train()
    assert not unit_lm.lm.training
    units = random_units(1, 10, len(token_list))
    assert not unit_lm.entropy(units, torch.tensor([10])).requires_grad


def test_unit_ids_outside_vocabulary(unit_lm, token_list):
    units = random_units(2, 10, len(token_list))
    units[1, 4] = len(token_list) + 3
    with pytest.raises(UnitLMError, match="outside the LM vocabulary"):
        unit_lm.entropy(units, torch.tensor([10, 10]))
    units[1, 4] = -2
    with pytest.raises(UnitLMError, match="outside the LM vocabulary"):
        unit_lm.entropy(units, torch.tensor([10, 10]))


def test_empty_sequences(unit_lm, token_list):
    units = random_units(2, 10, len(token_list))
    with pytest.raises(UnitLMError, match="empty unit sequence"):
        unit_lm.entropy(units, torch.tensor([10, 0]))


def test_token_list_mismatch(unit_lm, token_list):
    unit_lm.check_token_list(token_list)
    swapped = list(token_list)
    swapped[3], swapped[4] = swapped[4], swapped[3]
    with pytest.raises(UnitLMError, match="first difference at id 3"):
        unit_lm.check_token_list(swapped)
    with pytest.raises(UnitLMError, match="sizes differ"):
        unit_lm.check_token_list(token_list[:-2] + ["<sos/eos>"])


def test_missing_or_unreadable_checkpoint(tmp_path, lm_files):
    cfg, ckpt = lm_files
    with pytest.raises(UnitLMError, match="LM checkpoint not found"):
        UnitLM.from_files(cfg, tmp_path / "nope.pth")
    with pytest.raises(UnitLMError, match="LM config not found"):
        UnitLM.from_files(tmp_path / "nope.yaml", ckpt)
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"this is not a checkpoint")
    with pytest.raises(UnitLMError, match="cannot load the unit LM"):
        UnitLM.from_files(cfg, bad)
    # a checkpoint of another shape
    other_cfg, other_ckpt = write_lm_experiment(
        tmp_path / "other", make_token_list(30), SMALL_LM_CONF
    )
    with pytest.raises(UnitLMError, match="cannot load the unit LM"):
        UnitLM.from_files(cfg, other_ckpt)


def test_minus_inf_logit_gives_finite_entropy_and_nan_logits_raise(
    lm_files, token_list
):
    """Issue 9 item 3: a token the LM rules out (-inf logit) used to give
    exp(-inf) * -inf = NaN, silently read as "no boundary"."""
    lm = UnitLM.from_files(*lm_files, window=64)
    units = random_units(2, 12, len(token_list), seed=5)
    lengths = torch.tensor([12, 9])
    with torch.no_grad():
        lm.lm.decoder.bias[3] = float("-inf")
    h = lm.entropy(units, lengths)
    assert bool(torch.isfinite(h).all())
    # equal to the entropy of the distribution over the other tokens
    x = torch.cat([torch.tensor([lm.sos]), units[0, :-1]])[None]
    with torch.no_grad():
        logits, _ = lm.lm(x, None)
    p = logits[0, :, [v for v in range(logits.size(-1)) if v != 3]].softmax(-1)
    torch.testing.assert_close(h[0], -(p * p.log()).sum(-1), atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        lm.lm.decoder.bias[3] = float("nan")
    with pytest.raises(UnitLMError, match="non-finite entropies"):
        lm.entropy(units, lengths)


def test_window_defaults_to_the_longest_training_sequence_and_chunking_is_exact(
    tmp_path, lm_files, token_list
):
    """Issue 9 item 4: without lm_window the LM scores whole utterances up to the
    longest sequence it was trained on (its train_shape_file) and windows only past
    it; the memory bound (rows x L^2 per call) does not change the entropies."""
    import yaml

    shape = tmp_path / "units_shape"
    shape.write_text("a 30\nb 57\nc 12\n")
    cfg = yaml.safe_load(lm_files[0].read_text())
    cfg["train_shape_file"] = [str(shape)]
    cfg_path = tmp_path / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    lm = UnitLM.from_files(cfg_path, lm_files[1])
    assert (lm.window, lm.overlap) == (58, 29)
    units = random_units(3, 80, len(token_list), seed=9)
    lengths = torch.tensor([57, 80, 20])
    h = lm.entropy(units, lengths)
    # 57 units fit: scored whole, exactly as one plain forward
    torch.testing.assert_close(
        h[0, :57], _direct_entropy(lm.lm, units[0, :57], lm.sos), atol=1e-5, rtol=1e-5
    )
    # one row per LM call (the bound) gives the same entropies
    tight = UnitLM.from_files(cfg_path, lm_files[1], max_attention_elements=58 * 58)
    torch.testing.assert_close(tight.entropy(units, lengths), h, atol=1e-5, rtol=1e-5)
    # no shape file and no window: a clear error
    del cfg["train_shape_file"]
    cfg_path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(
        UnitLMError, match="give lm_window; set lm_window .*--lm_window"
    ):
        UnitLM.from_files(cfg_path, lm_files[1])
