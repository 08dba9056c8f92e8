#!/usr/bin/env bash
# mini_synth ST: English speech -> German text on a synthetic corpus in the layout of
# CoVoST 2 (espeak-ng voices reading the pairs of a synchronous grammar with German
# word order: verb-second, verb-final clauses, separable verbs, the perfect tense,
# declension, numbers, dates and clock times). Whisper tiny.en encoder units (k-means
# K=500), a small unit LM, and the dense 50 Hz baseline against the entropy-compressed
# model (15 segments/s) and fixed pooling at the same rate, scored with sacreBLEU and
# chrF on the test set, a compositional test set (unseen combinations) and unseen
# voices, and the upper bound `transcript`: the same model reading the gold English
# words (an error-free ASR). Its batch_bins counts words (7.4 per utterance) instead of
# units (136): 570 gives the ~19 utterances per batch, and so the updates, of the
# unit models' 3,000 (ESPnet's numel batches sum the source and target lengths: 136 +
# 23 BPE pieces against 7.4 + 23). Any option of ../../TEMPLATE/asr.sh or units.sh can
# be given, e.g.
#   ./run.sh --stage 9 --asr_exps "entropy_rate15"
set -euo pipefail

./st.sh \
    --train_set train \
    --valid_set dev \
    --test_sets "test test_compositional test_unseen_voices" \
    --nj 2 \
    --feature whisper \
    --n_clusters 500 \
    --km_max_frames 100000 \
    --km_args "--n_init 1 --max_iter 20" \
    --target_rates "15" \
    --asr_exps "dense entropy_rate15 fixed_pool3.333 transcript" \
    --asr_exp_overrides "transcript:batch_bins=570" \
    --train_jobs 2 \
    --train_threads 1 \
    --nbpe 300 \
    --src_transcript text.tc.en \
    "$@"
