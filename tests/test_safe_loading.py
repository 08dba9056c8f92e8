"""Loading models without running pickled code; refusing checkpoints that do not fit.

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
    _, one_layer = write_lm_experiment(
        tmp_path / "l1", token_list, dict(SMALL_LM_CONF, layer=1)
    )
    with pytest.raises(UnitLMError, match=r"missing keys \(lm\.encoder\.encoders\.1\."):
        UnitLM.from_files(cfg, one_layer)


def test_unit_lm_checkpoint_shape_mismatch_raises(tmp_path, lm_files, token_list):
    from espnet2_ext.entropy.unit_lm import UnitLM, UnitLMError, write_lm_experiment

    cfg, _ = lm_files
    _, other = write_lm_experiment(tmp_path / "v30", make_token_list(30), SMALL_LM_CONF)
    with pytest.raises(
        UnitLMError,
        match=r"shape mismatches \(lm\.embed\.weight: checkpoint "
        r"\[33, 16\] vs model \[23, 16\]",
    ):
        UnitLM.from_files(cfg, other)


def test_unit_lm_right_checkpoint_loads(lm_files):
    from espnet2_ext.entropy.unit_lm import UnitLM

    cfg, ckpt = lm_files
    lm = UnitLM.from_files(cfg, ckpt, window=64)
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
    assert (
        "15 missing keys (0.bias, 1.weight, 1.bias, 2.weight, 2.bias, ... (+10 more))"
        in msg
    )
    assert "9 unexpected keys (x0, x1, x2, x3, x4, ... (+4 more))" in msg
    assert "1 shape mismatches (0.weight: checkpoint [3, 2] vs model [2, 2])" in msg
    # keys of a frozen part loaded from elsewhere may be absent
    full = {k: v for k, v in model.state_dict().items() if not k.startswith("7.")}
    check_state_dict(model, full, "ckpt", ignore_missing=["7."])


# --------------------------------------------------------------------- item 9a: k-means
def _km(k=5, d=3, seed=0):
    import numpy as np

    from espnet2_ext.units.kmeans import KMeansModel

    c = np.random.default_rng(seed).standard_normal((k, d)).astype(np.float32)
    return KMeansModel(c, {"seed": seed})


def test_kmeans_legacy_pickle_is_not_loaded_by_default(tmp_path):
    import joblib

    from espnet2_ext.units.kmeans import KMeansModel, UntrustedPickleError

    marker = tmp_path / "marker"
    path = tmp_path / "km.pkl"
    joblib.dump({"cluster_centers": _Evil(str(marker))}, str(path))
    with pytest.raises(UntrustedPickleError) as e:
        KMeansModel.load(str(path))
    assert not marker.exists()
    assert (
        f"python -m espnet2_ext.bin.convert_kmeans --trust_remote_pickle {path} "
        f"{tmp_path / 'km.npy'}"
    ) in str(e.value)


def test_kmeans_saved_as_plain_npy_and_loaded_without_pickle(tmp_path):
    import numpy as np

    from espnet2_ext.units.kmeans import KMeansModel

    km = _km()
    km.save(str(tmp_path / "km.npy"))
    raw = np.load(tmp_path / "km.npy", allow_pickle=False)  # a plain array on disk
    np.testing.assert_array_equal(raw, km.cluster_centers)
    back = KMeansModel.load(str(tmp_path / "km.npy"))
    np.testing.assert_array_equal(back.cluster_centers, km.cluster_centers)
    assert back.meta["n_clusters"] == 5
    # an .npy that needs pickle (object array) is refused, its code not run
    marker = tmp_path / "marker"
    evil = np.empty(1, dtype=object)
    evil[0] = _Evil(str(marker))
    np.save(tmp_path / "evil.npy", evil, allow_pickle=True)
    with pytest.raises(ValueError, match="not a plain numeric"):
        KMeansModel.load(str(tmp_path / "evil.npy"))
    assert not marker.exists()


def test_convert_kmeans_cli(tmp_path):
    import joblib
    import numpy as np

    from espnet2_ext.bin import convert_kmeans
    from espnet2_ext.units.kmeans import KMeansModel

    km = _km(seed=3)
    legacy = tmp_path / "km_mfcc_5.pkl"
    joblib.dump(
        {"cluster_centers": km.cluster_centers, "meta": {"seed": 3}}, str(legacy)
    )
    assert convert_kmeans.main([str(legacy)]) == 2  # the trust flag is required
    assert not (tmp_path / "km_mfcc_5.npy").exists()
    assert convert_kmeans.main([str(legacy), "--trust_remote_pickle"]) == 0
    back = KMeansModel.load(str(tmp_path / "km_mfcc_5.npy"))
    np.testing.assert_array_equal(back.cluster_centers, km.cluster_centers)
    assert back.meta["seed"] == 3
    # the legacy file itself loads only when trusted
    np.testing.assert_array_equal(
        KMeansModel.load(str(legacy), trust_pickle=True).cluster_centers,
        km.cluster_centers,
    )


def test_apply_kmeans_legacy_model_needs_trust_flag(tmp_path, capfd):
    import joblib
    import numpy as np

    from espnet2_ext.bin import apply_kmeans

    km = _km(k=4, d=3)
    feats = np.random.default_rng(0).standard_normal((20, 3)).astype(np.float32)
    np.save(tmp_path / "u1.npy", feats)
    scp = tmp_path / "feats.scp"
    scp.write_text(f"u1 {tmp_path / 'u1.npy'}\n")
    legacy = tmp_path / "km.pkl"
    joblib.dump({"cluster_centers": km.cluster_centers, "meta": {}}, str(legacy))
    out = tmp_path / "units.txt"
    args = ["--feats_scp", str(scp), "--km", str(legacy), "--out", str(out)]
    assert apply_kmeans.main(args) == 2
    assert "convert_kmeans" in capfd.readouterr().err and not out.exists()
    assert apply_kmeans.main(args + ["--trust_remote_pickle"]) == 0
    assert out.read_text().split()[1:] == [str(u) for u in km.predict(feats)]


def _units_sh(recipe: Path, *args: str) -> str:
    import subprocess
    import sys

    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    p = subprocess.run(
        ["./units.sh", "--python", sys.executable, *args],
        cwd=recipe,
        env=env,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    return p.stdout + p.stderr


def test_units_sh_stage3_writes_npy_and_converts_legacy_pkl(tmp_path):
    """Stage 3 of units.sh writes the plain .npy model and units.yaml names it; an
    experiment from before (a km_*.pkl written by the recipe) is converted, not
    refitted.
    """
    import joblib
    import numpy as np
    import yaml

    from espnet2_ext.units.kmeans import KMeansModel

    repo = Path(__file__).resolve().parents[1]
    recipe = tmp_path / "recipe"
    recipe.mkdir()
    for name in ("utils", "units.sh", "path.sh"):
        (recipe / name).symlink_to(repo / "egs2" / "TEMPLATE" / name)
    fdir = recipe / "dump/feats/mfcc/train"
    fdir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    lines = []
    for i in range(4):
        np.save(fdir / f"u{i}.npy", rng.standard_normal((50, 3)).astype(np.float32))
        lines.append(f"u{i} {fdir / f'u{i}.npy'}")
    (fdir / "feats.0.scp").write_text("\n".join(lines) + "\n")
    common = [
        "--stage",
        "3",
        "--stop_stage",
        "3",
        "--feature",
        "mfcc",
        "--n_clusters",
        "4",
        "--km_max_frames",
        "200",
        "--km_args",
        "--backend sklearn --n_init 1",
    ]
    _units_sh(recipe, *common)
    km_dir = recipe / "exp/kmeans"
    assert (km_dir / "km_mfcc_4.npy").is_file() and not list(km_dir.glob("*.pkl"))
    units = yaml.safe_load((km_dir / "units.yaml").read_text())
    assert units["kmeans"] == "exp/kmeans/km_mfcc_4.npy"
    assert KMeansModel.load(str(recipe / units["kmeans"])).n_clusters == 4

    # an older experiment: only the legacy joblib file
    legacy = _km(k=4, d=3, seed=7)
    for p in km_dir.glob("km_mfcc_4.npy*"):
        p.unlink()
    joblib.dump(
        {"cluster_centers": legacy.cluster_centers, "meta": {}},
        str(km_dir / "km_mfcc_4.pkl"),
    )
    out = _units_sh(recipe, *common)
    assert "converting" in out
    np.testing.assert_array_equal(
        KMeansModel.load(str(km_dir / "km_mfcc_4.npy")).cluster_centers,
        legacy.cluster_centers,
    )


# ---------------------------------------------------------------------- item 9b: HuBERT
def test_hubert_checkpoint_with_pickled_code_is_not_run_by_default(tmp_path):
    """A checkpoint that torch.load(weights_only=True) refuses is not re-read with
    weights_only=False unless the caller trusts it."""
    from espnet2_ext.units.features import HuBERTExtractor
    from espnet2_ext.units.hubert_loader import build_hubert, load_hubert

    marker = tmp_path / "marker"
    path = tmp_path / "hubert_fairseq.pt"
    torch.save({"model": {}, "cfg": _Evil(str(marker))}, path)
    with pytest.raises(RuntimeError, match="trust_pickle=True"):
        load_hubert(str(path))
    with pytest.raises(RuntimeError, match="weights_only=True"):
        HuBERTExtractor(checkpoint=str(path))
    assert not marker.exists()
    # a plain state dict needs no trust
    sd_path = tmp_path / "hubert_sd.pth"
    torch.save(build_hubert("base", seed=0).state_dict(), sd_path)
    _, _, desc = load_hubert(str(sd_path))
    assert desc.startswith("torchaudio")


# -------------------------------------------------------------------- item 9c: archives
def _tar(path: Path, members, mode="w:gz"):
    """members: [(TarInfo kwargs, bytes or None)]."""
    import io
    import tarfile

    with tarfile.open(path, mode) as tf:
        for kw, data in members:
            ti = tarfile.TarInfo(kw.pop("name"))
            for k, v in kw.items():
                setattr(ti, k, v)
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
    return path


META = b"files: {}\nyaml_files: {}\n"


def test_transcribe_refuses_archive_member_escaping_unpack_dir(tmp_path, caplog):
    """The issue's reproduction: a tar.gz member ../../escaped_marker was written two
    folders above --unpack_dir."""
    from espnet2_ext.bin.transcribe import main

    evil = _tar(
        tmp_path / "evil.tar.gz",
        [({"name": "meta.yaml"}, META), ({"name": "../../escaped_marker"}, b"x")],
    )
    out = tmp_path / "a" / "b" / "out"
    out.mkdir(parents=True)
    rc = main(["--model", str(evil), "--unpack_dir", str(out), str(tmp_path / "x.wav")])
    assert rc == 1
    assert "refusing to unpack member '../../escaped_marker'" in caplog.text
    assert "'..' in the path" in caplog.text
    assert not (tmp_path / "a" / "escaped_marker").exists()
    assert not list(tmp_path.rglob("escaped_marker"))
    assert not (out / "meta.yaml").exists()  # checked before anything is written


@pytest.mark.parametrize(
    "members,why",
    [
        ([({"name": "/tmp/abs_marker"}, b"x")], "absolute path"),
        ([({"name": "ok/../../up"}, b"x")], "'..' in the path"),
        (
            [({"name": "link", "type": b"2", "linkname": "../outside"}, None)],
            "points outside",
        ),
        (
            [({"name": "link", "type": b"2", "linkname": "/etc/passwd"}, None)],
            "absolute path",
        ),
        (
            [({"name": "d/link", "type": b"2", "linkname": "../../x"}, None)],
            "points outside",
        ),
        # a chain: l1 -> "." is inside, l2 -> l1/l1/.. resolves to the parent
        (
            [
                ({"name": "l1", "type": b"2", "linkname": "."}, None),
                ({"name": "l2", "type": b"2", "linkname": "l1/l1/.."}, None),
            ],
            "points at the target",
        ),
        (
            [
                ({"name": "l1", "type": b"2", "linkname": "sub"}, None),
                ({"name": "l2", "type": b"2", "linkname": "l1/../.."}, None),
            ],
            "passes through",
        ),
        (
            [
                ({"name": "link", "type": b"2", "linkname": "sub"}, None),
                ({"name": "link/file"}, b"x"),
            ],
            "under the archive's symlink",
        ),
        (
            [({"name": "hard", "type": b"1", "linkname": "../../etc/passwd"}, None)],
            "'..' in the path",
        ),
        (
            [({"name": "hard", "type": b"1", "linkname": "nothere"}, None)],
            "not a regular file",
        ),
        (
            [({"name": "dev", "type": b"3", "devmajor": 1, "devminor": 3}, None)],
            "character device",
        ),
        ([({"name": "blk", "type": b"4"}, None)], "block device"),
        ([({"name": "fifo", "type": b"6"}, None)], "FIFO"),
    ],
)
def test_safe_extract_refuses_unsafe_tar_members(tmp_path, members, why):
    from espnet2_ext.utils.archive import UnsafeArchiveError, safe_extract

    path = _tar(tmp_path / "m.tar.gz", [({"name": "meta.yaml"}, META)] + members)
    out = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchiveError, match="refusing to unpack member") as e:
        safe_extract(path, out)
    assert why in str(e.value)
    assert not out.exists() or not any(out.iterdir())  # nothing written
    assert not Path("/tmp/abs_marker").exists()


def test_safe_extract_normal_archives(tmp_path):
    import zipfile

    from espnet2_ext.utils.archive import UnsafeArchiveError, safe_extract

    members = [
        ({"name": "meta.yaml"}, META),
        ({"name": "exp", "type": b"5"}, None),
        ({"name": "exp/asr/model_10best.pth"}, b"weights"),
        (
            {
                "name": "exp/asr/valid.acc.ave.pth",
                "type": b"2",
                "linkname": "model_10best.pth",
            },
            None,
        ),
        (
            {
                "name": "exp/asr/copy.pth",
                "type": b"1",
                "linkname": "exp/asr/model_10best.pth",
            },
            None,
        ),
        ({"name": "./dump/tokens.txt"}, b"a\nb\n"),
    ]
    for mode, suffix in (
        ("w:gz", "tgz"),
        ("w", "tar"),
        ("w:bz2", "tar.bz2"),
        ("w:xz", "tar.xz"),
    ):
        out = tmp_path / suffix
        written = safe_extract(
            _tar(tmp_path / f"m.{suffix}", [(dict(kw), d) for kw, d in members], mode),
            out,
        )
        assert set(written) >= {
            "meta.yaml",
            "exp/asr/valid.acc.ave.pth",
            "dump/tokens.txt",
        }
        assert (out / "exp/asr/valid.acc.ave.pth").read_bytes() == b"weights"
        assert (out / "exp/asr/valid.acc.ave.pth").is_symlink()
        assert (out / "exp/asr/copy.pth").read_bytes() == b"weights"
        assert (out / "dump/tokens.txt").read_text() == "a\nb\n"
    with zipfile.ZipFile(tmp_path / "m.zip", "w") as zf:
        zf.writestr("meta.yaml", META)
        zf.writestr("exp/asr/model.pth", b"weights")
    safe_extract(tmp_path / "m.zip", tmp_path / "z")
    assert (tmp_path / "z/exp/asr/model.pth").read_bytes() == b"weights"
    # zipfile silently drops "..": refused here, with the member named
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("meta.yaml", META)
        zf.writestr("../../escaped_marker", b"x")
    with pytest.raises(UnsafeArchiveError, match="'../../escaped_marker'"):
        safe_extract(tmp_path / "evil.zip", tmp_path / "ez")
    # a symlink already in the target directory is not written through
    (tmp_path / "pre").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "pre/exp").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeArchiveError, match="resolves outside"):
        safe_extract(tmp_path / "m.zip", tmp_path / "pre")
    assert not any((tmp_path / "elsewhere").iterdir())


def test_unpack_model_and_upload_staging_use_the_checks(tmp_path):
    from espnet2_ext.asr_inference import ModelLoadError, unpack_model
    from espnet2_ext.bin.upload_model import UploadError, stage_model

    evil = _tar(
        tmp_path / "evil.tgz",
        [({"name": "meta.yaml"}, META), ({"name": "../escaped_marker"}, b"x")],
    )
    with pytest.raises(ModelLoadError, match="'../escaped_marker'"):
        unpack_model(evil, tmp_path / "u")
    with pytest.raises(UploadError, match="'../escaped_marker'"):
        stage_model(str(evil), str(tmp_path / "s"))
    assert not (tmp_path / "escaped_marker").exists()
    good = _tar(
        tmp_path / "good.tgz",
        [({"name": "meta.yaml"}, META), ({"name": "exp/x.pth"}, b"w")],
    )
    out = unpack_model(good, tmp_path / "g")
    assert (out / "meta.yaml").read_bytes() == META and (out / "exp/x.pth").is_file()
    assert (stage_model(str(good), str(tmp_path / "s2")) / "exp/x.pth").is_file()


# --------------------------------------------------------------------------- item 11
def _model_tree(root: Path):
    """Configs of a (not trained) model whose unit tokens and options are also names of
    files in the directory: only the path keys may be resolved."""
    import yaml

    tokens = ["<blank>", "<unk>", "5", "7", "3", "<sos/eos>"]
    (root / "lm").mkdir(parents=True)
    (root / "lm/config.yaml").write_text(
        yaml.safe_dump(
            {
                "lm": "transformer",
                "token_list": tokens,
                "lm_conf": {"pos_enc": "sinusoidal"},
            }
        )
    )
    (root / "lm/lm.pth").write_bytes(b"w")
    (root / "tokens_bpe.txt").write_text("<blank>\n<unk>\na\n<sos/eos>\n")
    cfg = {
        "model": "discrete_asr",
        "frontend": "entropy_compress",
        "frontend_conf": {
            "lm_train_config": "lm/config.yaml",
            "lm_file": "lm/lm.pth",
            "token_list": tokens,
            "rule": "global",
            "pool": "mean",
        },
        "src_token_list": tokens,
        "token_list": "tokens_bpe.txt",
        "encoder": "transformer",
        "encoder_conf": {"input_layer": "linear"},
    }
    (root / "asr").mkdir()
    (root / "asr/config.yaml").write_text(yaml.safe_dump(cfg))
    (root / "asr/model.pth").write_bytes(b"w")
    _km(k=10, d=3).save(str(root / "km.npy"))
    (root / "units.yaml").write_text(
        yaml.safe_dump(
            {
                "feature": "mfcc",
                "feature_conf": {"n_mfcc": 13},
                "kmeans": "km.npy",
                "n_clusters": 10,
            }
        )
    )
    for name in ("5", "7", "linear", "global", "mean", "mfcc", "<unk>"):
        (root / name).write_text("not a token\n")
    return cfg, tokens


def test_files_named_like_tokens_do_not_change_the_loaded_config(tmp_path, monkeypatch):
    from espnet2_ext.asr_inference import ResolvedModel

    cfg, tokens = _model_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    r = ResolvedModel(
        asr_train_config="asr/config.yaml",
        asr_model_file="asr/model.pth",
        units_config="units.yaml",
    )
    fc = r.asr_config["frontend_conf"]
    assert fc["token_list"] == tokens and r.asr_config["src_token_list"] == tokens
    assert (fc["rule"], fc["pool"]) == ("global", "mean")
    assert r.asr_config["encoder_conf"] == {"input_layer": "linear"}
    assert r.lm_config["token_list"] == tokens
    assert r.units_config["feature"] == "mfcc"
    # the real path keys are resolved
    assert fc["lm_file"] == str(tmp_path / "lm/lm.pth")
    assert fc["lm_train_config"] == str(tmp_path / "lm/config.yaml")
    assert r.asr_config["token_list"] == str(tmp_path / "tokens_bpe.txt")
    assert r.units_config["kmeans"] == str(tmp_path / "km.npy")


def test_pack_model_does_not_take_tokens_for_files(tmp_path, monkeypatch):
    import zipfile

    import yaml

    from espnet2_ext.bin.pack_model import config_refs, pack_model

    cfg, tokens = _model_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert [r[0] for r in config_refs(cfg, "asr")] == [
        ("token_list",),
        ("frontend_conf", "lm_train_config"),
        ("frontend_conf", "lm_file"),
    ]
    meta = pack_model(
        "asr/config.yaml",
        "asr/model.pth",
        "units.yaml",
        tmp_path / "p.zip",
        root=tmp_path,
    )
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        names = set(zf.namelist())
        packed = yaml.safe_load(zf.read(meta["yaml_files"]["asr_train_config"]))
    assert not names & {"5", "7", "linear", "global", "mean", "mfcc", "<unk>"}
    assert packed["frontend_conf"]["token_list"] == tokens
    assert packed["encoder_conf"] == {"input_layer": "linear"}
    assert packed["frontend_conf"]["lm_file"] == "lm/lm.pth" in names
    assert {"km.npy", "km.npy.json", "tokens_bpe.txt"} <= names


# --------------------------------------------------------------------------- item 9d
def test_mt_inference_wrapper_loads_checkpoints_safely(tmp_path, lm_files):
    """espnet2_ext.bin.mt_inference (the recipes' decoding) replaces ESPnet's
    weights_only=False / strict=False loading of MT and LM checkpoints."""
    from espnet2_ext.compat import LMTask, MTTask
    from espnet2_ext.utils.checkpoint import CheckpointError, use_safe_espnet_loaders

    name = "build_model_from_file"
    saved = {t: t.__dict__.get(name) for t in (MTTask, LMTask)}
    cfg, ckpt = lm_files
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.pth"
    torch.save(dict(torch.load(ckpt, weights_only=True), x=_Evil(str(marker))), evil)
    other = tmp_path / "other.pth"
    torch.save(torch.nn.Linear(2, 2).state_dict(), other)
    try:
        use_safe_espnet_loaders()
        with pytest.raises(CheckpointError, match="weights_only=True"):
            LMTask.build_model_from_file(cfg, evil, "cpu")
        assert not marker.exists()
        with pytest.raises(CheckpointError, match="missing keys"):
            LMTask.build_model_from_file(cfg, other, "cpu")
        model, _ = LMTask.build_model_from_file(cfg, ckpt, "cpu")
        ref = torch.load(ckpt, weights_only=True)
        for k, v in model.state_dict().items():
            torch.testing.assert_close(v, ref[k])
    finally:
        for t, v in saved.items():
            if v is None:
                if name in t.__dict__:
                    delattr(t, name)
            else:
                setattr(t, name, v)
