#!/usr/bin/env python3
"""Stage a packed model with a README model card, and upload it to the Hugging Face Hub.

    python -m espnet2_ext.bin.upload_model --model exp/asr_x/packed.zip \\
        --outdir exp/asr_x/hf --hf_repo user/espnet2_ext_asr_x [--private] [--token ...]

Any pack of ``espnet2_ext.bin.pack_model``: an ASR / speech translation model (meta.yaml
``task: asr``) or a unit-to-mel voice conversion model (``task: vc``, ESPnet's TTS
names ``tts_train_config`` / ``tts_model_file``); the card describes each in its terms
(VC: the frontend, decoder, features and vocoder, and ``espnet2_ext.bin.convert``).

The staged directory is the packed archive's content as it is (``meta.yaml`` at the
top, archive-relative paths in the YAML files, as ESPnet's own Hub uploads are), plus a
``README.md`` model card summarising the configuration. ``espnet_model_zoo`` downloads
such a repository and rewrites the paths on its side; ``Speech2Text.from_pretrained``
and ``espnet2_ext.bin.transcribe --model <dir>`` take the directory directly.

Without ``--hf_repo`` only the directory is written (check it before uploading). With
it, ``huggingface_hub`` (imported only then) creates the repository if needed and
uploads the directory; log in first (``hf auth login`` / ``huggingface-cli login``),
set ``HF_TOKEN``, or pass ``--token``.
"""

import argparse
import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from espnet2_ext.bin.pack_model import (
    ARCHIVE_SUFFIXES,
    ASR_CONFIG,
    ASR_MODEL,
    TTS_CONFIG,
    TTS_MODEL,
    UNIT_LM_CONFIG,
    UNITS_CONFIG,
    load_yaml,
)
from espnet2_ext.utils.archive import safe_extract

REPO_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$")


class UploadError(RuntimeError):
    """The model cannot be staged or uploaded."""


# --------------------------------------------------------------------------- staging
def _relativize(value: Any, members: List[str]) -> Any:
    """Absolute paths into an unpacked model -> the archive names they came from."""
    if isinstance(value, dict):
        return {k: _relativize(v, members) for k, v in value.items()}
    if isinstance(value, list):
        return [_relativize(v, members) for v in value]
    if isinstance(value, str) and os.path.isabs(value):
        posix = Path(value).as_posix()
        for m in members:
            if posix.endswith("/" + m):
                return m
    return value


def stage_model(model: str, outdir: str, overwrite: bool = False) -> Path:
    """The packed model's files in ``outdir`` with archive-relative YAML paths."""
    src, out = Path(model), Path(outdir)
    if not src.exists():
        raise UploadError(f"model not found: {src}")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise UploadError(f"{out} exists and is not empty (use --overwrite)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    if src.is_file():
        try:  # path checks on every member before anything is written
            safe_extract(src, out)
        except ValueError as e:  # UnsafeArchiveError, or not an archive
            raise UploadError(str(e)) from e
    else:  # an unpacked directory: copy it, making the YAML paths relative again
        if not (src / "meta.yaml").is_file():
            raise UploadError(f"{src} is not a packed model directory (no meta.yaml)")
        members = []
        for dirpath, _, files in os.walk(src, followlinks=True):
            for f in files:
                members.append(
                    Path(os.path.relpath(os.path.join(dirpath, f), src)).as_posix()
                )
        # not part of the model: espnet_model_zoo's lock/flag files and the link to the
        # archive it unpacked
        members = [
            m
            for m in members
            if not (
                m.endswith(".lock")
                or m == ".done"
                or ("/" not in m and m.endswith(ARCHIVE_SUFFIXES))
            )
        ]
        meta = load_yaml(src / "meta.yaml", "meta.yaml")
        yaml_names = set((meta.get("yaml_files") or {}).values())
        by_len = sorted(members, key=len, reverse=True)
        for m in members:
            (out / m).parent.mkdir(parents=True, exist_ok=True)
            if m in yaml_names:
                d = _relativize(load_yaml(src / m, m), by_len)
                (out / m).write_text(
                    yaml.safe_dump(d, sort_keys=False, allow_unicode=True),
                    encoding="utf-8",
                )
            else:
                shutil.copyfile(src / m, out / m)
    if not (out / "meta.yaml").is_file():
        raise UploadError(f"{src}: no meta.yaml at the top: not a packed model")
    return out


# --------------------------------------------------------------------------- model card
def _count_params(path: Path) -> Optional[int]:
    try:
        import torch

        sd = torch.load(path, map_location="cpu", weights_only=True)
        return int(sum(v.numel() for v in sd.values() if hasattr(v, "numel")))
    except Exception as e:  # not fatal: the card says n/a
        logging.warning("cannot count the parameters of %s: %s", path, e)
        return None


# the entropy frontend's segmentation options, as a model card lists them
SEGMENT_KEYS = (
    "rule",
    "threshold",
    "rel_threshold",
    "max_len",
    "min_len",
    "max_len_mode",
)


def _fmt(conf: Optional[Dict[str, Any]], keys: Sequence[str]) -> str:
    conf = conf or {}
    parts = [f"{k}={conf[k]}" for k in keys if conf.get(k) is not None]
    return ", ".join(parts)


def _frontend_conf_with_defaults(
    frontend: Optional[str], conf: Dict[str, Any]
) -> Dict[str, Any]:
    """The frontend's effective options: its constructor defaults, then the config."""
    import inspect

    from espnet2_ext.tasks.mt import OUR_FRONTENDS

    cls = OUR_FRONTENDS.get(frontend or "")
    if cls is None:
        return dict(conf)
    sig = inspect.signature(cls.__init__)
    defaults = {
        k: p.default
        for k, p in sig.parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    return {**defaults, **conf}


def _abbreviate_lists(d: Any, max_items: int = 8) -> Any:
    if isinstance(d, dict):
        return {k: _abbreviate_lists(v, max_items) for k, v in d.items()}
    if isinstance(d, list) and len(d) > max_items:
        return d[:max_items] + [f"... ({len(d)} entries in all)"]
    return d


def _units_rows(
    units: Dict[str, Any], lm: Optional[Dict[str, Any]], front_desc: str
) -> List[Tuple[str, str]]:
    """Model-card rows shared by every task: the units, the frontend, the unit LM."""
    feat_conf = units.get("feature_conf") or {}
    feat = f"{units.get('feature', '?')} features"
    if feat_conf:
        feat += f" ({_fmt(feat_conf, list(feat_conf))})"
    rows = [
        (
            "units",
            f"{feat} -> k-means, K={units.get('n_clusters', '?')}, "
            f"{units.get('unit_rate', 50)} units/s",
        ),
        ("frontend", front_desc),
    ]
    if lm is not None:
        lm_desc = _fmt(lm.get("lm_conf"), ["layer", "att_unit", "unit", "head"])
        rows.append(("unit LM", f"{lm.get('lm')} ({lm_desc}), frozen"))
    return rows


def model_card(
    staged: Path,
    repo_id: Optional[str] = None,
    license: Optional[str] = None,
    language: Optional[Sequence[str]] = None,
    results: Optional[str] = None,
    tag: Optional[str] = None,
) -> str:
    """README.md text for a staged model (front matter + summary + usage + config):
    an ASR / speech translation pack, or a VC pack (:func:`vc_model_card`)."""
    meta = load_yaml(staged / "meta.yaml", "meta.yaml")
    yf, files = meta.get("yaml_files") or {}, meta.get("files") or {}
    task = meta.get("task") or ("vc" if TTS_CONFIG in yf else "asr")
    if task == "vc":
        return vc_model_card(staged, repo_id, license, language, results, tag)
    if task != "asr":
        raise UploadError(f"meta.yaml: unknown task {task!r} (asr or vc)")
    if ASR_CONFIG not in yf:
        raise UploadError("meta.yaml names no asr_train_config")
    cfg = load_yaml(staged / yf[ASR_CONFIG], "ASR config")
    units = (
        load_yaml(staged / yf[UNITS_CONFIG], "units config")
        if UNITS_CONFIG in yf
        else {}
    )
    lm = (
        load_yaml(staged / yf[UNIT_LM_CONFIG], "unit LM config")
        if UNIT_LM_CONFIG in yf
        else None
    )
    n_params = _count_params(staged / files[ASR_MODEL]) if ASR_MODEL in files else None
    name = repo_id or staged.name
    frontend = cfg.get("frontend")
    fconf = _frontend_conf_with_defaults(frontend, cfg.get("frontend_conf") or {})
    if frontend == "entropy_compress":
        seg = _fmt(fconf, SEGMENT_KEYS)
        fusion = _fmt(fconf, ["d_model", "num_queries", "pool"])
        front_desc = (
            f"`entropy_compress`: segments start where the frozen unit LM's "
            f"entropy is high ({seg}); each segment is fused into one vector "
            f"by cross-attention ({fusion})"
        )
    elif frontend == "fixed_pool":
        fusion = _fmt(fconf, ["pool_size", "d_model", "num_queries", "pool"])
        front_desc = (
            f"`fixed_pool`: cross-attention fusion over fixed windows ({fusion})"
        )
    else:
        front_desc = f"`{frontend}`"
    src, tgt = cfg.get("src_token_list"), cfg.get("token_list")
    n_src = len(src) if isinstance(src, list) else "?"
    n_tgt = len(tgt) if isinstance(tgt, list) else "?"
    mconf = cfg.get("model_conf") or {}
    net_keys = ["num_blocks", "output_size", "attention_heads", "linear_units"]
    rows = [("experiment tag", f"`{tag}`")] if tag else []
    rows += [
        (
            "task",
            "ASR on discrete speech units (ESPnet MT task, `model: "
            f"{cfg.get('model')}`)",
        ),
    ]
    rows += _units_rows(units, lm, front_desc)
    versions = [
        f"{k} {meta[k]}" for k in ("espnet", "espnet2_ext", "torch") if k in meta
    ]
    rows += [
        (
            "encoder",
            f"{cfg.get('encoder')} ({_fmt(cfg.get('encoder_conf'), net_keys)})",
        ),
        (
            "decoder",
            f"{cfg.get('decoder')} ({_fmt(cfg.get('decoder_conf'), net_keys)})",
        ),
        ("training CTC weight", str(mconf.get("ctc_weight", "n/a"))),
        ("source vocabulary", f"{n_src} unit tokens"),
        (
            "target vocabulary",
            f"{n_tgt} {cfg.get('token_type')} tokens"
            + (" (sentencepiece)" if cfg.get("bpemodel") else ""),
        ),
        (
            "parameters (w/o the frozen unit LM)",
            f"{n_params:,}" if n_params is not None else "n/a",
        ),
        ("versions", ", ".join(versions)),
    ]
    front = {
        "tags": [
            "espnet",
            "audio",
            "automatic-speech-recognition",
            "discrete-units",
            "espnet2_ext",
        ],
        "library_name": "espnet",
    }
    if license:
        front["license"] = license
    if language:
        front["language"] = list(language)
    ref = repo_id or "<path to this directory>"
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).rstrip(),
        "---",
        "",
        f"# espnet2_ext discrete-unit ASR: `{name}`",
        "",
        "A speech recognizer on discrete speech units with entropy-based compression "
        "(espnet2_ext, an ESPnet extension). Audio is turned into 50 Hz k-means units; "
        "the frontend shortens the unit sequence before ESPnet's encoder-decoder.",
        "",
        "## Model",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += [
        "",
        "## Usage",
        "",
        "```python",
        "from espnet2_ext.asr_inference import Speech2Text",
        "",
        f's2t = Speech2Text.from_pretrained("{ref}", beam_size=10)',
        'print(s2t("audio.wav"))                 # any sample rate / channel count',
        "```",
        "",
        "```bash",
        f"python -m espnet2_ext.bin.transcribe --model {ref} audio1.wav audio2.flac",
        "```",
        "",
    ]
    if results:
        lines += ["## Results", "", results.rstrip(), ""]
    lines += [
        "## Training config",
        "",
        "<details><summary>expand</summary>",
        "",
        "```yaml",
        yaml.safe_dump(
            _abbreviate_lists(cfg), sort_keys=False, allow_unicode=True
        ).rstrip(),
        "```",
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)


def _vc_frontend_desc(
    frontend: str, fconf: Dict[str, Any], cfg: Dict[str, Any], tag: Optional[str]
) -> str:
    """The VC model's frontend in words (entropy: its rule, threshold and rate)."""
    from espnet2_ext.tasks.mt import OUR_FRONTENDS

    cls_name = {"entropy": "entropy_compress"}.get(frontend, frontend)
    if cls_name in OUR_FRONTENDS:
        # UnitVC sizes the frontend's vectors to the decoder (adim) unless told
        adim = (cfg.get("tts_conf") or {}).get("adim", 256)
        fconf = _frontend_conf_with_defaults(cls_name, {"d_model": adim, **fconf})
    if frontend == "entropy":
        seg = _fmt(fconf, SEGMENT_KEYS)
        fusion = _fmt(fconf, ["d_model", "num_queries", "pool"])
        calib = (
            cfg.get("calibration") if isinstance(cfg.get("calibration"), dict) else {}
        )
        rate = calib.get("target_rate")
        m = re.search(r"rate(\d+(?:\.\d+)?)", tag or "")
        if rate is None and m:
            rate = m.group(1)
        rate_desc = (
            f", threshold calibrated to {rate} segments/s" if rate is not None else ""
        )
        if calib.get("achieved_rate") is not None:
            rate_desc += f" (achieved {calib['achieved_rate']})"
        return (
            f"`entropy`: segments start where the frozen unit LM's entropy is high "
            f"({seg}{rate_desc}); each segment is fused into one vector by "
            f"cross-attention ({fusion}) and expanded back to its units' frames"
        )
    if frontend == "fixed_pool":
        fusion = _fmt(fconf, ["pool_size", "d_model", "num_queries", "pool"])
        return f"`fixed_pool`: cross-attention fusion over fixed windows ({fusion})"
    if frontend == "dedup":
        return "`dedup`: repeated units collapsed, their run lengths the durations"
    if frontend == "dense":
        return "`dense`: one vector per unit (embedding + positional encoding)"
    return f"`{frontend}`"


def vc_model_card(
    staged: Path,
    repo_id: Optional[str] = None,
    license: Optional[str] = None,
    language: Optional[Sequence[str]] = None,
    results: Optional[str] = None,
    tag: Optional[str] = None,
) -> str:
    """README.md text for a staged unit-to-mel VC pack (``task: vc``)."""
    meta = load_yaml(staged / "meta.yaml", "meta.yaml")
    yf, files = meta.get("yaml_files") or {}, meta.get("files") or {}
    if TTS_CONFIG not in yf:
        raise UploadError("meta.yaml (task vc) names no tts_train_config")
    cfg = load_yaml(staged / yf[TTS_CONFIG], "VC config")
    units = (
        load_yaml(staged / yf[UNITS_CONFIG], "units config")
        if UNITS_CONFIG in yf
        else {}
    )
    lm = (
        load_yaml(staged / yf[UNIT_LM_CONFIG], "unit LM config")
        if UNIT_LM_CONFIG in yf
        else None
    )
    n_params = _count_params(staged / files[TTS_MODEL]) if TTS_MODEL in files else None
    name = repo_id or staged.name
    tconf = cfg.get("tts_conf") or {}
    frontend = tconf.get("frontend") or "dense"  # UnitVC's default
    front_desc = _vc_frontend_desc(frontend, tconf.get("frontend_conf") or {}, cfg, tag)
    tokens = cfg.get("token_list")
    n_tok = len(tokens) if isinstance(tokens, list) else "?"
    dconf = tconf.get("decoder_conf") or {}
    dec_keys = ["num_blocks", "attention_heads", "linear_units", "cnn_module_kernel"]
    fbank = cfg.get("feats_extract_conf") or {}
    fbank_keys = ["fs", "n_fft", "hop_length", "n_mels", "fmin", "fmax"]
    world = cfg.get("feats_extract") == "world"
    if world:
        fbank_keys = ["fs", "hop_length", "frame_period", "num_coded"]
        feats_desc = f"coded WORLD spectral envelope ({_fmt(fbank, fbank_keys)})"
        voc_desc = (
            "WORLD with the source's F0 (mapped to the target speaker's log-F0 mean "
            "and variance) and aperiodicity"
        )
    else:
        feats_desc = f"{cfg.get('feats_extract')} log-mel ({_fmt(fbank, fbank_keys)})"
        voc_desc = (
            "Griffin-Lim (32 iterations) by default; a HiFi-GAN trained on these "
            "features with `--vocoder_file` (ParallelWaveGAN or ESPnet checkpoint)"
        )
    normalize = cfg.get("normalize")
    spk = tconf.get("spk_embed_dim")
    if spk:
        integration = tconf.get("spk_embed_integration_type", "add")
        spk_desc = f"{spk}-dim Resemblyzer d-vector ({integration})"
    else:
        spk_desc = "none (speaker ids)" if tconf.get("spks") else "none"
    rows = [("experiment tag", f"`{tag}`")] if tag else []
    rows += [
        (
            "task",
            "voice conversion: discrete units + target-speaker d-vector -> "
            + ("WORLD envelope" if world else "log-mel")
            + f" (ESPnet TTS task, `tts: {cfg.get('tts')}`)",
        ),
    ]
    rows += _units_rows(units, lm, front_desc)
    dec = _fmt(dconf, dec_keys)
    rows += [
        (
            "decoder",
            f"{tconf.get('decoder', 'conformer')}, size {tconf.get('adim', 256)}"
            + (f" ({dec})" if dec else ""),
        ),
        (
            "target speaker",
            spk_desc,
        ),
        (
            "features",
            f"{feats_desc}, one frame per unit"
            + (f"; normalize: {normalize}" if normalize else "; not normalised"),
        ),
        ("vocoder", voc_desc),
        ("source vocabulary", f"{n_tok} unit tokens"),
        (
            "parameters (w/o the frozen unit LM)",
            f"{n_params:,}" if n_params is not None else "n/a",
        ),
        (
            "versions",
            ", ".join(
                f"{k} {meta[k]}"
                for k in ("espnet", "espnet2_ext", "torch")
                if k in meta
            ),
        ),
    ]
    front = {
        "tags": [
            "espnet",
            "audio",
            "voice-conversion",
            "discrete-units",
            "espnet2_ext",
        ],
        "library_name": "espnet",
        "pipeline_tag": "audio-to-audio",
    }
    if license:
        front["license"] = license
    if language:
        front["language"] = list(language)
    ref = repo_id or "<path to this directory>"
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).rstrip(),
        "---",
        "",
        f"# espnet2_ext discrete-unit voice conversion: `{name}`",
        "",
        "Any-to-any voice conversion on discrete speech units (espnet2_ext, an ESPnet "
        "extension). The source audio is turned into 50 Hz k-means units; the frontend "
        "groups them, a non-autoregressive decoder conditioned on the target speaker's "
        "d-vector predicts one log-mel frame per unit, and a vocoder makes the "
        "waveform (16 kHz).",
        "",
        "## Model",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines += [
        "",
        "## Usage",
        "",
        "```bash",
        "python -m espnet2_ext.bin.convert --model <dir> --source in.wav "
        "--target-speaker ref.wav --out out.wav",
        "```",
        "",
        "`<dir>`: this repository's files (downloaded, e.g. `hf download "
        f"{ref} --local-dir <dir>`) or the packed archive. Add `--vocoder_file` "
        "(and `--vocoder_config`) for a HiFi-GAN trained on the features above.",
        "",
        "```python",
        "from espnet2_ext.vc_inference import VoiceConverter",
        "",
        f'vc = VoiceConverter.from_pretrained("{ref}")',
        'wav, sr = vc("in.wav", "ref.wav")       # any sample rate / channel count',
        "```",
        "",
    ]
    if results:
        lines += ["## Results", "", results.rstrip(), ""]
    lines += [
        "## Training config",
        "",
        "<details><summary>expand</summary>",
        "",
        "```yaml",
        yaml.safe_dump(
            _abbreviate_lists(cfg), sort_keys=False, allow_unicode=True
        ).rstrip(),
        "```",
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- upload
def upload_to_hub(
    folder: Path,
    repo_id: str,
    token: Optional[str] = None,
    private: bool = False,
    commit_message: str = "Upload espnet2_ext model",
) -> str:
    """Create ``repo_id`` (if needed) and upload ``folder``. Returns the repo URL."""
    if not REPO_ID_RE.match(repo_id):
        raise UploadError(
            f"invalid Hugging Face repo id {repo_id!r} (expected owner/name)"
        )
    try:
        import huggingface_hub
    except ImportError as e:
        raise UploadError(
            "uploading needs huggingface_hub: pip install huggingface_hub"
        ) from e
    api = huggingface_hub.HfApi(token=token)
    try:
        user = api.whoami()
    except Exception as e:
        not_logged_in = type(e).__name__ in (
            "LocalTokenNotFoundError",
        ) or "401" in str(e)
        if not_logged_in:
            raise UploadError(
                "not logged in to the Hugging Face Hub: run `hf auth login` (or "
                "`huggingface-cli login`), set HF_TOKEN, or pass --token"
            ) from e
        raise UploadError(
            f"cannot check the Hugging Face login: {type(e).__name__}: {e}"
        ) from e
    if "/" not in repo_id:
        repo_id = f"{user.get('name')}/{repo_id}"
    url = api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=str(folder),
        repo_id=repo_id,
        repo_type="model",
        commit_message=commit_message,
    )
    return str(url)


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description="Stage a packed model with a model card and upload it to the "
        "Hugging Face Hub",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--model", required=True, help="packed archive or unpacked directory"
    )
    p.add_argument(
        "--outdir",
        default=None,
        help="staging directory (default: a temporary one, removed afterwards)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace a non-empty --outdir"
    )
    p.add_argument(
        "--hf_repo", default=None, help="owner/name; without it nothing is uploaded"
    )
    p.add_argument(
        "--token", default=None, help="Hugging Face token (default: the login's)"
    )
    p.add_argument("--private", action="store_true")
    p.add_argument("--commit_message", default="Upload espnet2_ext model")
    p.add_argument("--license", default="cc-by-4.0")
    p.add_argument("--language", nargs="*", default=None, help="e.g. en")
    p.add_argument("--results", default=None, help="a RESULTS.md to put in the card")
    p.add_argument("--tag", default=None, help="the experiment tag, shown in the card")
    p.add_argument("--log_level", default="INFO")
    return p


def main(cmd: Optional[Sequence[str]] = None) -> int:
    args = get_parser().parse_args(cmd)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    if args.hf_repo is not None and not REPO_ID_RE.match(args.hf_repo):
        logging.error("invalid --hf_repo %r (expected owner/name)", args.hf_repo)
        return 2
    if args.hf_repo is None and args.outdir is None:
        logging.error(
            "give --outdir (to stage the model and its card) and/or --hf_repo"
        )
        return 2
    tmp = None
    try:
        outdir = args.outdir
        if outdir is None:
            tmp = tempfile.mkdtemp(prefix="espnet2_ext_upload_")
            outdir = tmp
        staged = stage_model(args.model, outdir, overwrite=args.overwrite)
        results = None
        if args.results:
            results = Path(args.results).read_text(encoding="utf-8")
        card = model_card(
            staged,
            repo_id=args.hf_repo,
            license=args.license,
            language=args.language,
            results=results,
            tag=args.tag,
        )
        (staged / "README.md").write_text(card, encoding="utf-8")
        logging.info("staged %s with README.md in %s", args.model, staged)
        if args.hf_repo is None:
            logging.info("no --hf_repo: nothing uploaded")
            return 0
        url = upload_to_hub(
            staged,
            args.hf_repo,
            token=args.token,
            private=args.private,
            commit_message=args.commit_message,
        )
        logging.info("uploaded to %s", url)
        print(url)
        return 0
    except (UploadError, FileNotFoundError, RuntimeError) as e:
        logging.error("%s", e)
        return 1
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
