#!/usr/bin/env python3
"""Prints the ESP-to-raw-AEAD ratios of the last `cargo bench -p ipsec-benches --bench esp`
run as Markdown tables, read from criterion's estimates under target/criterion: the default
AEADs on every provider, then the extra algorithms (`esp-extra/...`) on the default provider,
whose cipher-and-integrity rows compare against the raw cipher plus integrity.

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
EXTRA_SIZES = [64, 1400]
EXTRA = [
    "aes192gcm16", "aes128gcm12", "aes128gcm8", "aes128ccm16", "aes256ccm16", "aes128ccm8",
    "aes128ctr-sha256", "aes256ctr-sha1", "aes128-sha1", "aes128-aesxcbc", "aes192-sha256",
]


def median(group, bench, size, prefix="esp_"):
    path = ROOT / f"{prefix}{group}" / bench / str(size) / "new" / "estimates.json"
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
    print()
    print("| algorithm | size | raw seal | ESP seal | ratio | raw open | ESP open | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for algorithm in EXTRA:
        for size in EXTRA_SIZES:
            cells = []
            for op in ["seal", "open"]:
                raw = median(algorithm, f"default-raw-{op}", size, "esp-extra_") or median(
                    algorithm, f"raw-{op}", size, "esp-extra_"
                )
                esp = median(algorithm, f"default-esp-{op}", size, "esp-extra_")
                if raw is None or esp is None:
                    cells += ["-", "-", "-"]
                    continue
                cells += [f"{raw:.0f} ns", f"{esp:.0f} ns", f"{raw / esp:.2f}"]
            print(f"| {algorithm} | {size} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
