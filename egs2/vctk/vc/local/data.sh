#!/usr/bin/env bash
# VCTK 0.92 data preparation for voice conversion: data/{train,dev,test,heldout} and
# data/parallel (pairs of a test source reading and a held-out target's reading of the
# same shared sentence). The corpus must be unpacked at ${VCTK} (db.sh); VCTK's gaps
# (p315 without text, p280 without mic2, ...) are counted skips (see the script).
set -euo pipefail
heldout_speakers="p360 p361 p362"   # the conversion targets, in no training set
prep_opts="--num_dev 2 --num_test_own 2 --num_test_shared 4"
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [--heldout_speakers 'p360 p361 p362'] [--prep_opts '...']"
. utils/parse_options.sh
. utils/log.sh
. ./db.sh
repo=$(cd "$(dirname "$(readlink -f utils)")/../.." && pwd)  # utils -> <repo>/egs2/TEMPLATE/utils
sets="train dev test heldout parallel"

if [ ! -f "${VCTK}/speaker-info.txt" ]; then
    log "no VCTK 0.92 at '${VCTK}' (set VCTK in db.sh): download VCTK-Corpus-0.92.zip" \
        "from https://datashare.ed.ac.uk/handle/10283/3443 and unpack it there"
    exit 1
fi
# shellcheck disable=SC2086
${python} "${repo}/local/data_prep_vctk.py" --vctk_root "${VCTK}" --out data \
    --heldout_speakers ${heldout_speakers} ${prep_opts}
for s in ${sets}; do
    ${python} "${repo}/local/validate_data_dir.py" "data/${s}"
done
log "data dirs ready: $(for s in ${sets}; do printf '%s=%s ' "$s" "$(wc -l < "data/$s/wav.scp")"; done)pairs=$(wc -l < data/parallel/pairs)"
