#!/usr/bin/env bash
# The ASR trade-off benchmark on the embedded corpus (issue 4): dense 50 Hz, dense with
# ESPnet's 2x conv subsampling, dedup, dedup + BPE, fixed pooling at the entropy rates,
# entropy at 25 / 15 / 8 segments/s (global rule), the combined rule and a local layer
# before the fusion at 15/s, all into
# the same encoder-decoder with the same budget (conf/benchmark/). Writes
# benchmark/results.{csv,md,png} and the benchmark section of RESULTS.md. About 1.5 hours
# on 2 CPU cores. Any option of ../../TEMPLATE/benchmark.sh can be given, e.g.
#   ./run_benchmark.sh --stage 3
set -euo pipefail

./benchmark.sh \
    --methods "dense=dense dense_conv2x=dense_conv2x dedup=dedup dedup_bpe=dedup_bpe \
fixed_pool_25=fixed_pool2 fixed_pool_15=fixed_pool3 fixed_pool_8=fixed_pool6 \
entropy_25=entropy_rate25 entropy_15=entropy_rate15 entropy_8=entropy_rate8 \
entropy_combined_15=entropy_combined_rate15 entropy_local_15=entropy_local_rate15" \
    --main entropy_15 \
    --target_rates "25 15 8" \
    --entropy_variants "combined local" \
    --report_command "cd egs2/mini_synth/asr && ./run_benchmark.sh${*:+ $*}" \
    "$@"
