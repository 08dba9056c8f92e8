#!/usr/bin/env bash
# Shared staged script: the ASR trade-off benchmark. Every method is one experiment tag
# of asr.sh, trained with one budget on the same data into the same encoder-decoder,
# then timed side by side and collected into one table.
#
#   stage 1: ./run.sh stages 1-8 (data, units, unit LM, calibration of --target_rates
#            and --entropy_variants, BPE, the dedup + BPE input)
#   stage 2: ./run.sh stages 9-11 for every method: training (--train_jobs at a time),
#            decoding, scoring; configs: <repo>/conf, conf/, then --bench_conf_dir;
#            experiments in <expdir>/<bench_prefix>_<tag>
#   stage 3: speed, all methods in one process, interleaved (espnet2_ext.bin.bench_speed):
#            training step time on the same batches, decoding real-time factor on the
#            same test utterances, the unit LM included
#   stage 4: <outdir>/results.csv, results.md, results.png (espnet2_ext.bin.bench_report)
#            and the benchmark section of RESULTS.md
#
# --methods: space-separated NAME=TAG, NAME the method's name in the table, TAG an
# asr.sh experiment tag. The first method is the reference of the ratios.
set -euo pipefail

stage=1
stop_stage=4
methods="dense=dense dense_conv2x=dense_conv2x dedup=dedup dedup_bpe=dedup_bpe"
methods+=" fixed_pool_25=fixed_pool2 fixed_pool_15=fixed_pool3 fixed_pool_8=fixed_pool6"
methods+=" entropy_25=entropy_rate25 entropy_15=entropy_rate15 entropy_8=entropy_rate8"
main=entropy_15            # method whose targets are checked in the report
target_rates="25 15 8"
entropy_variants=""        # e.g. "combined" for an entropy_combined_rate<R> method
bench_conf_dir=conf/benchmark
bench_prefix=bench
expdir=exp
dumpdir=dump
train_set=train
test_sets="test test_unseen_voices"
train_jobs=2               # trainings at the same time (stage 2)
train_threads=1            # torch threads per training job
speed_threads=1            # torch threads for the speed measurements (stage 3)
speed_batch_size=16
speed_train_batches=6
speed_rounds=3
decode_utts=20
outdir=benchmark
run_opts=""                # more options for ./run.sh (asr.sh / units.sh options)
report_command=""          # the command recorded in the report (default: this script's)

help_message="Usage: $0 [options]   (stage list at the top of $0)"

cmdline="$0 $*"
TEMPLATE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
. "${TEMPLATE}/utils/parse_options.sh"
. "${TEMPLATE}/utils/log.sh"
[ -f ./path.sh ] && . ./path.sh

tags=""
names=()
for m in ${methods}; do
    [[ "${m}" == *=* ]] || { log "--methods: '${m}' is not NAME=TAG"; exit 1; }
    names+=("${m%%=*}"); tags+=" ${m#*=}"
done
tags=${tags# }
ref=${names[0]}
bench_start=$(date +%s)

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    stage_banner 1 "units, unit LM, calibration, BPE (./run.sh stages 1-8)"
    # shellcheck disable=SC2086
    ./run.sh --stop_stage 8 --expdir "${expdir}" --dumpdir "${dumpdir}" --train_set "${train_set}" \
        --target_rates "${target_rates}" --entropy_variants "${entropy_variants}" \
        --asr_exps "${tags}" ${run_opts}
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    stage_banner 2 "training, decoding, scoring: ${tags}"
    # shellcheck disable=SC2086
    ./run.sh --stage 9 --stop_stage 11 --expdir "${expdir}" --dumpdir "${dumpdir}" \
        --train_set "${train_set}" --asr_conf_dirs "conf ${bench_conf_dir}" \
        --asr_exp_prefix "${bench_prefix}" --asr_exps "${tags}" \
        --train_jobs "${train_jobs}" --train_threads "${train_threads}" ${run_opts}
fi

speed_json=${outdir}/speed.json
if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    stage_banner 3 "speed, side by side (${speed_threads} thread(s)) -> ${speed_json}"
    dtest=${test_sets%% *}
    exps=()
    i=0
    for tag in ${tags}; do
        dir=${expdir}/${bench_prefix}_${tag}
        # the method's own input: the units file it was trained on, and its test twin
        train_units=$(python -c "import sys, yaml; c = yaml.safe_load(open(sys.argv[1])); print(next(p for p, n, _ in c['train_data_path_and_name_and_type'] if n == 'src_text'))" "${dir}/config.yaml")
        test_units=${train_units%/"${train_set}"/*}/${dtest}/${train_units##*/}
        exps+=(--exp "${names[$i]}=${dir}:${train_units}:${test_units}")
        i=$((i + 1))
    done
    mkdir -p "${outdir}"
    python -m espnet2_ext.bin.bench_speed "${exps[@]}" \
        --train_text "${dumpdir}/units/${train_set}/text" \
        --test_duration_units "${dumpdir}/units/${dtest}/units" \
        --decode_config "${expdir}/${bench_prefix}_${tags%% *}/decode.yaml" \
        --batch_size "${speed_batch_size}" --train_batches "${speed_train_batches}" \
        --rounds "${speed_rounds}" --decode_utts "${decode_utts}" --threads "${speed_threads}" \
        --out "${speed_json}"
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    stage_banner 4 "report -> ${outdir}/results.{csv,md,png}, RESULTS.md"
    margs=()
    i=0
    for tag in ${tags}; do
        margs+=(--method "${names[$i]}=${expdir}/${bench_prefix}_${tag}")
        i=$((i + 1))
    done
    # shellcheck disable=SC2086
    python -m espnet2_ext.bin.bench_report "${margs[@]}" --test_sets ${test_sets} \
        --speed "${speed_json}" --ref "${ref}" --main "${main}" --command "${report_command:-${cmdline}}" \
        --outdir "${outdir}" --results_md RESULTS.md
fi
log "benchmark.sh stages ${stage}-${stop_stage} took $(( $(date +%s) - bench_start )) s"
