#!/usr/bin/env bash
# The domain core is pure (STYLE.md point 1): no async runtime, transport,
# storage or cache crate may be imported under src/domain.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='\b(tokio|tonic|axum|hyper|tower|redis|redb|moka|reqwest|tracing)::'
if grep -rnE "$forbidden" src/domain src/domain.rs; then
  echo "error: src/domain imports a forbidden crate (see STYLE.md point 1)" >&2
  exit 1
fi
echo "domain purity: ok"
