#!/usr/bin/env bash
# Runs tests/linearity.rs with its 10⁶-line case, which takes minutes
# without optimisations, in the release profile (counts, not timings: the
# profile changes how long it takes, not what it counts).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --release --test linearity -- --include-ignored --nocapture "$@"
