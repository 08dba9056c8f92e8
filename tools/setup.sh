#!/usr/bin/env bash
# Idempotent project set-up: apt packages, .venv/ at the repository root (Python 3.12),
# the package installed editable with its test extra. Safe to re-run; does nothing
# already done.
#
# The interpreter: $PYTHON if set, else pyenv's newest 3.12.x, else python3.12 on PATH,
# else the system python3 when it is 3.12 or 3.13 (what ESPnet 202611 supports).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The Python versions ESPnet 202611 accepts (Requires-Python >=3.12,<3.14).
PY_MIN=3.12
PY_MAX_EXCL=3.14

py_ok() {  # py_ok INTERPRETER: runs, and its version is in [PY_MIN, PY_MAX_EXCL)
  "$1" -c "import sys; lo = tuple(map(int, '$PY_MIN'.split('.'))); \
hi = tuple(map(int, '$PY_MAX_EXCL'.split('.'))); \
sys.exit(0 if lo <= sys.version_info[:2] < hi else 1)" >/dev/null 2>&1
}

find_python() {  # prints the interpreter to build .venv with, or nothing
  local c pyenv_root cands=()
  if [ -n "${PYTHON:-}" ]; then
    if py_ok "$PYTHON"; then echo "$PYTHON"; fi
    return 0  # an explicit choice is never second-guessed
  fi
  pyenv_root=$( (command -v pyenv >/dev/null 2>&1 && pyenv root) 2>/dev/null || true)
  for d in "$pyenv_root" "${PYENV_ROOT:-}" "$HOME/.pyenv"; do
    [ -n "$d" ] && [ -d "$d/versions" ] || continue
    # newest 3.12.x first (version sort), plain CPython builds only
    while IFS= read -r c; do cands+=("$c"); done < <(
      ls -d "$d"/versions/3.12.*/bin/python3.12 2>/dev/null | sort -rV)
  done
  cands+=(python3.12 python3)
  for c in "${cands[@]}"; do
    if py_ok "$c"; then command -v "$c"; return 0; fi
  done
}

# System packages: espeak-ng (synthetic corpus), sox, shellcheck (the shell-script
# lint test), pocketsphinx-testdata (real
# recordings for robustness checks).
apt_pkgs=(espeak-ng sox pocketsphinx-testdata shellcheck)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "[setup] apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A .venv made with another Python (e.g. the 3.11 one of espnet 202511 days) is rebuilt.
if [ -e .venv ] && ! py_ok .venv/bin/python; then
  echo "[setup] .venv is not Python >=$PY_MIN,<$PY_MAX_EXCL ($(.venv/bin/python --version 2>&1 || echo 'no interpreter')): rebuilding it"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  PY=$(find_python)
  if [ -z "$PY" ]; then
    cat >&2 <<MSG
[setup] error: no Python >=$PY_MIN,<$PY_MAX_EXCL found (ESPnet 202611 needs Python 3.12 or 3.13).
  Looked for: \$PYTHON${PYTHON:+ (=$PYTHON, not usable)}, pyenv's versions/3.12.*/bin/python3.12,
  python3.12 on PATH, python3 on PATH ($(python3 --version 2>&1 || echo none)).
  Install one (e.g.  pyenv install 3.12 , or your distribution's python3.12 with its venv
  module), or point PYTHON at it:  PYTHON=/path/to/python3.12 make setup
MSG
    exit 1
  fi
  echo "[setup] creating .venv with $("$PY" --version) ($PY)"
  "$PY" -m venv .venv
fi
stamp=.venv/.espnet2_ext_setup
want=$( (cat setup.cfg tools/setup.sh; .venv/bin/python --version) | sha1sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[setup] .venv is up to date"
  exit 0
fi
# Disk: torch 2.14.1 from PyPI is a CUDA build; with its nvidia-* wheels the venv takes
# about 7 GiB (measured: 7.0 GiB), and pip holds the downloaded wheels while it installs.
# pip's temporary files go beside .venv, not to $TMPDIR (often a small tmpfs), and no wheel
# cache is kept.
need_gib=9
avail_kib=$(df -Pk . | awk 'NR == 2 {print $4}')
if [ "${avail_kib:-0}" -lt $((need_gib * 1024 * 1024)) ]; then
  echo "[setup] warning: $((avail_kib / 1024)) MiB free on $(df -P . | awk 'NR == 2 {print $6}');" \
    "installing torch 2.14.1 (CUDA build, with its nvidia-* wheels) and ESPnet needs about" \
    "$need_gib GiB. If pip fails with 'No space left on device', free space there first." >&2
fi
pip_tmp="$root/.venv/.pip-tmp"
pip_q() {  # pip install, quiet, without the noise of this machine's unused find-links
  local log rc=0
  log=$(mktemp)
  mkdir -p "$pip_tmp"
  TMPDIR="$pip_tmp" PIP_NO_CACHE_DIR=1 \
    .venv/bin/python -m pip install -q "$@" >"$log" 2>&1 || rc=$?
  rm -rf "$pip_tmp"
  grep -v "is ignored: it is neither" "$log" || true
  if grep -q "No space left on device" "$log"; then
    echo "[setup] error: the disk filled up while pip installed $*: $(df -h . | awk 'NR == 2 {print $4}')" \
      "free now on $(df -P . | awk 'NR == 2 {print $6}'); about $need_gib GiB are needed." >&2
  fi
  rm -f "$log"
  return $rc
}
# setuptools within ESPnet 202611's own bounds (it requires >=77.0.3,<82), and below 81:
# pyworld (the VC recipe's WORLD vocoder, setup.cfg) imports pkg_resources, which
# setuptools 81 removed.
pip_q --upgrade pip "setuptools>=77.0.3,<81" wheel
# torch and torchaudio first, pinned as a pair from ESPnet 202611's supported set; the
# same pins stand beside espnet in setup.cfg so that no later resolution moves torch.
pip_q torch==2.14.1 torchaudio==2.11.0
pip_q -e ".[test]"
# Resemblyzer (speaker encoder, weights in the wheel) without its declared dependencies:
# `typing` (a Python 2 backport) and `webrtcvad` (a C build) fail here; webrtcvad-wheels
# and librosa come with the package's own requirements
pip_q --no-deps resemblyzer==0.1.4
# fails the set-up if anything is missing, or if the ESPnet layout is not the one
# espnet2_ext/compat.py knows
.venv/bin/python -c "import torch, torchaudio, resemblyzer; from espnet2_ext import compat; compat.check()"
echo "$want" > "$stamp"
echo "[setup] done: $(.venv/bin/python -c 'import sys, torch, torchaudio, espnet; print("python", sys.version.split()[0], "torch", torch.__version__, "torchaudio", torchaudio.__version__, "espnet", espnet.__version__)')"
