//! Two of our endpoints in the harness process, joined by hand the way examples/tunnel.rs
//! joins them: every output of one goes to the other a millisecond later, on a simulated
//! clock. What crosses is kept as whole IPv4 packets (IKE in UDP, raw ESP, AH) for a pcap
//! file with link type RAW, which tshark then reads.

use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ipsec::ikev2::IkeKeyLog;
use ipsec::{Config, Connection, Endpoint, EspSaKeys, Event, KeyLog, Output, Path as UdpPath};

use crate::packet;

/// LINKTYPE_RAW: each record is an IPv4 or IPv6 packet, no link-layer header.
pub(crate) const LINKTYPE_RAW: u32 = 101;

/// What crossed the wire, as an IPv4 packet.
#[derive(Clone, Debug)]
pub(crate) struct WirePacket {
    /// since the pair started (simulated)
    pub(crate) at: Duration,
    pub(crate) from_a: bool,
    pub(crate) kind: WireKind,
    pub(crate) packet: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireKind {
    Ike,
    Esp,
    Ah,
}

/// A packet one endpoint delivered, as an IPv4 packet (transport mode: the IP header put
/// back from the peer's and our address, as ipsec-peer does).
#[derive(Clone, Debug)]
pub(crate) struct Delivered {
    pub(crate) packet: Vec<u8>,
    /// what the endpoint handed over (transport mode: the upper-layer payload)
    pub(crate) payload: Vec<u8>,
    pub(crate) transport: bool,
    pub(crate) next_header: u8,
    pub(crate) inbound_spi: u32,
}

/// Keys an endpoint logged.
#[derive(Default)]
pub(crate) struct Keys {
    pub(crate) ike: Vec<IkeKeyLog>,
    pub(crate) esp: Vec<EspSaKeys>,
}

/// A key log that keeps what it is given.
#[derive(Default, Clone)]
pub(crate) struct KeepKeys(pub(crate) Arc<Mutex<Keys>>);

impl KeyLog for KeepKeys {
    fn log_ike_sa(&self, keys: &IkeKeyLog) {
        if let Ok(mut k) = self.0.lock() {
            k.ike.push(keys.clone());
        }
    }
    fn log_esp_sa(&self, keys: &EspSaKeys) {
        if let Ok(mut k) = self.0.lock() {
            k.esp.push(keys.clone());
        }
    }
}

pub(crate) struct Side {
    pub(crate) ep: Endpoint,
    pub(crate) addr: Ipv4Addr,
    pub(crate) delivered: Vec<Delivered>,
    pub(crate) events: Vec<Event>,
    /// what `send` said for each echo reply this side sent
    pub(crate) replies: Vec<String>,
    pub(crate) keys: KeepKeys,
}

pub(crate) struct Pair {
    pub(crate) a: Side,
    pub(crate) b: Side,
    pub(crate) start: Instant,
    pub(crate) now: Instant,
    pub(crate) wire: Vec<WirePacket>,
    /// datagrams or packets an endpoint refused
    pub(crate) dropped: Vec<String>,
}

/// One endpoint's connection `name` between `local` and `remote`, PSK, with one child.
pub(crate) fn endpoint(
    now: Instant,
    name: &str,
    addrs: (Ipv4Addr, Ipv4Addr),
    ids: (&str, &str),
    ike_proposal: &str,
    child: Result<ipsec::Child, ipsec::ConfigError>,
    keys: &KeepKeys,
) -> Result<Endpoint, String> {
    let connection = Connection::builder(name)
        .local_addrs(&addrs.0.to_string())
        .remote_addrs(&addrs.1.to_string())
        .local_id(ids.0)
        .remote_id(ids.1)
        .psk(b"a key the two endpoints in the harness share")
        .proposals(ike_proposal)
        .child(child)
        .build();
    let mut config: Config = Config::builder()
        .connection(connection)
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())?;
    config.key_log = Some(Arc::new(keys.clone()));
    Endpoint::new(now, config, Box::new(ipsec::OsRandom)).map_err(|e| e.to_string())
}

impl Pair {
    /// Two endpoints made by `make(now, is_a, keys)`; A at `a_addr`, B at `b_addr`.
    pub(crate) fn new(
        a_addr: Ipv4Addr,
        b_addr: Ipv4Addr,
        make: impl Fn(Instant, bool, &KeepKeys) -> Result<Endpoint, String>,
    ) -> Result<Pair, String> {
        let start = Instant::now();
        let side = |is_a: bool, addr| -> Result<Side, String> {
            let keys = KeepKeys::default();
            Ok(Side {
                ep: make(start, is_a, &keys)?,
                addr,
                delivered: Vec::new(),
                events: Vec::new(),
                replies: Vec::new(),
                keys,
            })
        };
        Ok(Pair {
            a: side(true, a_addr)?,
            b: side(false, b_addr)?,
            start,
            now: start,
            wire: Vec::new(),
            dropped: Vec::new(),
        })
    }

    fn side(&mut self, a: bool) -> &mut Side {
        if a { &mut self.a } else { &mut self.b }
    }

    fn drain_events(&mut self) {
        for a in [true, false] {
            let s = self.side(a);
            while let Some(e) = s.ep.poll_event() {
                s.events.push(e);
            }
        }
    }

    /// Moves outputs between the two, a millisecond apart, until both are quiet (at most
    /// `limit` outputs); delivered echo requests are answered. Timers due are run.
    pub(crate) fn run(&mut self, limit: usize) {
        let mut moved_total = 0;
        loop {
            let mut moved = false;
            for from_a in [true, false] {
                let now = self.now;
                let s = self.side(from_a);
                if s.ep.poll_timeout().is_some_and(|t| t <= now) {
                    s.ep.handle_timeout(now);
                }
                while let Some(output) = self.side(from_a).ep.poll_output() {
                    moved = true;
                    moved_total += 1;
                    self.now += Duration::from_millis(1);
                    self.output(from_a, output);
                    self.drain_events();
                    if moved_total >= limit {
                        return;
                    }
                }
            }
            self.drain_events();
            if !moved {
                return;
            }
        }
    }

    fn output(&mut self, from_a: bool, output: Output) {
        let now = self.now;
        let at = now.duration_since(self.start);
        match output {
            Output::Udp { path, payload } => {
                if let (IpAddr::V4(src), IpAddr::V4(dst)) = (path.local.ip(), path.remote.ip()) {
                    let udp = udp(path.local.port(), path.remote.port(), &payload);
                    self.wire.push(WirePacket {
                        at,
                        from_a,
                        kind: WireKind::Ike,
                        packet: packet::ipv4(src, dst, 17, &udp),
                    });
                }
                let back = UdpPath {
                    local: path.remote,
                    remote: path.local,
                };
                if let Err(e) = self.side(!from_a).ep.handle_udp(now, back, &payload) {
                    self.dropped.push(format!("UDP datagram: {e}"));
                }
            }
            Output::Esp {
                source,
                destination,
                packet: esp,
            } => {
                if let (IpAddr::V4(src), IpAddr::V4(dst)) = (source, destination) {
                    self.wire.push(WirePacket {
                        at,
                        from_a,
                        kind: WireKind::Esp,
                        packet: packet::ipv4(src, dst, 50, &esp),
                    });
                }
                if let Err(e) = self
                    .side(!from_a)
                    .ep
                    .handle_esp(now, source, destination, &esp)
                {
                    self.dropped.push(format!("ESP packet: {e}"));
                }
            }
            Output::Ah { packet: ah, .. } => {
                self.wire.push(WirePacket {
                    at,
                    from_a,
                    kind: WireKind::Ah,
                    packet: ah.to_vec(),
                });
                if let Err(e) = self.side(!from_a).ep.handle_ah(now, &ah) {
                    self.dropped.push(format!("AH packet: {e}"));
                }
            }
            Output::Deliver {
                packet: payload,
                next_header,
                transport,
                peer,
                inbound_spi,
                ..
            } => {
                let s = self.side(from_a);
                let whole = match (transport, peer) {
                    (true, IpAddr::V4(from)) => packet::ipv4(from, s.addr, next_header, &payload),
                    _ => payload.to_vec(),
                };
                let echo = packet::parse_echo(&whole)
                    .filter(|e| !e.reply)
                    .map(|e| packet::icmp_echo(e.destination, e.source, true, e.id, e.seq, e.data));
                s.delivered.push(Delivered {
                    packet: whole,
                    payload: payload.to_vec(),
                    transport,
                    next_header,
                    inbound_spi,
                });
                if let Some(reply) = echo {
                    let outcome = s.ep.send(now, &reply);
                    s.replies.push(format!("{outcome:?}"));
                }
            }
        }
    }

    /// Connects A's connection `name` and runs until quiet.
    pub(crate) fn connect(&mut self, name: &str) -> Result<(), String> {
        self.a
            .ep
            .connect(self.now, name)
            .map_err(|e| e.to_string())?;
        self.run(200);
        Ok(())
    }

    /// A sends `packet` (a whole IPv4 packet); runs until quiet.
    pub(crate) fn send_from_a(&mut self, packet: &[u8]) -> String {
        let outcome = self.a.ep.send(self.now, packet);
        self.run(200);
        format!("{outcome:?}")
    }

    /// A deletes everything; runs until quiet.
    pub(crate) fn disconnect(&mut self) {
        self.a.ep.disconnect_all(self.now);
        self.run(200);
    }

    /// Writes the packets of `kinds` to a pcap file.
    pub(crate) fn write_pcap(&self, path: &Path, kinds: &[WireKind]) -> Result<usize, String> {
        let packets: Vec<(Duration, &[u8])> = self
            .wire
            .iter()
            .filter(|w| kinds.contains(&w.kind))
            .map(|w| (w.at, w.packet.as_slice()))
            .collect();
        write_pcap(path, &packets)?;
        Ok(packets.len())
    }
}

/// A UDP header (checksum 0: none, which IPv4 allows) and `payload`.
fn udp(src: u16, dst: u16, payload: &[u8]) -> Vec<u8> {
    let len = (8 + payload.len()) as u16;
    let mut d = Vec::with_capacity(usize::from(len));
    d.extend_from_slice(&src.to_be_bytes());
    d.extend_from_slice(&dst.to_be_bytes());
    d.extend_from_slice(&len.to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    d
}

/// A pcap file (the classic format, microsecond timestamps) with link type RAW: the global
/// header, then a record header and the packet for each; times are now plus `at`.
pub(crate) fn write_pcap(path: &Path, packets: &[(Duration, &[u8])]) -> Result<(), String> {
    let base = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic: microseconds
    out.extend_from_slice(&2u16.to_le_bytes()); // version 2.4
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&65535u32.to_le_bytes()); // snaplen
    out.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    for (at, p) in packets {
        let t = base + *at;
        let len = u32::try_from(p.len()).map_err(|_| "packet too long for pcap")?;
        out.extend_from_slice(&(t.as_secs() as u32).to_le_bytes());
        out.extend_from_slice(&t.subsec_micros().to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes()); // incl_len
        out.extend_from_slice(&len.to_le_bytes()); // orig_len
        out.extend_from_slice(p);
    }
    fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}
