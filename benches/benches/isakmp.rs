//! Parsing and emitting IKE messages of the sizes a handshake sends: the IKE_SA_INIT
//! request, the IKE_AUTH request as it travels (header + SK), and the IKE_AUTH payload chain
//! inside the SK payload (IDi, N, IDr, AUTH, SA, TSi, TSr, N...), all from a real charon
//! exchange.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipsec_isakmp::payload::{chain_len, emit_chain, parse_chain};
use ipsec_isakmp::{Message, PayloadType};

const DATA: &str = "../crates/ipsec-isakmp/tests/data/charon/aes256gcm16-x25519";

fn load(file: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{DATA}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn messages(c: &mut Criterion) {
    for (name, file) in [
        ("ike_sa_init_request", "01-ike_sa_init-request.bin"),
        ("ike_auth_request", "03-ike_auth-request.bin"),
    ] {
        let bytes = load(file);
        let message = Message::parse(&bytes).unwrap();
        let mut out = vec![0; message.buffer_len()];
        let mut group = c.benchmark_group(format!("isakmp/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("parse", |b| {
            b.iter(|| Message::parse(black_box(&bytes)).unwrap())
        });
        group.bench_function("emit", |b| {
            b.iter(|| black_box(&message).emit(black_box(&mut out)).unwrap())
        });
        group.finish();
    }
}

fn ike_auth_chain(c: &mut Criterion) {
    let bytes = load("03-ike_auth-request-inner.bin");
    let payloads = parse_chain(PayloadType::IdInitiator, &bytes).unwrap();
    let mut out = vec![0; chain_len(&payloads)];
    let mut group = c.benchmark_group("isakmp/ike_auth_payloads");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| parse_chain(PayloadType::IdInitiator, black_box(&bytes)).unwrap())
    });
    group.bench_function("emit", |b| {
        b.iter(|| emit_chain(black_box(&payloads), black_box(&mut out)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, messages, ike_auth_chain);
criterion_main!(benches);
