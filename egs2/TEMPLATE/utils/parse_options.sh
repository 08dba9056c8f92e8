# shellcheck shell=bash
# parse_options.sh -- command-line options for recipe and stage scripts.
#
# Usage: in a bash script, define every option as a shell variable with its default,
# optionally a help_message, then source this file WITHOUT arguments (it consumes the
# options from the script's own "$@" and leaves the positional arguments there):
#
#     nj=4                 # number of parallel jobs
#     train_set=train
#     use_lm=true
#     help_message="Usage: $0 [options] <data-dir>"
#     . utils/parse_options.sh || exit 1
#     [ $# -eq 1 ] || { echo "${help_message}" >&2; exit 1; }
#
# Accepted on the command line (options come before the positional arguments):
#   --name value | --name=value   sets name=value; the variable must already exist
#                                 (dashes map to underscores: --train-set -> train_set).
#                                 A variable whose current value is true/false only
#                                 accepts true/false.
#   --config file                 sources a file of name=value lines (blank lines and
#                                 #-comments allowed; every name must already exist).
#                                 Config files are applied first, in the order given,
#                                 then the other options, wherever --config appears.
#   --help | -h                   prints help_message and the options with their
#                                 current values (the name=value lines of the calling
#                                 script above the line that sources this file; names
#                                 starting with "_" are private and not listed); exit 0.
#   --                            ends the options.
# The first argument that does not start with "--" ends the options as well.
# Errors (unknown option, missing value, bad config line) print a message to stderr and
# exit 1. Array and read-only variables cannot be set. Values are plain strings.
# Safe under `set -euo pipefail`; all helper names start with __po_ and are unset at the end.

__po_script=${BASH_SOURCE[1]:-$0}
__po_script_line=${BASH_LINENO[0]:-0}
__po_help=false
__po_error=""
__po_configs=()
__po_names=()
__po_values=()

# Prints a description of why variable $1 cannot be an option; prints nothing if it can.
__po_check_name() {
  local decl flags
  if [[ ! $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ || $1 == __po_* ]]; then
    echo "'$1' is not a valid option name"
    return 0
  fi
  if ! decl=$(declare -p "$1" 2>/dev/null); then
    echo "unknown option --$1 (${__po_script##*/} has no variable '$1')"
    return 0
  fi
  flags=${decl#declare -}
  flags=${flags%% *}
  case ${flags} in
    *[aA]*) echo "option --$1: '$1' is an array variable; arrays cannot be set from the command line" ;;
    *r*) echo "option --$1: '$1' is read-only" ;;
  esac
  return 0
}

while [ $# -gt 0 ]; do
  case $1 in
    --) shift; break ;;
    --help | -h) __po_help=true; shift ;;
    --?*=*)
      __po_name=${1%%=*}; __po_value=${1#*=}; shift ;;
    --?*)
      __po_name=$1
      if [ $# -lt 2 ]; then
        [ -n "${__po_error}" ] || __po_error="option ${__po_name} needs a value"
        shift; continue
      fi
      __po_value=$2; shift 2 ;;
    *) break ;;
  esac
  [ -n "${__po_name:-}" ] || continue
  __po_name=${__po_name#--}
  __po_name=${__po_name//-/_}
  if [ "${__po_name}" = config ]; then
    __po_configs+=("${__po_value}")
  else
    __po_msg=$(__po_check_name "${__po_name}")
    if [ -n "${__po_msg}" ] && [ -z "${__po_error}" ]; then __po_error=${__po_msg}; fi
    __po_names+=("${__po_name}")
    __po_values+=("${__po_value}")
  fi
  __po_name=""
done

# Config files: check every line, then source the file.
for __po_file in ${__po_configs[@]+"${__po_configs[@]}"}; do
  [ -z "${__po_error}" ] || break
  if [ ! -f "${__po_file}" ] || [ ! -r "${__po_file}" ]; then
    __po_error="--config ${__po_file}: no such readable file"
    break
  fi
  __po_n=0
  while IFS= read -r __po_line || [ -n "${__po_line}" ]; do
    __po_n=$((__po_n + 1))
    __po_line=${__po_line#"${__po_line%%[![:space:]]*}"}
    case ${__po_line} in "" | "#"*) continue ;; esac
    if [[ ${__po_line} =~ ^(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)= ]]; then
      __po_msg=$(__po_check_name "${BASH_REMATCH[2]}")
      if [ -n "${__po_msg}" ]; then
        __po_error="--config ${__po_file}, line ${__po_n}: ${__po_msg}"
        break 2
      fi
    else
      __po_error="--config ${__po_file}, line ${__po_n}: not a name=value line: ${__po_line}"
      break 2
    fi
  done < "${__po_file}"
  # shellcheck disable=SC1090
  . "${__po_file}"
done

# Command-line values (after the config files, so that they win).
if [ -z "${__po_error}" ]; then
  __po_i=0
  while [ "${__po_i}" -lt "${#__po_names[@]}" ]; do
    __po_name=${__po_names[__po_i]}
    __po_value=${__po_values[__po_i]}
    __po_i=$((__po_i + 1))
    case ${!__po_name-} in
      true | false)
        case ${__po_value} in
          true | false) ;;
          *)
            __po_error="option --${__po_name} is a boolean (true or false), got '${__po_value}'"
            break ;;
        esac ;;
    esac
    printf -v "${__po_name}" '%s' "${__po_value}"
  done
fi

if [ "${__po_help}" = true ]; then
  if [ -n "${help_message:-}" ]; then
    printf '%s\n' "${help_message}"
  else
    printf 'Usage: %s [options] [arguments]\n' "${__po_script##*/}"
  fi
  if [ -r "${__po_script}" ] && [ "${__po_script_line}" -gt 0 ]; then
    __po_listed=" "
    __po_out=""
    __po_n=0
    while IFS= read -r __po_line && [ "${__po_n}" -lt "${__po_script_line}" ]; do
      __po_n=$((__po_n + 1))
      [[ ${__po_line} =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z][A-Za-z0-9_]*)= ]] || continue
      __po_name=${BASH_REMATCH[2]}
      case ${__po_listed} in *" ${__po_name} "*) continue ;; esac
      [ "${__po_name}" != help_message ] || continue
      [ -z "$(__po_check_name "${__po_name}")" ] || continue
      __po_listed+="${__po_name} "
      __po_value=${!__po_name-}
      case ${__po_value} in
        "" | *[[:space:]]*) __po_value="'${__po_value}'" ;;
      esac
      __po_out+=$(printf '  --%-22s %s' "${__po_name}" "${__po_value}")$'\n'
    done < "${__po_script}"
    if [ -n "${__po_out}" ]; then
      printf '\nOptions (current values):\n%s' "${__po_out}"
    fi
  fi
  exit 0
fi

if [ -n "${__po_error}" ]; then
  echo "${__po_script##*/}: ERROR: ${__po_error}" >&2
  echo "${__po_script##*/}: run with --help for the list of options" >&2
  exit 1
fi

unset __po_script __po_script_line __po_help __po_error __po_configs __po_names \
  __po_values __po_name __po_value __po_file __po_line __po_n __po_i __po_msg \
  __po_listed __po_out
unset -f __po_check_name
true
