#!/usr/bin/env bash
# Shared staged script: any-to-any voice conversion from discrete units. The units of
# a source utterance and a Resemblyzer d-vector of the target voice go through the
# unit-to-acoustics model (espnet2_ext.vc.unit_vc, "tts: unit_vc" of ESPnet's TTS task)
# with a dense, dedup, fixed-pool or entropy-segment frontend, then the vocoder its
# features take (vc.yaml's feats_extract): "world" (the coded WORLD envelope, the CPU
# path) -> WORLD synthesis with the source's F0 (mapped to the target speaker's log-F0
# mean and variance) and aperiodicity; "fbank" (80-bin log-mel) -> Griffin-Lim or a
# HiFi-GAN (--vocoder_file).
#
#   stages 1-7: units.sh (data, features, k-means, unit dumps, token list, unit LM,
#               threshold calibration); options not listed here are passed on to it.
#               Units are made for --train_set, --valid_set and --test_sets (which
#               must hold --parallel_set: the conversion sources)
#   stage 8:  16 kHz audio (espnet2_ext.bin.dump_audio: the model's fbank target) and
#             Resemblyzer d-vectors (espnet2_ext.bin.extract_dvectors: xvector.scp and
#             the speaker means spk_xvector.scp) of every set and of --dvector_sets;
#             the training lists: utterances with units, audio and a d-vector; the
#             feature (mel or WORLD envelope) statistics of the training list (ESPnet's
#             collect_stats -> exp/vc_stats/train/feats_stats.npz) when vc.yaml says
#             normalize: global_mvn
#   stage 9:  training of every experiment in --vc_exps (espnet2_ext.bin.tts_train),
#             --train_jobs at a time; config: <repo>/conf/vc.yaml, <dir>/vc.yaml of
#             --vc_conf_dirs, then the frontend's <repo>/conf/frontend/<kind>.yaml,
#             <dir>/frontend/<kind>.yaml and, for entropy, the stage-7 calibration,
#             these under tts_conf (merge_config --nest); saved as exp/vc_<tag>/train.yaml.
#             A finished model is kept only while its config and inputs are unchanged
#             (train.stamp); otherwise the stage refuses until --force true
#   stage 10: conversion of the pairs of data/<parallel_set>/pairs (source units + the
#             target speaker's mean d-vector from --target_dvector_set -> features ->
#             WORLD with the source's F0 mapped to the log-F0 statistics of the target
#             speaker's --target_dvector_set audio; log-mel models: Griffin-Lim wav, or
#             --vocoder_file HiFi-GAN):
#             exp/vc_<tag>/convert_<parallel_set>/; done again when
#             the model, the units or the d-vectors changed (convert.stamp)
#   stage 11: evaluation per experiment and of three reference systems (target's real
#             reading; its own features through the vocoder: WORLD of its own envelope,
#             F0 and aperiodicity, or Griffin-Lim of its own mel; the source passed
#             through), with
#             --eval_metrics (Whisper and pocketsphinx WER, Resemblyzer cosine to the
#             target and to the source, MCD-DTW, DNSMOS): exp/vc_<tag>/eval/score.json
#             (espnet2_ext.bin.vc_score; a table is logged); done again when its
#             input changed (score.stamp)
#   stage 12: the results block of README.md (ESPnet's RESULTS format), a plot of
#             intelligibility and similarity against tokens/s and the spectrograms of
#             one pair (source, target, dense and entropy conversions;
#             --results_spectrogram) (espnet2_ext.bin.vc_results)
#   stage 13: packing each experiment with the units' feature settings and k-means
#             (and, for entropy, its unit LM) into exp/vc_<tag>/packed.zip
#             (espnet2_ext.bin.pack_model --vc_train_config), which
#             "python -m espnet2_ext.bin.convert --model ... --source in.wav
#             --target-speaker ref.wav --out out.wav" runs on raw audio
#
# Experiments (--vc_exps): dense | dedup | fixed_pool<N> | entropy_rate<R> |
# entropy_<variant>_rate<R> [...], each optionally with _seed<N> (utils/exp.sh).
set -euo pipefail

stage=1
stop_stage=100
nj=2                       # parallel jobs for units
ngpu=0
python=python3
dumpdir=dump
expdir=exp
train_set=train
valid_set=dev
test_sets="parallel"       # sets that get units besides train/valid (holds parallel_set)
parallel_set=parallel      # data/<set>/pairs: <pair-id> <source-utt> <target-utt>
dvector_sets="heldout"     # further sets that get d-vectors (e.g. the held-out targets)
target_dvector_set=heldout # the target speakers' mean d-vectors come from this set
vc_exps="dense entropy_rate15"
vc_args=""                 # extra args for espnet2_ext.bin.tts_train (e.g. --max_epoch 5)
vc_config_overrides=""     # space-separated key.sub=value applied to every experiment
vc_exp_overrides=""        # space-separated TAG:key.sub=value for one experiment
vc_conf_dirs=conf          # recipe config dirs merged over <repo>/conf, in order:
                           # <dir>/vc.yaml, <dir>/frontend/<kind>.yaml
vc_exp_prefix=vc           # experiment directories: <expdir>/<prefix>_<tag>
train_jobs=1               # experiments trained at the same time (stage 9)
train_threads=""           # torch threads per training job (OMP_NUM_THREADS)
convert_threads=1          # torch threads of the conversion job
inference_model=valid.loss.ave.pth
griffin_lim_iters=32
vocoder_file=""            # stage 10: a HiFi-GAN checkpoint trained on the model's features
                           # (ParallelWaveGAN checkpoint-*.pkl or ESPnet GAN-TTS .pth);
                           # empty: Griffin-Lim
vocoder_config=""          # its config (default: config.yml / config.yaml next to it)
world_f0_method=""         # stage 10, WORLD models: dio | harvest for the sources' and
                           # targets' F0 (default: the model's feats_extract_conf)
eval_metrics="whisper pocketsphinx similarity mcd dnsmos"
dnsmos_mode=fast           # fast: a short clip repeated to one 9 s window; full: doubled
eval_max_pairs=0           # 0: every pair
results_plot=vc_results.png  # stage 12's plot, next to README.md
results_spectrogram=vc_spectrograms.png  # stage 12: spectrograms of one pair (source,
                           # target, dense and entropy conversions); empty: none
force=false

# shellcheck disable=SC2034  # read by utils/parse_options.sh
help_message="Usage: $0 [options]   (stage list at the top of $0; units options: see units.sh)"

cmdline="$0 $*"            # as given, for README.md's results
TEMPLATE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
REPO=$(cd "${TEMPLATE}/../.." && pwd)
# options of units.sh are forwarded: split_units_opts puts the ones we do not know in
# units_opts, the others in args (utils/exp.sh: also base_tag, tag_frontend, tag_sets,
# stamp_of, rotate_log, run_jobs)
. "${TEMPLATE}/utils/exp.sh"
units_opts=() args=()      # set by split_units_opts
split_units_opts "$@"
set -- "${args[@]+"${args[@]}"}"
. "${TEMPLATE}/utils/parse_options.sh"
. "${TEMPLATE}/utils/log.sh"
[ -f ./path.sh ] && . ./path.sh
[ -f ./cmd.sh ] && . ./cmd.sh
: "${train_cmd:=${TEMPLATE}/utils/launch.sh --backend local}"
: "${decode_cmd:=${train_cmd}}"
: "${cuda_cmd:=${train_cmd}}"

unitdir=${dumpdir}/units
statsdir=${expdir}/vc_stats   # mel statistics (stage 8, for normalize: global_mvn)
token_list=${dumpdir}/token_list/units/tokens.txt
wavdir=${dumpdir}/wav16k
dvecdir=${dumpdir}/dvector
listdir=${dumpdir}/vc
all_sets="${train_set} ${valid_set} ${test_sets}"
# every set with audio and d-vectors, each once
dvec_sets=$(echo "${all_sets} ${dvector_sets} ${target_dvector_set}" | tr ' ' '\n' | awk 'NF && !seen[$0]++' | paste -sd' ')

if [[ " ${test_sets} " != *" ${parallel_set} "* ]]; then
    log "--test_sets '${test_sets}' must hold --parallel_set ${parallel_set} (its sources need units)"; exit 1
fi

if [ "${stage}" -le 7 ]; then
    "${TEMPLATE}/units.sh" --stage "${stage}" --stop_stage "$(( stop_stage < 7 ? stop_stage : 7 ))" \
        --nj "${nj}" --ngpu "${ngpu}" --python "${python}" --dumpdir "${dumpdir}" --expdir "${expdir}" \
        --train_set "${train_set}" --valid_set "${valid_set}" --test_sets "${test_sets}" \
        --force "${force}" "${units_opts[@]+"${units_opts[@]}"}"
elif [ ${#units_opts[@]} -gt 0 ]; then
    log "ignoring units.sh options (stage > 7): ${units_opts[*]}"
fi

# the config files of an experiment: "base" (top level) or "frontend" (under tts_conf)
vc_configs() {
    local part=$1 tag kind calib variant f d
    tag=$(base_tag "$2")
    read -r kind calib variant < <(tag_frontend "${tag}")
    if [ "${kind}" = - ]; then
        log "unknown experiment tag '${tag}' (dense | dedup | fixed_pool<N> | entropy_rate<R> | entropy_<variant>_rate<R>)"; return 1
    fi
    if [ "${part}" = base ]; then
        for f in "${REPO}/conf/vc.yaml" $(for d in ${vc_conf_dirs}; do echo "${d}/vc.yaml"; done); do
            [ -f "${f}" ] && echo "${f}"
        done
        return 0
    fi
    for f in "${REPO}/conf/frontend/${kind}.yaml" $(for d in ${vc_conf_dirs}; do echo "${d}/frontend/${kind}.yaml"; done); do
        [ -f "${f}" ] && echo "${f}"
    done
    if [ "${variant}" != - ]; then
        local found=false
        for f in "${REPO}/conf/frontend/entropy_${variant}.yaml" $(for d in ${vc_conf_dirs}; do echo "${d}/frontend/entropy_${variant}.yaml"; done); do
            [ -f "${f}" ] && { echo "${f}"; found=true; }
        done
        ${found} || { log "experiment ${tag}: no conf/frontend/entropy_${variant}.yaml"; return 1; }
    fi
    if [ "${kind}" = entropy ]; then
        f=${expdir}/unit_lm/calib/${calib}.yaml
        [ -f "${f}" ] || { log "missing ${f}: add the rate to --target_rates (and the variant to --entropy_variants) and run stage 7"; return 1; }
        echo "${f}"
    fi
    return 0
}
merge_train_config() {      # tag dir: the experiment's merged config -> <dir>/train.yaml
    local tag=$1 dir=$2 list base front sets kind
    list=$(vc_configs base "${tag}") || return 1
    mapfile -t base <<< "${list}"
    list=$(vc_configs frontend "${tag}") || return 1
    mapfile -t front <<< "${list}"
    sets=$(tag_sets "${tag}" "${vc_config_overrides}" "${vc_exp_overrides}" tts_conf.frontend_conf) || return 1
    read -r kind _ < <(tag_frontend "${tag}")
    # the frontend files are written for the MT task's top level (frontend: <class>,
    # frontend_conf): their frontend_conf goes under the VC model's tts_conf
    ${python} -m espnet2_ext.bin.merge_config "${front[@]}" --drop calibration --drop unit_lm --drop frontend \
        --nest tts_conf --out "${dir}/frontend.yaml"
    local get="${python} -m espnet2_ext.bin.merge_config ${dir}/train.yaml --get" key
    # shellcheck disable=SC2086
    ${python} -m espnet2_ext.bin.merge_config "${base[@]}" "${dir}/frontend.yaml" \
        --set "tts_conf.frontend=${kind}" ${sets} --out "${dir}/train.yaml"
    # global_mvn: the statistics of stage 8, which must have been made with these features
    if [ "$(${get} normalize)" = '"global_mvn"' ] && [ "$(${get} normalize_conf.stats_file)" = null ]; then
        [ -f "${stats_file}" ] || { log "${tag}: normalize: global_mvn needs ${stats_file}: run stage 8"; return 1; }
        for key in feats_extract feats_extract_conf; do
            if [ "$(${get} ${key})" != "$(${python} -m espnet2_ext.bin.merge_config "${stats_config}" --get ${key})" ]; then
                log "${tag}: its ${key} differs from the one of ${stats_file} (${stats_config}):" \
                    "set it in vc.yaml for every experiment, or give normalize_conf.stats_file"
                return 1
            fi
        done
        # shellcheck disable=SC2086
        ${python} -m espnet2_ext.bin.merge_config "${base[@]}" "${dir}/frontend.yaml" \
            --set "tts_conf.frontend=${kind}" ${sets} --set "normalize_conf.stats_file=${stats_file}" \
            --out "${dir}/train.yaml"
    fi
}
# what a training is made from: the merged config and the input files it reads
# (the config without its header, which names the files it was merged from)
train_stamp() {
    local dir=$2 config
    config=$(grep -v '^#' "${dir}/train.yaml" | sha256sum)
    stamp_of "config=${config}" "${token_list}" \
        "$([ -f "${stats_file}" ] && grep -q "${stats_file}" "${dir}/train.yaml" && cat "${statsdir}/stats.stamp")" \
        "${listdir}/${train_set}/units_shape" "${unitdir}/${train_set}/units" \
        "${wavdir}/${train_set}/wav.scp" "${dvecdir}/${train_set}/xvector.scp" \
        "${listdir}/${valid_set}/units_shape" "${unitdir}/${valid_set}/units" \
        "${wavdir}/${valid_set}/wav.scp" "${dvecdir}/${valid_set}/xvector.scp" "vc_args=${vc_args}"
}
data_args() {   # split set: the data options of tts_train
    local split=$1 dset=$2
    echo "--${split}_data_path_and_name_and_type ${unitdir}/${dset}/units,text,text" \
        "--${split}_data_path_and_name_and_type ${wavdir}/${dset}/wav.scp,speech,sound" \
        "--${split}_data_path_and_name_and_type ${dvecdir}/${dset}/xvector.scp,spembs,kaldi_ark" \
        "--${split}_shape_file ${listdir}/${dset}/units_shape"
}
train_one() {
    local tag=$1 dir=${expdir}/${vc_exp_prefix}_${1}
    merge_train_config "${tag}" "${dir}" || return 1
    rotate_log "${dir}/train.log"
    # shellcheck disable=SC2086,SC2046
    ${cuda_cmd} --gpu "${ngpu}" "${dir}/train.log" \
        env ${train_threads:+OMP_NUM_THREADS=${train_threads}} \
        ${python} -m espnet2_ext.bin.tts_train --config "${dir}/train.yaml" --ngpu "${ngpu}" \
            --use_tensorboard false --use_matplotlib false --resume true \
            --multiprocessing_distributed true \
            --token_list "${token_list}" --token_type word --output_dir "${dir}" \
            $(data_args train "${train_set}") $(data_args valid "${valid_set}") \
            ${vc_args} || return 1
    ${python} -m espnet2_ext.bin.learning_curve --exp "${dir}" --print_seconds > "${dir}/train_seconds" || return 1
    train_stamp "${tag}" "${dir}" > "${dir}/train.stamp"
    log "${tag}: trained in $(cat "${dir}/train_seconds") s of epochs (${dir}/train.log)"
}
# stage 9 for one experiment: train it, or keep a finished model made from the same
# config and inputs (train.stamp); a changed one is refused without --force true
train_or_keep() {
    local tag=$1 dir=${expdir}/${vc_exp_prefix}_${1} now
    stage_banner 9 "training ${tag} -> ${dir}"
    if [ -f "${dir}/${inference_model}" ] && [ "${force}" != true ]; then
        mkdir -p "${dir}/.check"
        merge_train_config "${tag}" "${dir}/.check" || return 1
        now=$(train_stamp "${tag}" "${dir}/.check")
        rm -rf "${dir}/.check"
        if [ "$(cat "${dir}/train.stamp" 2>/dev/null)" = "${now}" ]; then
            log "${dir}/${inference_model} exists and its config and inputs are unchanged: skipping"
            return 0
        fi
        log "${tag}: the config or the inputs changed since ${dir} was trained (or no train.stamp);" \
            "refusing to keep or overwrite it: --force true to retrain, or another --vc_exp_prefix"
        return 1
    fi
    mkdir -p "${dir}"
    train_one "${tag}"
}

# stage 8's mel statistics (ESPnet's collect_stats over the training list) for a config
# with normalize: global_mvn, made with the shared and recipe vc.yaml (the features do
# not depend on the frontend); every experiment with global_mvn reads them
stats_config=${statsdir}/stats.yaml
stats_file=${statsdir}/train/feats_stats.npz
collect_stats() {
    local list base normalize st
    list=$(vc_configs base dense) || return 1
    mapfile -t base <<< "${list}"
    mkdir -p "${statsdir}"
    normalize=$(${python} -m espnet2_ext.bin.merge_config "${base[@]}" --get normalize)
    # the statistics are collected from the features before any normalisation
    ${python} -m espnet2_ext.bin.merge_config "${base[@]}" --set tts_conf.frontend=dense \
        --set normalize=null --out "${stats_config}"
    if [ "${normalize}" != '"global_mvn"' ]; then
        log "normalize: ${normalize} in vc.yaml: no mel statistics needed"; return 0
    fi
    stage_banner 8 "mel statistics of ${train_set} (normalize: global_mvn) -> ${stats_file}"
    st=$(stamp_of "feats=$(${python} -m espnet2_ext.bin.merge_config "${stats_config}" --get feats_extract)" \
        "feats_conf=$(${python} -m espnet2_ext.bin.merge_config "${stats_config}" --get feats_extract_conf)" \
        "${listdir}/${train_set}/units_shape" "${wavdir}/${train_set}/wav.scp" \
        "${listdir}/${valid_set}/units_shape" "${wavdir}/${valid_set}/wav.scp")
    if [ -f "${stats_file}" ] && [ "$(cat "${statsdir}/stats.stamp" 2>/dev/null)" = "${st}" ] && [ "${force}" != true ]; then
        log "${stats_file} exists for these features and lists: skipping"; return 0
    fi
    rm -f "${statsdir}/stats.stamp"
    # shellcheck disable=SC2046
    ${train_cmd} "${statsdir}/stats.log" \
        ${python} -m espnet2_ext.bin.tts_train --config "${stats_config}" --ngpu 0 \
            --collect_stats true --use_tensorboard false --use_matplotlib false \
            --token_list "${token_list}" --token_type word --output_dir "${statsdir}" \
            $(data_args train "${train_set}") $(data_args valid "${valid_set}") || return 1
    [ -f "${stats_file}" ] || { log "no ${stats_file} (see ${statsdir}/stats.log)"; return 1; }
    log "mel statistics: $(${python} -c 'import numpy, sys; print(int(numpy.load(sys.argv[1])["count"]))' "${stats_file}") frames of $(wc -l < "${listdir}/${train_set}/units_shape") ${train_set} utterances"
    echo "${st}" > "${statsdir}/stats.stamp"
}

if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
    for dset in ${dvec_sets}; do
        stage_banner 8 "16 kHz audio and d-vectors of ${dset} -> ${wavdir}/${dset}, ${dvecdir}/${dset}"
        st=$(stamp_of "data/${dset}/wav.scp" "data/${dset}/utt2spk")
        if [ -f "${dvecdir}/${dset}/spk_xvector.scp" ] && [ "$(cat "${dvecdir}/${dset}/dvector.stamp" 2>/dev/null)" = "${st}" ] \
                && [ "${force}" != true ]; then
            log "${dset}: audio and d-vectors exist for this wav.scp: skipping"
        else
            mkdir -p "${wavdir}/${dset}" "${dvecdir}/${dset}"
            ${train_cmd} "${wavdir}/${dset}/dump_audio.log" \
                ${python} -m espnet2_ext.bin.dump_audio --wav_scp "data/${dset}/wav.scp" \
                    --out_dir "${wavdir}/${dset}" --fs 16000
            count_report "16 kHz audio ${dset}" "data/${dset}/wav.scp" "${wavdir}/${dset}/wav.scp"
            # shellcheck disable=SC2086
            ${cuda_cmd} --gpu "${ngpu}" "${dvecdir}/${dset}/extract_dvectors.log" \
                ${python} -m espnet2_ext.bin.extract_dvectors --wav_scp "${wavdir}/${dset}/wav.scp" \
                    --utt2spk "data/${dset}/utt2spk" --out_dir "${dvecdir}/${dset}" \
                    --device "$([ "${ngpu}" -gt 0 ] && echo cuda || echo cpu)"
            count_report "d-vectors ${dset}" "${wavdir}/${dset}/wav.scp" "${dvecdir}/${dset}/xvector.scp"
            log "d-vectors ${dset}: $(wc -l < "${dvecdir}/${dset}/spk_xvector.scp") speaker means"
            echo "${st}" > "${dvecdir}/${dset}/dvector.stamp"
        fi
    done
    # the training lists: utterances with units, 16 kHz audio and a d-vector
    for dset in ${train_set} ${valid_set}; do
        mkdir -p "${listdir}/${dset}"
        awk 'FILENAME == ARGV[1] { a[$1]; next } FILENAME == ARGV[2] { if ($1 in a) b[$1]; next } ($1 in b)' \
            "${wavdir}/${dset}/wav.scp" "${dvecdir}/${dset}/xvector.scp" "${unitdir}/${dset}/units_shape" \
            > "${listdir}/${dset}/units_shape"
        count_report "training list ${dset}" "${unitdir}/${dset}/units_shape" "${listdir}/${dset}/units_shape"
    done
    collect_stats || exit 1
fi

if [ "${stage}" -le 9 ] && [ "${stop_stage}" -ge 9 ]; then
    # shellcheck disable=SC2086
    run_jobs "${train_jobs}" train_or_keep ${vc_exps}
    # shellcheck disable=SC2154  # set by run_jobs (utils/exp.sh)
    if [ ${#run_jobs_failed[@]} -gt 0 ]; then
        log "training failed: ${run_jobs_failed[*]} (see ${expdir}/${vc_exp_prefix}_<tag>/train.log)"; exit 1
    fi
fi

pairs=data/${parallel_set}/pairs
spk_dvec=${dvecdir}/${target_dvector_set}/spk_xvector.scp
if [ "${stage}" -le 10 ] && [ "${stop_stage}" -ge 10 ]; then
    for tag in ${vc_exps}; do
        dir=${expdir}/${vc_exp_prefix}_${tag}
        out=${dir}/convert_${parallel_set}
        stage_banner 10 "converting ${pairs} with ${tag} -> ${out}"
        cstamp=$(stamp_of "${dir}/${inference_model}" "${pairs}" "${unitdir}/${parallel_set}/units" \
            "${spk_dvec}" "griffin_lim_iters=${griffin_lim_iters}" \
            "${wavdir}/${parallel_set}/wav.scp" "${wavdir}/${target_dvector_set}/wav.scp" \
            "f0_method=${world_f0_method}" \
            "vocoder=$([ -n "${vocoder_file}" ] && stamp_of "${vocoder_file}" ${vocoder_config:+"${vocoder_config}"})")
        if [ -f "${out}/wav.scp" ] && [ "${force}" != true ]; then
            if [ "$(cat "${out}/convert.stamp" 2>/dev/null)" = "${cstamp}" ]; then
                log "${out}/wav.scp exists for this model, these pairs and d-vectors: skipping"; continue
            fi
            log "${out} is stale (another model, pairs or d-vectors): converting again"
        fi
        rm -rf "${out}"
        mkdir -p "${out}"
        # the target utterances' speakers: utt2spk of the parallel set
        ${decode_cmd} "${out}/convert.log" \
            env OMP_NUM_THREADS="${convert_threads}" ${python} -m espnet2_ext.bin.vc_convert \
                --train_config "${dir}/config.yaml" --model_file "${dir}/${inference_model}" \
                --pairs "${pairs}" --units "${unitdir}/${parallel_set}/units" \
                --utt2spk "data/${parallel_set}/utt2spk" --spk_xvector_scp "${spk_dvec}" \
                --griffin_lim_iters "${griffin_lim_iters}" --out_dir "${out}" \
                --source_wav_scp "${wavdir}/${parallel_set}/wav.scp" \
                --target_wav_scp "${wavdir}/${target_dvector_set}/wav.scp" \
                --target_utt2spk "data/${target_dvector_set}/utt2spk" \
                ${world_f0_method:+--f0_method "${world_f0_method}"} \
                ${vocoder_file:+--vocoder_file "${vocoder_file}"} \
                ${vocoder_config:+--vocoder_config "${vocoder_config}"}
        count_report "converted ${tag}" "${pairs}" "${out}/wav.scp"
        echo "${cstamp}" > "${out}/convert.stamp"
    done
fi

score_one() {   # name system out [vc_score args]: score.json unless its stamp is unchanged
    local name=$1 system=$2 out=$3 st
    shift 3
    st=$(stamp_of "${pairs}" "data/${parallel_set}/wav.scp" "data/${parallel_set}/text" "$@" \
        "metrics=${eval_metrics}" "dnsmos=${dnsmos_mode}" "max=${eval_max_pairs}")
    if [ -f "${out}/score.json" ] && [ "$(cat "${out}/score.stamp" 2>/dev/null)" = "${st}" ] && [ "${force}" != true ]; then
        log "${out}/score.json exists for these inputs: skipping"; return 0
    fi
    mkdir -p "${out}"
    # shellcheck disable=SC2086
    ${decode_cmd} "${out}/score.log" \
        env OMP_NUM_THREADS="${convert_threads}" ${python} -m espnet2_ext.bin.vc_score \
            --system "${system}" --name "${name}" --pairs "${pairs}" \
            --wav_scp "data/${parallel_set}/wav.scp" --text "data/${parallel_set}/text" \
            --metrics ${eval_metrics} --dnsmos_mode "${dnsmos_mode}" --max_pairs "${eval_max_pairs}" \
            --out "${out}/score.json" "$@" || return 1
    echo "${st}" > "${out}/score.stamp"
    ${python} -c 'import json, sys; s = json.load(open(sys.argv[1])); print("in=%d out=%d skipped=%d" % (s["pairs"], s["scored"], s["skipped"]))' \
        "${out}/score.json" | sed "s|^|${name}: |" >&2
}

if [ "${stage}" -le 11 ] && [ "${stop_stage}" -ge 11 ]; then
    # ref_resynth goes through the vocoder of the models' features (vc.yaml)
    mapfile -t base <<< "$(vc_configs base dense)"
    resynth_args=(--resynth griffin_lim)
    if [ "$(${python} -m espnet2_ext.bin.merge_config "${base[@]}" --get feats_extract)" = '"world"' ]; then
        resynth_args=(--resynth world --resynth_conf
            "$(${python} -m espnet2_ext.bin.merge_config "${base[@]}" --get feats_extract_conf)")
    fi
    stage_banner 11 "evaluating the reference ref_target on ${pairs}"
    score_one ref_target ref_target "${expdir}/${vc_exp_prefix}_ref_target/eval"
    stage_banner 11 "evaluating the reference ref_resynth on ${pairs} (${resynth_args[1]})"
    score_one ref_resynth ref_resynth "${expdir}/${vc_exp_prefix}_ref_resynth/eval" "${resynth_args[@]}"
    stage_banner 11 "evaluating the reference ref_source on ${pairs}"
    score_one ref_source ref_source "${expdir}/${vc_exp_prefix}_ref_source/eval"
    for tag in ${vc_exps}; do
        dir=${expdir}/${vc_exp_prefix}_${tag}
        stage_banner 11 "evaluating ${tag} on ${pairs}"
        score_one "${tag}" converted "${dir}/eval" --hyp_scp "${dir}/convert_${parallel_set}/wav.scp" \
            --convert_info "${dir}/convert_${parallel_set}/convert.json"
    done
fi

if [ "${stage}" -le 12 ] && [ "${stop_stage}" -ge 12 ]; then
    stage_banner 12 "results -> README.md, ${results_plot}"
    # shellcheck disable=SC2086
    ${python} -m espnet2_ext.bin.vc_results --expdir "${expdir}" --exps ${vc_exps} \
        --exp_prefix "${vc_exp_prefix}" --out README.md --plot "${results_plot}" --command "${cmdline}" \
        ${results_spectrogram:+--spectrogram "${results_spectrogram}" --pairs "${pairs}"} \
        ${results_spectrogram:+--wav_scp "data/${parallel_set}/wav.scp" --convert_dir "convert_${parallel_set}"}
fi

if [ "${stage}" -le 13 ] && [ "${stop_stage}" -ge 13 ]; then
    for tag in ${vc_exps}; do
        dir=${expdir}/${vc_exp_prefix}_${tag}
        stage_banner 13 "packing ${dir} -> ${dir}/packed.zip"
        ${python} -m espnet2_ext.bin.pack_model --vc_train_config "${dir}/config.yaml" \
            --vc_model_file "${dir}/${inference_model}" --units_config "${expdir}/kmeans/units.yaml" \
            --outpath "${dir}/packed.zip"
    done
fi
log "vc.sh finished (stages ${stage}-${stop_stage})"
