//! Live interoperability test of ipsec-rs against strongSwan's charon.
//!
//! Runs as root on Debian bookworm: installs strongSwan and tshark if missing, builds two
//! network namespaces joined by a veth pair (ours 10.99.0.1, charon's 10.99.0.2 with
//! 10.99.2.1/32 on its lo), and for every suite and both directions runs charon (user-space
//! ESP through kernel-libipsec, so NAT-T/ESP-in-UDP and tunnel mode) against our
//! `ipsec-peer` example, checking: IKE SA and Child SA up on both sides, ICMP echo through
//! the tunnel, our derived keys equal charon's logged keys, tshark decrypting every IKE SK
//! payload and ESP packet with our key log (ICV correct), and a delete from either side ending
//! both. Prints a matrix and `N passed, N failed`.
//!
//! ```text
//! cargo run -p ipsec-examples --example interop                    # against ipsec-peer
//! cargo run -p ipsec-examples --example interop -- --standin-charon  # harness self-test
//! ```
//! Options: `--peer PATH`, `--standin-charon`, `--no-install`, `--suite NAME` (repeatable),
//! `--direction we|charon`, `--workdir DIR` (default /tmp/ipsec-interop-PID, kept: charon
//! logs, captures, key logs, tshark output per case), `--force-encap` (passed to ipsec-peer).
//! `interop --analyse PCAP KEYLOG_DIR` only runs the tshark verdict on a capture.

// A test harness, not library code: it owns threads, clocks and sleeps (clippy.toml bans
// those for the sans-IO crates) and reports on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

mod charon;
mod netns;
mod peer;
mod suites;
mod util;
mod wireshark;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use charon::{Charon, CharonConfig, ID_INITIATOR, ID_RESPONDER};
use netns::{CHARON_ADDR, CHARON_INNER, Lab, OUR_ADDR, OUR_IF, OUR_INNER};
use peer::{Peer, PeerOptions, Role};
use suites::{SUITES, Suite};
use util::{Json, say};
use wireshark::Capture;

const PACKAGES: [&str; 9] = [
    "strongswan-charon",
    "strongswan-swanctl",
    "strongswan-libcharon",
    "libstrongswan-standard-plugins",
    "libstrongswan-extra-plugins",
    "libcharon-extra-plugins",
    "tshark",
    "iproute2",
    "iputils-ping",
];

/// Our peer's --delete-after in variant A.
const DELETE_AFTER: u64 = 3;
/// Our peer's --exit-after: a backstop; the harness stops it with SIGTERM long before.
const EXIT_AFTER: u64 = 60;
const PING_COUNT: u32 = 3;
/// No new case starts after this much time.
const BUDGET: Duration = Duration::from_secs(6 * 60);

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
    peer: Option<PathBuf>,
    standin: bool,
    install: bool,
    suites: Vec<String>,
    directions: Vec<Direction>,
    workdir: Option<PathBuf>,
    force_encap: bool,
    /// --analyse PCAP KEYDIR: only judge an existing capture with a key log
    analyse: Option<(PathBuf, PathBuf)>,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        peer: None,
        standin: false,
        install: true,
        suites: Vec::new(),
        directions: Vec::new(),
        workdir: None,
        force_encap: false,
        analyse: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--peer" => o.peer = Some(PathBuf::from(val("--peer")?)),
            "--standin-charon" => o.standin = true,
            "--no-install" => o.install = false,
            "--suite" => o.suites.push(val("--suite")?),
            "--direction" => match val("--direction")?.as_str() {
                "we" | "we-initiate" => o.directions.push(Direction::WeInitiate),
                "charon" | "charon-initiates" => o.directions.push(Direction::CharonInitiates),
                d => return Err(format!("unknown direction {d} (we|charon)")),
            },
            "--workdir" => o.workdir = Some(PathBuf::from(val("--workdir")?)),
            "--force-encap" => o.force_encap = true,
            "--analyse" => {
                let pcap = PathBuf::from(val("--analyse")?);
                let keys = PathBuf::from(val("--analyse")?);
                o.analyse = Some((pcap, keys));
            }
            "-h" | "--help" => {
                println!(
                    "usage: interop [--peer PATH | --standin-charon] [--no-install] [--suite NAME]... \
                     [--direction we|charon]... [--workdir DIR] [--force-encap]\n       \
                     interop --analyse PCAP KEYLOG_DIR   (tshark verdict on a capture)\nsuites: {}",
                    SUITES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                );
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {a} (try --help)")),
        }
    }
    for s in &o.suites {
        if !SUITES.iter().any(|x| x.name == s || x.ike == s) {
            return Err(format!("unknown suite {s}"));
        }
    }
    if o.directions.is_empty() {
        o.directions = vec![Direction::WeInitiate, Direction::CharonInitiates];
    }
    Ok(o)
}

// ---------------------------------------------------------------------------------------------
// Matrix

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Direction {
    WeInitiate,
    CharonInitiates,
}

impl Direction {
    fn label(self) -> &'static str {
        match self {
            Direction::WeInitiate => "we -> charon",
            Direction::CharonInitiates => "charon -> us",
        }
    }
    fn tag(self) -> &'static str {
        match self {
            Direction::WeInitiate => "we-init",
            Direction::CharonInitiates => "charon-init",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum DeleteBy {
    /// variant A: our peer deletes (--delete-after)
    Us,
    /// variant B: swanctl --terminate --ike
    Charon,
}

#[derive(Clone, Debug)]
enum Cell {
    Pass(String),
    Fail(String),
    Skip(String),
}

const COLUMNS: [&str; 7] = [
    "IKE up",
    "Child up",
    "ping",
    "keys equal",
    "tshark IKE",
    "tshark ESP",
    "delete",
];
const C_IKE: usize = 0;
const C_CHILD: usize = 1;
const C_PING: usize = 2;
const C_KEYS: usize = 3;
const C_TS_IKE: usize = 4;
const C_TS_ESP: usize = 5;
const C_DELETE: usize = 6;

struct Row {
    suite: &'static Suite,
    dir: Direction,
    delete_by: DeleteBy,
    cells: [Cell; 7],
    notes: Vec<String>,
    workdir: PathBuf,
}

impl Row {
    fn set(&mut self, col: usize, ok: bool, detail: impl Into<String>) {
        let d = detail.into();
        self.cells[col] = if ok { Cell::Pass(d) } else { Cell::Fail(d) };
    }
    fn fail_unset(&mut self, why: &str) {
        for c in self.cells.iter_mut() {
            if matches!(c, Cell::Skip(s) if s == "not run") {
                *c = Cell::Fail(why.to_string());
            }
        }
    }
}

fn print_matrix(rows: &[Row], standin: bool) -> (usize, usize, usize) {
    let mut out = String::new();
    let w0 = rows
        .iter()
        .map(|r| r.suite.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "\n{:<w0$}  {:<12}  {:<6}",
        "suite", "direction", "del by"
    ));
    for c in COLUMNS {
        out.push_str(&format!(" | {c:<10}"));
    }
    out.push('\n');
    out.push_str(&"-".repeat(w0 + 24 + COLUMNS.len() * 13));
    out.push('\n');
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for r in rows {
        let by = match r.delete_by {
            DeleteBy::Us => "us",
            DeleteBy::Charon => "charon",
        };
        out.push_str(&format!(
            "{:<w0$}  {:<12}  {:<6}",
            r.suite.name,
            r.dir.label(),
            by
        ));
        for c in &r.cells {
            let t = match c {
                Cell::Pass(_) => {
                    pass += 1;
                    "ok"
                }
                Cell::Fail(_) => {
                    fail += 1;
                    "FAIL"
                }
                Cell::Skip(_) => {
                    skip += 1;
                    "n/a"
                }
            };
            out.push_str(&format!(" | {t:<10}"));
        }
        out.push('\n');
    }
    out.push_str("\ndetails:\n");
    for r in rows {
        out.push_str(&format!(
            "{} {} (files in {}):\n",
            r.suite.name,
            r.dir.label(),
            r.workdir.display()
        ));
        for (i, c) in r.cells.iter().enumerate() {
            let (t, d) = match c {
                Cell::Pass(d) => ("ok  ", d),
                Cell::Fail(d) => ("FAIL", d),
                Cell::Skip(d) => ("n/a ", d),
            };
            out.push_str(&format!("  {t} {:<10}: {d}\n", COLUMNS[i]));
        }
        for n in &r.notes {
            out.push_str(&format!("  note: {n}\n"));
        }
    }
    if standin {
        out.push_str("\nNOTE: --standin-charon: a second charon played our side; this proves the harness, not ipsec-rs.\n");
    }
    print!("{out}");
    (pass, fail, skip)
}

// ---------------------------------------------------------------------------------------------
// Setup

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

fn installed(pkg: &str) -> bool {
    util::run(
        Command::new("dpkg-query").args(["-W", "-f=${Status}", pkg]),
        Duration::from_secs(20),
    )
    .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
    .unwrap_or(false)
}

fn install_packages() -> Result<(), String> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        say!("packages already installed");
        return Ok(());
    }
    say!("installing {}", missing.join(" "));
    util::run_ok(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
        Duration::from_secs(240),
    )?;
    util::run_ok(
        Command::new("apt-get")
            .args(["install", "-y"])
            .args(PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        Duration::from_secs(420),
    )?;
    let still: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "still missing after apt-get install: {}",
            still.join(" ")
        ))
    }
}

/// The ipsec-peer binary: --peer, or built next to this example's binary with cargo.
fn find_peer(o: &Options) -> Result<PathBuf, String> {
    if let Some(p) = &o.peer {
        return p
            .canonicalize()
            .map_err(|e| format!("{}: {e}", p.display()));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dir = exe.parent().ok_or("no exe dir")?.to_path_buf();
    let candidate = dir.join("ipsec-peer");
    let release = dir
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut cmd = Command::new(&cargo);
    cmd.args([
        "build",
        "-p",
        "ipsec-examples",
        "--example",
        "ipsec-peer",
        "--manifest-path",
    ])
    .arg(&manifest);
    if release {
        cmd.arg("--release");
    }
    say!("building ipsec-peer: {}", util::describe(&cmd));
    match util::run_ok(&mut cmd, Duration::from_secs(600)) {
        Ok(_) => {}
        Err(e) if candidate.exists() => {
            say!("building ipsec-peer failed, using the existing binary: {e}")
        }
        Err(e) => {
            return Err(format!(
                "ipsec-peer is not available ({e}); build it, pass --peer PATH, or run \
                 --standin-charon to test the harness with a second charon"
            ));
        }
    }
    if candidate.exists() {
        Ok(candidate)
    } else {
        Err(format!("{} not found after building", candidate.display()))
    }
}

// ---------------------------------------------------------------------------------------------
// One case

enum PeerKind<'a> {
    Ipsec(&'a Path),
    Standin,
}

fn run_case(
    suite: &'static Suite,
    dir: Direction,
    delete_by: DeleteBy,
    peer_kind: &PeerKind<'_>,
    force_encap: bool,
    workdir: &Path,
    index: usize,
) -> Row {
    let casedir = workdir.join(format!("{}-{}", suite.name, dir.tag()));
    let nr = || Cell::Skip("not run".into());
    let mut row = Row {
        suite,
        dir,
        delete_by,
        cells: [nr(), nr(), nr(), nr(), nr(), nr(), nr()],
        notes: Vec::new(),
        workdir: casedir.clone(),
    };
    say!(
        "=== {} / {} / delete by {:?} ===",
        suite.name,
        dir.label(),
        delete_by
    );
    if let Err(e) = std::fs::create_dir_all(&casedir) {
        row.fail_unset(&format!("setup: {e}"));
        return row;
    }
    if let Err(e) = case_body(&mut row, peer_kind, force_encap, &casedir, index) {
        say!("case aborted: {e}");
        row.fail_unset(&format!("not reached: {e}"));
    }
    row
}

/// Our IKE SPIs: from ike_sa_established (`spi_i`, `spi_r`), else from ike_keys.
fn our_ike_spis(established: &Json, events: &[Json]) -> (String, String) {
    let from = |e: &Json| Some((e.str_of("spi_i")?, e.str_of("spi_r")?));
    from(established)
        .or_else(|| {
            events
                .iter()
                .filter(|e| e.event() == "ike_keys")
                .find_map(from)
        })
        .unwrap_or_default()
}

/// Our keymat for the Child SA's `dir` ("inbound"/"outbound") SA: `{dir}_keymat` from
/// child_sa_ready, else `encryption_key` + `integrity_key` of the esp_keys event with that SPI.
fn our_keymat(child: &Json, dir: &str, events: &[Json]) -> String {
    if let Some(k) = child
        .str_of(&format!("{dir}_keymat"))
        .filter(|k| !k.is_empty())
    {
        return k;
    }
    let spi = child.str_of(&format!("{dir}_spi")).unwrap_or_default();
    events
        .iter()
        .filter(|e| e.event() == "esp_keys")
        .find(|e| e.str_of("spi").is_some_and(|s| hex_eq(&s, &spi)))
        .map(|e| {
            format!(
                "{}{}",
                e.str_of("encryption_key").unwrap_or_default(),
                e.str_of("integrity_key").unwrap_or_default()
            )
        })
        .unwrap_or_default()
}

fn hex_eq(a: &str, b: &str) -> bool {
    util::norm_hex(a) == util::norm_hex(b)
}

fn case_body(
    row: &mut Row,
    peer_kind: &PeerKind<'_>,
    force_encap: bool,
    casedir: &Path,
    index: usize,
) -> Result<(), String> {
    let suite = row.suite;
    let standin = matches!(peer_kind, PeerKind::Standin);
    let we_init = row.dir == Direction::WeInitiate;
    let lab = Lab::create(&index.to_string(), standin)?;
    let mut cap = Capture::start(&lab.ours, OUR_IF, &casedir.join("veth.pcap"))?;
    let mut charon = Charon::start(
        "under test",
        &lab.charon,
        &casedir.join("charon"),
        &CharonConfig {
            local_addr: CHARON_ADDR,
            remote_addr: OUR_ADDR,
            local_ts: &format!("{CHARON_INNER}/32"),
            remote_ts: &format!("{OUR_INNER}/32"),
            initiator: !we_init,
            suite,
        },
    )?;
    let opts = PeerOptions {
        role: if we_init {
            Role::Initiator
        } else {
            Role::Responder
        },
        suite,
        ping_count: we_init.then_some(PING_COUNT),
        delete_after: (row.delete_by == DeleteBy::Us).then_some(DELETE_AFTER),
        exit_after: EXIT_AFTER,
        force_encap,
        keylog_dir: casedir.join("keylog"),
    };
    let mut peer = match peer_kind {
        PeerKind::Ipsec(bin) => Peer::start_ipsec(bin, &lab.ours, casedir, &opts)?,
        PeerKind::Standin => Peer::start_standin(&lab.ours, casedir, &opts)?,
    };
    let t_start = Instant::now();
    if !we_init {
        // give ipsec-peer a moment to bind its sockets
        util::poll(Duration::from_secs(2), Duration::from_millis(50), || {
            let out = util::run(
                &mut netns::ns_command(&lab.ours, "ss", &["-Hulpn", "sport = :500"], false),
                Duration::from_secs(5),
            )
            .ok()?;
            (!String::from_utf8_lossy(&out.stdout).trim().is_empty()).then_some(())
        });
        match charon.initiate() {
            Ok(_) => row
                .notes
                .push("swanctl --initiate completed successfully".into()),
            Err(e) => row.notes.push(format!("swanctl --initiate: {e}")),
        }
    }

    // --- IKE SA and Child SA up on both sides
    let ev_ike = peer.wait_event("ike_sa_established", Duration::from_secs(15));
    let ev_child = if ev_ike.is_some() {
        peer.wait_event("child_sa_ready", Duration::from_secs(5))
    } else {
        None
    };
    let sa = util::poll(
        Duration::from_secs(if ev_child.is_some() { 5 } else { 1 }),
        Duration::from_millis(200),
        || {
            charon.list_sas().ok()?.into_iter().find(|s| {
                s.state == "ESTABLISHED" && s.children.iter().any(|c| c.state == "INSTALLED")
            })
        },
    )
    .or_else(|| charon.list_sas().ok().and_then(|v| v.into_iter().next()));
    if ev_ike.as_ref().is_some_and(|e| e.str_of("spi_i").is_none()) {
        // SPIs not in ike_sa_established: take them from ike_keys
        peer.wait_event("ike_keys", Duration::from_secs(2));
    }
    let expected_peer_id = if we_init { ID_RESPONDER } else { ID_INITIATOR };
    {
        let mut why = Vec::new();
        match &ev_ike {
            None => why.push("our peer printed no ike_sa_established".to_string()),
            Some(e) => {
                if e.str_of("peer_id").as_deref() != Some(expected_peer_id) {
                    why.push(format!(
                        "peer_id {:?}, expected {expected_peer_id}",
                        e.str_of("peer_id")
                    ));
                }
            }
        }
        match &sa {
            None => why.push("charon lists no IKE SA".into()),
            Some(s) if s.state != "ESTABLISHED" => {
                why.push(format!("charon's IKE SA is {}", s.state))
            }
            Some(s) => {
                if let Some(e) = &ev_ike {
                    let (i, r) = our_ike_spis(e, &peer.events);
                    if !hex_eq(&i, &s.spi_i) || !hex_eq(&r, &s.spi_r) {
                        why.push(format!(
                            "SPIs differ: ours {i}/{r}, charon's {}/{}",
                            s.spi_i, s.spi_r
                        ));
                    }
                }
            }
        }
        let detail = match &sa {
            Some(s) if why.is_empty() => format!(
                "ESTABLISHED on both sides, SPIs {}_i {}_r",
                s.spi_i, s.spi_r
            ),
            _ => why.join("; "),
        };
        row.set(C_IKE, why.is_empty(), detail);
    }
    let charon_child = sa
        .as_ref()
        .and_then(|s| s.children.iter().find(|c| c.name == charon::CHILD).cloned());
    {
        let mut why = Vec::new();
        match &ev_child {
            None => why.push("our peer printed no child_sa_ready".to_string()),
            Some(e) => {
                if e.bool_of("udp_encap") != Some(true) {
                    why.push("our peer reports udp_encap != true".into());
                }
            }
        }
        match &charon_child {
            None => why.push("charon lists no Child SA".into()),
            Some(c) => {
                if c.state != "INSTALLED" {
                    why.push(format!("charon's Child SA is {}", c.state));
                }
                if c.mode != "TUNNEL-in-UDP" {
                    why.push(format!("charon's Child SA mode is {}", c.mode));
                }
                if let Some(e) = &ev_child {
                    let (ours_in, ours_out) = (
                        e.str_of("inbound_spi").unwrap_or_default(),
                        e.str_of("outbound_spi").unwrap_or_default(),
                    );
                    if !hex_eq(&ours_in, &c.spi_out) || !hex_eq(&ours_out, &c.spi_in) {
                        why.push(format!(
                            "SPIs differ: ours in {ours_in} out {ours_out}, charon's in {} out {}",
                            c.spi_in, c.spi_out
                        ));
                    }
                }
            }
        }
        let detail = match &charon_child {
            Some(c) if why.is_empty() => format!(
                "INSTALLED {} on both sides, charon in {} out {}",
                c.mode, c.spi_in, c.spi_out
            ),
            _ => why.join("; "),
        };
        row.set(C_CHILD, why.is_empty(), detail);
    }

    // --- ICMP echo through the tunnel
    let child_up = ev_child.is_some()
        || charon_child
            .as_ref()
            .is_some_and(|c| c.state == "INSTALLED");
    let ike_seen = ev_ike.is_some() || sa.is_some();
    let ping_ok;
    let ping_detail;
    if !child_up {
        ping_ok = false;
        ping_detail = "no Child SA on either side, nothing to ping through".to_string();
    } else if we_init {
        let replies = peer.wait_count("ping_reply", PING_COUNT as usize, Duration::from_secs(10));
        let mut seqs: Vec<String> = replies
            .iter()
            .filter(|e| e.str_of("from").as_deref() == Some(CHARON_INNER))
            .filter_map(|e| e.str_of("seq"))
            .collect();
        seqs.sort();
        seqs.dedup();
        ping_ok = seqs.len() >= PING_COUNT as usize;
        ping_detail = format!(
            "our peer got {} echo replies from {CHARON_INNER} (seq {})",
            seqs.len(),
            seqs.join(",")
        );
    } else {
        let (seqs, text) = charon::ping(&lab.charon, CHARON_INNER, OUR_INNER, PING_COUNT);
        let _ = std::fs::write(casedir.join("charon-ping.txt"), &text);
        let answered = peer.wait_count(
            "echo_request_answered",
            PING_COUNT as usize,
            Duration::from_secs(5),
        );
        ping_ok = seqs.len() == PING_COUNT as usize && answered.len() >= PING_COUNT as usize;
        ping_detail = format!(
            "charon's ping -I {CHARON_INNER} {OUR_INNER}: {}/{PING_COUNT} replies; our peer answered {}",
            seqs.len(),
            answered.len()
        );
    }
    // refined below with the capture (ESP-in-UDP check)
    row.set(C_PING, ping_ok, ping_detail.clone());

    // --- keys: ours against charon's log
    let ev_keys = peer.wait_event("ike_keys", Duration::from_secs(3));
    let logged = charon::parse_log(&charon.log());
    let _ = std::fs::write(
        casedir.join("charon-keys.txt"),
        charon::keys_summary(&logged),
    );
    {
        let mut why = Vec::new();
        let mut compared = 0;
        match (&ev_keys, &ev_ike) {
            (None, _) => why.push("our peer printed no ike_keys".to_string()),
            (Some(k), _) => {
                let (i, r) = (
                    k.str_of("spi_i").unwrap_or_default(),
                    k.str_of("spi_r").unwrap_or_default(),
                );
                match logged
                    .iter()
                    .find(|l| hex_eq(&l.spi_i, &i) && hex_eq(&l.spi_r, &r))
                {
                    None => why.push(format!("charon logged no keys for IKE SA {i}_i {r}_r")),
                    Some(l) => {
                        for name in [
                            "skeyseed", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi",
                            "sk_pr",
                        ] {
                            let ours = k.str_of(name).unwrap_or_default();
                            let theirs = l.keys.get(name).cloned().unwrap_or_default();
                            let required = !matches!(name, "sk_ai" | "sk_ar");
                            if required && theirs.is_empty() {
                                why.push(format!("charon's log has no {name}"));
                            } else if !hex_eq(&ours, &theirs) {
                                why.push(format!("{name}: ours {ours:?}, charon's {theirs:?}"));
                            } else if !theirs.is_empty() {
                                compared += 1;
                            }
                        }
                        match &ev_child {
                            None => why.push("no child_sa_ready to compare Child SA keys".into()),
                            Some(c) => {
                                for (dir, theirs_inbound) in
                                    [("inbound", false), ("outbound", true)]
                                {
                                    let spi = c.str_of(&format!("{dir}_spi")).unwrap_or_default();
                                    let ours = our_keymat(c, dir, &peer.events);
                                    match l.esp.iter().find(|e| hex_eq(&e.spi, &spi)) {
                                        None => why.push(format!(
                                            "charon logged no ESP SA with SPI {spi}"
                                        )),
                                        Some(e) => {
                                            if e.inbound != theirs_inbound {
                                                why.push(format!(
                                                    "SPI {spi} is {dir} for both sides"
                                                ));
                                            }
                                            if !hex_eq(&ours, &e.keymat()) {
                                                why.push(format!(
                                                    "{dir} keymat (SPI {spi}): ours {ours:?}, charon's {:?}",
                                                    e.keymat()
                                                ));
                                            } else {
                                                compared += 1;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let detail = if why.is_empty() {
            format!("{compared} keys equal (SKEYSEED, SK_*, both ESP keymats)")
        } else {
            why.join("; ")
        };
        row.set(C_KEYS, why.is_empty(), detail);
    }

    // --- delete
    if !ike_seen {
        row.set(
            C_DELETE,
            false,
            "no IKE SA on either side, nothing to delete",
        );
    } else {
        let mut why = Vec::new();
        match row.delete_by {
            DeleteBy::Us => {
                if peer.is_standin() {
                    // like --delete-after: DELETE_AFTER seconds after the start
                    let left = Duration::from_secs(DELETE_AFTER).saturating_sub(t_start.elapsed());
                    std::thread::sleep(left);
                    peer.standin_delete();
                }
            }
            DeleteBy::Charon => match charon.terminate_ike() {
                Ok(out) if out.contains("terminate completed successfully") => {}
                Ok(out) => why.push(format!(
                    "swanctl --terminate: {}",
                    out.trim().lines().last().unwrap_or("")
                )),
                Err(e) => why.push(format!("swanctl --terminate: {e}")),
            },
        }
        let closed = peer.wait_event("ike_sa_closed", Duration::from_secs(DELETE_AFTER + 10));
        let child_deleted = peer.wait_event("child_sa_deleted", Duration::from_secs(2));
        let charon_empty = util::poll(Duration::from_secs(5), Duration::from_millis(200), || {
            charon
                .list_sas()
                .ok()
                .and_then(|v| v.is_empty().then_some(()))
        });
        match &closed {
            None => why.push("our peer printed no ike_sa_closed".into()),
            Some(e) => {
                let reason = e.str_of("reason").unwrap_or_default();
                if row.delete_by == DeleteBy::Charon && reason != "PeerDelete" {
                    why.push(format!(
                        "our peer's ike_sa_closed reason {reason:?}, expected \"PeerDelete\""
                    ));
                }
            }
        }
        if child_deleted.is_none() {
            why.push("our peer printed no child_sa_deleted".into());
        }
        if charon_empty.is_none() {
            why.push("charon still lists SAs".into());
        }
        let log = charon.log();
        if row.delete_by == DeleteBy::Us && !log.contains("received DELETE for IKE_SA") {
            why.push("charon logged no received DELETE for IKE_SA".into());
        }
        if row.delete_by == DeleteBy::Charon && !log.contains("IKE_SA deleted") {
            why.push("charon did not log IKE_SA deleted (no response to its DELETE?)".into());
        }
        if let Some(sc) = peer.standin_charon()
            && !sc.list_sas().map(|v| v.is_empty()).unwrap_or(false)
        {
            why.push("stand-in charon still lists SAs".into());
        }
        let who = match row.delete_by {
            DeleteBy::Us => format!("our peer (--delete-after {DELETE_AFTER})"),
            DeleteBy::Charon => "swanctl --terminate --ike".to_string(),
        };
        let detail = if why.is_empty() {
            format!(
                "deleted by {who}: our peer reported ike_sa_closed ({}), charon's --list-sas empty",
                closed
                    .as_ref()
                    .and_then(|e| e.str_of("reason"))
                    .unwrap_or_default()
            )
        } else {
            format!("deleted by {who}: {}", why.join("; "))
        };
        row.set(C_DELETE, why.is_empty(), detail);
    }

    // --- stop everything, then read the capture
    let (status, killed) = peer.stop();
    if !peer.is_standin() {
        let clean = status.is_some_and(|s| s.success()) && !killed;
        row.notes.push(format!(
            "ipsec-peer exit after SIGTERM: {}{}",
            status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "unknown".into()),
            if killed { " (needed SIGKILL)" } else { "" }
        ));
        if !clean {
            row.notes
                .push("ipsec-peer did not exit cleanly on SIGTERM".into());
        }
    }
    let unparsed: Vec<String> = peer
        .events
        .iter()
        .filter(|e| e.event() == "unparsed")
        .filter_map(|e| e.str_of("line"))
        .collect();
    if !unparsed.is_empty() {
        row.notes.push(format!(
            "{} stdout lines were not JSON, e.g. {:?}",
            unparsed.len(),
            unparsed[0]
        ));
    }
    std::thread::sleep(Duration::from_millis(300));
    cap.stop();
    charon.stop();
    drop(lab);

    let pcap = casedir.join("veth.pcap");
    let scratch = casedir.join("tshark");
    let _ = std::fs::create_dir_all(&scratch);
    match suite.ws_ike {
        None => {
            let why = format!("tshark 4.0 cannot decrypt {}", suite.esp);
            row.cells[C_TS_IKE] = Cell::Skip(why.clone());
            row.cells[C_TS_ESP] = Cell::Skip(why);
            // still count the ESP-in-UDP packets
            if let Ok(v) = wireshark::analyse(&pcap, None, &scratch) {
                refine_ping(row, ping_ok, &ping_detail, &v);
            }
        }
        Some(_) => {
            let keylog = casedir.join("keylog");
            let missing: Vec<&str> = ["ikev2_decryption_table", "esp_sa"]
                .into_iter()
                .filter(|f| !keylog.join(f).exists())
                .collect();
            match wireshark::analyse(&pcap, Some(&keylog), &scratch) {
                Err(e) => {
                    row.set(C_TS_IKE, false, e.clone());
                    row.set(C_TS_ESP, false, e);
                }
                Ok(v) => {
                    refine_ping(row, ping_ok, &ping_detail, &v);
                    let note_missing = if missing.is_empty() {
                        String::new()
                    } else {
                        format!(" (our key log lacks {})", missing.join(", "))
                    };
                    let ike_ok = v.sk_msgs >= 4 && v.sk_ok == v.sk_msgs;
                    let esp_ok = v.esp >= 2 * PING_COUNT as usize && v.esp_ok == v.esp;
                    let probs = |kind: &str, ok: bool, few: bool, want: &str| {
                        let mut p: Vec<String> = v
                            .problems
                            .iter()
                            .filter(|p| p.contains(kind))
                            .take(3)
                            .cloned()
                            .collect();
                        if few {
                            p.insert(0, format!("expected at least {want}"));
                        }
                        if ok || p.is_empty() {
                            String::new()
                        } else {
                            format!("; {}", p.join("; "))
                        }
                    };
                    let ike_detail = probs(
                        "IKE",
                        ike_ok,
                        v.sk_msgs < 4,
                        "4 (IKE_AUTH and INFORMATIONAL Delete, both ways)",
                    );
                    let esp_detail = probs(
                        "ESP",
                        esp_ok,
                        v.esp < 2 * PING_COUNT as usize,
                        "6 (3 echo requests and replies)",
                    );
                    row.set(
                        C_TS_IKE,
                        ike_ok,
                        format!("{}{note_missing}{ike_detail}", v.ike_summary()),
                    );
                    row.set(
                        C_TS_ESP,
                        esp_ok,
                        format!("{}{note_missing}{esp_detail}", v.esp_summary()),
                    );
                    if !(ike_ok && esp_ok) {
                        // diagnosis: would charon's own keys have decrypted it?
                        let ck = casedir.join("charon-keylog");
                        let diag =
                            wireshark::write_tables_from_log(&ck, &logged, suite).and_then(|_| {
                                wireshark::analyse(
                                    &pcap,
                                    Some(&ck),
                                    &casedir.join("tshark-charon-keys"),
                                )
                            });
                        match diag {
                            Ok(d) => row.notes.push(format!(
                                "with charon's logged keys instead: {}; {}",
                                d.ike_summary(),
                                d.esp_summary()
                            )),
                            Err(e) => row.notes.push(format!("with charon's logged keys: {e}")),
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The ping passes only if the echo really went as ESP in UDP: every ESP packet in the
/// capture is UDP-encapsulated and there are at least two per echo.
fn refine_ping(row: &mut Row, ping_ok: bool, detail: &str, v: &wireshark::Verdict) {
    let encap_ok = v.esp >= 2 * PING_COUNT as usize && v.esp_udp == v.esp;
    row.set(
        C_PING,
        ping_ok && encap_ok,
        format!(
            "{detail}; capture: {} ESP packets, {} of them in UDP",
            v.esp, v.esp_udp
        ),
    );
}

// ---------------------------------------------------------------------------------------------

fn real_main() -> i32 {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("interop: {e}");
            return 2;
        }
    };
    if let Some((pcap, keys)) = &opts.analyse {
        let scratch =
            std::env::temp_dir().join(format!("ipsec-interop-analyse-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&scratch);
        let r = wireshark::analyse(pcap, Some(keys), &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        return match r {
            Ok(v) => {
                println!("{}\n{}", v.ike_summary(), v.esp_summary());
                for p in &v.problems {
                    println!("  {p}");
                }
                let ok = v.problems.is_empty() && v.sk_msgs + v.esp > 0;
                println!("{} passed, {} failed", usize::from(ok), usize::from(!ok));
                i32::from(!ok)
            }
            Err(e) => {
                eprintln!("interop: {e}");
                1
            }
        };
    }
    if !is_root() {
        eprintln!("interop: must run as root (network namespaces, charon)");
        println!("0 passed, 1 failed");
        return 1;
    }
    if opts.install
        && let Err(e) = install_packages()
    {
        eprintln!("interop: installing packages: {e}");
        println!("0 passed, 1 failed");
        return 1;
    }
    netns::sweep_stale();
    let peer_bin = if opts.standin {
        None
    } else {
        match find_peer(&opts) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("interop: {e}");
                println!("0 passed, 1 failed");
                return 1;
            }
        }
    };
    let peer_kind = match &peer_bin {
        Some(p) => {
            say!("our peer: {}", p.display());
            PeerKind::Ipsec(p)
        }
        None => {
            say!("our peer: a second charon standing in (--standin-charon)");
            PeerKind::Standin
        }
    };
    let workdir = opts
        .workdir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/ipsec-interop-{}", std::process::id())));
    if let Err(e) = std::fs::create_dir_all(&workdir) {
        eprintln!("interop: {}: {e}", workdir.display());
        return 1;
    }
    say!(
        "work directory (logs, captures, key logs): {}",
        workdir.display()
    );

    let start = Instant::now();
    let mut rows = Vec::new();
    let mut index = 0;
    for (si, suite) in SUITES.iter().enumerate() {
        if !opts.suites.is_empty()
            && !opts
                .suites
                .iter()
                .any(|s| s == suite.name || s == suite.ike)
        {
            continue;
        }
        for (di, dir) in [Direction::WeInitiate, Direction::CharonInitiates]
            .into_iter()
            .enumerate()
        {
            if !opts.directions.contains(&dir) {
                continue;
            }
            // each direction and each suite sees both delete variants
            let delete_by = if (si + di) % 2 == 0 {
                DeleteBy::Us
            } else {
                DeleteBy::Charon
            };
            index += 1;
            if start.elapsed() > BUDGET {
                let nr = || Cell::Fail("not run: time budget used up".into());
                rows.push(Row {
                    suite,
                    dir,
                    delete_by,
                    cells: [nr(), nr(), nr(), nr(), nr(), nr(), nr()],
                    notes: Vec::new(),
                    workdir: workdir.clone(),
                });
                continue;
            }
            rows.push(run_case(
                suite,
                dir,
                delete_by,
                &peer_kind,
                opts.force_encap,
                &workdir,
                index,
            ));
        }
    }
    let (pass, fail, skip) = print_matrix(&rows, opts.standin);
    say!("finished in {:.1} s", start.elapsed().as_secs_f64());
    if skip > 0 {
        println!("{pass} passed, {fail} failed, {skip} skipped");
    } else {
        println!("{pass} passed, {fail} failed");
    }
    if fail > 0 || pass == 0 { 1 } else { 0 }
}

fn main() {
    let code = {
        let _guard = util::CleanupGuard;
        real_main()
    };
    std::process::exit(code);
}
