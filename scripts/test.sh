#!/usr/bin/env bash
# The whole test suite, as CI runs it: static checks, unit tests, then the integration and
# network-namespace suites. Installs the Debian packages the suites need when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"; npm run --silent typecheck
echo "== lint and format"; npm run --silent lint
echo "== unit and integration tests"
bash scripts/install-test-deps.sh
exec node --test --test-concurrency=2 --test-timeout=600000 \
  "bin/**/*.test.ts" "shared/**/*.test.ts" "controller/**/*.test.ts" "speaker/**/*.test.ts" \
  "apiserver/**/*.test.ts" "lab/**/*.test.ts" "bench/**/*.test.ts" "test/**/*.test.ts"
