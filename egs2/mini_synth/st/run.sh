#!/usr/bin/env bash
# mini_synth ST: English speech -> German text on a synthetic corpus in the layout of
# CoVoST 2 (espeak-ng voices reading the pairs of a synchronous grammar with German
# word order: verb-second, verb-final clauses, separable verbs, the perfect tense,
# declension, numbers, dates and clock times). Whisper tiny.en encoder units (k-means
# K=500), a small unit LM, and the dense 50 Hz baseline against the entropy-compressed
# model (15 segments/s: the first release's entropy_rate15 and the ASR benchmark's best
# variants: min2max5, segments of two to five units, and min3max4, the recipe default,
# fixed pooling's lengths with the LM choosing three or four units) and fixed pooling at
# the same rate, scored with sacreBLEU and
# chrF on the test set, a compositional test set (unseen combinations) and unseen
# voices, dedup + BPE over the units (19.5 pieces/s; sentencepiece over K=500 units
# needs more than 500 pieces: --dedup_nbpe 1000), and the upper bound `transcript`: the
# same model reading the gold English words (an error-free ASR). The German targets
# are 1,000 unigram pieces (1.5 per word): 300 split the 1,651 word types of train into
# 3.1 pieces per word and cost 5-13 BLEU (README notes). ESPnet's numel batches sum the
# source and target lengths, so the inputs shorter than the 136 units + 11.4 pieces of
# an utterance get smaller batch_bins for about the unit models' ~20 utterances per
# batch and 192 updates per epoch: dedup_bpe 1320 (52 + 11.4 per utterance),
# transcript 330 (7.4 words + 11.4; ~17.5 utterances). Any option of
# ../../TEMPLATE/asr.sh or units.sh can be given, e.g.
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
    --entropy_variants "min2max5 min3max4" \
    --asr_exps "dense entropy_rate15 entropy_min2max5_rate15 entropy_min3max4_rate15 fixed_pool3.333 dedup_bpe transcript" \
    --asr_exp_overrides "dedup_bpe:batch_bins=1320 transcript:batch_bins=330" \
    --train_jobs 2 \
    --train_threads 1 \
    --nbpe 1000 \
    --dedup_nbpe 1000 \
    --src_transcript text.tc.en \
    "$@"
