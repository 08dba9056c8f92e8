# shellcheck shell=bash
# Experiment helpers shared by the downstream stage scripts (asr.sh, vc.sh): the
# options forwarded to units.sh, experiment tags, stamps, log rotation and the pool of
# training jobs. Sourcing it only defines functions (no variables, no output), so the
# scripts source it once, before their options are parsed; the functions that log call
# log (utils/log.sh), which must be sourced before they run.
#
#   split_units_opts ARGS...
#                           sorts the command line of the calling script: an option
#                           --name (or --name=value) for which the caller has no
#                           variable (other than --help and --config) goes, with its
#                           value, to the global array units_opts (forwarded to
#                           units.sh); everything else to the global array args (for
#                           utils/parse_options.sh). Sets both arrays (they are global:
#                           call it at the top level, before parse_options.sh, then
#                           set -- "${args[@]+"${args[@]}"}")
#   base_tag TAG            TAG without a trailing _seed<N>
#   tag_frontend TAG        "<kind> <calib_name> <variant>" of an experiment tag:
#                           dense | dedup | fixed_pool<N>[_<variant>] |
#                           oracle_<variant> (kind oracle_pool) | entropy_rate<R> |
#                           entropy_<variant>_rate<R> (calib_name, variant: "-" if none;
#                           other tags: kind "-"; the caller decides what they are).
#                           A variant's config is conf/frontend/<kind>_<variant>.yaml
#                           (fixed_pool_ctx.yaml, oracle_pool_phone.yaml, ...)
#   stamp_of FILE|STRING... sha256 over the files' contents and the other strings
#   rotate_log FILE         FILE -> FILE.<n> (first free n) when it exists
#   run_jobs N FN TAG...    FN TAG for every TAG, N at a time; the failed tags are left
#                           in the array run_jobs_failed

# The caller's option variables are its globals: `declare -p` sees them from here (the
# only local, name, is not an option of the scripts).
split_units_opts() {
    local name
    units_opts=()
    args=()
    while [ $# -gt 0 ]; do
        name=${1#--}; name=${name%%=*}; name=${name//-/_}
        if [[ "$1" == --* ]] && ! declare -p "${name}" >/dev/null 2>&1 && [ "${name}" != help ] && [ "${name}" != config ]; then
            if [[ "$1" == *=* ]]; then units_opts+=("$1"); shift; else units_opts+=("$1" "$2"); shift 2; fi
        elif [[ "$1" == --* ]] && [[ "$1" != *=* ]] && [ "${name}" != help ] && [ $# -ge 2 ]; then
            args+=("$1" "$2"); shift 2   # a known option and its value (which may start with --)
        else
            args+=("$1"); shift
        fi
    done
}

# A tag may end in _seed<N>: the same experiment trained with ESPnet's --seed N.
base_tag() { local t=$1; [[ "${t}" =~ ^(.+)_seed[0-9]+$ ]] && t=${BASH_REMATCH[1]}; echo "${t}"; }

tag_frontend() {
    local tag variant
    tag=$(base_tag "$1")
    case "${tag}" in
        dense) echo "dense - -" ;;
        dedup) echo "dedup - -" ;;
        fixed_pool*_*) echo "fixed_pool - ${tag#fixed_pool*_}" ;;
        fixed_pool*) echo "fixed_pool - -" ;;
        oracle_*) echo "oracle_pool - ${tag#oracle_}" ;;
        entropy_rate*) echo "entropy rate${tag#entropy_rate} -" ;;
        entropy_*_rate*) variant=${tag#entropy_}; variant=${variant%_rate*}
                         echo "entropy ${variant}_rate${tag##*_rate} ${variant}" ;;
        *) echo "- - -" ;;
    esac
}

# Stamps tie a derived artefact to what it was made from: sha256 over the given files
# (contents), then the extra strings. A stage redoes its output when the stamp changed.
stamp_of() {
    local f
    {
        for f in "$@"; do
            if [ -f "${f}" ]; then sha256sum < "${f}"; else echo "${f}"; fi
        done
    } | sha256sum | cut -c1-16
}

# a resumed training starts a new log: keep the earlier pieces (log.1, .2, ...)
rotate_log() {
    local f=$1 n=1
    [ -f "${f}" ] || return 0
    while [ -f "${f}.${n}" ]; do n=$((n + 1)); done
    mv "${f}" "${f}.${n}"
    log "resuming; the earlier log is now ${f}.${n}"
}

run_jobs() {
    local jobs=$1 fn=$2 tag
    shift 2
    run_jobs_failed=()
    local -A running=()   # pid -> tag of the jobs in flight
    if [ "${jobs}" -gt 1 ] && (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 501 )); then
        log "${jobs} jobs at a time need bash >= 5.1 (wait -n -p); one at a time"
        jobs=1
    fi
    __reap_one() {        # wait for whichever job ends first
        local pid rc=0
        wait -n -p pid "${!running[@]}" || rc=$?
        [ "${rc}" -eq 0 ] || run_jobs_failed+=("${running[${pid}]}")
        unset "running[${pid}]"
    }
    for tag in "$@"; do
        if [ "${jobs}" -le 1 ]; then
            "${fn}" "${tag}" || run_jobs_failed+=("${tag}")
            continue
        fi
        while [ ${#running[@]} -ge "${jobs}" ]; do __reap_one; done
        log "starting ${tag} (${#running[@]} other training job(s) running)"
        "${fn}" "${tag}" &
        running[$!]=${tag}
    done
    while [ ${#running[@]} -gt 0 ]; do __reap_one; done
}

# tag_sets TAG OVERRIDES EXP_OVERRIDES [FRONTEND_KEY]: the merge_config edits of an
# experiment, one "--set key=value" a line: OVERRIDES (space-separated key.sub=value,
# every experiment), EXP_OVERRIDES (TAG:key.sub=value, that tag and its _seed<N> runs),
# the seed of a _seed<N> tag, and fixed_pool<N>'s pool size under FRONTEND_KEY
# (default frontend_conf; the VC model's is tts_conf.frontend_conf).
tag_sets() {
    local tag s fkey=${4:-frontend_conf}
    tag=$(base_tag "$1")
    for s in $2; do echo "--set ${s}"; done
    for s in $3; do
        [[ "${s}" == *:*=* ]] || { log "experiment override '${s}' is not TAG:key=value"; return 1; }
        [ "${s%%:*}" = "${tag}" ] && echo "--set ${s#*:}"
    done
    [[ "$1" =~ _seed([0-9]+)$ ]] && echo "--set seed=${BASH_REMATCH[1]}"
    case "${tag}" in
        fixed_pool*) local n=${tag#fixed_pool}; echo "--set ${fkey}.pool_size=${n%%_*}" ;;
    esac
    return 0
}
