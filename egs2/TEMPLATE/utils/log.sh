# shellcheck shell=bash
# log.sh -- logging and "skip work already done" helpers for stage scripts.
#
# Usage: . utils/log.sh    (in a bash script; safe under `set -euo pipefail`)
#
#   log "message"               to stderr: "2025-01-31T12:00:00 (asr.sh:42) message"
#                               (the script and line that called log).
#   die "message"               log "ERROR: message", then exit 1.
#   stage_banner N "what"       log "=== Stage N: what ===".
#   stage_selected N            true if ${stage} <= N <= ${stop_stage} (defaults: 1 and
#                               10000), for `if stage_selected 3; then ...; fi`.
#   is_done DIR                 true if DIR/.done exists and ${force} is not "true".
#   done_marker DIR [note...]   creates DIR (if needed) and DIR/.done (date, script, note).
#   clear_done DIR              removes DIR/.done (call it before redoing a stage, so that
#                               an interrupted run never leaves a stale marker).
#   count_report NAME IN OUT    log "NAME: in=N out=M skipped=K" (K = N - M); IN and OUT
#                               are counts or files (their line counts).
#
# The override: set force=true (for instance as an option of the stage script,
# force=false before parse_options.sh, then --force true) to redo stages that are done.
#
# A stage then reads:
#   if stage_selected 2; then
#     stage_banner 2 "Dump features"
#     if is_done "${dumpdir}"; then
#       log "skip: ${dumpdir} is done (--force true redoes it)"
#     else
#       clear_done "${dumpdir}"
#       ...                                   # the work
#       count_report "dump" "${data}/wav.scp" "${dumpdir}/feats.scp"
#       done_marker "${dumpdir}" "stage 2"
#     fi
#   fi

# __log_caller: "script:line" of the first caller outside this file.
__log_caller() {
  local i=1 here=${BASH_SOURCE[0]}
  while [ "${i}" -lt "${#BASH_SOURCE[@]}" ] && [ "${BASH_SOURCE[i]}" = "${here}" ]; do
    i=$((i + 1))
  done
  if [ "${i}" -lt "${#BASH_SOURCE[@]}" ]; then
    printf '%s:%s' "${BASH_SOURCE[i]##*/}" "${BASH_LINENO[i - 1]}"
  else
    printf '%s' "${0##*/}"
  fi
}

log() {
  printf '%s (%s) %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$(__log_caller)" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

stage_banner() {
  if [ $# -lt 1 ]; then
    log "ERROR: usage: stage_banner N \"description\""
    return 2
  fi
  local n=$1
  shift
  log "=== Stage ${n}${*:+: $*} ==="
}

stage_selected() {
  [ "${stage:-1}" -le "$1" ] && [ "$1" -le "${stop_stage:-10000}" ]
}

is_done() {
  if [ $# -ne 1 ]; then
    log "ERROR: usage: is_done DIR"
    return 2
  fi
  [ "${force:-false}" != true ] && [ -f "$1/.done" ]
}

done_marker() {
  if [ $# -lt 1 ]; then
    log "ERROR: usage: done_marker DIR [note...]"
    return 2
  fi
  local dir=$1
  shift
  mkdir -p -- "${dir}"
  {
    printf 'finished=%s\n' "$(date '+%Y-%m-%dT%H:%M:%S')"
    printf 'by=%s\n' "$(__log_caller)"
    if [ $# -gt 0 ]; then printf 'note=%s\n' "$*"; fi
  } > "${dir}/.done"
}

clear_done() {
  if [ $# -ne 1 ]; then
    log "ERROR: usage: clear_done DIR"
    return 2
  fi
  rm -f -- "$1/.done"
}

# __log_count X: X if X is a non-negative integer, else the number of lines of file X.
__log_count() {
  if [[ $1 =~ ^[0-9]+$ ]]; then
    printf '%s' "$((10#$1))"
  elif [ -f "$1" ] && [ -r "$1" ]; then
    awk 'END { printf "%d", NR }' "$1"
  else
    return 1
  fi
}

count_report() {
  if [ $# -ne 3 ]; then
    log "ERROR: usage: count_report NAME IN OUT (counts or files)"
    return 2
  fi
  local n_in n_out
  if ! n_in=$(__log_count "$2"); then
    log "ERROR: count_report $1: '$2' is neither a count nor a readable file"
    return 2
  fi
  if ! n_out=$(__log_count "$3"); then
    log "ERROR: count_report $1: '$3' is neither a count nor a readable file"
    return 2
  fi
  log "$1: in=${n_in} out=${n_out} skipped=$((n_in - n_out))"
}
