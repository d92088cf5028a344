//! Two site-to-site gateways in one process, joined by an in-memory network: a host behind
//! gateway A pings a host behind gateway B; A has no SA yet, so it starts IKE (IKE_SA_INIT,
//! IKE_AUTH), the ping then goes through ESP, B's host answers, and A deletes the SAs.
//! No root, no network.
//!
//! `cargo run --example tunnel`

#[path = "common/packet.rs"]
mod packet;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ipsec::isakmp::{HeaderView, NON_ESP_MARKER};
use ipsec::{Config, Connection, Endpoint, Event, Output, Path, SendOutcome};

const GW_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const GW_B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const HOST_A: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);
const HOST_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 7);

fn gateway(
    name: &str,
    local: Ipv4Addr,
    remote: Ipv4Addr,
    ids: (&str, &str),
    subnets: (&str, &str),
) -> Endpoint {
    let connection = Connection::new(
        name,
        SocketAddr::new(IpAddr::V4(local), 500),
        SocketAddr::new(IpAddr::V4(remote), 500),
        ids.0,
        Some(ids.1),
        b"a pre-shared key both gateways know",
        "aes256gcm16-prfsha256-x25519",
        "aes256gcm16",
        &[subnets.0],
        &[subnets.1],
    )
    .expect("valid connection");
    let config = Config {
        connections: vec![connection],
        ..Config::default()
    };
    Endpoint::new(config, Box::new(ipsec::OsRandom)).expect("valid configuration")
}

/// Describes an IKE datagram for the log.
fn describe_ike(payload: &[u8]) -> String {
    let message = payload.strip_prefix(&NON_ESP_MARKER).unwrap_or(payload);
    match HeaderView::new_checked(message) {
        Ok(view) => format!(
            "{} {} ({} bytes)",
            view.exchange_type(),
            if view.flags().response {
                "response"
            } else {
                "request"
            },
            message.len()
        ),
        Err(_) => format!("{} bytes", payload.len()),
    }
}

/// What a host behind a gateway does with a delivered packet: maybe answer it.
type Deliver = fn(&str, &[u8]) -> Option<Vec<u8>>;

struct Network {
    a: Endpoint,
    b: Endpoint,
    now: Instant,
}

impl Network {
    /// Moves every queued output to the other gateway until both are quiet; prints what
    /// crosses, and hands delivered packets to `deliver`.
    fn run(&mut self, deliver: Deliver) {
        loop {
            let mut moved = false;
            for from_a in [true, false] {
                let (from, to, label) = if from_a {
                    (&mut self.a, &mut self.b, ("A", "B"))
                } else {
                    (&mut self.b, &mut self.a, ("B", "A"))
                };
                let mut replies = Vec::new();
                while let Some(output) = from.poll_output() {
                    moved = true;
                    match output {
                        Output::Udp { path, payload } => {
                            if payload.first() != Some(&0xff) || payload.len() != 1 {
                                println!(
                                    "  {} -> {}  {}",
                                    label.0,
                                    label.1,
                                    describe_ike(&payload)
                                );
                            }
                            let back = Path {
                                local: path.remote,
                                remote: path.local,
                            };
                            let _ = to.handle_udp(self.now, back, &payload);
                        }
                        Output::Esp {
                            source,
                            destination,
                            packet,
                        } => {
                            println!(
                                "  {} -> {}  ESP, SPI {:02x}{:02x}{:02x}{:02x}, {} bytes",
                                label.0,
                                label.1,
                                packet[0],
                                packet[1],
                                packet[2],
                                packet[3],
                                packet.len()
                            );
                            let _ = to.handle_esp(self.now, source, destination, &packet);
                        }
                        Output::Deliver { packet, .. } => {
                            if let Some(reply) = deliver(label.0, &packet) {
                                replies.push(reply);
                            }
                        }
                    }
                }
                for reply in replies {
                    from.send(self.now, &reply);
                }
            }
            for (name, endpoint) in [("A", &mut self.a), ("B", &mut self.b)] {
                while let Some(event) = endpoint.poll_event() {
                    print_event(name, &event);
                }
            }
            if !moved {
                return;
            }
            self.now += Duration::from_millis(1);
        }
    }
}

fn print_event(gateway: &str, event: &Event) {
    match event {
        Event::IkeSaEstablished {
            peer_id,
            algorithms,
            nat,
            ..
        } => println!(
            "{gateway}: IKE SA up with {peer_id} ({}, {}, {}; NAT: {})",
            algorithms.encryption.id,
            algorithms.prf,
            algorithms.dh,
            if nat.encapsulate() { "yes" } else { "no" }
        ),
        Event::ChildSaInstalled {
            inbound_spi,
            outbound_spi,
            ..
        } => println!("{gateway}: ESP SA installed: in {inbound_spi:08x}, out {outbound_spi:08x}"),
        Event::ChildSaRemoved { inbound_spi, .. } => {
            println!("{gateway}: ESP SA {inbound_spi:08x} removed")
        }
        Event::IkeSaClosed { reason, .. } => println!("{gateway}: IKE SA closed ({reason:?})"),
        other => println!("{gateway}: {other:?}"),
    }
}

/// What the hosts behind the gateways do with a delivered packet: B's host answers echo
/// requests; A's host reports the reply.
fn hosts(gateway: &str, packet: &[u8]) -> Option<Vec<u8>> {
    let echo = packet::parse_echo(packet)?;
    if echo.reply {
        println!(
            "{gateway}: delivers to {}: echo reply from {} (seq {})",
            echo.destination, echo.source, echo.seq
        );
        return None;
    }
    println!(
        "{gateway}: delivers to {}: echo request from {} (seq {}); it answers",
        echo.destination, echo.source, echo.seq
    );
    Some(packet::icmp_echo(
        echo.destination,
        echo.source,
        true,
        echo.id,
        echo.seq,
        echo.data,
    ))
}

fn main() {
    let a = gateway(
        "a-to-b",
        GW_A,
        GW_B,
        ("gw-a.example", "gw-b.example"),
        ("10.1.0.0/16", "10.2.0.0/16"),
    );
    let b = gateway(
        "b-to-a",
        GW_B,
        GW_A,
        ("gw-b.example", "gw-a.example"),
        ("10.2.0.0/16", "10.1.0.0/16"),
    );
    let mut net = Network {
        a,
        b,
        now: Instant::now(),
    };
    let ping = packet::icmp_echo(HOST_A, HOST_B, false, 7, 1, b"hello through the tunnel");

    println!(
        "{HOST_A} pings {HOST_B}; gateway A ({GW_A}) has no SA for 10.1.0.0/16 <-> 10.2.0.0/16 yet"
    );
    match net.a.send(net.now, &ping) {
        SendOutcome::Acquiring => println!("A: starts IKE with B ({GW_B}) for the policy"),
        other => println!("A: {other:?}"),
    }
    net.run(hosts);

    println!("{HOST_A} pings again");
    assert_eq!(net.a.send(net.now, &ping), SendOutcome::Sent);
    net.run(hosts);

    println!("A deletes the IKE SA");
    net.a.disconnect_all(net.now);
    net.run(hosts);
}
