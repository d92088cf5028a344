//! Our side of the test: the `ipsec-peer` example (events read from its stdout, one JSON
//! object per line), or a second charon standing in for it (events made from its
//! `swanctl --list-sas` and its log) to prove the harness itself.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use crate::charon::{self, CHILD, CONN, Charon, CharonConfig, ID_INITIATOR, ID_RESPONDER, PSK};
use crate::netns::{CHARON_ADDR, CHARON_INNER, OUR_ADDR, OUR_INNER, ns_command};
use crate::suites::Suite;
use crate::util::{Json, Proc, say};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    Initiator,
    Responder,
}

pub(crate) struct PeerOptions<'a> {
    pub(crate) role: Role,
    pub(crate) suite: &'a Suite,
    /// `--esp-proposal` (the suite's `esp`, or `esp_pfs`)
    pub(crate) esp: &'a str,
    /// ping 10.99.2.1 this many times once the Child SA is up
    pub(crate) ping_count: Option<u32>,
    /// `--ping-interval` and `--ping-delay` in milliseconds (None: ipsec-peer's defaults,
    /// 500 and 0)
    pub(crate) ping_interval_ms: Option<u64>,
    pub(crate) ping_delay_ms: Option<u64>,
    /// `--child-rekey` and `--ike-rekey` in seconds (None: no lifetimes, never rekeys)
    pub(crate) rekey: Option<(u64, u64)>,
    pub(crate) delete_after: Option<u64>,
    pub(crate) exit_after: u64,
    pub(crate) force_encap: bool,
    pub(crate) keylog_dir: PathBuf,
    /// Our IKE and NAT-T ports, and charon's (500 and 4500 both, except in the custom-ports
    /// case)
    pub(crate) ports: (u16, u16),
    pub(crate) remote_ports: (u16, u16),
}

impl PeerOptions<'_> {
    pub(crate) fn ids(&self) -> (&'static str, &'static str) {
        match self.role {
            Role::Initiator => (ID_INITIATOR, ID_RESPONDER),
            Role::Responder => (ID_RESPONDER, ID_INITIATOR),
        }
    }

    /// Where the pre-shared key is written for `--psk-file`.
    pub(crate) fn psk_file(&self) -> PathBuf {
        self.keylog_dir.with_extension("psk")
    }

    /// The ipsec-peer command line (the contract in examples/ipsec_peer.rs).
    pub(crate) fn args(&self) -> Vec<String> {
        let (lid, rid) = self.ids();
        let mut a: Vec<String> = vec![
            "--role".into(),
            match self.role {
                Role::Initiator => "initiator",
                Role::Responder => "responder",
            }
            .into(),
            "--local".into(),
            format!("{OUR_ADDR}:{}", self.ports.0),
            "--nat-t-port".into(),
            self.ports.1.to_string(),
            "--remote".into(),
            format!("{CHARON_ADDR}:{}", self.remote_ports.0),
            "--remote-nat-t-port".into(),
            self.remote_ports.1.to_string(),
            // From a file, as a deployment would: not on the command line.
            "--psk-file".into(),
            self.psk_file().display().to_string(),
            "--local-id".into(),
            lid.into(),
            "--remote-id".into(),
            rid.into(),
            "--ike-proposal".into(),
            self.suite.ike.into(),
            "--esp-proposal".into(),
            self.esp.into(),
            "--local-ts".into(),
            format!("{OUR_INNER}/32"),
            "--remote-ts".into(),
            format!("{CHARON_INNER}/32"),
        ];
        if self.force_encap {
            a.push("--force-encap".into());
        }
        if let Some(n) = self.ping_count {
            a.extend([
                "--ping".into(),
                CHARON_INNER.into(),
                "--ping-source".into(),
                OUR_INNER.into(),
            ]);
            a.extend(["--ping-count".into(), n.to_string()]);
            if let Some(ms) = self.ping_interval_ms {
                a.extend(["--ping-interval".into(), ms.to_string()]);
            }
            if let Some(ms) = self.ping_delay_ms {
                a.extend(["--ping-delay".into(), ms.to_string()]);
            }
        }
        if let Some((child, ike)) = self.rekey {
            a.extend([
                "--child-rekey".into(),
                child.to_string(),
                "--ike-rekey".into(),
                ike.to_string(),
            ]);
        }
        // The keys on stdout, to compare with charon's; the tables for tshark.
        a.push("--keylog".into());
        a.extend(["--keylog-dir".into(), self.keylog_dir.display().to_string()]);
        if let Some(d) = self.delete_after {
            a.extend(["--delete-after".into(), d.to_string()]);
        }
        a.extend(["--exit-after".into(), self.exit_after.to_string()]);
        a
    }
}

enum Kind {
    Ipsec {
        proc: Proc,
        rx: Receiver<String>,
    },
    Standin {
        charon: Charon,
        ns: String,
        sent_ike: bool,
        sent_child: bool,
        closed: bool,
        answered: u64,
        inbound_spi: String,
    },
}

pub(crate) struct Peer {
    kind: Kind,
    role: Role,
    suite_name: &'static str,
    keylog_dir: PathBuf,
    dir: PathBuf,
    pub(crate) events: Vec<Json>,
    pub(crate) exit: Option<ExitStatus>,
}

impl Peer {
    /// Starts `bin` (ipsec-peer) in namespace `ns`.
    pub(crate) fn start_ipsec(
        bin: &Path,
        ns: &str,
        dir: &Path,
        opts: &PeerOptions<'_>,
    ) -> Result<Peer, String> {
        let psk_file = opts.psk_file();
        if let Some(parent) = psk_file.parent() {
            fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        fs::write(&psk_file, PSK).map_err(|e| e.to_string())?;
        let mut peer = Peer::start_ipsec_args(bin, ns, dir, opts.args(), &opts.keylog_dir)?;
        peer.role = opts.role;
        peer.suite_name = opts.suite.name;
        Ok(peer)
    }

    /// Starts `bin` (ipsec-peer) in namespace `ns` with the command line `args` (which
    /// should hold `--keylog-dir KEYLOG_DIR`); its files go to `dir`.
    pub(crate) fn start_ipsec_args(
        bin: &Path,
        ns: &str,
        dir: &Path,
        args: Vec<String>,
        keylog_dir: &Path,
    ) -> Result<Peer, String> {
        fs::create_dir_all(keylog_dir).map_err(|e| e.to_string())?;
        let argrefs: Vec<&str> = args.iter().map(String::as_str).collect();
        let bin_s = bin.display().to_string();
        let mut cmd = ns_command(ns, &bin_s, &argrefs, true);
        fs::write(
            dir.join("peer.cmdline"),
            format!("ip netns exec {ns} {bin_s} {}\n", args.join(" ")),
        )
        .map_err(|e| e.to_string())?;
        let err = fs::File::create(dir.join("peer.stderr")).map_err(|e| e.to_string())?;
        cmd.env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err));
        let mut proc = Proc::spawn("ipsec-peer", &mut cmd)?;
        let stdout = proc.child_mut().stdout.take().ok_or("no stdout pipe")?;
        let (tx, rx) = channel();
        let mut copy = fs::File::create(dir.join("peer.stdout")).map_err(|e| e.to_string())?;
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(copy, "{line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        say!("ipsec-peer pid {} in {ns}: {}", proc.pid(), args.join(" "));
        Ok(Peer {
            kind: Kind::Ipsec { proc, rx },
            role: Role::Responder,
            suite_name: "",
            keylog_dir: keylog_dir.to_path_buf(),
            dir: dir.to_path_buf(),
            events: Vec::new(),
            exit: None,
        })
    }

    /// Starts a charon in our namespace in place of ipsec-peer (needs 10.99.1.1 on our lo).
    pub(crate) fn start_standin(
        ns: &str,
        dir: &Path,
        opts: &PeerOptions<'_>,
    ) -> Result<Peer, String> {
        fs::create_dir_all(&opts.keylog_dir).map_err(|e| e.to_string())?;
        let cfg = CharonConfig {
            local_addr: OUR_ADDR,
            remote_addr: CHARON_ADDR,
            local_ts: &format!("{OUR_INNER}/32"),
            remote_ts: &format!("{CHARON_INNER}/32"),
            initiator: opts.role == Role::Initiator,
            suite: opts.suite,
            esp: opts.esp,
            rekey: None,
            ids: None,
            psk: PSK,
            ports: CharonConfig::STANDARD_PORTS.0,
            remote_port: CharonConfig::STANDARD_PORTS.1,
        };
        let charon = Charon::start("stand-in for ipsec-peer", ns, &dir.join("standin"), &cfg)?;
        let mut peer = Peer {
            kind: Kind::Standin {
                charon,
                ns: ns.to_string(),
                sent_ike: false,
                sent_child: false,
                closed: false,
                answered: 0,
                inbound_spi: String::new(),
            },
            role: opts.role,
            suite_name: opts.suite.name,
            keylog_dir: opts.keylog_dir.clone(),
            dir: dir.to_path_buf(),
            events: Vec::new(),
            exit: None,
        };
        if opts.role == Role::Initiator {
            if let Kind::Standin { charon, .. } = &peer.kind
                && let Err(e) = charon.initiate()
            {
                say!("stand-in initiate failed: {e}");
            }
            // like ipsec-peer --ping: ping right away
            if let Some(n) = opts.ping_count {
                peer.poll();
                peer.standin_ping(n);
            }
        }
        Ok(peer)
    }

    pub(crate) fn is_standin(&self) -> bool {
        matches!(self.kind, Kind::Standin { .. })
    }

    /// Takes in whatever the peer reported since the last call.
    pub(crate) fn poll(&mut self) {
        let mut fresh = Vec::new();
        match &mut self.kind {
            Kind::Ipsec { proc, rx } => {
                while let Ok(line) = rx.try_recv() {
                    let line = line.trim().to_string();
                    if line.is_empty() {
                        continue;
                    }
                    match Json::parse(&line) {
                        Ok(j) => fresh.push(j),
                        Err(e) => fresh.push(Json::obj(&[
                            ("event", Json::s("unparsed")),
                            ("line", Json::s(line.clone())),
                            ("error", Json::s(e)),
                        ])),
                    }
                }
                if self.exit.is_none() {
                    self.exit = proc.try_status();
                }
            }
            Kind::Standin {
                charon,
                sent_ike,
                sent_child,
                closed,
                answered,
                inbound_spi,
                ..
            } => {
                if *closed {
                    return;
                }
                let sas = charon.list_sas().unwrap_or_default();
                let log = charon::parse_log(&charon.log());
                if let Some(sa) = sas.iter().find(|s| s.name == CONN) {
                    let logged = log
                        .iter()
                        .find(|l| l.spi_i == sa.spi_i && l.spi_r == sa.spi_r);
                    if sa.state == "ESTABLISHED" && !*sent_ike {
                        *sent_ike = true;
                        fresh.push(Json::obj(&[
                            ("event", Json::s("ike_sa_established")),
                            ("spi_i", Json::s(&sa.spi_i)),
                            ("spi_r", Json::s(&sa.spi_r)),
                            ("peer_id", Json::s(&sa.remote_id)),
                        ]));
                        if let Some(l) = logged {
                            let mut pairs = vec![
                                ("event", Json::s("ike_keys")),
                                ("spi_i", Json::s(&sa.spi_i)),
                                ("spi_r", Json::s(&sa.spi_r)),
                            ];
                            for k in [
                                "skeyseed", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi",
                                "sk_pr",
                            ] {
                                pairs
                                    .push((k, Json::s(l.keys.get(k).cloned().unwrap_or_default())));
                            }
                            fresh.push(Json::obj(&pairs));
                        }
                    }
                    if let Some(ch) = sa
                        .children
                        .iter()
                        .find(|c| c.name == CHILD && c.state == "INSTALLED")
                    {
                        if !*sent_child {
                            *sent_child = true;
                            *inbound_spi = ch.spi_in.clone();
                            let km = |spi: &str| {
                                logged
                                    .and_then(|l| l.esp.iter().find(|e| e.spi == spi))
                                    .map(|e| e.keymat())
                                    .unwrap_or_default()
                            };
                            fresh.push(Json::obj(&[
                                ("event", Json::s("child_sa_ready")),
                                ("inbound_spi", Json::s(&ch.spi_in)),
                                ("outbound_spi", Json::s(&ch.spi_out)),
                                ("udp_encap", Json::Bool(ch.mode.contains("in-UDP"))),
                                ("inbound_keymat", Json::s(km(&ch.spi_in))),
                                ("outbound_keymat", Json::s(km(&ch.spi_out))),
                            ]));
                        }
                        if self.role == Role::Responder {
                            // every echo request that came in and whose reply went out
                            let n = ch.packets_in.min(ch.packets_out);
                            while *answered < n {
                                *answered += 1;
                                fresh.push(Json::obj(&[
                                    ("event", Json::s("echo_request_answered")),
                                    ("from", Json::s(CHARON_INNER)),
                                    ("seq", Json::Num(*answered as f64)),
                                ]));
                            }
                        }
                    }
                } else if *sent_ike {
                    *closed = true;
                    let text = charon.log();
                    let reason = if text.contains("received DELETE for IKE_SA") {
                        "PeerDelete"
                    } else {
                        "LocalDelete"
                    };
                    fresh.push(Json::obj(&[
                        ("event", Json::s("child_sa_deleted")),
                        ("inbound_spi", Json::s(inbound_spi.clone())),
                    ]));
                    fresh.push(Json::obj(&[
                        ("event", Json::s("ike_sa_closed")),
                        ("reason", Json::s(reason)),
                    ]));
                }
            }
        }
        for e in fresh {
            say!("peer event: {e}");
            self.events.push(e);
        }
    }

    /// Waits (bounded) for the first event matching `pred` (already seen or new).
    pub(crate) fn wait(&mut self, timeout: Duration, pred: impl Fn(&Json) -> bool) -> Option<Json> {
        let deadline = Instant::now() + timeout;
        loop {
            self.poll();
            if let Some(e) = self.events.iter().find(|e| pred(e)) {
                return Some(e.clone());
            }
            if Instant::now() >= deadline || self.exit.is_some() {
                self.poll();
                return self.events.iter().find(|e| pred(e)).cloned();
            }
            thread::sleep(Duration::from_millis(if self.is_standin() {
                200
            } else {
                20
            }));
        }
    }

    /// Waits (bounded) until `done` holds for all events seen so far; whether it did.
    pub(crate) fn wait_all(&mut self, timeout: Duration, done: impl Fn(&[Json]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            self.poll();
            if done(&self.events) {
                return true;
            }
            if Instant::now() >= deadline || self.exit.is_some() {
                return false;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn wait_event(&mut self, name: &str, timeout: Duration) -> Option<Json> {
        self.wait(timeout, |e| e.event() == name)
    }

    /// Waits until at least `n` events named `name` were seen; returns them.
    pub(crate) fn wait_count(&mut self, name: &str, n: usize, timeout: Duration) -> Vec<Json> {
        let deadline = Instant::now() + timeout;
        loop {
            self.poll();
            let got: Vec<Json> = self
                .events
                .iter()
                .filter(|e| e.event() == name)
                .cloned()
                .collect();
            if got.len() >= n || Instant::now() >= deadline || self.exit.is_some() {
                return got;
            }
            thread::sleep(Duration::from_millis(if self.is_standin() {
                200
            } else {
                20
            }));
        }
    }

    fn standin_ping(&mut self, count: u32) {
        let Kind::Standin { ns, .. } = &self.kind else {
            return;
        };
        // wait for the Child SA like ipsec-peer would
        let ns = ns.clone();
        if self
            .wait_event("child_sa_ready", Duration::from_secs(15))
            .is_none()
        {
            return;
        }
        let (seqs, text) = charon::ping(&ns, OUR_INNER, CHARON_INNER, count);
        let _ = fs::write(self.dir.join("standin-ping.txt"), text);
        for s in seqs {
            let e = Json::obj(&[
                ("event", Json::s("ping_reply")),
                ("seq", Json::Num(f64::from(s))),
                ("from", Json::s(CHARON_INNER)),
            ]);
            say!("peer event: {e}");
            self.events.push(e);
        }
    }

    /// Variant A of the delete test: ipsec-peer does it by itself (--delete-after); the
    /// stand-in is told now.
    pub(crate) fn standin_delete(&mut self) {
        if let Kind::Standin { charon, .. } = &self.kind
            && let Err(e) = charon.terminate_ike()
        {
            say!("stand-in terminate failed: {e}");
        }
    }

    /// The stand-in's own view (its charon), for the harness's sanity checks.
    pub(crate) fn standin_charon(&self) -> Option<&Charon> {
        match &self.kind {
            Kind::Standin { charon, .. } => Some(charon),
            Kind::Ipsec { .. } => None,
        }
    }

    /// Stops it (SIGTERM, then SIGKILL after 5 s). The stand-in writes its key log now, in
    /// the format ipsec-peer writes with --keylog-dir. Returns (exit status, killed).
    pub(crate) fn stop(&mut self) -> (Option<ExitStatus>, bool) {
        self.poll();
        let r = match &mut self.kind {
            Kind::Ipsec { proc, .. } => {
                let r = proc.stop(Duration::from_secs(5));
                if self.exit.is_none() {
                    self.exit = r.0;
                }
                r
            }
            Kind::Standin { charon, .. } => {
                let sas = charon::parse_log(&charon.log());
                if let Some(suite) = crate::suites::SUITES
                    .iter()
                    .find(|s| s.name == self.suite_name)
                    && let Err(e) =
                        crate::wireshark::write_tables_from_log(&self.keylog_dir, &sas, suite)
                {
                    say!("stand-in key log: {e}");
                }
                charon.stop();
                (None, false)
            }
        };
        // whatever it printed while shutting down
        thread::sleep(Duration::from_millis(100));
        self.poll();
        let all: String = self.events.iter().map(|e| format!("{e}\n")).collect();
        let _ = fs::write(self.dir.join("peer.events.jsonl"), all);
        r
    }
}
