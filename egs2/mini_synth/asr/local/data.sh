#!/usr/bin/env bash
# mini_synth data preparation: synthesize the corpus (espeak-ng, deterministic from the
# seed) in LibriSpeech layout, then run the LibriSpeech data preparation on it.
set -euo pipefail
seed=0
nj=2
# The corpus: 8,450 distinct sentences (train 8,000 = 6.3 h; dev, test and
# test_unseen_voices 150 each), 16 voices of which 4 are held out, a 351-word vocabulary
# (20 words per open class) so that every word is heard often in training.
synth_opts="--num_sentences 8450 --words_per_class 20"   # options for local/synth_corpus.py
corpus=downloads/mini_synth
# Unlabeled speech for the unit LM (issue 23: the paper's pre-trained LM): this many new
# sentences (about 2.9 s each: 18000 is 14.5 h) in 24 new voices, none of them a sentence
# or held-out voice of the corpus above, into ${corpus}_unlab and data/train_unlab.
# 0: none. Its units train only exp/unit_lm_dedup_ext (units.sh --unit_lm_extra_sets).
unlab_sentences=0
python=python3
# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [--seed 0] [--nj 2] [--synth_opts '...'] [--corpus dir] [--unlab_sentences 0]"
. utils/parse_options.sh
. utils/log.sh
repo=$(cd "$(dirname "$(readlink -f utils)")/../.." && pwd)  # utils -> <repo>/egs2/TEMPLATE/utils

log "synthesizing the corpus into ${corpus} (seed ${seed})"
# shellcheck disable=SC2086
${python} "${repo}/local/synth_corpus.py" --out "${corpus}" --seed "${seed}" --nj "${nj}" ${synth_opts}
for split in train dev test test_unseen_voices; do
    ${python} "${repo}/local/data_prep_librispeech.py" --src "${corpus}/${split}" --dst "data/${split}"
    ${python} "${repo}/local/validate_data_dir.py" "data/${split}"
done
if [ "${unlab_sentences}" -gt 0 ]; then
    log "synthesizing ${unlab_sentences} unlabeled sentences into ${corpus}_unlab (unit LM pre-training only)"
    ${python} "${repo}/local/synth_unlabeled.py" --reference "${corpus}" --out "${corpus}_unlab" \
        --num_sentences "${unlab_sentences}" --seed $((seed + 1)) --nj "${nj}"
    ${python} "${repo}/local/data_prep_librispeech.py" --src "${corpus}_unlab/train" --dst data/train_unlab
    ${python} "${repo}/local/validate_data_dir.py" data/train_unlab
    log "data/train_unlab: $(wc -l < data/train_unlab/wav.scp) utterances"
fi
log "data dirs ready: $(for s in train dev test test_unseen_voices; do printf '%s=%s ' "$s" "$(wc -l < data/$s/wav.scp)"; done)"
