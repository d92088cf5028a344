#!/usr/bin/env python3
"""Prints the facade-to-bare-ESP ratios of the last
`cargo bench -p ipsec-benches --bench facade` run as a Markdown table, read from criterion's
estimates under target/criterion.

ratio = bare ESP SA time / facade time for the same algorithm, size and direction: 1.00 means
the facade (SPD and SAD lookups, selector checks, lifetimes, the Child SA's bookkeeping) costs
nothing beyond `OutboundSa::seal` / `InboundSa::open`; issue 10's target is >= 0.90.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
SIZES = [64, 1400]
ALGORITHMS = ["aes256gcm16", "chacha20poly1305"]


def median(algorithm, bench, size):
    path = ROOT / f"facade_{algorithm}" / bench / str(size) / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def main():
    print("| algorithm | size | op | bare ESP | facade in place | ratio | facade owned | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for algorithm in ALGORITHMS:
        for size in SIZES:
            for op in ["seal", "open"]:
                bare = median(algorithm, f"bare-{op}", size)
                in_place = median(algorithm, f"in-place-{op}", size)
                owned = median(algorithm, f"owned-{op}", size)
                if None in (bare, in_place, owned):
                    continue
                print(
                    f"| {algorithm} | {size} | {op} | {bare:.0f} ns | {in_place:.0f} ns | "
                    f"{bare / in_place:.2f} | {owned:.0f} ns | {bare / owned:.2f} |"
                )


if __name__ == "__main__":
    main()
