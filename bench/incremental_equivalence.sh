#!/bin/sh
# The long version of tests/test_incremental.py (issue 28): N random edit sequences (default 200)
# on fixture copies, every cached `check` compared with `check --no-cache`.
# Usage: bench/incremental_equivalence.sh [N] [EDITS]   (run with the venv's python on PATH, or PYTHON=...)
cd "$(dirname "$0")/.." || exit 2
SCOPEGUARD_INCREMENTAL_SEQUENCES="${1:-200}" SCOPEGUARD_INCREMENTAL_EDITS="${2:-5}" \
  exec "${PYTHON:-python}" -m pytest -q -p no:cacheprovider tests/test_incremental.py -k random_edit
