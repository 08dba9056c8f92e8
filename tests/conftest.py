"""Shared fixtures: a small unit token list and a randomly initialised unit LM saved in
ESPnet's on-disk format (config.yaml + .pth), as espnet2.bin.lm_train writes it."""

import os
import warnings
from pathlib import Path

import pytest
import torch

os.environ.setdefault("OMP_NUM_THREADS", "2")
warnings.filterwarnings("ignore", message=".*nltk.*")

NUM_UNITS = 20


def make_token_list(num_units: int = NUM_UNITS):
    return ["<blank>", "<unk>"] + [str(i) for i in range(num_units)] + ["<sos/eos>"]


SMALL_LM_CONF = dict(
    pos_enc="sinusoidal",
    embed_unit=16,
    att_unit=32,
    head=2,
    unit=64,
    layer=2,
    dropout_rate=0.0,
)


@pytest.fixture(scope="session")
def token_list():
    return make_token_list()


@pytest.fixture(scope="session")
def lm_files(tmp_path_factory, token_list):
    from espnet2_ext.entropy.unit_lm import write_lm_experiment

    return write_lm_experiment(
        tmp_path_factory.mktemp("lm"), token_list, SMALL_LM_CONF, seed=1
    )


@pytest.fixture(scope="session")
def unit_lm(lm_files):
    from espnet2_ext.entropy.unit_lm import UnitLM

    return UnitLM.from_files(*lm_files, window=16, overlap=6)


def random_units(B, T, vocab, seed=0, low=2):
    """Units with 50 Hz-like runs (ids in [low, vocab-1) -- no specials)."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(low, vocab - 1, (B * T,), generator=g)
    rep = torch.randint(1, 5, (B * T,), generator=g)
    return torch.repeat_interleave(ids, rep)[: B * T].view(B, T)


# --------------------------------------------------------------------------- Hub
# A stand-in for huggingface_hub.HfApi that records calls (upload_model's tests).
class _FakeHfApi:
    calls = []
    logged_in = True

    def __init__(self, token=None):
        self.token = token

    def whoami(self):
        if not self.logged_in:

            class LocalTokenNotFoundError(OSError):
                pass

            raise LocalTokenNotFoundError("Token is required")
        return {"name": "me"}

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, **kw):
        self.calls.append(("upload_folder", kw))
        assert (Path(kw["folder_path"]) / "README.md").is_file()
        assert (Path(kw["folder_path"]) / "meta.yaml").is_file()


@pytest.fixture
def fake_hub(monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")

    _FakeHfApi.calls = []
    _FakeHfApi.logged_in = True
    monkeypatch.setattr(huggingface_hub, "HfApi", _FakeHfApi)
    return _FakeHfApi
