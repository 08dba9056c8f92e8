#!/usr/bin/env bash
# LibriSpeech data preparation: Kaldi-style data dirs from the LibriSpeech tree found
# under ${LIBRISPEECH} (db.sh). The corpus is not downloaded here: get it from OpenSLR
# (SLR12) and point db.sh at it.
set -euo pipefail
train_subset=100          # 100: train-clean-100 | 960: all of train-*
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [--train_subset 100|960]"
. utils/parse_options.sh
. utils/log.sh
. ./db.sh
repo=$(cd "$(dirname "$(readlink -f utils)")/../.." && pwd)  # utils -> <repo>/egs2/TEMPLATE/utils
root=${LIBRISPEECH}/LibriSpeech
[ -d "${root}" ] || die "LibriSpeech not found: ${root} (set LIBRISPEECH in db.sh)"

case "${train_subset}" in
    100) train_parts="train-clean-100" ;;
    960) train_parts="train-clean-100 train-clean-360 train-other-500" ;;
    *) die "--train_subset must be 100 or 960" ;;
esac
srcs=()
for p in ${train_parts}; do srcs+=("${root}/${p}"); done
${python} "${repo}/local/data_prep_librispeech.py" --src "${srcs[@]}" --dst "data/train_${train_subset}"
for part in dev-clean dev-other test-clean test-other; do
    ${python} "${repo}/local/data_prep_librispeech.py" --src "${root}/${part}" --dst "data/${part//-/_}"
done
for d in "data/train_${train_subset}" data/dev_clean data/dev_other data/test_clean data/test_other; do
    ${python} "${repo}/local/validate_data_dir.py" "${d}"
done
