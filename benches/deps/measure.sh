#!/usr/bin/env bash
# What depending on switchboard costs a host: each host under benches/deps/hosts/ is built cold, in release,
# in a fresh target directory of its own, and the script prints one markdown table row per build:
#   CPU s      user + sys time of cargo and every process it waited for (rustc, build scripts, cc), GNU time
#   wall s     elapsed time (depends on the machine's load; CPU s less, but on a shared machine it still
#              moves by ±10 %: compare rows of one run, or run two trees back to back)
#   crates     units cargo compiled ("Compiling …" lines: one per package, build script included)
#   dup        crate names compiled in more than one version
#   binary     the host's executable after `strip`
#
# Usage (from anywhere):   benches/deps/measure.sh [ROW ...]
# Rows: full-sim (every integration + the simulators, as a host that puts `sim` in [dependencies]),
#       full (default features), dinstar (default-features = false, features = ["dinstar"]),
#       baseline (the same program on reqwest + tokio + serde alone, rustls on ring as switchboard),
#       baseline-aws-lc (the same on reqwest's default crypto, aws-lc-rs), phone-rlib / phone-alt (a phone
#       number normaliser on rlibphonenumber / on the `phonenumber` crate, see hosts/phone/Cargo.toml).
#       Default: full-sim full dinstar baseline.
# Each host gets a copy of the workspace's Cargo.lock, so it builds the same versions the workspace pins
# (the phone host resolves its two libraries on top).
# Dependencies are downloaded (`cargo fetch`) before the clock starts; the build itself runs --offline.
# Set KEEP=1 to keep the target directories (their paths are printed) and the build logs; each then holds
# cargo's --timings report (cargo-timings/cargo-timing.html), which says which crates took the time, and
# benches/deps/timings.py summarises it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rows=("$@")
[ ${#rows[@]} -eq 0 ] && rows=(full-sim full dinstar baseline)

printf '| host | CPU s (user+sys) | wall s | crates | dup | stripped binary |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for row in "${rows[@]}"; do
    features=()
    case "$row" in
        full-sim) host=full; features=(--features sim) ;;
        baseline-aws-lc) host=baseline; features=(--no-default-features --features aws-lc-rs) ;;
        phone-rlib) host=phone; features=(--features rlibphonenumber) ;;
        phone-alt) host=phone; features=(--features phonenumber) ;;
        full | dinstar | baseline) host=$row ;;
        *) echo "unknown row '$row' (full-sim, full, dinstar, baseline, baseline-aws-lc, phone-rlib, phone-alt)" >&2; exit 2 ;;
    esac
    dir="$here/hosts/$host"
    cp "$root/Cargo.lock" "$dir/Cargo.lock"
    (cd "$dir" && cargo fetch -q)
    target="$(mktemp -d "${TMPDIR:-/tmp}/depcost-$row.XXXXXX")"
    log="$target.log"
    times="$target.time"
    (cd "$dir" && CARGO_TARGET_DIR="$target" CARGO_INCREMENTAL=0 \
        /usr/bin/time -f '%U %S %e' -o "$times" \
        cargo build --release --offline --timings "${features[@]}" >"$log" 2>&1) || {
        echo "build of $row failed, log: $log" >&2
        tail -20 "$log" >&2
        exit 1
    }
    read -r user sys wall <"$times"
    crates=$(grep -cE '^ +Compiling ' "$log")
    dup=$(grep -E '^ +Compiling ' "$log" | awk '{print $2}' | sort | uniq -d | wc -l)
    bin="$target/release/depcost-host-$host"
    stripped="$target/stripped"
    strip -o "$stripped" "$bin"
    size=$(stat -c %s "$stripped")
    printf '| %s | %.0f | %.0f | %d | %d | %.1f MB |\n' "$row" "$(echo "$user + $sys" | bc)" "$wall" "$crates" "$dup" \
        "$(echo "scale=2; $size / 1000000" | bc)"
    if [ "${KEEP:-0}" = 1 ]; then
        echo "  (kept: $target, log $log)" >&2
    else
        rm -rf "$target" "$log" "$times"
    fi
done
