#!/usr/bin/env bash
# Idempotent project set-up: apt packages, .venv/ at the repository root, the package
# installed editable with its test extra. Safe to re-run; does nothing already done.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

# System packages: espeak-ng (synthetic corpus), sox, pocketsphinx-testdata (real
# recordings for robustness checks).
apt_pkgs=(espeak-ng sox pocketsphinx-testdata)
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

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.espnet2_ext_setup
want=$(cat setup.cfg tools/setup.sh | sha1sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[setup] .venv is up to date"
  exit 0
fi
# pip 25+ refuses any PyPI distribution that declares a direct-URL dependency, even
# under an extra nobody asks for; espnet's dependency ci_sdr does ("all" extra).
pip_q() {  # pip install, quiet, without the noise of this machine's unused find-links
  local log rc=0
  log=$(mktemp)
  .venv/bin/python -m pip install -q "$@" >"$log" 2>&1 || rc=$?
  grep -v "is ignored: it is neither" "$log" || true
  rm -f "$log"
  return $rc
}
pip_q "pip<25" "setuptools<74" wheel
# torch and torchaudio first, pinned as a pair; espnet is pinned beside them in setup.cfg
# so that no later resolution ever moves torch.
pip_q torch==2.9.1 torchaudio==2.9.1
pip_q -e ".[test]"
.venv/bin/python -c "import espnet2_ext, torch, espnet"  # fails the set-up if anything is missing
echo "$want" > "$stamp"
echo "[setup] done: $(.venv/bin/python -c 'import torch, espnet; print("torch", torch.__version__, "espnet", espnet.__version__)')"
