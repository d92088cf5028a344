//! Criterion benchmarks of ipsec-rs live under `benches/`; this library is empty.
