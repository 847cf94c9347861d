#!/usr/bin/env bash
# The Python package's tests: a fresh virtual environment, the wheel built
# from this checkout and installed into it, the test dependencies, pytest.
#
#   python/run_tests.sh [pytest args]
#
# The wheel is installed as a user types it, `pip install ./python`: pip's
# default build isolation, which fetches maturin (the pyproject's
# build-system) from PyPI into a throwaway environment. The one difference:
# cargo's dev profile (MATURIN_PEP517_ARGS), which reuses what `cargo test`
# compiled; a user's release build takes minutes on a small machine.
#
# Environment: PYTHON (default python3); FAULTLINE_PY_PROFILE=release to test
# the release wheel exactly as `pip install ./python` builds it;
# FAULTLINE_PY_SPARK=1 to also install pyspark (~300 MB) and run the Spark
# recipe's test.
#
# Exit status 3 means the environment could not be set up (no venv module,
# no network to PyPI): tests/python.rs reports that as a skip, not a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
py="${PYTHON:-python3}"
venv="$root/target/python-venv"

setup_failed() { echo "python/run_tests.sh: cannot set up: $*" >&2; exit 3; }

rm -rf "$venv"
"$py" -m venv "$venv" >/dev/null 2>&1 || setup_failed "'$py -m venv' failed (install the venv module, e.g. python3-venv)"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
# No maturin here: the isolated build below must find its own.
deps=(pytest requests httpx aiohttp "dask[bag,distributed]" PureCloudPlatformClientV2)
[ "${FAULTLINE_PY_SPARK:-0}" = 1 ] && deps+=(pyspark)
"${pip[@]}" install "${deps[@]}" || setup_failed "could not install the test dependencies from PyPI"

# The wheel itself: a build failure here is a real failure (exit 1).
profile="${FAULTLINE_PY_PROFILE:-dev}"
[ "$profile" = release ] || export MATURIN_PEP517_ARGS="--profile $profile"
"${pip[@]}" install "$here"

# From a directory without the sources, and with the pytest script, not
# `python -m pytest`: python/faultline (the sources, without the compiled
# extension) must not shadow the installed wheel, here or in the worker
# processes Spark starts in this directory with it on their sys.path.
cd "$venv"
exec "$venv/bin/pytest" -q -p no:cacheprovider "$here/tests" "$@"
