//! Two site-to-site gateways in one process, joined by an in-memory network. A host behind
//! gateway A pings a host behind gateway B. A has no SA yet: its policy for
//! 10.1.0.0/16 <-> 10.2.0.0/16 is a trap, so the packet starts IKE (the ACQUIRE of RFC 4301
//! §5.1) and is dropped, as a kernel drops it while the SA is negotiated. Once IKE_SA_INIT
//! and IKE_AUTH are done, the second ping crosses in ESP and B's host answers. Then A
//! rekeys the Child SA and the IKE SA (CREATE_CHILD_SA, RFC 7296 §1.3.2, §1.3.3), the ping
//! crosses on the new SA, and A deletes everything. Every line is stamped with the
//! simulated time and printed as it happens. No root, no network.
//!
//! `cargo run --example tunnel`

#[path = "common/packet.rs"]
mod packet;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ipsec::isakmp::{HeaderView, NON_ESP_MARKER};
use ipsec::{Child, Config, Connection, Endpoint, Event, Output, Path, SendOutcome, StartAction};

const GW_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const GW_B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const HOST_A: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);
const HOST_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 7);

/// One gateway, configured as swanctl.conf would say it.
fn gateway(now: Instant, side: (&str, Ipv4Addr, Ipv4Addr), subnets: (&str, &str)) -> Endpoint {
    let (name, local, remote) = side;
    let other = if name == "gw-a" { "gw-b" } else { "gw-a" };
    let connection = Connection::builder("site")
        .local_addrs(&local.to_string())
        .remote_addrs(&remote.to_string())
        .local_id(&format!("{name}.example"))
        .remote_id(&format!("{other}.example"))
        .psk(b"a pre-shared key both gateways know")
        .proposals("aes256gcm16-prfsha256-x25519")
        .child(
            Child::builder("net")
                .local_ts(subnets.0)
                .remote_ts(subnets.1)
                .esp_proposals("aes256gcm16")
                .start_action(StartAction::Trap)
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .and_then(|builder| builder.build())
        .expect("a valid configuration");
    Endpoint::new(now, config, Box::new(ipsec::OsRandom)).expect("a valid configuration")
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

/// The two gateways, the simulated clock, and the datagrams on the wire.
struct Network {
    a: Endpoint,
    b: Endpoint,
    start: Instant,
    now: Instant,
}

impl Network {
    fn say(&self, line: &str) {
        let ms = self.now.duration_since(self.start).as_millis();
        println!("[{ms:>5} ms] {line}");
    }

    fn endpoint(&mut self, a: bool) -> &mut Endpoint {
        if a { &mut self.a } else { &mut self.b }
    }

    /// Prints the events one gateway has, as they happen.
    fn events(&mut self, a: bool) {
        let name = if a { "A" } else { "B" };
        while let Some(event) = self.endpoint(a).poll_event() {
            self.say(&describe_event(name, &event));
        }
    }

    /// Moves outputs to the other gateway, one at a time, a millisecond apart, until both
    /// are quiet; each gateway's events are printed right after it acted.
    fn run(&mut self) {
        self.events(true);
        self.events(false);
        loop {
            let mut moved = false;
            for from_a in [true, false] {
                let (from, to) = if from_a { ("A", "B") } else { ("B", "A") };
                while let Some(output) = self.endpoint(from_a).poll_output() {
                    moved = true;
                    self.now += Duration::from_millis(1);
                    let now = self.now;
                    match output {
                        Output::Udp { path, payload } => {
                            if payload.as_ref() != [0xff] {
                                self.say(&format!("{from} -> {to}  {}", describe_ike(&payload)));
                            }
                            let back = Path {
                                local: path.remote,
                                remote: path.local,
                            };
                            let _ = self.endpoint(!from_a).handle_udp(now, back, &payload);
                        }
                        Output::Esp {
                            source,
                            destination,
                            packet,
                        } => {
                            let spi = packet.get(..4).map_or(0, |b| {
                                u32::from_be_bytes(b.try_into().unwrap_or_default())
                            });
                            self.say(&format!(
                                "{from} -> {to}  ESP, SPI {spi:08x}, {} bytes",
                                packet.len()
                            ));
                            let _ = self.endpoint(!from_a).handle_esp(
                                now,
                                source,
                                destination,
                                &packet,
                            );
                        }
                        Output::Ah { packet, .. } => {
                            let _ = self.endpoint(!from_a).handle_ah(now, &packet);
                        }
                        Output::Deliver { packet, .. } => {
                            if let Some(reply) = self.host(from, &packet) {
                                let outcome = self.endpoint(from_a).send(now, &reply);
                                self.say(&format!("{from}: the answer is {outcome:?}"));
                            }
                        }
                    }
                    self.events(!from_a);
                    self.events(from_a);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// What the host behind a gateway does with a delivered packet: B's host answers echo
    /// requests, A's reports the reply.
    fn host(&self, gateway: &str, packet: &[u8]) -> Option<Vec<u8>> {
        let echo = packet::parse_echo(packet)?;
        if echo.reply {
            self.say(&format!(
                "{gateway}: delivers to {}: echo reply from {} (seq {})",
                echo.destination, echo.source, echo.seq
            ));
            return None;
        }
        self.say(&format!(
            "{gateway}: delivers to {}: echo request from {} (seq {}); it answers",
            echo.destination, echo.source, echo.seq
        ));
        Some(packet::icmp_echo(
            echo.destination,
            echo.source,
            true,
            echo.id,
            echo.seq,
            echo.data,
        ))
    }

    /// `HOST_A` pings `HOST_B` through gateway A.
    fn ping(&mut self, seq: u16) -> SendOutcome {
        let ping = packet::icmp_echo(HOST_A, HOST_B, false, 7, seq, b"hello through the tunnel");
        let outcome = self.a.send(self.now, &ping);
        self.say(&format!("{HOST_A} pings {HOST_B} (seq {seq}): {outcome:?}"));
        outcome
    }
}

fn describe_event(gateway: &str, event: &Event) -> String {
    match event {
        Event::IkeSaEstablished {
            peer_id,
            algorithms,
            nat,
            ..
        } => format!(
            "{gateway}: IKE SA up with {peer_id} ({}, {}, {}; NAT: {})",
            algorithms.encryption.id,
            algorithms.prf,
            algorithms.dh,
            if nat.encapsulate() { "yes" } else { "no" }
        ),
        Event::ChildSaInstalled {
            child,
            inbound_spi,
            outbound_spi,
            rekeyed,
            ..
        } => match rekeyed {
            Some(old) => format!(
                "{gateway}: Child SA `{child}` rekeyed: in {inbound_spi:08x}, out {outbound_spi:08x} replace in {old:08x}"
            ),
            None => format!(
                "{gateway}: Child SA `{child}` installed: in {inbound_spi:08x}, out {outbound_spi:08x}"
            ),
        },
        Event::ChildSaRemoved {
            inbound_spi,
            reason,
            ..
        } => format!("{gateway}: Child SA {inbound_spi:08x} removed ({reason:?})"),
        Event::IkeSaRekeyed { spi_i, spi_r, .. } => {
            format!("{gateway}: IKE SA rekeyed, now {spi_i:016x}/{spi_r:016x}")
        }
        Event::IkeSaClosed { reason, .. } => format!("{gateway}: IKE SA closed ({reason:?})"),
        other => format!("{gateway}: {other:?}"),
    }
}

fn main() {
    let start = Instant::now();
    let mut net = Network {
        a: gateway(start, ("gw-a", GW_A, GW_B), ("10.1.0.0/16", "10.2.0.0/16")),
        b: gateway(start, ("gw-b", GW_B, GW_A), ("10.2.0.0/16", "10.1.0.0/16")),
        start,
        now: start,
    };

    net.say("Gateway A has a trap policy for 10.1.0.0/16 <-> 10.2.0.0/16 and no SA yet.");
    if net.ping(1) == SendOutcome::Acquiring {
        net.say("A: no SA: the ping starts IKE with B and is dropped, as a kernel drops it.");
    }
    net.run();

    net.say("The SAs are up: the next ping crosses in ESP.");
    assert_eq!(net.ping(2), SendOutcome::Sent);
    net.run();

    let child = net.a.child_sas(net.now).first().map(|c| c.inbound_spi);
    let ike = net.a.ike_sas(net.now).first().map(|s| s.handle);
    if let (Some(child), Some(ike)) = (child, ike) {
        net.say("A rekeys the Child SA (CREATE_CHILD_SA with REKEY_SA, RFC 7296 §1.3.3).");
        net.a
            .rekey_child(net.now, child)
            .expect("the Child SA exists");
        net.run();
        net.say("A rekeys the IKE SA (RFC 7296 §1.3.2); the handle and the Child SA stay.");
        net.a.rekey_ike(net.now, ike).expect("the IKE SA exists");
        net.run();
    }

    assert_eq!(net.ping(3), SendOutcome::Sent);
    net.run();

    net.say("A deletes the IKE SA and with it the Child SA.");
    net.a.disconnect_all(net.now);
    net.run();
}
