"""Loading models without running pickled code, and refusing checkpoints that do not fit.

Issue 9, items 9 (pickles on load), 10 (a wrong LM checkpoint loaded silently) and 11
(unit tokens taken for file paths).
"""

import os
from pathlib import Path

import pytest
import torch

from conftest import SMALL_LM_CONF, make_token_list


class _Evil:
    """Unpickling this writes a marker file: stands for arbitrary code in a pickle."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "pwned"))


# --------------------------------------------------------------------------- item 10
def test_unit_lm_checkpoint_of_other_model_raises(tmp_path, lm_files):
    """A state dict of another model must not leave the LM randomly initialised."""
    from espnet2_ext.entropy.unit_lm import UnitLM, UnitLMError

    cfg, _ = lm_files
    other = tmp_path / "linear.pth"
    torch.save(torch.nn.Linear(4, 3).state_dict(), other)
    with pytest.raises(UnitLMError) as e:
        UnitLM.from_files(cfg, other)
    msg = str(e.value)
    assert "missing keys" in msg and "lm.embed.weight" in msg
    assert "unexpected keys (weight, bias)" in msg


def test_unit_lm_checkpoint_with_fewer_layers_raises(tmp_path, lm_files, token_list):
    """The same vocabulary and sizes but one layer less: ESPnet (strict=False) loaded it
    and left the second layer random."""
    from espnet2_ext.entropy.unit_lm import UnitLM, UnitLMError, write_lm_experiment

    cfg, _ = lm_files
    _, one_layer = write_lm_experiment(tmp_path / "l1", token_list, dict(SMALL_LM_CONF, layer=1))
    with pytest.raises(UnitLMError, match=r"missing keys \(lm\.encoder\.encoders\.1\."):
        UnitLM.from_files(cfg, one_layer)


def test_unit_lm_checkpoint_shape_mismatch_raises(tmp_path, lm_files, token_list):
    from espnet2_ext.entropy.unit_lm import UnitLM, UnitLMError, write_lm_experiment

    cfg, _ = lm_files
    _, other = write_lm_experiment(tmp_path / "v30", make_token_list(30), SMALL_LM_CONF)
    with pytest.raises(UnitLMError, match=r"shape mismatches \(lm\.embed\.weight: checkpoint "
                                          r"\[33, 16\] vs model \[23, 16\]"):
        UnitLM.from_files(cfg, other)


def test_unit_lm_right_checkpoint_loads(lm_files):
    from espnet2_ext.entropy.unit_lm import UnitLM

    cfg, ckpt = lm_files
    lm = UnitLM.from_files(cfg, ckpt)
    sd = torch.load(ckpt, weights_only=True)
    for k, v in lm.lm.state_dict().items():
        torch.testing.assert_close(v, sd["lm." + k])


def test_unit_lm_checkpoint_with_pickled_code_is_not_run(tmp_path, lm_files):
    from espnet2_ext.entropy.unit_lm import UnitLM, UnitLMError

    cfg, ckpt = lm_files
    sd = torch.load(ckpt, weights_only=True)
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.pth"
    torch.save(dict(sd, extra=_Evil(str(marker))), evil)
    with pytest.raises(UnitLMError, match="weights_only=True"):
        UnitLM.from_files(cfg, evil)
    assert not marker.exists()


def test_check_state_dict_names_a_few_of_each(tmp_path):
    from espnet2_ext.utils.checkpoint import CheckpointError, check_state_dict

    model = torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(8)])
    sd = {f"x{i}": torch.zeros(1) for i in range(9)}
    sd["0.weight"] = torch.zeros(3, 2)
    with pytest.raises(CheckpointError) as e:
        check_state_dict(model, sd, "ckpt")
    msg = str(e.value)
    assert "15 missing keys (0.bias, 1.weight, 1.bias, 2.weight, 2.bias, ... (+10 more))" in msg
    assert "9 unexpected keys (x0, x1, x2, x3, x4, ... (+4 more))" in msg
    assert "1 shape mismatches (0.weight: checkpoint [3, 2] vs model [2, 2])" in msg
    # keys of a frozen part loaded from elsewhere may be absent
    full = {k: v for k, v in model.state_dict().items() if not k.startswith("7.")}
    check_state_dict(model, full, "ckpt", ignore_missing=["7."])
