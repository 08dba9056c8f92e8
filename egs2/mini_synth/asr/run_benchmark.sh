#!/usr/bin/env bash
# The ASR trade-off benchmark on the embedded corpus: dense 50 Hz, dense with ESPnet's 2x
# conv subsampling, dedup, dedup + BPE, fixed pooling at exactly 25 / 15 / 8 segments/s
# (pool sizes 2, 3.333 and 6.25 units), entropy at 25 / 15 / 8 segments/s (global rule,
# calibrated on train), the combined rule and a local layer before the fusion at 15/s;
# dense, fixed_pool_15 and entropy_15 three times each (seeds 0, 1, 2: mean and sd;
# dense a fourth time, seed 3, trained for a speed piece of the rows below).
# Issue 23's ablation at 15/s, one seed each (conf/frontend/entropy_<variant>.yaml,
# fixed_pool_<variant>.yaml): max_len 4, min_len 2, the shuffled-lengths control, the
# phone oracle (segments at espeak-ng's true phone boundaries, 12.18/s; --oracle_cmd
# aligns every split and writes dump/oracle/phone/starts) against fixed pooling at that
# rate (pool 4.105), segment durations + position scale (dur)
# and a +-4-unit context layer over the utterance (ctx, alone), the last two also for
# fixed pooling, and starts moved to the first frame of their unit run (snap); min_len 2
# with max_len 5 (min2max5) and min_len 2 with the context layer (min2ctx); the entropy
# of a unit LM trained on deduplicated units (dlm; exp/unit_lm_dedup), alone and with
# min_len 2 (dlmmin2) and with min2max5's lengths (dlmmin2max5); min2max5 three times;
# dlmmin2max5 with the LM pre-trained on 3.3x the speech (extmin2max5:
# exp/unit_lm_dedup_ext on train + 14 h of new sentences and voices, local/data.sh
# --unlab_sentences), and with a larger LM on the same speech (extlargemin2max5: 3 x 256,
# exp/unit_lm_dedup_ext_large; three times); fixed pooling's own lengths, 3 or 4 units,
# with the unit LM choosing which (min3max4; three times).
# All into the same encoder-decoder with the same budget (conf/benchmark/: the demo's
# 8 epochs; dedup + BPE with 1,000 pieces over the K=500 deduplicated units:
# sentencepiece needs more pieces than units). Also the boundary F1 of every rule against espeak-ng's word and phone times
# and the learning curves of the three repeated methods. Writes benchmark/results.*,
# benchmark/curves.*, benchmark/boundaries/, the benchmark section of README.md and the
# PNGs under docs/. About 5 hours on 2 CPU cores (resumable: a rerun skips finished
# trainings and resumes an interrupted one). The results of every finished training
# (scores, hypotheses, training logs; no checkpoint) and every speed measurement are
# kept in benchmark/runs/ and restored from there instead of retrained, so the
# benchmark can be made in pieces, on several machines or sittings, e.g.
#   ./run_benchmark.sh --only_tags "dense entropy_rate15 fixed_pool3.333"
#   ./run_benchmark.sh --only_tags "dense_seed1 entropy_rate15_seed1 ..."   # later
# (each piece with one dense run, so that its speed is measured beside a dense model;
# the report says which runs were made where and when). Any option of
# ../../TEMPLATE/benchmark.sh can be given, e.g.
#   ./run_benchmark.sh --stage 3
set -euo pipefail

# the command line as it can be pasted again (arguments with spaces single-quoted)
quoted=""
for a in "$@"; do
    case "${a}" in
        *[[:space:]]*) quoted+=" '${a}'" ;;
        *) quoted+=" ${a}" ;;
    esac
done

./benchmark.sh \
    --methods "dense=dense entropy_15=entropy_rate15 fixed_pool_15=fixed_pool3.333 \
dense=dense_seed1 entropy_15=entropy_rate15_seed1 fixed_pool_15=fixed_pool3.333_seed1 \
dense=dense_seed2 entropy_15=entropy_rate15_seed2 fixed_pool_15=fixed_pool3.333_seed2 \
dense_conv2x=dense_conv2x dedup=dedup dedup_bpe=dedup_bpe \
fixed_pool_25=fixed_pool2 fixed_pool_8=fixed_pool6.25 \
entropy_25=entropy_rate25 entropy_8=entropy_rate8 \
entropy_combined_15=entropy_combined_rate15 entropy_local_15=entropy_local_rate15 \
entropy_shuffled_15=entropy_shuffled_rate15 oracle_phone=oracle_phone fixed_pool_12=fixed_pool4.105 \
entropy_dur_15=entropy_dur_rate15 fixed_pool_dur_15=fixed_pool3.333_dur entropy_min2_15=entropy_min2_rate15 \
entropy_ctx_15=entropy_ctx_rate15 fixed_pool_ctx_15=fixed_pool3.333_ctx \
entropy_snap_15=entropy_snap_rate15 entropy_maxlen4_15=entropy_maxlen4_rate15 \
entropy_min2max5_15=entropy_min2max5_rate15 entropy_min2ctx_15=entropy_min2ctx_rate15 \
entropy_dlm_15=entropy_dlm_rate15 entropy_dlmmin2_15=entropy_dlmmin2_rate15 \
entropy_dlmmin2max5_15=entropy_dlmmin2max5_rate15 \
entropy_min2max5_15=entropy_min2max5_rate15_seed1 entropy_min2max5_15=entropy_min2max5_rate15_seed2 \
entropy_extmin2max5_15=entropy_extmin2max5_rate15 entropy_extlargemin2max5_15=entropy_extlargemin2max5_rate15 \
entropy_extlargemin2max5_15=entropy_extlargemin2max5_rate15_seed1 \
entropy_extlargemin2max5_15=entropy_extlargemin2max5_rate15_seed2 \
entropy_min3max4_15=entropy_min3max4_rate15 \
entropy_min3max4_15=entropy_min3max4_rate15_seed1 entropy_min3max4_15=entropy_min3max4_rate15_seed2 \
dense=dense_seed3" \
    --main entropy_min3max4_15 \
    --target_rates "25 15 8" \
    --entropy_variants "combined local maxlen4 min2 shuffled dur ctx snap min2max5 min2ctx dlm dlmmin2 dlmmin2max5 extmin2max5 extlargemin2max5 min3max4" \
    --curve_methods "dense fixed_pool_15 entropy_15 entropy_min3max4_15" \
    --align_cmd "python ../../../local/espeak_align.py --corpus downloads/mini_synth --out data/align --splits test --nj 2" \
    --oracle_cmd "[ -s dump/oracle/phone/starts ] || { python ../../../local/espeak_align.py --corpus downloads/mini_synth \
--out data/align --splits 'train dev test test_unseen_voices' --nj 2 && python local/oracle_starts.py --tier phone \
--feature whisper --ctm data/align/{train,dev,test,test_unseen_voices}/phone.ctm \
--units dump/units/{train,dev,test,test_unseen_voices}/units --out dump/oracle/phone/starts; }" \
    --docs_dir ../../../docs \
    --run_opts "--dedup_nbpe 1000 --dedup_unit_lm true --unit_lm_extra_sets train_unlab \
--unit_lm_extra_lms ext:conf/unit_lm_ext.yaml,ext_large:conf/unit_lm_ext_large.yaml --local_data_opts --unlab_sentences=18000" \
    --archive_dir benchmark/runs \
    --report_command "cd egs2/mini_synth/asr && ./run_benchmark.sh${quoted}" \
    "$@"
