#!/usr/bin/env bash
# Produces every figure of docs/performance.md on this machine (about 20 minutes on 2 cores):
# the BenchmarkDotNet run, the scaling sweeps and their plots, the profile and the quick JSON line.
# Outputs go to benchmarks/results/ (and the PNGs to docs/images/performance/).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build benchmarks/LrpGen.Benchmarks -c Release -v q -nologo
exe=benchmarks/LrpGen.Benchmarks/bin/Release/net10.0/LrpGen.Benchmarks
out=benchmarks/results
mkdir -p "$out"
"$exe" --verify --tokens 512 | tee "$out/verify.txt"
"$exe" --scaling --out "$out" | tee "$out/scaling.txt"
"$exe" --plots --in "$out"
"$exe" --profile --tokens 512 | tee "$out/profile.txt"
"$exe" --profile --tokens 2048 | tee "$out/profile-2048.txt"
"$exe" | tee "$out/bench.txt"                      # BenchmarkDotNet, 128 and 512 tokens
"$exe" --quick 2>"$out/quick.log" | tee "$out/quick.json"
