"""The commands the READMEs show run, as a new user would type them (at toy size).

Run here, for every README (the top-level one and ``egs2/**/README.md``):

* every ``python -m espnet2_ext.bin.<name>`` and every ``python <path>.py`` script:
  ``--help`` (in this process, through ``runpy``, exactly as ``python -m`` / ``python
  path`` would run it: the module imports and its argument parser builds);
* every recipe's ``./run.sh --help`` and ``./run_benchmark.sh --help``;
* ``make bench`` with a toy size (``BENCH_ARGS``; ``make -o setup``: the set-up is not
  re-run);
* the Python snippet of "Using the frontend" against a tiny unit LM written here.

Commands that need a trained model or a finished recipe are run by the recipe tests:

* ``./run.sh`` of each recipe, every stage: ``tests/test_recipe_units.py`` and
  ``tests/test_integration.py`` (mini_synth ASR stages),
  ``tests/test_librispeech_recipe.py``,
  ``tests/test_st_recipe.py`` (covost2 and mini_synth ST), ``tests/test_vc_recipe.py``
  (vctk and mini_synth VC);
* ``run_benchmark.sh`` / ``make benchmark`` stages: ``tests/test_bench_report.py``,
  ``tests/test_bench_speed.py``;
* ``transcribe``, ``translate``, ``Speech2Text`` on a packed model:
  ``tests/test_pack_transcribe.py`` (and ``tests/test_st_recipe.py``); ``convert`` and
  ``VoiceConverter``: ``tests/test_vc_inference.py``; ``upload_model``:
  ``tests/test_pack_transcribe.py``;
* ``plot_entropy``: ``tests/test_plot_entropy.py``; ``boundary_eval``:
  ``tests/test_boundary_eval.py``; ``layer_probe``: ``tests/test_layer_probe.py``;
  ``learning_curve``: ``tests/test_learning_curve.py``; ``bench_lm_cost``:
  ``tests/test_bench_lm_cost.py``; ``local/espeak_align.py``:
  ``tests/test_espeak_align.py``; ``local/mel_probe.py`` (its functions):
  ``tests/test_mel_probe.py``; ``mt_train`` / ``mt_inference``:
  ``tests/test_integration.py``.
"""

import contextlib
import io
import os
import re
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READMES = [ROOT / "README.md"] + sorted((ROOT / "egs2").glob("**/README.md"))
PY_MODULE = re.compile(r"python\s+-m\s+(espnet2_ext\.bin\.\w+)")
PY_SCRIPT = re.compile(r"python\s+((?:\.\./)*[\w./-]+\.py)\b")


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def readme_modules():
    """(README, module) of every ``python -m espnet2_ext.bin.*`` a README shows."""
    found = set()
    for readme in READMES:
        for m in PY_MODULE.finditer(readme.read_text(encoding="utf-8")):
            found.add((_rel(readme), m.group(1)))
    return sorted(found)


def readme_scripts():
    """(README, script path) of every ``python <path>.py`` a README shows. The
    commands of a recipe's READMEs (its subdirectories' too) run in the recipe
    directory, ``egs2/<corpus>/<task>``; the top-level README's commands that say they
    run in a recipe (``../../../local/...``) too, three levels below the root."""
    found = set()
    for readme in READMES:
        rel_dir = readme.parent.relative_to(ROOT).parts
        base = ROOT.joinpath(*rel_dir[:3]) if rel_dir else ROOT
        for m in PY_SCRIPT.finditer(readme.read_text(encoding="utf-8")):
            rel = m.group(1)
            if base == ROOT and rel.startswith("../../../"):
                path = ROOT / rel[len("../../../") :]
            else:
                path = (base / rel).resolve()
            found.add((_rel(readme), rel, path))
    return sorted(found)


def run_help(target: str, script: bool = False) -> str:
    """``python -m target --help`` (or ``python target --help``) in this process;
    returns what it printed. Fails unless it exits with status 0."""
    out = io.StringIO()
    argv, path = sys.argv, list(sys.path)
    sys.argv = [target, "--help"]
    if script:
        sys.path.insert(0, str(Path(target).parent))
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # runpy: "found in sys.modules"
            if script:
                runpy.run_path(target, run_name="__main__")
            else:
                runpy.run_module(target, run_name="__main__", alter_sys=True)
        pytest.fail(f"{target} --help did not exit")
    except SystemExit as e:
        code = e.code or 0
    finally:
        sys.argv, sys.path[:] = argv, path
    assert code == 0, f"{target} --help exited with {code}:\n{out.getvalue()}"
    return out.getvalue()


def test_the_readmes_show_commands():
    mods = {m for _, m in readme_modules()}
    assert "espnet2_ext.bin.bench_compressor" in mods and len(mods) >= 10
    assert len(readme_scripts()) >= 3


@pytest.mark.parametrize(
    "readme,module", readme_modules(), ids=lambda x: x.replace("espnet2_ext.bin.", "")
)
def test_entry_point_help(readme, module):
    out = run_help(module)
    assert "usage" in out.lower(), f"{module} (shown in {readme}) printed no usage"


@pytest.mark.parametrize(
    "readme,rel,path", readme_scripts(), ids=lambda x: str(x).split("/")[-1]
)
def test_script_help(readme, rel, path):
    assert path.is_file(), f"{readme} shows `python {rel}`, which is not there"
    out = run_help(str(path), script=True)
    assert "usage" in out.lower(), f"{rel} (shown in {readme}) printed no usage"


RUN_SCRIPTS = sorted(
    p for p in (ROOT / "egs2").glob("*/*/run*.sh") if p.parent.parent.name != "TEMPLATE"
)


@pytest.mark.parametrize("script", RUN_SCRIPTS, ids=lambda p: _rel(p))
def test_recipe_run_help(script):
    res = subprocess.run(
        [f"./{script.name}", "--help"],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "--stage" in res.stdout + res.stderr


def test_make_bench_at_toy_size():
    """``make bench`` (the compressor benchmark) runs and prints its two ratios."""
    res = subprocess.run(
        ["make", "-s", "-o", "setup", "bench", f"PY={sys.executable}"]
        + ["BENCH_ARGS=--batch 1 --length 40 --repeat 1 --threads 1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    ratio = re.search(r"^frontend_vs_dense_encoder: ([\d.]+)$", res.stdout, re.M)
    assert ratio and float(ratio.group(1)) > 0, res.stdout
    assert re.search(r"^vectorised_vs_reference_speedup: [\d.]+$", res.stdout, re.M)


def python_block_after(text: str, heading: str) -> str:
    """The first ```python block of the README section ``heading``."""
    section = text[text.index(heading) :]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    return m.group(1)


def test_using_the_frontend_snippet(tmp_path, monkeypatch, token_list):
    """The snippet of "Using the frontend", as written, on an LM trained the way the
    recipes train it (a config that names its training shape file)."""
    import torch

    from conftest import SMALL_LM_CONF, random_units
    from espnet2_ext.entropy.unit_lm import write_lm_experiment

    (tmp_path / "shape").write_text("u1 90\nu2 120\n")
    lm_dir = tmp_path / "exp" / "unit_lm"
    # a shape file relative to the working directory, as the recipes train the LM
    _, ckpt = write_lm_experiment(
        lm_dir, token_list, SMALL_LM_CONF, seed=1, train_shape_file=["shape"]
    )
    ckpt.rename(lm_dir / "valid.loss.ave.pth")
    monkeypatch.chdir(tmp_path)

    snippet = python_block_after(
        (ROOT / "README.md").read_text(encoding="utf-8"), "## Using the frontend"
    )
    units = random_units(3, 120, len(token_list), seed=2)
    lengths = torch.tensor([120, 100, 80])
    ns = {"units": units, "lengths": lengths}
    exec(compile(snippet, "README.md (Using the frontend)", "exec"), ns)
    assert ns["lm"].window == 121  # the longest training sequence + <sos>
    assert ns["H"].shape == (3, 120)
    assert ns["seg"].counts.tolist() == [
        int(ns["seg"].seg_ids[b, : int(lengths[b])].max()) + 1 for b in range(3)
    ]
    rate = float(ns["seg"].counts.sum()) / (float(lengths.sum()) / 50)
    assert abs(rate - 15.0) < 2.0
