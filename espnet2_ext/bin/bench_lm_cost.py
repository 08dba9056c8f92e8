#!/usr/bin/env python3
"""The frozen unit LM's cost inside a training step, at the LibriSpeech recipe's size.

Dense (ESPnet's ``embed`` frontend on the 50 Hz units) and ``entropy_compress`` (unit
LM entropy -> boundaries -> cross-attention fusion) with the recipe's encoder and
decoder, measured side by side in one process:

* Configs: ``<shared>/asr.yaml``, ``<recipe>/conf/asr.yaml``,
  ``<shared>/frontend/<kind>.yaml``, ``<recipe>/conf/frontend/<kind>.yaml`` merged in
  that order by ``espnet2_ext.bin.merge_config.merge`` (as ``asr.sh`` merges them),
  ``--set`` edits last; models built by ``CompressMTTask.build_model`` (what
  ``espnet2_ext.bin.mt_train`` trains): one dense, one entropy. The entropy variants
  (LM size x ``lm_dtype``) share that entropy model (encoder, decoder, compressor,
  optimizer) and differ only in their frozen LM -- built by the ``entropy_compress``
  frontend class from the variant's ``frontend_conf``, ``lm_dtype`` included; it sits
  outside the module tree -- and its threshold, installed before each of the
  variant's steps. (One copy of the trainable model: on CPU a dense step of 8 x 17 s
  alone takes about 13 GB.) The unit LMs have random weights and are
  written in ``espnet2.bin.lm_train``'s layout (``write_lm_experiment``): ``recipe``
  is ``<shared>/unit_lm.yaml`` merged with ``<recipe>/conf/unit_lm.yaml``; ``LxD`` is
  the shared LM config with ``layer=L``, ``att_unit=embed_unit=D``, ``unit=4D``.
* Data: random batches of LibriSpeech-like lengths. ``--steps * --batch_size``
  durations are drawn from a normal distribution (``--mean_seconds``,
  ``--std_seconds``) clipped to ``[--min_seconds, --max_seconds]``, sorted and cut
  into ``--steps`` batches, as ESPnet's length-sorted batch samplers do. Units: ids
  of a K=``--vocab`` token list in runs of 1-4 repeats, at ``--unit_rate`` per second.
  Targets: ``round(--tokens_per_second * seconds)`` random ids of a ``--nbpe`` token
  list (BPE); padding -1, as ESPnet's collate function pads.
* Threshold: a random LM gives random entropies, so each LM size's threshold is
  calibrated (``calibrate_threshold``) on the benchmark's own utterances to
  ``--target_rate`` segments per second with the fp32 entropies; the bf16 variant of
  the same LM keeps that threshold (as a trained model switched to bf16 would), and
  the report says how many boundaries move (``lm_sizes.<size>.bfloat16``).
* One step = ``model.train(); zero_grad(); loss = model(**batch); loss.backward();
  clip_grad_norm_(grad_clip); Adam.step()`` (the config's ``optim_conf``). After
  ``--warmup`` untimed steps per method on the first batch, every batch is stepped
  once by every method, the methods interleaved and the starting method rotated from
  batch to batch. The method that follows a dense step first makes one untimed step
  on the same batch: in a first run the step right after a dense one (which frees
  about 13 GB at the recipe's size on CPU) was markedly slower, an artefact of
  running them side by side. Inside the entropy steps, hooks time the LM entropy
  call, the boundary rule (the frontend's ``segment`` minus the LM call), and the
  compressor's forward and backward (from its output's gradient to the end of
  ``backward()``). A method's ``*_ms`` are medians over the timed steps (all samples
  in ``samples_ms``); ``*_share`` are medians of the per-step ratios to the step;
  ``step_vs_dense`` is the median of the per-batch ratios to the dense step on the
  same batch.

Usage::

    python -m espnet2_ext.bin.bench_lm_cost --steps 3 --batch_size 8 --threads 1 \\
        --lm_sizes recipe 2x128 1x64 --lm_dtypes float32 bfloat16 \\
        --out egs2/librispeech/asr/bench_lm_cost.json

Prints a table (step times, ratio to dense, LM / segmentation / compressor shares)
and the LM share before (``entropy_<first size>_fp32``) and after (the others).
"""

import argparse
import json
import logging
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch
import yaml

from espnet2_ext.bin.bench_speed import make_optimizer
from espnet2_ext.bin.merge_config import merge

logger = logging.getLogger("bench_lm_cost")

REPO = Path(__file__).resolve().parents[2]
DTYPE_TAGS = {"float32": "fp32", "bfloat16": "bf16"}


class BenchError(RuntimeError):
    """Unusable options or configs."""


# --------------------------------------------------------------------------- configs
@dataclass
class LMSize:
    """One unit LM shape: ``name`` (``recipe`` or ``LxD``), ESPnet's ``lm`` and
    ``lm_conf``."""

    name: str
    lm: str
    lm_conf: dict


def lm_size(spec: str, shared_conf: Path, recipe_conf: Path) -> LMSize:
    """``recipe`` | ``LxD`` -> :class:`LMSize` (see the module docstring)."""
    paths = [shared_conf / "unit_lm.yaml"]
    if spec == "recipe":
        paths += [p for p in [recipe_conf / "unit_lm.yaml"] if p.is_file()]
        conf = merge(paths)
        return LMSize(spec, conf.get("lm", "transformer"), dict(conf["lm_conf"]))
    m = re.fullmatch(r"(\d+)x(\d+)", spec)
    if m is None or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise BenchError(f"--lm_sizes: {spec!r} is neither 'recipe' nor LAYERSxDIM")
    layers, dim = int(m.group(1)), int(m.group(2))
    conf = merge(paths)
    lm_conf = dict(conf["lm_conf"], layer=layers, att_unit=dim, embed_unit=dim)
    lm_conf["unit"] = 4 * dim
    return LMSize(spec, conf.get("lm", "transformer"), lm_conf)


def config_paths(kind: str, shared_conf: Path, recipe_conf: Path) -> List[Path]:
    """The files ``asr.sh`` merges for a ``dense``/``entropy`` experiment, in order."""
    paths = [shared_conf / "asr.yaml", recipe_conf / "asr.yaml"]
    paths += [shared_conf / "frontend" / f"{kind}.yaml"]
    paths += [recipe_conf / "frontend" / f"{kind}.yaml"]
    return [p for i, p in enumerate(paths) if i in (0, 2) or p.is_file()]


def token_lists(vocab: int, nbpe: int):
    """Source (``<blank> <unk>`` + K units + ``<sos/eos>``) and target (``nbpe``
    entries) token lists in ESPnet's layout."""
    src = ["<blank>", "<unk>"] + [str(i) for i in range(vocab)] + ["<sos/eos>"]
    tgt = ["<blank>", "<unk>"] + [f"\u2581p{i}" for i in range(nbpe - 3)]
    return src, tgt + ["<sos/eos>"]


def build_model(conf: dict, workdir: Path, name: str, seed: int):
    """A model from a merged config, through the project's MT task (as ``mt_train``)."""
    from espnet2_ext.tasks.mt import CompressMTTask

    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    opts = {
        "--config": path,
        "--src_token_list": workdir / "src_tokens.txt",
        "--token_list": workdir / "tgt_tokens.txt",
        "--src_token_type": "word",
        "--token_type": "bpe",
        "--output_dir": workdir / "exp" / name,
    }
    args = CompressMTTask.get_parser().parse_args(
        [str(x) for kv in opts.items() for x in kv]
    )
    torch.manual_seed(seed)  # the same encoder/decoder initialisation for every method
    return CompressMTTask.build_model(args), args


# --------------------------------------------------------------------------- data
@dataclass
class Batch:
    """One batch: the model's inputs and the bare units (for the LM)."""

    inputs: Dict[str, torch.Tensor]  # text, text_lengths, src_text, src_text_lengths
    units: torch.Tensor  # (B, T) unit ids, 0 at padding
    lengths: torch.Tensor  # (B,)
    seconds: List[float]


def make_batches(args, src_vocab: int, tgt_vocab: int) -> List[Batch]:
    """Seeded random batches of LibriSpeech-like lengths (see the module docstring)."""
    g = torch.Generator().manual_seed(args.seed)
    n = args.steps * args.batch_size
    sec = torch.randn(n, generator=g) * args.std_seconds + args.mean_seconds
    sec = sec.clamp(args.min_seconds, args.max_seconds).sort().values
    n_units = (sec * args.unit_rate).round().long().clamp(min=2)
    batches = []
    for i in range(args.steps):
        lengths = n_units[i * args.batch_size : (i + 1) * args.batch_size]
        B, T = lengths.numel(), int(lengths.max())
        valid = torch.arange(T)[None, :] < lengths[:, None]
        ids = torch.randint(2, src_vocab - 1, (B * T,), generator=g)
        runs = torch.randint(1, 5, (B * T,), generator=g)
        units = torch.repeat_interleave(ids, runs)[: B * T].view(B, T)
        units = units.masked_fill(~valid, 0)
        seconds = lengths.double() / args.unit_rate
        n_tgt = (seconds * args.tokens_per_second).round().long().clamp(min=1)
        N = int(n_tgt.max())
        text = torch.randint(2, tgt_vocab - 1, (B, N), generator=g)
        text = text.masked_fill(torch.arange(N)[None, :] >= n_tgt[:, None], -1)
        inputs = dict(
            text=text,
            text_lengths=n_tgt,
            src_text=units.masked_fill(~valid, -1),
            src_text_lengths=lengths.clone(),
        )
        batches.append(Batch(inputs, units, lengths.clone(), seconds.tolist()))
    return batches


# --------------------------------------------------------------------------- timing
class StepProbe:
    """Wall-clock times of the ``entropy_compress`` parts inside a training step.

    Wraps the frontend's ``segment`` (and, through :meth:`watch_lm`, each unit LM's
    ``entropy``) and hooks the compressor: its forward (pre/post hooks) and its
    backward (a hook on its output's gradient marks the start; the end of
    ``backward()`` the end, as nothing created before the compressor's output needs a
    gradient). With ``frontend=None`` (dense) only the step's phases are timed.
    """

    def __init__(self, frontend=None, sync: Optional[Callable[[], None]] = None):
        self.sync = sync
        self.frontend = frontend
        self.t: Dict[str, float] = {}
        if frontend is None:
            return
        frontend.segment = self._timed(frontend.segment, "lm_and_segment")
        frontend.compressor.register_forward_pre_hook(self._compressor_pre)
        frontend.compressor.register_forward_hook(self._compressor_post)

    def watch_lm(self, lm) -> None:
        """Time this unit LM's ``entropy`` calls (an instance attribute shadows the
        method)."""
        lm.entropy = self._timed(lm.entropy, "lm")

    def now(self) -> float:
        if self.sync is not None:
            self.sync()
        return time.perf_counter()

    def _timed(self, fn, key: str):
        def wrapper(*args, **kwargs):
            t0 = self.now()
            out = fn(*args, **kwargs)
            self.t[key] = self.t.get(key, 0.0) + self.now() - t0
            return out

        return wrapper

    def _compressor_pre(self, module, inputs):
        self.t["_compressor_start"] = self.now()

    def _compressor_post(self, module, inputs, outputs):
        self.t["compressor_fwd"] = self.now() - self.t.pop("_compressor_start")
        out = outputs[0]
        if out.requires_grad:
            out.register_hook(self._compressor_grad)

    def _compressor_grad(self, grad):
        self.t["_compressor_bwd_start"] = self.now()

    def step(self, model, optimizer, batch: dict, grad_clip, grad_clip_type) -> dict:
        """One training step (as ``bench_speed.train_step``); its times in ms."""
        self.t = {}
        t0 = self.now()
        model.train()
        optimizer.zero_grad()
        loss, _stats, _weight = model(**batch)
        t1 = self.now()
        loss.backward()
        t2 = self.now()
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(
                model.parameters(), max_norm=grad_clip, norm_type=grad_clip_type
            )
        optimizer.step()
        t3 = self.now()
        if not torch.isfinite(loss.detach()):
            logger.warning("non-finite loss %s", float(loss))
        out = {"step": t3 - t0, "fwd": t1 - t0, "bwd": t2 - t1, "opt": t3 - t2}
        if self.frontend is not None:
            out["lm"] = self.t["lm"]
            out["segment"] = self.t["lm_and_segment"] - self.t["lm"]
            out["compressor_fwd"] = self.t["compressor_fwd"]
            out["compressor_bwd"] = t2 - self.t["_compressor_bwd_start"]
            out["compressor"] = out["compressor_fwd"] + out["compressor_bwd"]
            out = {k: 1e3 * v for k, v in out.items()}
            out["segments"] = self.frontend.last_num_segments
            out["units"] = self.frontend.last_num_units
            return out
        return {k: 1e3 * v for k, v in out.items()}


class Trainee:
    """A model built by the task, its Adam optimizer and its :class:`StepProbe`."""

    def __init__(self, model, args, device: str, sync, entropy: bool):
        self.model = model.to(device)
        self.optimizer = make_optimizer(self.model, args)
        clip, clip_type = getattr(args, "grad_clip", None), args.grad_clip_type
        self.grad_clip = 5.0 if clip is None else float(clip)
        self.grad_clip_type = float(clip_type)
        self.probe = StepProbe(self.model.frontend if entropy else None, sync)
        self.params = sum(p.numel() for p in model.parameters() if p.requires_grad)

    def step(self, batch: Batch) -> dict:
        return self.probe.step(
            self.model,
            self.optimizer,
            batch.inputs,
            self.grad_clip,
            self.grad_clip_type,
        )


@dataclass
class Method:
    """A measured configuration: a trainee and, for an entropy variant, the frozen LM
    and the threshold its frontend uses."""

    name: str
    trainee: Trainee
    lm_size: Optional[str] = None
    lm_dtype: Optional[str] = None
    lm: Optional[torch.nn.Module] = None
    threshold: Optional[float] = None
    records: List[dict] = field(default_factory=list)

    def step(self, batch: Batch) -> dict:
        if self.lm is not None:
            fe = self.trainee.model.frontend
            fe._lm[0] = self.lm  # the frozen LM is held outside the module tree
            fe.threshold = self.threshold
        return self.trainee.step(batch)


def variant_lm(fconf: dict, files, threshold: float, dtype: str, token_list, device):
    """The frozen unit LM of an ``entropy_compress`` frontend built (as the task builds
    it) from ``fconf`` with this LM, threshold and ``lm_dtype``."""
    import espnet2_ext.tasks.mt  # noqa: F401  (registers entropy_compress)
    from espnet2_ext.compat import mt_frontend_choices as frontend_choices

    conf = dict(fconf, lm_train_config=str(files[0]), lm_file=str(files[1]))
    conf.update(threshold=threshold, lm_dtype=dtype, token_list=list(token_list))
    cls = frontend_choices.get_class("entropy_compress")
    return cls(input_size=len(token_list), **conf).unit_lm.to(device)


# --------------------------------------------------------------------------- LM sizes
def calibrate_size(
    size: LMSize, files, fconf: dict, batches: List[Batch], args, device: str
) -> dict:
    """Calibrated threshold of one LM size, and what bf16 changes in its entropies."""
    from espnet2_ext.entropy.boundaries import segment
    from espnet2_ext.entropy.calibration import calibrate_threshold
    from espnet2_ext.entropy.unit_lm import UnitLM

    # lm_window None (the default): whole utterances, as with an LM trained on them
    T_max = max(b.units.size(1) for b in batches)
    window = fconf.get("lm_window") or T_max + 1
    overlap = (
        fconf.get("lm_overlap") if fconf.get("lm_overlap") is not None else window // 2
    )
    rule = dict(
        rule=fconf.get("rule", "global"), rel_threshold=fconf.get("rel_threshold")
    )
    rule.update(max_len=fconf.get("max_len"), min_len=fconf.get("min_len", 1))
    T = max(b.units.size(1) for b in batches)
    lengths = torch.cat([b.lengths for b in batches])
    h = {}
    for dtype in ("float32", "bfloat16"):
        lm = UnitLM.from_files(*files, window=window, overlap=overlap, dtype=dtype)
        lm.to(device)
        rows = [
            lm.entropy(b.units.to(device), b.lengths.to(device)).cpu() for b in batches
        ]
        h[dtype] = torch.cat(
            [torch.nn.functional.pad(r, (0, T - r.size(1))) for r in rows]
        )
    cal = calibrate_threshold(
        h["float32"], lengths, args.target_rate, args.unit_rate, **rule
    )
    seg = {
        d: segment(h[d], lengths, threshold=cal.threshold, warn=False, **rule)
        for d in h
    }
    valid = torch.arange(T)[None, :] < lengths[:, None]
    diff = (h["bfloat16"] - h["float32"]).abs()[valid]
    flips = (seg["bfloat16"].starts != seg["float32"].starts)[valid]
    n_params = sum(p.numel() for p in lm.parameters())
    return {
        "lm": size.lm,
        "lm_conf": size.lm_conf,
        "params": n_params,
        "lm_window": window,
        "lm_overlap": overlap,
        "threshold": cal.threshold,
        "achieved_rate": cal.achieved_rate,
        "mean_entropy_nats": float(h["float32"][valid].mean()),
        "std_entropy_nats": float(h["float32"][valid].std()),
        "bfloat16": {
            "max_abs_entropy_diff_nats": float(diff.max()),
            "mean_abs_entropy_diff_nats": float(diff.mean()),
            "boundary_flips": int(flips.sum()),
            "boundary_flip_fraction_of_units": float(flips.float().mean()),
            "segments_float32": int(seg["float32"].counts.sum()),
            "segments_bfloat16": int(seg["bfloat16"].counts.sum()),
        },
    }


# --------------------------------------------------------------------------- main
def _median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def summarise(method: Method, dense: Optional[Method], seconds: float) -> dict:
    recs = method.records
    keys = [k for k in recs[0] if k not in ("segments", "units")]
    out = {k + "_ms": _median([r[k] for r in recs]) for k in keys}
    out["step_ms_samples"] = [r["step"] for r in recs]
    out["samples_ms"] = {k: [r[k] for r in recs] for k in keys}
    out["params_trainable"] = method.trainee.params
    if dense is not None and dense is not method:
        ratios = [r["step"] / d["step"] for r, d in zip(recs, dense.records)]
        out["step_vs_dense"] = _median(ratios)
        out["step_vs_dense_samples"] = ratios
    if method.lm_size is not None:
        out["lm_size"], out["lm_dtype"] = method.lm_size, method.lm_dtype
        for part in ("lm", "segment", "compressor"):
            out[f"{part}_share"] = _median([r[part] / r["step"] for r in recs])
        out["segments_per_second"] = sum(r["segments"] for r in recs) / seconds
    return out


def run(args) -> dict:
    if args.steps < 1 or args.batch_size < 1 or args.warmup < 0:
        raise BenchError("--steps and --batch_size must be >= 1, --warmup >= 0")
    if not 0 < args.min_seconds <= args.max_seconds or args.unit_rate <= 0:
        raise BenchError("need 0 < --min_seconds <= --max_seconds and --unit_rate > 0")
    bad = [d for d in args.lm_dtypes if d not in DTYPE_TAGS]
    if bad or not args.lm_dtypes:
        raise BenchError(f"--lm_dtypes: choose from {list(DTYPE_TAGS)}, got {bad}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = args.device
    sync = torch.cuda.synchronize if device.startswith("cuda") else None
    shared, recipe = args.shared_conf, args.recipe_dir / "conf"
    sizes = [lm_size(s, shared, recipe) for s in args.lm_sizes]
    if len({s.name for s in sizes}) != len(sizes):
        raise BenchError(f"--lm_sizes must be unique, got {args.lm_sizes}")

    paths = {k: config_paths(k, shared, recipe) for k in ("dense", "entropy")}
    confs = {
        "dense": merge(paths["dense"], args.set + args.dense_set),
        "entropy": merge(paths["entropy"], args.set + args.entropy_set),
    }
    if confs["entropy"].get("frontend") != "entropy_compress":
        raise BenchError(f"{paths['entropy']} do not configure entropy_compress")
    src, tgt = token_lists(args.vocab, args.nbpe)
    batches = make_batches(args, len(src), len(tgt))
    seconds = sum(sum(b.seconds) for b in batches)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "src_tokens.txt").write_text("\n".join(src) + "\n", encoding="utf-8")
        (work / "tgt_tokens.txt").write_text("\n".join(tgt) + "\n", encoding="utf-8")
        methods, lm_report = [], {}
        model, margs = build_model(confs["dense"], work, "dense", args.seed)
        methods.append(Method("dense", Trainee(model, margs, device, sync, False)))
        # the LM must run in every timed step: no entropy cache (it would skip the LM
        # from the second time a batch is seen)
        fconf = dict(confs["entropy"]["frontend_conf"], entropy_cache=False)
        entropy = None  # one model for all entropy variants (see the docstring)
        for size in sizes:
            from espnet2_ext.entropy.unit_lm import write_lm_experiment

            files = write_lm_experiment(
                work / f"lm_{size.name}", src, size.lm_conf, lm=size.lm, seed=args.seed
            )
            logger.info("LM %s: calibrating to %.1f/s", size.name, args.target_rate)
            lm_report[size.name] = calibrate_size(
                size, files, fconf, batches, args, device
            )
            threshold = lm_report[size.name]["threshold"]
            if entropy is None:
                conf = dict(confs["entropy"])
                conf["frontend_conf"] = dict(
                    fconf,
                    lm_train_config=str(files[0]),
                    lm_file=str(files[1]),
                    threshold=threshold,
                )
                model, margs = build_model(conf, work, "entropy", args.seed)
                entropy = Trainee(model, margs, device, sync, True)
            for dtype in args.lm_dtypes:
                name = f"entropy_{size.name}_{DTYPE_TAGS[dtype]}"
                lm = variant_lm(fconf, files, threshold, dtype, src, device)
                entropy.probe.watch_lm(lm)
                methods.append(Method(name, entropy, size.name, dtype, lm, threshold))

        inputs = [
            Batch(
                {k: v.to(device) for k, v in b.inputs.items()},
                b.units,
                b.lengths,
                b.seconds,
            )
            for b in batches
        ]
        for m in methods:
            for _ in range(args.warmup):
                logger.info("%s: warm-up step", m.name)
                m.step(inputs[0])
        load = [os.getloadavg()[0]]
        for i, batch in enumerate(inputs):
            k = i % len(methods)
            order = methods[k:] + methods[:k]
            for j, m in enumerate(order):
                if j > 0 and order[j - 1] is methods[0]:
                    m.step(batch)  # settle after the big dense step (untimed)
                m.records.append(m.step(batch))
                logger.info(
                    "batch %d/%d %s: %.1f ms",
                    i + 1,
                    len(inputs),
                    m.name,
                    m.records[-1]["step"],
                )
            load.append(os.getloadavg()[0])

    dense = methods[0]
    report = {
        "command": "python -m espnet2_ext.bin.bench_lm_cost " + shlex.join(args.argv),
        "device": device,
        "threads": torch.get_num_threads(),
        "cpu": _cpu_name(),
        "load_average_1min": load,
        "torch": torch.__version__,
        "configs": {k: [str(p) for p in v] for k, v in paths.items()},
        "sets": {"all": args.set, "dense": args.dense_set, "entropy": args.entropy_set},
        "model": {
            k: confs["dense"].get(k)
            for k in ("encoder", "encoder_conf", "decoder", "decoder_conf")
        },
        "data": {
            "batch_size": args.batch_size,
            "steps": args.steps,
            "warmup": args.warmup,
            "seed": args.seed,
            "unit_rate": args.unit_rate,
            "vocab_units": args.vocab,
            "nbpe": args.nbpe,
            "tokens_per_second": args.tokens_per_second,
            "target_rate": args.target_rate,
            "seconds_per_batch": [b.seconds for b in batches],
            "mean_seconds": seconds / (args.steps * args.batch_size),
            "units_per_batch": [int(b.lengths.sum()) for b in batches],
            "target_tokens_per_batch": [
                int(b.inputs["text_lengths"].sum()) for b in batches
            ],
        },
        "lm_sizes": lm_report,
        "methods": {m.name: summarise(m, dense, seconds) for m in methods},
        "reference": dense.name,
    }
    entropy = [m.name for m in methods[1:]]
    before = f"entropy_{sizes[0].name}_fp32"
    before = before if before in entropy else entropy[0]
    r = report["methods"]
    report["summary"] = {
        "before": before,
        "dense_step_ms": r["dense"]["step_ms"],
        "entropy_step_ms": r[before]["step_ms"],
        "entropy_vs_dense": r[before]["step_vs_dense"],
        "lm_share_before": r[before]["lm_share"],
        "after": {
            n: {
                "lm_share": r[n]["lm_share"],
                "entropy_vs_dense": r[n]["step_vs_dense"],
                "lm_ms_vs_before": r[n]["lm_ms"] / r[before]["lm_ms"],
            }
            for n in entropy
            if n != before
        },
    }
    return report


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def table_lines(report: dict) -> List[str]:
    """The printed table: one row per method, then the before/after LM shares."""
    head = (
        f"{'method':<22} {'step ms':>9} {'x dense':>8} {'LM ms':>8} "
        f"{'LM':>6} {'seg':>6} {'comp':>6} {'seg/s':>6}"
    )
    lines = [head, "-" * len(head)]
    for name, r in report["methods"].items():
        ratio = r.get("step_vs_dense", 1.0)
        if "lm_ms" not in r:
            lines.append(f"{name:<22} {r['step_ms']:>9.1f} {ratio:>8.3f}")
            continue
        lines.append(
            f"{name:<22} {r['step_ms']:>9.1f} {ratio:>8.3f} {r['lm_ms']:>8.1f} "
            f"{100 * r['lm_share']:>5.1f}% {100 * r['segment_share']:>5.1f}% "
            f"{100 * r['compressor_share']:>5.1f}% {r['segments_per_second']:>6.1f}"
        )
    s = report["summary"]
    lines.append(
        f"LM share before ({s['before']}): {100 * s['lm_share_before']:.1f}% of a "
        f"{s['entropy_step_ms']:.0f} ms step ({s['entropy_vs_dense']:.3f}x dense)"
    )
    for name, a in s["after"].items():
        lines.append(
            f"LM share after  ({name}): {100 * a['lm_share']:.1f}% "
            f"(LM {a['lm_ms_vs_before']:.2f}x of before; step "
            f"{a['entropy_vs_dense']:.3f}x dense)"
        )
    for name, lm in report["lm_sizes"].items():
        b = lm["bfloat16"]
        flips = 100 * b["boundary_flip_fraction_of_units"]
        lines.append(
            f"LM {name} ({lm['params'] / 1e6:.2f} M): threshold {lm['threshold']:.3f} "
            f"-> {lm['achieved_rate']:.2f} seg/s; bf16 vs fp32: max |dH| "
            f"{b['max_abs_entropy_diff_nats']:.4f} nats, {b['boundary_flips']} "
            f"boundary flips ({flips:.3f}% of units), "
            f"segments {b['segments_float32']} -> {b['segments_bfloat16']}"
        )
    return lines


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--steps", type=int, default=3, help="timed steps (= batches)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps per method")
    p.add_argument("--batch_size", type=int, default=8, help="utterances per batch")
    p.add_argument("--threads", type=int, default=1, help="torch threads (0: default)")
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--lm_sizes",
        nargs="+",
        default=["recipe", "2x128", "1x64"],
        help="'recipe' (the recipe's unit LM config) or LAYERSxDIM",
    )
    p.add_argument(
        "--lm_dtypes",
        nargs="+",
        default=["float32", "bfloat16"],
        help="lm_dtype values measured for every LM size",
    )
    p.add_argument("--out", type=Path, help="JSON report")
    p.add_argument(
        "--recipe_dir",
        type=Path,
        default=REPO / "egs2/librispeech/asr",
        help="recipe whose conf/ is merged over --shared_conf",
    )
    p.add_argument("--shared_conf", type=Path, default=REPO / "conf")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="config edit for both models (merge_config --set)",
    )
    p.add_argument("--dense_set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--entropy_set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--target_rate", type=float, default=15.0, help="segments/s")
    p.add_argument("--vocab", type=int, default=500, help="k-means clusters K")
    p.add_argument("--nbpe", type=int, default=5000, help="target token list size")
    p.add_argument(
        "--tokens_per_second",
        type=float,
        default=3.4,
        help="target BPE tokens per second of audio",
    )
    p.add_argument("--mean_seconds", type=float, default=12.7)
    p.add_argument("--std_seconds", type=float, default=3.5)
    p.add_argument("--min_seconds", type=float, default=2.0)
    p.add_argument("--max_seconds", type=float, default=17.0)
    p.add_argument("--unit_rate", type=float, default=50.0, help="units per second")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = get_parser().parse_args(argv)
    args.argv = argv
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s"
    )
    try:
        report = run(args)
    except (BenchError, FileNotFoundError) as e:
        logger.error("%s", e)
        return 1
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    d = report["data"]
    print(
        f"{report['device']} ({report['cpu']}), {report['threads']} thread(s); "
        f"{d['steps']} batches x {d['batch_size']} utterances, mean "
        f"{d['mean_seconds']:.1f} s; encoder {report['model']['encoder']}"
    )
    for line in table_lines(report):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
