#!/usr/bin/env bash
# Accept reviewed snapshots: every *.received.cs under tests/ becomes the *.verified.cs beside it.
set -euo pipefail
cd "$(dirname "$0")"
found=0
while IFS= read -r -d '' received; do
  mv "$received" "${received%.received.cs}.verified.cs"
  echo "accepted ${received%.received.cs}.verified.cs"
  found=1
done < <(find . -name '*.received.cs' -print0)
[ "$found" = 1 ] || echo "no received snapshots"
