//! A real IPsec peer on std UDP sockets, driven by `poll_timeout`: initiator or responder,
//! one connection from command-line flags or any number from a configuration file, events
//! printed as JSON lines. It sends ICMP echo requests through the tunnel (built by hand as
//! inner IPv4 packets) and answers the echo requests it receives; on SIGINT/SIGTERM it
//! deletes its SAs and exits.
//!
//! ```text
//! ipsec-peer --config FILE [--local ADDR:PORT] [--initiate NAME]
//!   [--ping 10.99.2.1 [--ping-source 10.99.1.1] [--ping-count 3]]
//!   [--keylog] [--keylog-dir DIR] [--delete-after SECS] [--exit-after SECS]
//!   [--ping-interval MS] [--ping-delay MS]
//!
//! ipsec-peer --role initiator|responder
//!   --local 10.99.0.1:500 [--nat-t-port 4500] --remote 10.99.0.2:500 [--remote-nat-t-port 4500]
//!   --psk-file FILE | --psk SECRET  --local-id ID [--remote-id ID]
//!   [--ike-proposal aes256gcm16-prfsha256-x25519] [--esp-proposal aes256gcm16]
//!   [--ah-proposal sha256]
//!   --local-ts 10.99.1.1/32 --remote-ts 10.99.2.1/32 [--mode tunnel|transport]
//!   [--force-encap] [--ping 10.99.2.1 [--ping-source 10.99.1.1] [--ping-count 3]]
//!   [--keylog] [--keylog-dir DIR] [--delete-after SECS] [--exit-after SECS] [--liveness SECS]
//!   [--ping-interval MS] [--ping-delay MS] [--child-rekey SECS] [--ike-rekey SECS]
//! ```
//!
//! `--config FILE` loads a whole configuration from a TOML file in swanctl.conf's names and
//! nesting (`[connections.NAME]`, `[connections.NAME.children.NAME]`,
//! `[secrets.ike-NAME]`, `[charon]` with `port` and `port_nat_t`; see
//! `examples/gateway.toml`, a remote-access gateway). The sockets bind the file's IKE and
//! NAT-T ports on 0.0.0.0, and each datagram's local address is the one the kernel routes
//! back to its sender from; `--local ADDR:PORT` binds one address instead (its port must be
//! the file's). `--initiate NAME` connects the connection NAME at start (children with
//! `start_action = "start"` start by themselves). The flags that describe a connection
//! (`--role`, `--remote`, `--psk`, `--local-id`, `--local-ts`, ...) belong to the flag form
//! only.
//!
//! Keys stay secret unless asked for: `--keylog` prints every IKE SA's and Child SA's keys
//! as JSON lines on stdout (the interop test compares them with charon's), and
//! `--keylog-dir DIR` writes Wireshark's decryption tables there. `--psk-file FILE` reads
//! the pre-shared key from a file (one trailing newline is dropped), so that it is not on
//! the command line for every user of `ps` to see; `--psk SECRET` remains for tests.
//!
//! `--child-rekey` and `--ike-rekey` set soft lifetimes (RFC 7296 §2.8): the Child SA is
//! rekeyed after that long (less a random tenth), and deleted at half as long again if the
//! rekey never succeeds; likewise the IKE SA.
//!
//! `--ping-delay` holds the first ping back that long after the first Child SA is up: a
//! responder that pings at once may reach the initiator before the initiator has processed
//! the IKE_AUTH response and installed its side of the SA.
//!
//! Site-to-site: both peers run in tunnel mode with their subnets as traffic selectors.
//! Remote access: the client's `--local-ts` is its single inner address. Host-to-host:
//! `--mode transport` with the two hosts' addresses as selectors.

#[path = "common/packet.rs"]
mod packet;

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ipsec::ikev2::IkeKeyLog;
use ipsec::{
    Config, Connection, Endpoint, EspSaKeys, Event, KeyLog, KeyLogDir, Mode, Output, Path,
    SendOutcome,
};

/// Command-line options.
struct Options {
    config: Option<String>,
    initiate: Option<String>,
    seen_local: bool,
    initiator: bool,
    local: SocketAddr,
    nat_t_port: u16,
    remote: SocketAddr,
    remote_nat_t_port: u16,
    psk: Vec<u8>,
    local_id: String,
    remote_id: Option<String>,
    ike_proposal: String,
    esp_proposal: String,
    ah_proposal: Option<String>,
    local_ts: Vec<String>,
    remote_ts: Vec<String>,
    mode: Mode,
    force_encap: bool,
    ping: Option<Ipv4Addr>,
    ping_source: Option<Ipv4Addr>,
    ping_count: u16,
    keylog_dir: Option<String>,
    /// Print the keys on stdout.
    keylog: bool,
    delete_after: Option<Duration>,
    exit_after: Option<Duration>,
    liveness: Option<Duration>,
    ping_interval: Duration,
    ping_delay: Duration,
    child_rekey: Option<Duration>,
    ike_rekey: Option<Duration>,
}

const USAGE: &str = "\
ipsec-peer --config FILE [--local ADDR:PORT] [--initiate NAME]
  [--ping ADDR [--ping-source ADDR] [--ping-count 3]]
  [--keylog] [--keylog-dir DIR] [--delete-after SECS] [--exit-after SECS]
  [--ping-interval MS] [--ping-delay MS]

ipsec-peer --role initiator|responder
  --local ADDR:PORT [--nat-t-port 4500] --remote ADDR:PORT [--remote-nat-t-port 4500]
  --psk-file FILE | --psk SECRET  --local-id ID [--remote-id ID]
  [--ike-proposal aes256gcm16-prfsha256-x25519] [--esp-proposal aes256gcm16]
  [--ah-proposal sha256]
  --local-ts CIDR --remote-ts CIDR [--mode tunnel|transport]
  [--force-encap] [--ping ADDR [--ping-source ADDR] [--ping-count 3]]
  [--keylog] [--keylog-dir DIR] [--delete-after SECS] [--exit-after SECS] [--liveness SECS]
  [--ping-interval MS] [--ping-delay MS] [--child-rekey SECS] [--ike-rekey SECS]";

/// The flags that describe the one connection of the flag form; a configuration file
/// describes its connections itself.
const CONNECTION_FLAGS: &[&str] = &[
    "--role",
    "--nat-t-port",
    "--remote",
    "--remote-nat-t-port",
    "--psk",
    "--psk-file",
    "--local-id",
    "--remote-id",
    "--ike-proposal",
    "--esp-proposal",
    "--ah-proposal",
    "--local-ts",
    "--remote-ts",
    "--mode",
    "--force-encap",
    "--liveness",
    "--child-rekey",
    "--ike-rekey",
];

fn usage(problem: &str) -> String {
    format!("ipsec-peer: {problem}\n{USAGE}")
}

fn parse_options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        config: None,
        initiate: None,
        seen_local: false,
        initiator: true,
        local: "0.0.0.0:500".parse().map_err(|_| usage("internal"))?,
        nat_t_port: 4500,
        remote: "0.0.0.0:500".parse().map_err(|_| usage("internal"))?,
        remote_nat_t_port: 4500,
        psk: Vec::new(),
        local_id: String::new(),
        remote_id: None,
        ike_proposal: "aes256gcm16-prfsha256-x25519".into(),
        esp_proposal: "aes256gcm16".into(),
        ah_proposal: None,
        local_ts: Vec::new(),
        remote_ts: Vec::new(),
        mode: Mode::Tunnel,
        force_encap: false,
        ping: None,
        ping_source: None,
        ping_count: 3,
        keylog_dir: None,
        keylog: false,
        delete_after: None,
        exit_after: None,
        liveness: None,
        ping_interval: Duration::from_millis(500),
        ping_delay: Duration::ZERO,
        child_rekey: None,
        ike_rekey: None,
    };
    let mut seen_remote = false;
    let mut connection_flags: Vec<String> = Vec::new();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        if CONNECTION_FLAGS.contains(&flag.as_str()) {
            connection_flags.push(flag.clone());
        }
        let mut value = || {
            args.next()
                .ok_or_else(|| usage(&format!("{flag} needs a value")))
        };
        let parse_err = |what: &str| usage(&format!("invalid value for {what}"));
        let seconds = |v: String, what: &str| {
            v.parse::<f64>()
                .map(Duration::from_secs_f64)
                .map_err(|_| parse_err(what))
        };
        match flag.as_str() {
            "--config" => options.config = Some(value()?),
            "--initiate" => options.initiate = Some(value()?),
            "--role" => {
                options.initiator = match value()?.as_str() {
                    "initiator" => true,
                    "responder" => false,
                    _ => return Err(parse_err("--role")),
                }
            }
            "--local" => {
                options.local = value()?.parse().map_err(|_| parse_err("--local"))?;
                options.seen_local = true;
            }
            "--nat-t-port" => {
                options.nat_t_port = value()?.parse().map_err(|_| parse_err("--nat-t-port"))?
            }
            "--remote" => {
                options.remote = value()?.parse().map_err(|_| parse_err("--remote"))?;
                seen_remote = true;
            }
            "--remote-nat-t-port" => {
                options.remote_nat_t_port = value()?
                    .parse()
                    .map_err(|_| parse_err("--remote-nat-t-port"))?
            }
            "--psk" => options.psk = value()?.into_bytes(),
            "--psk-file" => options.psk = read_psk(&value()?)?,
            "--local-id" => options.local_id = value()?,
            "--remote-id" => options.remote_id = Some(value()?),
            "--ike-proposal" => options.ike_proposal = value()?,
            "--esp-proposal" => options.esp_proposal = value()?,
            "--ah-proposal" => options.ah_proposal = Some(value()?),
            "--local-ts" => options.local_ts.push(value()?),
            "--remote-ts" => options.remote_ts.push(value()?),
            "--mode" => {
                options.mode = match value()?.as_str() {
                    "tunnel" => Mode::Tunnel,
                    "transport" => Mode::Transport,
                    _ => return Err(parse_err("--mode")),
                }
            }
            "--force-encap" => options.force_encap = true,
            "--ping" => options.ping = Some(value()?.parse().map_err(|_| parse_err("--ping"))?),
            "--ping-source" => {
                options.ping_source =
                    Some(value()?.parse().map_err(|_| parse_err("--ping-source"))?)
            }
            "--ping-count" => {
                options.ping_count = value()?.parse().map_err(|_| parse_err("--ping-count"))?
            }
            "--keylog-dir" => options.keylog_dir = Some(value()?),
            "--keylog" => options.keylog = true,
            "--delete-after" => options.delete_after = Some(seconds(value()?, "--delete-after")?),
            "--exit-after" => options.exit_after = Some(seconds(value()?, "--exit-after")?),
            "--liveness" => options.liveness = Some(seconds(value()?, "--liveness")?),
            "--ping-interval" => {
                let ms: u64 = value()?.parse().map_err(|_| parse_err("--ping-interval"))?;
                options.ping_interval = Duration::from_millis(ms.max(1));
            }
            "--ping-delay" => {
                let ms: u64 = value()?.parse().map_err(|_| parse_err("--ping-delay"))?;
                options.ping_delay = Duration::from_millis(ms);
            }
            "--child-rekey" => options.child_rekey = Some(seconds(value()?, "--child-rekey")?),
            "--ike-rekey" => options.ike_rekey = Some(seconds(value()?, "--ike-rekey")?),
            other => return Err(usage(&format!("unknown flag {other}"))),
        }
    }
    if options.config.is_some() {
        if !connection_flags.is_empty() {
            return Err(usage(&format!(
                "{}: with --config, the file describes the connections",
                connection_flags.join(", ")
            )));
        }
        return Ok(options);
    }
    if options.initiate.is_some() {
        return Err(usage(
            "--initiate needs --config (with flags, --role initiator connects)",
        ));
    }
    if !options.seen_local || !seen_remote || options.psk.is_empty() || options.local_id.is_empty()
    {
        return Err(usage(
            "--local, --remote, --psk-file (or --psk) and --local-id are required",
        ));
    }
    if options.local_ts.is_empty() || options.remote_ts.is_empty() {
        return Err(usage("--local-ts and --remote-ts are required"));
    }
    Ok(options)
}

/// The pre-shared key in `path`, without one trailing newline.
fn read_psk(path: &str) -> Result<Vec<u8>, String> {
    let mut key = std::fs::read(path).map_err(|e| format!("--psk-file {path}: {e}"))?;
    if key.last() == Some(&b'\n') {
        key.pop();
        if key.last() == Some(&b'\r') {
            key.pop();
        }
    }
    if key.is_empty() {
        return Err(format!("--psk-file {path}: the file is empty"));
    }
    Ok(key)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Prints the keys as JSON lines (`--keylog`), and writes Wireshark's tables
/// (`--keylog-dir`), as asked.
struct JsonKeyLog {
    print: bool,
    dir: Option<KeyLogDir>,
}

impl KeyLog for JsonKeyLog {
    fn log_ike_sa(&self, keys: &IkeKeyLog) {
        if self.print {
            println!(
                "{{\"event\":\"ike_keys\",\"spi_i\":\"{:016x}\",\"spi_r\":\"{:016x}\",\"skeyseed\":\"{}\",\"sk_d\":\"{}\",\"sk_ai\":\"{}\",\"sk_ar\":\"{}\",\"sk_ei\":\"{}\",\"sk_er\":\"{}\",\"sk_pi\":\"{}\",\"sk_pr\":\"{}\"}}",
                keys.spi_i,
                keys.spi_r,
                hex(keys.skeyseed.expose()),
                hex(keys.sk_d.expose()),
                hex(keys.sk_ai.expose()),
                hex(keys.sk_ar.expose()),
                hex(keys.sk_ei.expose()),
                hex(keys.sk_er.expose()),
                hex(keys.sk_pi.expose()),
                hex(keys.sk_pr.expose()),
            );
        }
        if let Some(dir) = &self.dir {
            dir.log_ike_sa(keys);
        }
    }

    fn log_esp_sa(&self, keys: &EspSaKeys) {
        if self.print {
            println!(
                "{{\"event\":\"esp_keys\",\"spi\":\"{:08x}\",\"source\":\"{}\",\"destination\":\"{}\",\"encryption_key\":\"{}\",\"integrity_key\":\"{}\"}}",
                keys.spi,
                keys.source,
                keys.destination,
                hex(keys.encryption_key.expose()),
                hex(keys.integrity_key.expose()),
            );
        }
        if let Some(dir) = &self.dir {
            dir.log_esp_sa(keys);
        }
    }
}

/// Prints one event as a JSON line; `spis` are the IKE SA's SPIs for `ike_sa_established`
/// (looked up by the caller, the event has only the handle).
fn print_event(event: &Event, spis: Option<(u64, u64)>) {
    match event {
        Event::IkeSaEstablished {
            handle,
            peer_id,
            nat,
            path,
            ..
        } => println!(
            "{{\"event\":\"ike_sa_established\",\"ike_sa\":{},\"peer_id\":\"{peer_id}\",\"remote\":\"{}\",\"nat\":{}{}}}",
            handle.id(),
            path.remote,
            nat.encapsulate(),
            spis.map_or(String::new(), |(i, r)| format!(
                ",\"spi_i\":\"{i:016x}\",\"spi_r\":\"{r:016x}\""
            ))
        ),
        Event::ChildSaInstalled {
            ike_sa,
            inbound_spi,
            outbound_spi,
            udp_encapsulation,
            mode,
            rekeyed,
            ..
        } => println!(
            "{{\"event\":\"child_sa_ready\",\"ike_sa\":{},\"inbound_spi\":\"{inbound_spi:08x}\",\"outbound_spi\":\"{outbound_spi:08x}\",\"udp_encap\":{udp_encapsulation},\"mode\":\"{mode:?}\",\"rekeyed\":{}}}",
            ike_sa.id(),
            rekeyed.map_or("null".to_string(), |spi| format!("\"{spi:08x}\""))
        ),
        Event::ChildSaFailed {
            reason, rekeying, ..
        } => println!(
            "{{\"event\":\"child_sa_failed\",\"reason\":\"{reason}\",\"rekeying\":{}}}",
            rekeying.map_or("null".to_string(), |spi| format!("\"{spi:08x}\""))
        ),
        Event::IkeSaRekeyed {
            handle,
            spi_i,
            spi_r,
            ..
        } => println!(
            "{{\"event\":\"ike_sa_rekeyed\",\"ike_sa\":{},\"spi_i\":\"{spi_i:016x}\",\"spi_r\":\"{spi_r:016x}\"}}",
            handle.id()
        ),
        Event::ChildSaRemoved { inbound_spi, .. } => {
            println!("{{\"event\":\"child_sa_deleted\",\"inbound_spi\":\"{inbound_spi:08x}\"}}")
        }
        Event::IkeSaClosed { handle, reason, .. } => println!(
            "{{\"event\":\"ike_sa_closed\",\"ike_sa\":{},\"reason\":\"{reason:?}\"}}",
            handle.id()
        ),
        other => println!("{{\"event\":\"other\",\"detail\":\"{other:?}\"}}"),
    }
}

/// The peer's sockets: one on the IKE port, one on the NAT-T port.
struct Sockets {
    ike: UdpSocket,
    nat_t: UdpSocket,
}

impl Sockets {
    fn bind(local: SocketAddr, nat_t_port: u16) -> std::io::Result<Self> {
        let ike = UdpSocket::bind(local)?;
        let nat_t = UdpSocket::bind(SocketAddr::new(local.ip(), nat_t_port))?;
        ike.set_nonblocking(true)?;
        nat_t.set_nonblocking(true)?;
        Ok(Self { ike, nat_t })
    }

    /// The IKE socket's bound address.
    fn ike_addr(&self) -> std::io::Result<SocketAddr> {
        self.ike.local_addr()
    }

    fn for_port(&self, port: u16) -> &UdpSocket {
        if port == self.ike.local_addr().map(|a| a.port()).unwrap_or(0) {
            &self.ike
        } else {
            &self.nat_t
        }
    }
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // Configuration errors quote the value given: escape for the JSON line.
            let message = message
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            println!("{{\"event\":\"error\",\"message\":\"{message}\"}}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<(), String> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).map_err(|e| e.to_string())?;
    }
    let start = Instant::now();
    let (mut config, bind) = match &options.config {
        Some(file) => config_from_file(file, &options)?,
        None => (
            config_from_flags(&options)?,
            (options.local, options.nat_t_port),
        ),
    };
    if options.keylog || options.keylog_dir.is_some() {
        config.key_log = Some(Arc::new(JsonKeyLog {
            print: options.keylog,
            dir: options.keylog_dir.clone().map(KeyLogDir::new),
        }));
    }
    let mut endpoint =
        Endpoint::new(start, config, Box::new(ipsec::OsRandom)).map_err(|e| e.to_string())?;
    let sockets = Sockets::bind(bind.0, bind.1).map_err(|e| e.to_string())?;
    let mut local_addrs = LocalAddrs::new(sockets.ike_addr().map_err(|e| e.to_string())?.ip());
    match (&options.initiate, options.config.is_some()) {
        (Some(name), _) => {
            endpoint.connect(start, name).map_err(|e| e.to_string())?;
        }
        (None, false) if options.initiator => {
            endpoint.connect(start, "peer").map_err(|e| e.to_string())?;
        }
        _ => {}
    }
    let mut established_at: Option<Instant> = None;
    let mut next_ping: Option<Instant> = None;
    let mut pings_sent: u16 = 0;
    let mut deleted = false;
    let mut stopping_since: Option<Instant> = None;
    let mut buf = vec![0u8; 65536];
    loop {
        let now = Instant::now();
        // Receive everything waiting on both sockets.
        let mut received = false;
        for socket in [&sockets.ike, &sockets.nat_t] {
            loop {
                match socket.recv_from(&mut buf) {
                    Ok((len, from)) => {
                        received = true;
                        let local = socket.local_addr().map_err(|e| e.to_string())?;
                        let local = SocketAddr::new(local_addrs.toward(from.ip()), local.port());
                        let path = Path {
                            local,
                            remote: from,
                        };
                        let _ = endpoint.handle_udp(now, path, &buf[..len]);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::ConnectionRefused => break,
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        if endpoint.poll_timeout().is_some_and(|t| t <= now) {
            endpoint.handle_timeout(now);
        }
        // Pings through the tunnel once it is up.
        if let (Some(target), Some(at)) = (options.ping, next_ping)
            && now >= at
            && pings_sent < options.ping_count
        {
            pings_sent += 1;
            let source = options.ping_source.unwrap_or(Ipv4Addr::UNSPECIFIED);
            let ping =
                packet::icmp_echo(source, target, false, 0x4242, pings_sent, b"ipsec-rs ping");
            match endpoint.send(now, &ping) {
                SendOutcome::Sent => {
                    println!("{{\"event\":\"ping_sent\",\"seq\":{pings_sent},\"to\":\"{target}\"}}")
                }
                other => println!(
                    "{{\"event\":\"ping_not_sent\",\"seq\":{pings_sent},\"outcome\":\"{other:?}\"}}"
                ),
            }
            next_ping = Some(now + options.ping_interval);
        }
        // Outputs: datagrams to send, packets to deliver.
        while let Some(output) = endpoint.poll_output() {
            match output {
                Output::Udp { path, payload } => {
                    let _ = sockets
                        .for_port(path.local.port())
                        .send_to(&payload, path.remote);
                }
                Output::Esp { destination, .. } | Output::Ah { destination, .. } => println!(
                    "{{\"event\":\"error\",\"message\":\"raw IPsec to {destination} needs a raw socket; this peer has UDP only (--force-encap)\"}}"
                ),
                Output::Deliver {
                    packet,
                    peer,
                    transport,
                    next_header,
                    inbound_spi,
                    ..
                } => {
                    // Transport mode hands over the upper-layer payload; put back the IP
                    // header the peer's packet had (host to host: its address and ours).
                    let packet = match (transport, peer, local_addrs.toward(peer)) {
                        (true, IpAddr::V4(from), IpAddr::V4(to)) => {
                            packet::ipv4(from, to, next_header, &packet)
                        }
                        _ => packet.to_vec(),
                    };
                    deliver(&mut endpoint, now, &packet, peer, inbound_spi);
                }
            }
        }
        while let Some(event) = endpoint.poll_event() {
            let spis = match &event {
                Event::IkeSaEstablished { handle, .. } => {
                    endpoint.ike_sa(now, *handle).map(|sa| sa.spis)
                }
                _ => None,
            };
            print_event(&event, spis);
            match event {
                Event::ChildSaInstalled { .. } if established_at.is_none() => {
                    established_at = Some(now);
                    if options.ping.is_some() {
                        next_ping = Some(now + options.ping_delay);
                    }
                }
                Event::IkeSaClosed { .. } if deleted || stopping_since.is_some() => {
                    return Ok(());
                }
                _ => {}
            }
        }
        if let (Some(after), Some(at)) = (options.delete_after, established_at)
            && !deleted
            && now >= at + after
        {
            deleted = true;
            endpoint.disconnect_all(now);
        }
        let exit_due = options.exit_after.is_some_and(|t| now >= start + t);
        if (stop.load(Ordering::Relaxed) || exit_due) && stopping_since.is_none() {
            stopping_since = Some(now);
            endpoint.disconnect_all(now);
        }
        if stopping_since.is_some_and(|t| now >= t + Duration::from_secs(2)) {
            return Ok(());
        }
        if !received {
            let wait = endpoint
                .poll_timeout()
                .map_or(Duration::from_millis(10), |t| {
                    t.saturating_duration_since(now)
                })
                .min(Duration::from_millis(10));
            std::thread::sleep(wait);
        }
    }
}

/// The configuration of the flag form: one connection, `peer`.
fn config_from_flags(options: &Options) -> Result<Config, String> {
    let mut child = ipsec::Child::builder("net")
        .local_ts(&options.local_ts.join(","))
        .remote_ts(&options.remote_ts.join(","))
        .esp_proposals(&options.esp_proposal)
        .mode(options.mode);
    if let Some(ah) = &options.ah_proposal {
        child = child.ah_proposals(ah);
    }
    // Lifetimes: strongSwan's defaults unless asked for short ones; the SA goes at half as
    // long again if its rekey never succeeds.
    if let Some(soft) = options.child_rekey {
        child = child
            .rekey_time(soft)
            .life_time(soft + soft / 2)
            .rand_time(soft / 10);
    }
    if options.initiator {
        child = child.start_action(ipsec::StartAction::Trap);
    }
    let mut connection = Connection::builder("peer")
        .local_addrs(&options.local.ip().to_string())
        .local_port(options.local.port())
        .remote_addrs(&options.remote.ip().to_string())
        .remote_port(options.remote.port())
        .remote_nat_t_port(options.remote_nat_t_port)
        .local_id(&options.local_id)
        .remote_id(options.remote_id.as_deref().unwrap_or("%any"))
        .psk(&options.psk)
        .proposals(&options.ike_proposal)
        .encap(options.force_encap)
        .child(child.build());
    if let Some(liveness) = options.liveness {
        connection = connection.dpd_delay(liveness);
    }
    if let Some(rekey) = options.ike_rekey {
        connection = connection
            .rekey_time(rekey)
            .over_time(rekey / 2)
            .rand_time(rekey / 10);
    }
    Config::builder()
        .ports(options.local.port(), options.nat_t_port)
        .connection(connection.build())
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())
}

/// The configuration in `file` and where to bind: the file's IKE and NAT-T ports on
/// 0.0.0.0, or on the address of `--local` (whose port must be the file's IKE port).
fn config_from_file(file: &str, options: &Options) -> Result<(Config, (SocketAddr, u16)), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let config = Config::from_toml(&text).map_err(|e| format!("{file}: {e}"))?;
    let ike = if options.seen_local {
        if options.local.port() != config.ike_port {
            return Err(format!(
                "--local {}: the port is not the IKE port {} of {file} (charon.port)",
                options.local, config.ike_port
            ));
        }
        options.local
    } else {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), config.ike_port)
    };
    let nat_t_port = config.nat_t_port;
    Ok((config, (ike, nat_t_port)))
}

/// Our address in datagrams' paths: the bound one, or, with the sockets bound to the
/// unspecified address, the address the kernel routes from toward each peer (learned once
/// per peer through a connected UDP socket; nothing is sent).
struct LocalAddrs {
    bound: IpAddr,
    learned: HashMap<IpAddr, IpAddr>,
}

impl LocalAddrs {
    fn new(bound: IpAddr) -> Self {
        Self {
            bound,
            learned: HashMap::new(),
        }
    }

    fn toward(&mut self, remote: IpAddr) -> IpAddr {
        if !self.bound.is_unspecified() {
            return self.bound;
        }
        let bound = self.bound;
        *self.learned.entry(remote).or_insert_with(|| {
            let any = match remote {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
            };
            UdpSocket::bind(SocketAddr::new(any, 0))
                .and_then(|probe| {
                    probe.connect(SocketAddr::new(remote, 9))?;
                    probe.local_addr()
                })
                .map_or(bound, |local| local.ip())
        })
    }
}

/// A delivered inner packet, which came in on our SA `inbound_spi`: answer echo requests,
/// report echo replies.
fn deliver(endpoint: &mut Endpoint, now: Instant, packet: &[u8], peer: IpAddr, inbound_spi: u32) {
    let Some(echo) = packet::parse_echo(packet) else {
        println!(
            "{{\"event\":\"delivered\",\"bytes\":{},\"from_peer\":\"{peer}\",\"inbound_spi\":\"{inbound_spi:08x}\"}}",
            packet.len()
        );
        return;
    };
    if echo.reply {
        println!(
            "{{\"event\":\"ping_reply\",\"seq\":{},\"from\":\"{}\",\"inbound_spi\":\"{inbound_spi:08x}\"}}",
            echo.seq, echo.source
        );
        return;
    }
    let reply = packet::icmp_echo(
        echo.destination,
        echo.source,
        true,
        echo.id,
        echo.seq,
        echo.data,
    );
    let outcome = endpoint.send(now, &reply);
    println!(
        "{{\"event\":\"echo_request_answered\",\"from\":\"{}\",\"to\":\"{}\",\"seq\":{},\"inbound_spi\":\"{inbound_spi:08x}\",\"outcome\":\"{outcome:?}\"}}",
        echo.source, echo.destination, echo.seq
    );
}
