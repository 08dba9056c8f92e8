#!/usr/bin/env bash
# Shared staged script: the ASR trade-off benchmark. Every method is one experiment tag
# of asr.sh, trained with one budget on the same data into the same encoder-decoder,
# then timed side by side and collected into one table.
#
#   stage 1: ./run.sh stages 1-8 (data, units, unit LM, calibration of --target_rates
#            and --entropy_variants, BPE, the dedup + BPE input); with an oracle_<variant>
#            method also --oracle_cmd (the control's segment starts)
#   stage 2: ./run.sh stages 9-11 for every method: training (--train_jobs at a time),
#            decoding, scoring; configs: <repo>/conf, conf/, then --bench_conf_dir;
#            experiments in <expdir>/<bench_prefix>_<tag>. With --archive_dir, each
#            finished experiment's results (config, training logs and time, decoding
#            results and scores; no checkpoint) are copied there with a note of when,
#            where and with what they were made, and an experiment found there is
#            restored instead of retrained: a benchmark longer than one sitting (or
#            one machine) is made in pieces, --only_tags choosing what a piece trains
#   stage 3: speed, all methods in one process, interleaved (espnet2_ext.bin.bench_speed):
#            training step time on the same batches, decoding real-time factor on the
#            same test utterances, the unit LM included. Only experiments with their
#            checkpoint here are timed (each method's first such run); the reference
#            method must be among them. With --archive_dir the measurement is kept as
#            <archive_dir>/speed/<time>.json and stage 5 averages the ratios of all
#            the pieces
#   stage 4: boundary precision / recall / F1 of every rule and of fixed pooling against
#            reference word and phone times of the first test set
#            (espnet2_ext.bin.boundary_eval -> <outdir>/boundaries/); the reference CTMs
#            are <align_dir>/<test>/{word,phone}.ctm, made by --align_cmd when missing;
#            skipped (with a log line) when neither exists; with an LM over deduplicated
#            units (exp/unit_lm_dedup) its rules too, in <outdir>/boundaries_dedup_lm/
#   stage 5: <outdir>/results.csv, results.md, results.png (espnet2_ext.bin.bench_report),
#            the learning curves of --curve_methods (<outdir>/curves.{csv,md,png},
#            espnet2_ext.bin.learning_curve), the benchmark section of README.md, and
#            the PNGs copied to --docs_dir
#
# --methods: space-separated NAME=TAG, NAME the method's name in the table and TAG an
# asr.sh experiment tag. The first method is the reference of the ratios. A NAME given
# again is another run of the same method (e.g. dense=dense dense=dense_seed1): the
# table gives the mean and the sample sd over its runs (wer_<set>_sd).
set -euo pipefail

stage=1
stop_stage=5
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
curve_methods=""           # methods whose learning curves are plotted (all their runs)
align_dir=data/align       # reference word/phone CTMs for stage 4: <align_dir>/<set>/*.ctm
align_cmd=""               # command that writes them when missing (e.g. a forced aligner)
oracle_cmd=""              # stage 1, when a method is oracle_<variant>: the command that
                           # writes the oracle_pool starts files its config names
boundary_rates=""          # segments/s for stage 4 (default: --target_rates)
docs_dir=""                # where stage 5 copies the PNGs (empty: nowhere)
run_opts=""                # more options for ./run.sh (asr.sh / units.sh options)
asr_exp_overrides=""       # per-experiment config overrides (asr.sh); empty: one budget for all
report_command=""          # the command recorded in the report (default: this script's)
model_file=valid.acc.ave.pth   # the checkpoint stage 3 times (asr.sh's inference model)
archive_dir=""             # results of finished experiments kept (and restored) here
only_tags=""               # stage 2: train only these tags in this run (default: all)

# shellcheck disable=SC2034  # read by utils/parse_options.sh
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
    # the oracle_pool control's starts files (made once; the command decides what to redo)
    if [[ " ${tags} " == *" oracle_"* ]]; then
        if [ -z "${oracle_cmd}" ]; then
            log "an oracle_<variant> method needs --oracle_cmd (the command that writes its starts file)"; exit 1
        fi
        log "oracle segment starts: ${oracle_cmd}"
        eval "${oracle_cmd}"
    fi
fi

# The results of one experiment that the report needs (no checkpoint: they are small).
archive_files() {  # archive_files EXPDIR: paths relative to EXPDIR
    local dir=$1 f dset
    for f in config.yaml decode.yaml train.yaml train_seconds train.stamp train.log train.log.*; do
        [ -f "${dir}/${f}" ] && echo "${f}"
    done
    for dset in ${test_sets}; do
        for f in score.json text decode.stamp; do
            [ -f "${dir}/decode_${dset}/${f}" ] && echo "decode_${dset}/${f}"
        done
    done
    return 0
}
scored() {  # scored EXPDIR: every test set has its score.json
    local dset
    for dset in ${test_sets}; do [ -f "${1}/decode_${dset}/score.json" ] || return 1; done
}
in_list() {  # in_list WORD LIST
    local w
    for w in $2; do [ "${w}" = "$1" ] && return 0; done
    return 1
}
provenance() {  # one line: when, where, with what an experiment was made
    printf '%s, git %s, %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" \
        "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "$(python -c 'import platform, sys, torch, espnet; print(f"python {sys.version.split()[0]}, torch {torch.__version__}, espnet {espnet.__version__}, {platform.machine()} {torch.get_num_threads()} thread(s)")')"
}

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    todo=""
    for tag in ${tags}; do
        in_list "${tag}" "${todo}" && continue
        dir=${expdir}/${bench_prefix}_${tag}
        arch=${archive_dir:+${archive_dir}/${bench_prefix}_${tag}}
        if [ -n "${arch}" ] && [ -f "${arch}/archived" ]; then
            if ! scored "${dir}" || [ -f "${dir}/archived" ]; then
                mkdir -p "${dir}"
                cp -r "${arch}/." "${dir}/"
                log "${tag}: restored from ${arch} (made $(cat "${arch}/archived")): not retrained"
            else
                log "${tag}: in ${arch} and trained here: kept as it is"
            fi
            continue
        fi
        if [ -n "${only_tags}" ] && ! in_list "${tag}" "${only_tags}"; then
            log "${tag}: not in --only_tags: left for another piece"
            continue
        fi
        todo+=" ${tag}"
    done
    todo=${todo# }
    stage_banner 2 "training, decoding, scoring: ${todo:-nothing left to train}"
    if [ -n "${todo}" ]; then
        # shellcheck disable=SC2086
        ./run.sh --stage 9 --stop_stage 11 --expdir "${expdir}" --dumpdir "${dumpdir}" \
            --train_set "${train_set}" --asr_conf_dirs "conf ${bench_conf_dir}" \
            --asr_exp_prefix "${bench_prefix}" --asr_exps "${todo}" --asr_exp_overrides "${asr_exp_overrides}" \
            --train_jobs "${train_jobs}" --train_threads "${train_threads}" ${run_opts}
    fi
    if [ -n "${archive_dir}" ] && [ -n "${todo}" ]; then
        made="$(provenance), command: ${report_command:-${cmdline}}"
        for tag in ${todo}; do
            dir=${expdir}/${bench_prefix}_${tag}
            arch=${archive_dir}/${bench_prefix}_${tag}
            scored "${dir}" || { log "${tag}: not scored: not archived"; continue; }
            rm -rf "${arch}"; mkdir -p "${arch}"
            abs_arch=$(cd "${arch}" && pwd)
            (cd "${dir}" && archive_files . | xargs cp --parents -t "${abs_arch}")
            echo "${made}" > "${arch}/archived"
            log "${tag}: results archived in ${arch} ($(du -sh "${arch}" | cut -f1))"
        done
    fi
fi

speed_json=${outdir}/speed.json
if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    stage_banner 3 "speed, side by side (${speed_threads} thread(s)) -> ${speed_json}"
    dtest=${test_sets%% *}
    exps=()
    declare -A timed=()     # one speed measurement per method (its first run here)
    i=0
    for tag in ${tags}; do
        dir=${expdir}/${bench_prefix}_${tag}
        if [ -n "${timed[${names[$i]}]:-}" ] || [ ! -f "${dir}/${model_file}" ]; then
            i=$((i + 1)); continue
        fi
        timed[${names[$i]}]=1
        # the method's own input: the units file it was trained on, and its test twin
        train_units=$(python -c "import sys, yaml; c = yaml.safe_load(open(sys.argv[1])); print(next(p for p, n, _ in c['train_data_path_and_name_and_type'] if n == 'src_text'))" "${dir}/config.yaml")
        test_units=${train_units%/"${train_set}"/*}/${dtest}/${train_units##*/}
        if [ "${names[$i]}" = "${ref}" ]; then   # bench_speed's reference: the first --exp
            exps=(--exp "${names[$i]}=${dir}:${train_units}:${test_units}" "${exps[@]}")
        else
            exps+=(--exp "${names[$i]}=${dir}:${train_units}:${test_units}")
        fi
        i=$((i + 1))
    done
    untimed=""
    for n in "${names[@]}"; do
        [ -n "${timed[${n}]:-}" ] || in_list "${n}" "${untimed}" || untimed+=" ${n}"
    done
    [ -z "${untimed}" ] || log "no ${model_file} here (not trained in this piece) for:${untimed}: not timed now"
fi
if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ] && [ -z "${timed[${ref}]:-}" ]; then
    log "the reference ${ref} has no ${model_file} here: no speed measurement in this piece"
elif [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    mkdir -p "${outdir}"
    python -m espnet2_ext.bin.bench_speed "${exps[@]}" \
        --train_text "${dumpdir}/units/${train_set}/text" \
        --test_duration_units "${dumpdir}/units/${dtest}/units" \
        --decode_config "${expdir}/${bench_prefix}_${tags%% *}/decode.yaml" \
        --batch_size "${speed_batch_size}" --train_batches "${speed_train_batches}" \
        --rounds "${speed_rounds}" --decode_utts "${decode_utts}" --threads "${speed_threads}" \
        --model_file "${model_file}" --out "${speed_json}"
    if [ -n "${archive_dir}" ]; then
        mkdir -p "${archive_dir}/speed"
        cp "${speed_json}" "${archive_dir}/speed/$(date -u +%Y%m%dT%H%M%SZ).json"
        log "speed measurement archived in ${archive_dir}/speed/"
    fi
fi

dtest=${test_sets%% *}
if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    stage_banner 4 "boundary F1 on ${dtest} -> ${outdir}/boundaries"
    ctms=${align_dir}/${dtest}
    if [ ! -f "${ctms}/word.ctm" ] && [ -n "${align_cmd}" ]; then
        log "reference times: ${align_cmd}"
        eval "${align_cmd}"
    fi
    if [ -f "${ctms}/word.ctm" ] && [ -f "${ctms}/phone.ctm" ]; then
        python -m espnet2_ext.bin.boundary_eval --units "${dumpdir}/units/${dtest}/units" \
            --lm_train_config "${expdir}/unit_lm/config.yaml" --lm_file "${expdir}/unit_lm/valid.loss.ave.pth" \
            --word_ctm "${ctms}/word.ctm" --phone_ctm "${ctms}/phone.ctm" \
            --feature "$(python -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['feature'])" "${expdir}/kmeans/units.yaml")" \
            --target_rates "${boundary_rates:-${target_rates}}" --out "${outdir}/boundaries"
        # the LMs over deduplicated units, when there are: units.sh --dedup_unit_lm true
        # (exp/unit_lm_dedup) and --unit_lm_extra_sets with its --unit_lm_extra_tag
        # (exp/unit_lm_dedup_ext*, pre-trained on more speech): boundaries_<name>_lm
        for lm in "${expdir}/unit_lm_dedup" "${expdir}"/unit_lm_dedup_ext*; do
            [ -f "${lm}/valid.loss.ave.pth" ] || continue
            python -m espnet2_ext.bin.boundary_eval --units "${dumpdir}/units/${dtest}/units" \
                --lm_train_config "${lm}/config.yaml" --lm_file "${lm}/valid.loss.ave.pth" \
                --lm_dedup true --methods "global global_min2 relative combined combined_min2" \
                --word_ctm "${ctms}/word.ctm" --phone_ctm "${ctms}/phone.ctm" \
                --feature "$(python -c "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['feature'])" "${expdir}/kmeans/units.yaml")" \
                --target_rates "${boundary_rates:-${target_rates}}" --out "${outdir}/boundaries_${lm##*/unit_lm_}_lm"
        done
    else
        log "no ${ctms}/word.ctm and phone.ctm (and no --align_cmd): skipping the boundary evaluation"
    fi
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    stage_banner 5 "report -> ${outdir}/results.{csv,md,png}, curves.*, README.md"
    margs=()
    cargs=()
    declare -A curved=()    # tags already in the curves (a tag listed twice counts once)
    i=0
    for tag in ${tags}; do
        margs+=(--method "${names[$i]}=${expdir}/${bench_prefix}_${tag}")
        for c in ${curve_methods}; do
            if [ "${c}" = "${names[$i]}" ] && [ -z "${curved[${tag}]:-}" ]; then
                cargs+=(--exp "${tag}=${expdir}/${bench_prefix}_${tag}"); curved[${tag}]=1
            fi
        done
        i=$((i + 1))
    done
    speeds=("${speed_json}")
    if [ -n "${archive_dir}" ] && [ -d "${archive_dir}/speed" ]; then
        # every piece's measurement (this run's is among them)
        mapfile -t speeds < <(find "${archive_dir}/speed" -name '*.json' | sort)
    fi
    # shellcheck disable=SC2086
    python -m espnet2_ext.bin.bench_report "${margs[@]}" --test_sets ${test_sets} \
        --speed "${speeds[@]}" --ref "${ref}" --main "${main}" --command "${report_command:-${cmdline}}" \
        --outdir "${outdir}" --results_md README.md
    if [ ${#cargs[@]} -gt 0 ]; then
        python -m espnet2_ext.bin.learning_curve "${cargs[@]}" --metric valid_acc --x time \
            --out_csv "${outdir}/curves.csv" --out_md "${outdir}/curves.md" --out_png "${outdir}/curves.png"
    fi
    if [ -n "${docs_dir}" ]; then
        mkdir -p "${docs_dir}"
        for f in results.png curves.png boundaries/boundary_f1.png; do
            if [ -f "${outdir}/${f}" ]; then cp "${outdir}/${f}" "${docs_dir}/benchmark_$(basename "${f}")"; fi
        done
        log "PNGs copied to ${docs_dir}/benchmark_*.png"
    fi
fi
log "benchmark.sh stages ${stage}-${stop_stage} took $(( $(date +%s) - bench_start )) s"
