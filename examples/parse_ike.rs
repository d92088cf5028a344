//! Parses the real IKEv2 handshake that two strongSwan charons exchanged and prints what
//! each message carries; with a path argument, parses that file instead (an IKE message
//! starting at the IKE header, as a UDP 500 payload).
//!
//! `cargo run --example parse_ike [FILE]`
#![allow(clippy::print_stdout)]

use std::error::Error;

use ipsec::isakmp::payload::parse_chain;
use ipsec::isakmp::{Message, Payload, TrafficSelector};

const HANDSHAKE: [(&str, &[u8]); 4] = [
    (
        "IKE_SA_INIT request",
        include_bytes!(
            "../crates/ipsec-isakmp/tests/data/charon/aes256gcm16-x25519/01-ike_sa_init-request.bin"
        ),
    ),
    (
        "IKE_SA_INIT response",
        include_bytes!(
            "../crates/ipsec-isakmp/tests/data/charon/aes256gcm16-x25519/02-ike_sa_init-response.bin"
        ),
    ),
    (
        "IKE_AUTH request",
        include_bytes!(
            "../crates/ipsec-isakmp/tests/data/charon/aes256gcm16-x25519/03-ike_auth-request.bin"
        ),
    ),
    (
        "IKE_AUTH response",
        include_bytes!(
            "../crates/ipsec-isakmp/tests/data/charon/aes256gcm16-x25519/04-ike_auth-response.bin"
        ),
    ),
];

/// The IKE_AUTH request's SK payload as charon decrypted it (see the test data README).
const IKE_AUTH_REQUEST_INNER: &[u8] = include_bytes!(
    "../crates/ipsec-isakmp/tests/data/charon/aes256gcm16-x25519/03-ike_auth-request-inner.bin"
);

fn describe(payload: &Payload) -> String {
    match payload {
        Payload::SecurityAssociation(sa) => {
            let proposals: Vec<String> = sa
                .proposals
                .iter()
                .map(|p| {
                    let transforms: Vec<String> = p
                        .transforms
                        .iter()
                        .map(|t| match t.key_length() {
                            Some(bits) => format!("{:?}/{bits}", t.id()),
                            None => format!("{:?}", t.id()),
                        })
                        .collect();
                    format!("#{} {} [{}]", p.number, p.protocol, transforms.join(", "))
                })
                .collect();
            format!("SA {}", proposals.join(" | "))
        }
        Payload::KeyExchange(ke) => format!("KE {} ({} bytes)", ke.group, ke.data.len()),
        Payload::Nonce(n) => format!("Nonce ({} bytes)", n.data.len()),
        Payload::Notify(n) => format!("N({}) {} bytes", n.notify_type, n.data.len()),
        Payload::IdInitiator(id) => format!("IDi {} {id}", id.id_type),
        Payload::IdResponder(id) => format!("IDr {} {id}", id.id_type),
        Payload::Authentication(a) => format!("AUTH {} ({} bytes)", a.method, a.data.len()),
        Payload::TsInitiator(ts) | Payload::TsResponder(ts) => {
            let selectors: Vec<String> = ts
                .selectors
                .iter()
                .map(|s| match s {
                    TrafficSelector::Ipv4(r) => format!("{}-{}", r.start_address, r.end_address),
                    TrafficSelector::Ipv6(r) => format!("{}-{}", r.start_address, r.end_address),
                    other => format!("{}", other.ts_type()),
                })
                .collect();
            format!("{} {}", payload.payload_type(), selectors.join(", "))
        }
        Payload::Encrypted(sk) => format!(
            "SK ({} bytes encrypted, first inside: {})",
            sk.data.len(),
            sk.first_inner
        ),
        other => format!("{}", other.payload_type()),
    }
}

fn print_message(name: &str, bytes: &[u8]) -> Result<Message, Box<dyn Error>> {
    let message = Message::parse(bytes)?;
    println!(
        "{name}: {} message {} ({} bytes) SPIi {:016x} SPIr {:016x}",
        message.exchange_type,
        message.message_id,
        bytes.len(),
        message.initiator_spi,
        message.responder_spi
    );
    for payload in &message.payloads {
        println!("  {}", describe(payload));
    }
    Ok(message)
}

fn main() -> Result<(), Box<dyn Error>> {
    if let Some(path) = std::env::args().nth(1) {
        print_message(&path, &std::fs::read(&path)?)?;
        return Ok(());
    }
    for (name, bytes) in HANDSHAKE {
        let message = print_message(name, bytes)?;
        if name == "IKE_AUTH request"
            && let Some(sk) = message.encrypted()
        {
            println!("  inside SK, decrypted with charon's logged SK_ei:");
            for payload in parse_chain(sk.first_inner, IKE_AUTH_REQUEST_INNER)? {
                println!("    {}", describe(&payload));
            }
        }
    }
    Ok(())
}
