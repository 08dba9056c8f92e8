#!/usr/bin/env bash
# mini_synth ST data preparation: synthesize the English -> German corpus (espeak-ng
# reading the pairs of local/st_grammar.py, deterministic from the seed) in the layout
# of Common Voice v4 + CoVoST 2, then run the CoVoST 2 data preparation on it -- the
# same script egs2/covost2/st runs on the real corpus.
set -euo pipefail
seed=0
nj=2
synth_opts=""              # options for local/synth_st_corpus.py (sizes, voices)
corpus=downloads/mini_synth_st
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [--seed 0] [--nj 2] [--synth_opts '...'] [--corpus dir]"
. utils/parse_options.sh
. utils/log.sh
repo=$(cd "$(dirname "$(readlink -f utils)")/../.." && pwd)  # utils -> <repo>/egs2/TEMPLATE/utils
splits="train dev test test_compositional test_unseen_voices"

log "synthesizing the corpus into ${corpus} (seed ${seed})"
# shellcheck disable=SC2086
${python} "${repo}/local/synth_st_corpus.py" --out "${corpus}" --seed "${seed}" --nj "${nj}" ${synth_opts}
# shellcheck disable=SC2086
${python} "${repo}/local/data_prep_covost2.py" --cv_root "${corpus}" \
    --covost_tsv "${corpus}/covost_v2.en_de.tsv" --src_lang en --tgt_lang de \
    --out data --splits ${splits}
for split in ${splits}; do
    ${python} "${repo}/local/validate_data_dir.py" "data/${split}"
done
log "data dirs ready: $(for s in ${splits}; do printf '%s=%s ' "$s" "$(wc -l < "data/$s/wav.scp")"; done)"
