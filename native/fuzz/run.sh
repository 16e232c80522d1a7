#!/usr/bin/env bash
# Fuzzes ctc-init's program decoder (wire_fuzz.c) with libFuzzer, ASan and
# UBSan: `native/fuzz/run.sh [RUNS]` (default 1,000,000 executions). Needs
# clang and libclang-rt-14-dev from Debian. Seeds: the programs the executor
# sends for the examples (make-corpus.ts), plus native/fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-1000000}
command -v clang >/dev/null || { echo "fuzz: needs clang (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the decoder (native/init/program.c) is all of ctc-init the harness needs: wire_fuzz.c includes it
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -o "$work/wire_fuzz" native/fuzz/wire_fuzz.c
# bundled inside the repo (.build/, ignored): the compiler finds the package from where it runs
npx esbuild --bundle --platform=node --format=esm --packages=external --log-level=warning native/fuzz/make-corpus.ts --outfile=.build/fuzz/make-corpus.mjs
mkdir -p "$work/corpus" native/fuzz/corpus
node .build/fuzz/make-corpus.mjs "$work/corpus"
cp native/fuzz/corpus/* "$work/corpus/" 2>/dev/null || true
"$work/wire_fuzz" -runs="$runs" -max_len=60000 -detect_leaks=0 -print_final_stats=1 "$work/corpus" 2>&1 | tail -25
# what the fuzzer found interesting is kept (libFuzzer names units by their sha1), the seeds are made anew
for f in "$work"/corpus/*; do case "$(basename "$f")" in *.run | *.create) ;; *) cp "$f" native/fuzz/corpus/ ;; esac; done
