# Puts the project's .venv first on PATH (created by `make setup` at the repository root).
_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
if [ -x "${_repo}/.venv/bin/python" ]; then
    export PATH="${_repo}/.venv/bin:${PATH}"
fi
export PYTHONIOENCODING=UTF-8
