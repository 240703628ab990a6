#!/usr/bin/env bash
# `npm run test:openai7`: the type-check and the OpenAI end-to-end tests once more against openai 7. The peer range
# is ^6 || ^7, the lock file pins 6 (7 declares Node >= 22, so npm warns about engines on Node 20
# and it runs). Installs openai 7 without saving, then puts the locked version back.
set -euo pipefail
cd "$(dirname "$0")/.."
version() { node -p "require('./node_modules/openai/package.json').version"; }
locked=$(node -p "require('./package-lock.json').packages['node_modules/openai'].version")
restore() { npm install --no-save --no-audit --no-fund "openai@$locked" >/dev/null 2>&1 && echo "test:openai7: openai $(version) restored"; }
trap restore EXIT
npm install --no-save --no-audit --no-fund 'openai@^7' 2>&1 | grep -v '^npm warn install-scripts' || true
installed=$(version)
case "$installed" in 7.*) ;; *) echo "test:openai7: expected openai 7.x, got $installed" >&2; exit 1 ;; esac
echo "test:openai7: openai $installed on Node $(node --version)"
npx tsc --noEmit -p .
npx vitest run test/agents/openai-chat-client.e2e.test.ts test/agents/openai-stalled-server.e2e.test.ts test/orchestrations/openai-end-to-end.test.ts test/orchestrations/group-chat-openai.test.ts test/orchestrations/magentic-openai.test.ts
