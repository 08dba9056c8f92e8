#!/usr/bin/env bash
# mini_synth VC data preparation: synthesize the espeak-ng corpus in the VCTK 0.92
# layout (16 voices, 3 of them held out as conversion targets; 24 sentences every voice
# reads + 76 of its own, deterministic from the seed), then run the VCTK data
# preparation on it -- the same script egs2/vctk/vc runs on the real corpus:
# data/{train,dev,test,heldout} and data/parallel (with pairs: a test source reading
# and a held-out target's reading of the same sentence).
set -euo pipefail
seed=0
nj=2
synth_opts=""              # options for local/synth_vctk_corpus.py (voices, sentences)
prep_opts="--num_dev 2 --num_test_own 2 --num_test_shared 4"  # for local/data_prep_vctk.py
corpus=downloads/mini_synth_vctk
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [--seed 0] [--nj 2] [--synth_opts '...'] [--prep_opts '...'] [--corpus dir]"
. utils/parse_options.sh
. utils/log.sh
repo=$(cd "$(dirname "$(readlink -f utils)")/../.." && pwd)  # utils -> <repo>/egs2/TEMPLATE/utils
sets="train dev test heldout parallel"

log "synthesizing the corpus into ${corpus} (seed ${seed})"
# shellcheck disable=SC2086
${python} "${repo}/local/synth_vctk_corpus.py" --out "${corpus}" --seed "${seed}" --nj "${nj}" ${synth_opts}
# shellcheck disable=SC2086
${python} "${repo}/local/data_prep_vctk.py" --vctk_root "${corpus}" --out data \
    --heldout_from_manifest --seed "${seed}" ${prep_opts}
for s in ${sets}; do
    ${python} "${repo}/local/validate_data_dir.py" "data/${s}"
done
log "data dirs ready: $(for s in ${sets}; do printf '%s=%s ' "$s" "$(wc -l < "data/$s/wav.scp")"; done)pairs=$(wc -l < data/parallel/pairs)"
