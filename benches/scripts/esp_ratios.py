#!/usr/bin/env python3
"""Prints the ESP-to-raw-AEAD ratios of the last `cargo bench -p ipsec-benches --bench esp`
run as a Markdown table, read from criterion's estimates under target/criterion.

ratio = raw AEAD time / ESP time for the same provider, algorithm, size and direction:
1.00 means ESP costs nothing beyond the cipher; the targets are >= 0.95 at 1400 bytes and
>= 0.80 at 64 bytes.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
SIZES = [64, 576, 1400, 9000]
ALGORITHMS = ["aes128gcm16", "aes256gcm16", "chacha20poly1305"]
PROVIDERS = ["rustcrypto", "ring", "aws-lc-rs"]


def median(group, bench, size):
    path = ROOT / f"esp_{group}" / bench / str(size) / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def main():
    print("| algorithm | provider | size | raw seal | ESP seal | ratio | raw open | ESP open | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for algorithm in ALGORITHMS:
        for provider in PROVIDERS:
            for size in SIZES:
                cells = []
                for op in ["seal", "open"]:
                    raw = median(algorithm, f"{provider}-raw-{op}", size)
                    esp = median(algorithm, f"{provider}-esp-{op}", size)
                    if raw is None or esp is None:
                        cells += ["-", "-", "-"]
                        continue
                    cells += [f"{raw:.0f} ns", f"{esp:.0f} ns", f"{raw / esp:.2f}"]
                print(f"| {algorithm} | {provider} | {size} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
