"""espnet2_ext.compat: the one module that names ESPnet's internals."""

import re
from pathlib import Path

import pytest

from espnet2_ext import compat

ROOT = Path(__file__).resolve().parents[1]
# An import statement of ESPnet (espnet, espnet2, espnet3) or espnet_model_zoo.
ESPNET_IMPORT = re.compile(
    r"^\s*(from|import)\s+(espnet\d*|espnet_model_zoo)(\.|\s|$)", re.M
)


def test_every_name_resolves_in_the_installed_espnet():
    compat.check()  # raises, naming every entry that moved
    assert compat.make_pad_mask is not None


def test_legacy_nets_come_from_espnet2_legacy():
    assert compat.make_pad_mask.__module__.startswith("espnet2.legacy.nets.")
    lengths = compat.make_pad_mask([3, 1])
    assert lengths.tolist() == [[False, False, False], [False, True, True]]


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        compat.no_such_thing  # noqa: B018
    with pytest.raises(ImportError):
        from espnet2_ext.compat import no_such_thing  # noqa: F401


def test_moved_name_says_which_entry_to_fix(monkeypatch):
    monkeypatch.setitem(compat._TABLE, "Moved", ("espnet2.no_such_module", "Moved"))
    with pytest.raises(
        ImportError, match=r"Moved = espnet2\.no_such_module\.Moved.*compat\.py"
    ):
        compat.check()


def test_version_is_the_pinned_release():
    assert compat.espnet_version() == compat.ESPNET_RELEASE
    setup_cfg = (ROOT / "setup.cfg").read_text()
    assert f"espnet[train,asr]=={compat.ESPNET_RELEASE}" in setup_cfg


def test_no_espnet_import_outside_compat():
    """Every import of ESPnet goes through compat, so a move is a one-file change."""
    offenders = []
    for top in ("espnet2_ext", "local", "egs2", "tests", "tools"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if path == ROOT / "espnet2_ext" / "compat.py":
                continue
            for m in ESPNET_IMPORT.finditer(path.read_text(encoding="utf-8")):
                line = path.read_text(encoding="utf-8")[: m.start()].count("\n") + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, "import ESPnet through espnet2_ext.compat: " + ", ".join(
        offenders
    )


def test_importing_the_package_does_not_import_espnet():
    import subprocess
    import sys

    code = (
        "import sys, espnet2_ext, espnet2_ext.compat; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('espnet', 'espnet2', 'espnet_model_zoo')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.strip()
    assert out == "[]"


# `python -m <module>` in the shell stages (also `${python} -m`, `bash -c "... -m`)
SHELL_MODULE = re.compile(r"-m\s+(espnet2(?:_ext)?(?:\.\w+)+)")


def shell_modules():
    """(script, module) of every ``-m espnet2.*`` / ``-m espnet2_ext.*`` a shell
    script of the recipes, the tools or the Makefile runs."""
    found = set()
    scripts = sorted((ROOT / "egs2").rglob("*.sh")) + sorted(
        (ROOT / "tools").rglob("*.sh")
    )
    for path in scripts + [ROOT / "Makefile"]:
        if path.is_symlink():  # the recipes' links to TEMPLATE: read once there
            continue
        for m in SHELL_MODULE.finditer(path.read_text(encoding="utf-8")):
            found.add((str(path.relative_to(ROOT)), m.group(1)))
    return sorted(found)


def test_shell_stages_call_espnet_entry_points():
    mods = {m for _, m in shell_modules()}
    assert {"espnet2.bin.lm_train", "espnet2.bin.tokenize_text"} <= mods
    assert "espnet2_ext.bin.mt_train" in mods


@pytest.mark.parametrize("script,module", shell_modules())
def test_every_module_a_shell_stage_runs_resolves(script, module):
    """``python -m`` of each module the stages call finds it in the installed ESPnet
    (or in this package), and it is runnable (a module with code, not a package)."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None, f"{script}: python -m {module}: no such module"
    assert spec.origin and spec.origin.endswith(".py"), (script, module, spec)
