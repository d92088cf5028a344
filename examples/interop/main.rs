//! Live interoperability test of ipsec-rs against strongSwan's charon.
//!
//! Runs as root on Debian bookworm: installs strongSwan and tshark if missing, builds two
//! network namespaces joined by a veth pair (ours 10.99.0.1, charon's 10.99.0.2 with
//! 10.99.2.1/32 on its lo), and for every suite and both directions runs charon (user-space
//! ESP through kernel-libipsec, so NAT-T/ESP-in-UDP and tunnel mode) against our
//! `ipsec-peer` example, checking: IKE SA and Child SA up on both sides, ICMP echo through
//! the tunnel, our derived keys equal charon's logged keys, tshark decrypting every IKE SK
//! payload and ESP packet with our key log (ICV correct), and a delete from either side ending
//! both.
//!
//! Then the rekey cases (module `rekey`), each suite in both directions, six at a time: for
//! 33 s our peer pings through the tunnel while charon (R1, with PFS) or our peer (R2, with
//! PFS when we initiated the IKE SA) rekeys the Child SA every 8 s and the IKE SA every 15 s.
//! They check the rekeys on both sides and the SAs both list at the end, that at most one
//! echo is lost, and the same keys / tshark / delete checks over every SA of the run.
//!
//! Beside that matrix (scenario `matrix`), four more scenarios, each with its own checks:
//! - `ports` (a row of the matrix): our peer and charon on IKE ports 20500/24500, charon
//!   initiating (it floats only its own side to 24500), pings both ways, keys, tshark with
//!   `-d udp.port==20500,udpencap -d udp.port==24500,udpencap`, delete;
//! - `gateway` (module `gateway`): our peer as a remote-access gateway from a TOML file, three
//!   charon clients in their own namespaces connecting, pinging and hanging up at once;
//! - `keylog` (module `keylog`): the key log rows of every algorithm loaded by tshark, and
//!   used by it to decrypt two of our endpoints talking in the harness process;
//! - `ah` (module `ah`): AH tunnel and transport mode between two of our endpoints in the
//!   harness process, captured as LINKTYPE_RAW and dissected by tshark.
//!
//! Prints the matrix, a table per other scenario, and `N passed, N failed[, N skipped]`.
//!
//! ```text
//! cargo run -p ipsec-examples --example interop                    # against ipsec-peer
//! cargo run -p ipsec-examples --example interop -- --scenario gateway
//! cargo run -p ipsec-examples --example interop -- --standin-charon  # harness self-test
//! ```
//! Options: `--peer PATH`, `--standin-charon` (short cases of the matrix only),
//! `--no-install`, `--scenario matrix|ports|gateway|keylog|ah` (repeatable; default all),
//! `--suite NAME` (repeatable), `--direction we|charon`, `--rekey none|charon|us` (repeatable;
//! which kinds of matrix case: short, R1, R2; default all), `--jobs N` (rekey cases at a time,
//! default 6), `--workdir DIR` (default /tmp/ipsec-interop-PID, kept: charon logs, captures,
//! key logs, tshark output per case), `--force-encap` (passed to ipsec-peer).
//! `interop --analyse PCAP KEYLOG_DIR` only runs the tshark verdict on a capture.

// A test harness, not library code: it owns threads, clocks and sleeps (clippy.toml bans
// those for the sans-IO crates) and reports on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_methods)]

mod ah;
mod charon;
mod gateway;
mod inproc;
mod keylog;
mod keys;
mod netns;
#[path = "../common/packet.rs"]
mod packet;
mod peer;
mod rekey;
mod report;
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
const BUDGET: Duration = Duration::from_secs(10 * 60);
/// Rekey cases run this many at a time (--jobs).
const JOBS: usize = 6;
/// The `ports` scenario: IKE and NAT-T ports of both sides.
const CUSTOM_PORTS: (u16, u16) = (20500, 24500);

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
    /// which kinds of case: short (`none`), rekeyed by charon, rekeyed by us
    rekeys: Vec<Rekey>,
    /// rekey cases run this many at a time
    jobs: usize,
    /// --analyse PCAP KEYDIR: only judge an existing capture with a key log
    analyse: Option<(PathBuf, PathBuf)>,
    /// --scenario: which kinds of case run (default all)
    scenarios: Vec<Scenario>,
}

/// The kinds of case (`--scenario`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    /// the suite x direction matrix: short cases and rekey cases (`--suite`, `--direction`,
    /// `--rekey` choose among them)
    Matrix,
    /// a remote-access gateway (our peer, from a TOML file) with three charon clients
    Gateway,
    /// custom IKE ports 20500/24500, charon initiating
    Ports,
    /// key log rows for every algorithm, loaded and used by tshark
    Keylog,
    /// AH tunnel and transport captures dissected by tshark
    Ah,
}

impl Scenario {
    const ALL: [Scenario; 5] = [
        Scenario::Matrix,
        Scenario::Ports,
        Scenario::Gateway,
        Scenario::Keylog,
        Scenario::Ah,
    ];
    fn name(self) -> &'static str {
        match self {
            Scenario::Matrix => "matrix",
            Scenario::Gateway => "gateway",
            Scenario::Ports => "ports",
            Scenario::Keylog => "keylog",
            Scenario::Ah => "ah",
        }
    }
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
        rekeys: Vec::new(),
        jobs: JOBS,
        analyse: None,
        scenarios: Vec::new(),
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
            "--rekey" => match val("--rekey")?.as_str() {
                "none" => o.rekeys.push(Rekey::None),
                "charon" => o.rekeys.push(Rekey::ByCharon),
                "us" => o.rekeys.push(Rekey::ByUs),
                r => return Err(format!("unknown --rekey {r} (none|charon|us)")),
            },
            "--jobs" => {
                o.jobs = val("--jobs")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--jobs needs a positive number")?
            }
            "--scenario" => {
                let v = val("--scenario")?;
                match Scenario::ALL.into_iter().find(|x| x.name() == v) {
                    Some(x) => o.scenarios.push(x),
                    None => {
                        return Err(format!(
                            "unknown scenario {v} ({})",
                            Scenario::ALL.map(Scenario::name).join("|")
                        ));
                    }
                }
            }
            "--analyse" => {
                let pcap = PathBuf::from(val("--analyse")?);
                let keys = PathBuf::from(val("--analyse")?);
                o.analyse = Some((pcap, keys));
            }
            "-h" | "--help" => {
                println!(
                    "usage: interop [--peer PATH | --standin-charon] [--no-install] \
                     [--scenario matrix|ports|gateway|keylog|ah]... [--suite NAME]... \
                     [--direction we|charon]... [--rekey none|charon|us]... [--jobs N] \
                     [--workdir DIR] [--force-encap]\n       \
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
    if o.rekeys.is_empty() {
        o.rekeys = vec![Rekey::None, Rekey::ByCharon, Rekey::ByUs];
    }
    if o.scenarios.is_empty() {
        o.scenarios = Scenario::ALL.to_vec();
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

/// Which side rekeys during a case (RFC 7296 §1.3.2, §1.3.3); `None` is the short case.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rekey {
    None,
    /// R1: charon rekeys (short `rekey_time`s in its swanctl.conf); our peer has no lifetimes
    ByCharon,
    /// R2: our peer rekeys (`--child-rekey`, `--ike-rekey`); charon's lifetimes are long
    ByUs,
}

impl Rekey {
    fn is_some(self) -> bool {
        self != Rekey::None
    }
    fn label(self) -> &'static str {
        match self {
            Rekey::None => "-",
            Rekey::ByCharon => "charon",
            Rekey::ByUs => "us",
        }
    }
    fn tag(self) -> &'static str {
        match self {
            Rekey::None => "",
            Rekey::ByCharon => "-rekey-by-charon",
            Rekey::ByUs => "-rekey-by-us",
        }
    }
}

#[derive(Clone, Debug)]
enum Cell {
    Pass(String),
    Fail(String),
    Skip(String),
    /// the check does not belong to this kind of case (not counted)
    Absent,
}

const COLUMNS: [&str; 8] = [
    "IKE up",
    "Child up",
    "ping",
    "rekeys",
    "keys equal",
    "tshark IKE",
    "tshark ESP",
    "delete",
];
const C_IKE: usize = 0;
const C_CHILD: usize = 1;
const C_PING: usize = 2;
const C_REKEY: usize = 3;
const C_KEYS: usize = 4;
const C_TS_IKE: usize = 5;
const C_TS_ESP: usize = 6;
const C_DELETE: usize = 7;

struct Row {
    suite: &'static Suite,
    dir: Direction,
    delete_by: DeleteBy,
    rekey: Rekey,
    /// PFS: the Child SA proposals carry the suite's DH group (`Suite::esp_pfs`)
    pfs: bool,
    cells: [Cell; 8],
    notes: Vec<String>,
    workdir: PathBuf,
    /// custom IKE and NAT-T ports on both sides (the `ports` scenario; pings both ways)
    ports: Option<(u16, u16)>,
}

impl Row {
    /// A row whose cells are all "not run" yet (the rekeys cell absent for short cases).
    fn new(
        suite: &'static Suite,
        dir: Direction,
        delete_by: DeleteBy,
        rekey: Rekey,
        workdir: PathBuf,
    ) -> Row {
        let nr = || Cell::Skip("not run".into());
        let mut cells = [nr(), nr(), nr(), nr(), nr(), nr(), nr(), nr()];
        if !rekey.is_some() {
            cells[C_REKEY] = Cell::Absent;
        }
        Row {
            suite,
            dir,
            delete_by,
            rekey,
            pfs: pfs_for(rekey, dir),
            cells,
            notes: Vec::new(),
            workdir,
            ports: None,
        }
    }
    /// The case's folder name under the work directory.
    fn dirname(&self) -> String {
        let ports = match self.ports {
            Some((ike, nat_t)) => format!("-ports-{ike}-{nat_t}"),
            None => String::new(),
        };
        format!(
            "{}-{}{}{ports}",
            self.suite.name,
            self.dir.tag(),
            self.rekey.tag()
        )
    }
    /// The suite column: the suite, and custom ports if any.
    fn label(&self) -> String {
        match self.ports {
            Some((ike, nat_t)) => format!("{} @{ike}/{nat_t}", self.suite.name),
            None => self.suite.name.to_string(),
        }
    }
    /// Our and charon's IKE and NAT-T ports.
    fn port_pair(&self) -> (u16, u16) {
        self.ports.unwrap_or(CharonConfig::STANDARD_PORTS.0)
    }
    /// tshark's `-d` for custom ports: UDP-encapsulated ESP and IKE with a non-ESP marker.
    fn decode_as(&self) -> Vec<String> {
        match self.ports {
            Some((ike, nat_t)) => [ike, nat_t]
                .iter()
                .flat_map(|p| ["-d".to_string(), format!("udp.port=={p},udpencap")])
                .collect(),
            None => Vec::new(),
        }
    }
    /// The ESP proposal both sides use.
    fn esp(&self) -> &'static str {
        if self.pfs {
            self.suite.esp_pfs
        } else {
            self.suite.esp
        }
    }
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

/// PFS in the rekey cases: always when charon rekeys; when we rekey, only if we also
/// initiated the IKE SA, so that our CREATE_CHILD_SA without KE is tested too.
fn pfs_for(rekey: Rekey, dir: Direction) -> bool {
    match rekey {
        Rekey::None => false,
        Rekey::ByCharon => true,
        Rekey::ByUs => dir == Direction::WeInitiate,
    }
}

fn print_matrix(rows: &[Row], standin: bool) -> (usize, usize, usize) {
    let mut out = String::new();
    let w0 = rows
        .iter()
        .map(|r| r.label().len())
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "\n{:<w0$}  {:<12}  {:<10}  {:<6}",
        "suite", "direction", "rekey by", "del by"
    ));
    for c in COLUMNS {
        out.push_str(&format!(" | {c:<10}"));
    }
    out.push('\n');
    out.push_str(&"-".repeat(w0 + 36 + COLUMNS.len() * 13));
    out.push('\n');
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for r in rows {
        let by = match r.delete_by {
            DeleteBy::Us => "us",
            DeleteBy::Charon => "charon",
        };
        let rekey = format!("{}{}", r.rekey.label(), if r.pfs { "+pfs" } else { "" });
        out.push_str(&format!(
            "{:<w0$}  {:<12}  {:<10}  {:<6}",
            r.label(),
            r.dir.label(),
            rekey,
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
                Cell::Absent => "-",
            };
            out.push_str(&format!(" | {t:<10}"));
        }
        out.push('\n');
    }
    out.push_str("\ndetails:\n");
    for r in rows {
        let rekey = match r.rekey {
            Rekey::None => String::new(),
            k => format!(
                ", rekeyed by {}{}",
                k.label(),
                if r.pfs { " with PFS" } else { " without PFS" }
            ),
        };
        out.push_str(&format!(
            "{} {}{rekey} (files in {}):\n",
            r.label(),
            r.dir.label(),
            r.workdir.display()
        ));
        for (i, c) in r.cells.iter().enumerate() {
            let (t, d) = match c {
                Cell::Pass(d) => ("ok  ", d),
                Cell::Fail(d) => ("FAIL", d),
                Cell::Skip(d) => ("n/a ", d),
                Cell::Absent => continue,
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

/// Runs one case (`row` comes in with every cell "not run") and fills in its cells.
fn run_case(
    mut row: Row,
    peer_kind: &PeerKind<'_>,
    force_encap: bool,
    workdir: &Path,
    index: usize,
) -> Row {
    let casedir = workdir.join(row.dirname());
    row.workdir = casedir.clone();
    say!(
        "=== {} / {} / rekey by {} / delete by {:?} ===",
        row.suite.name,
        row.dir.label(),
        row.rekey.label(),
        row.delete_by
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
    let rekeying = row.rekey.is_some();
    let delete_after = if rekeying {
        rekey::DELETE_AFTER
    } else {
        DELETE_AFTER
    };
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
            esp: row.esp(),
            rekey: (row.rekey == Rekey::ByCharon).then_some(rekey::CHARON_TIMES),
            ids: None,
            psk: charon::PSK,
            ports: row.port_pair(),
            // charon sends IKE_SA_INIT to our IKE port
            remote_port: row.port_pair().0,
        },
    )?;
    let both_ways = row.ports.is_some();
    let opts = PeerOptions {
        role: if we_init {
            Role::Initiator
        } else {
            Role::Responder
        },
        suite,
        esp: row.esp(),
        // rekey cases: our peer pings all along, whichever side initiated; custom ports:
        // both sides ping
        ping_count: if rekeying {
            Some(rekey::PINGS)
        } else {
            (we_init || both_ways).then_some(PING_COUNT)
        },
        ping_interval_ms: rekeying.then_some(rekey::PING_INTERVAL_MS),
        ping_delay_ms: if rekeying || both_ways {
            Some(rekey::PING_DELAY_MS)
        } else {
            None
        },
        rekey: (row.rekey == Rekey::ByUs).then_some((rekey::CHILD_REKEY, rekey::IKE_REKEY)),
        delete_after: (row.delete_by == DeleteBy::Us).then_some(delete_after),
        exit_after: if rekeying {
            rekey::EXIT_AFTER
        } else {
            EXIT_AFTER
        },
        force_encap,
        keylog_dir: casedir.join("keylog"),
        ports: row.port_pair(),
        remote_ports: row.port_pair(),
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
                &mut netns::ns_command(
                    &lab.ours,
                    "ss",
                    &["-Hulpn", &format!("sport = :{}", row.port_pair().0)],
                    false,
                ),
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
    // about when our peer's --delete-after and the rekey timers started
    let t_up = Instant::now();
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
    // at least two ESP packets per answered echo, in the capture
    let mut esp_expected = 2 * PING_COUNT as usize;
    if !child_up {
        ping_ok = false;
        ping_detail = "no Child SA on either side, nothing to ping through".to_string();
    } else if rekeying {
        let t = rekey::traffic(&mut peer);
        ping_ok = t.ok;
        ping_detail = t.detail;
        esp_expected = 2 * t.answered;
    } else if both_ways {
        // custom ports: charon pings us, and we ping charon (from the Child SA's start)
        let (seqs, text) = charon::ping(&lab.charon, CHARON_INNER, OUR_INNER, PING_COUNT);
        let _ = std::fs::write(casedir.join("charon-ping.txt"), &text);
        let answered = peer.wait_count(
            "echo_request_answered",
            PING_COUNT as usize,
            Duration::from_secs(5),
        );
        let replies = peer.wait_count("ping_reply", PING_COUNT as usize, Duration::from_secs(10));
        let mut ours: Vec<String> = replies
            .iter()
            .filter(|e| e.str_of("from").as_deref() == Some(CHARON_INNER))
            .filter_map(|e| e.str_of("seq"))
            .collect();
        ours.sort();
        ours.dedup();
        ping_ok = seqs.len() == PING_COUNT as usize
            && answered.len() >= PING_COUNT as usize
            && ours.len() >= PING_COUNT as usize;
        ping_detail = format!(
            "charon's ping -I {CHARON_INNER} {OUR_INNER}: {}/{PING_COUNT} replies, our peer \
             answered {}; our peer's pings to {CHARON_INNER}: {}/{PING_COUNT} replies (seq {})",
            seqs.len(),
            answered.len(),
            ours.len(),
            ours.join(",")
        );
        esp_expected = 4 * PING_COUNT as usize;
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

    // --- rekeys: how many on each side, and the SAs both list at the end
    if rekeying {
        let (ok, detail) = rekey::check_rekeys(&mut peer, &charon, row.rekey, row.pfs, t_up);
        row.set(C_REKEY, ok, detail);
    }

    // --- keys: ours against charon's log, for every IKE SA and ESP SA charon logged
    peer.wait_event("ike_keys", Duration::from_secs(3));
    let logged = charon::parse_log(&charon.log());
    let _ = std::fs::write(
        casedir.join("charon-keys.txt"),
        charon::keys_summary(&logged),
    );
    let (keys_ok, keys_detail) = keys::compare(&logged, &peer.events);
    row.set(C_KEYS, keys_ok, keys_detail);

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
        let closed = peer.wait_event("ike_sa_closed", Duration::from_secs(delete_after + 10));
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
            DeleteBy::Us => format!("our peer (--delete-after {delete_after})"),
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
    let decode_as = row.decode_as();
    match suite.ws_ike {
        None => {
            let why = format!("tshark 4.0 cannot decrypt {}", suite.esp);
            row.cells[C_TS_IKE] = Cell::Skip(why.clone());
            row.cells[C_TS_ESP] = Cell::Skip(why);
            // still count the ESP-in-UDP packets
            if let Ok(v) = wireshark::analyse_with(&pcap, None, &scratch, &decode_as) {
                refine_ping(row, ping_ok, &ping_detail, esp_expected, &v);
            }
        }
        Some(_) => {
            let keylog = casedir.join("keylog");
            let missing: Vec<&str> = ["ikev2_decryption_table", "esp_sa"]
                .into_iter()
                .filter(|f| !keylog.join(f).exists())
                .collect();
            match wireshark::analyse_with(&pcap, Some(&keylog), &scratch, &decode_as) {
                Err(e) => {
                    row.set(C_TS_IKE, false, e.clone());
                    row.set(C_TS_ESP, false, e);
                }
                Ok(v) => {
                    refine_ping(row, ping_ok, &ping_detail, esp_expected, &v);
                    if row.ports.is_some() {
                        row.notes.push(format!(
                            "IKE messages in the capture (exchange, UDP ports): {}; ESP in UDP \
                             under ports {}",
                            v.ike_ports.join(", "),
                            v.esp_frames
                                .iter()
                                .map(|f| f.udp_ports.clone())
                                .collect::<std::collections::BTreeSet<_>>()
                                .into_iter()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    let note_missing = if missing.is_empty() {
                        String::new()
                    } else {
                        format!(" (our key log lacks {})", missing.join(", "))
                    };
                    let want = CaptureExpectations::new(rekeying, esp_expected);
                    let (ike_ok, ike_detail) = want.judge_ike(&v);
                    let (esp_ok, esp_detail) = want.judge_esp(&v);
                    row.set(C_TS_IKE, ike_ok, format!("{ike_detail}{note_missing}"));
                    // ESP that Wireshark has no name for (AES-CCM) is not judged.
                    let esp_ok = if suite.ws_esp.is_none() {
                        row.cells[C_TS_ESP] =
                            Cell::Skip(format!("tshark cannot decrypt ESP with {}", suite.esp));
                        true
                    } else {
                        row.set(C_TS_ESP, esp_ok, format!("{esp_detail}{note_missing}"));
                        esp_ok
                    };
                    if !(ike_ok && esp_ok) {
                        // diagnosis: would charon's own keys have decrypted it?
                        let ck = casedir.join("charon-keylog");
                        let diag =
                            wireshark::write_tables_from_log(&ck, &logged, suite).and_then(|_| {
                                wireshark::analyse_with(
                                    &pcap,
                                    Some(&ck),
                                    &casedir.join("tshark-charon-keys"),
                                    &decode_as,
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
/// capture is UDP-encapsulated and there are at least two per echo (`esp_expected`).
fn refine_ping(
    row: &mut Row,
    ping_ok: bool,
    detail: &str,
    esp_expected: usize,
    v: &wireshark::Verdict,
) {
    let encap_ok = v.esp >= esp_expected && v.esp_udp == v.esp;
    row.set(
        C_PING,
        ping_ok && encap_ok,
        format!(
            "{detail}; capture: {} ESP packets, {} of them in UDP",
            v.esp, v.esp_udp
        ),
    );
}

/// What a case's capture must hold at least, for the two tshark checks.
struct CaptureExpectations {
    sk_msgs: usize,
    sk_why: &'static str,
    /// IKE SAs (SPI pairs) the SK messages belong to
    ike_sas: usize,
    create_child_sa: usize,
    esp: usize,
    /// distinct ESP SPIs, i.e. Child SAs times two
    esp_spis: usize,
}

impl CaptureExpectations {
    fn new(rekeying: bool, esp: usize) -> CaptureExpectations {
        if rekeying {
            let (child, ike) = (rekey::MIN_CHILD_REKEYS, rekey::MIN_IKE_REKEYS);
            CaptureExpectations {
                // IKE_AUTH, each rekey's CREATE_CHILD_SA and its Delete, the final Delete
                sk_msgs: 2 + 4 * (child + ike) + 2,
                sk_why: "IKE_AUTH, CREATE_CHILD_SA and INFORMATIONAL Delete for each rekey, \
                         the final Delete",
                ike_sas: 1 + ike,
                create_child_sa: 2 * (child + ike),
                esp,
                esp_spis: 2 * (1 + child),
            }
        } else {
            CaptureExpectations {
                sk_msgs: 4,
                sk_why: "IKE_AUTH and INFORMATIONAL Delete, both ways",
                ike_sas: 1,
                create_child_sa: 0,
                esp,
                esp_spis: 2,
            }
        }
    }

    /// Every SK message decrypted with a correct ICV, and at least the expected ones seen.
    fn judge_ike(&self, v: &wireshark::Verdict) -> (bool, String) {
        let mut short = Vec::new();
        if v.sk_msgs < self.sk_msgs {
            short.push(format!(
                "expected at least {} SK messages ({})",
                self.sk_msgs, self.sk_why
            ));
        }
        if v.sk_sas.len() < self.ike_sas {
            short.push(format!(
                "expected SK messages of at least {} IKE SAs",
                self.ike_sas
            ));
        }
        if v.create_child_sa < self.create_child_sa {
            short.push(format!(
                "expected at least {} CREATE_CHILD_SA messages",
                self.create_child_sa
            ));
        }
        let ok = short.is_empty() && v.sk_ok == v.sk_msgs;
        (ok, with_problems(v.ike_summary(), ok, short, v, "IKE"))
    }

    /// Every ESP packet decrypted with a correct ICV, and at least the expected ones seen.
    fn judge_esp(&self, v: &wireshark::Verdict) -> (bool, String) {
        let mut short = Vec::new();
        if v.esp < self.esp {
            short.push(format!(
                "expected at least {} ESP packets (echo requests and replies)",
                self.esp
            ));
        }
        if v.esp_spis.len() < self.esp_spis {
            short.push(format!(
                "expected ESP packets under at least {} SPIs",
                self.esp_spis
            ));
        }
        let ok = short.is_empty() && v.esp_ok == v.esp;
        (ok, with_problems(v.esp_summary(), ok, short, v, "ESP"))
    }
}

/// `summary`, and when not `ok` what fell short and the first tshark problems of `kind`.
fn with_problems(
    summary: String,
    ok: bool,
    mut short: Vec<String>,
    v: &wireshark::Verdict,
    kind: &str,
) -> String {
    if ok {
        return summary;
    }
    short.extend(
        v.problems
            .iter()
            .filter(|p| p.contains(kind))
            .take(3)
            .cloned(),
    );
    if short.is_empty() {
        summary
    } else {
        format!("{summary}; {}", short.join("; "))
    }
}

// ---------------------------------------------------------------------------------------------
// Running the cases

/// Every case the options ask for, numbered (the number names its namespaces): first the
/// short cases, then the rekey cases, each suite in both directions. Each direction and each
/// suite sees both delete variants.
fn plan_cases(opts: &Options, workdir: &Path) -> Vec<(usize, Row)> {
    let mut plan = Vec::new();
    for (ri, rekey) in [Rekey::None, Rekey::ByCharon, Rekey::ByUs]
        .into_iter()
        .enumerate()
    {
        if !opts.scenarios.contains(&Scenario::Matrix) {
            break;
        }
        if !opts.rekeys.contains(&rekey) || (rekey.is_some() && opts.standin) {
            continue;
        }
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
                let delete_by = if (si + di + ri) % 2 == 0 {
                    DeleteBy::Us
                } else {
                    DeleteBy::Charon
                };
                let row = Row::new(suite, dir, delete_by, rekey, workdir.to_path_buf());
                plan.push((plan.len() + 1, row));
            }
        }
    }
    // the `ports` scenario: a short case on 20500/24500, charon initiating, pings both ways
    if opts.scenarios.contains(&Scenario::Ports)
        && !opts.standin
        && let Some(suite) = SUITES.first()
    {
        let mut row = Row::new(
            suite,
            Direction::CharonInitiates,
            DeleteBy::Us,
            Rekey::None,
            workdir.to_path_buf(),
        );
        row.ports = Some(CUSTOM_PORTS);
        plan.push((plan.len() + 1, row));
    }
    plan
}

/// What every case shares.
struct RunContext<'a> {
    peer_kind: &'a PeerKind<'a>,
    force_encap: bool,
    workdir: &'a Path,
    start: Instant,
}

impl RunContext<'_> {
    /// Runs case number `index`, unless the time budget is used up.
    fn run(&self, mut row: Row, index: usize) -> Row {
        if self.start.elapsed() > BUDGET {
            for c in row.cells.iter_mut() {
                if !matches!(c, Cell::Absent) {
                    *c = Cell::Fail("not run: time budget used up".into());
                }
            }
            return row;
        }
        util::set_case_label(&format!("#{index} {}", row.dirname()));
        let row = run_case(row, self.peer_kind, self.force_encap, self.workdir, index);
        util::set_case_label("");
        row
    }

    /// Runs the cases on `jobs` threads at once (each has its own namespaces, charon and
    /// peer); returns the rows in the order given.
    fn run_parallel(&self, cases: Vec<(usize, Row)>, jobs: usize) -> Vec<Row> {
        let n = cases.len();
        let queue = std::sync::Mutex::new(cases.into_iter().enumerate().collect::<Vec<_>>());
        let done = std::sync::Mutex::new(Vec::with_capacity(n));
        std::thread::scope(|scope| {
            for _ in 0..jobs.clamp(1, n.max(1)) {
                scope.spawn(|| {
                    loop {
                        let next = match queue.lock() {
                            Ok(mut q) => (!q.is_empty()).then(|| q.remove(0)),
                            Err(_) => None,
                        };
                        let Some((pos, (index, row))) = next else {
                            break;
                        };
                        let row = self.run(row, index);
                        if let Ok(mut d) = done.lock() {
                            d.push((pos, row));
                        }
                    }
                });
            }
        });
        let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
        done.sort_by_key(|(pos, _)| *pos);
        done.into_iter().map(|(_, r)| r).collect()
    }
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
    if opts.standin && opts.rekeys.iter().any(|r| r.is_some()) {
        say!("--standin-charon: only the short cases (the stand-in reports no rekey events)");
    }
    if opts.standin && opts.scenarios.iter().any(|s| *s != Scenario::Matrix) {
        say!("--standin-charon: only the suite matrix (the other scenarios test ipsec-rs itself)");
    }
    let plan = plan_cases(&opts, &workdir);
    let ctx = RunContext {
        peer_kind: &peer_kind,
        force_encap: opts.force_encap,
        workdir: &workdir,
        start,
    };
    let (short, long): (Vec<_>, Vec<_>) = plan.into_iter().partition(|(_, r)| !r.rekey.is_some());
    let mut rows: Vec<Row> = short.into_iter().map(|(i, r)| ctx.run(r, i)).collect();
    if !long.is_empty() {
        say!(
            "{} rekey cases, {} at a time (each about {} s)",
            long.len(),
            opts.jobs,
            rekey::DELETE_AFTER + 10
        );
    }
    rows.extend(ctx.run_parallel(long, opts.jobs));
    let mut tables = Vec::new();
    let wants = |s: Scenario| opts.scenarios.contains(&s) && !opts.standin;
    if wants(Scenario::Gateway) {
        tables.push(match &peer_bin {
            Some(bin) if start.elapsed() <= BUDGET => gateway::run(bin, &workdir, "gw"),
            Some(_) => report::Table::failed(
                gateway::TITLE,
                &["gateway"],
                "gateway",
                "not run: time budget used up",
            ),
            None => report::Table::failed(gateway::TITLE, &["gateway"], "gateway", "no peer"),
        });
    }
    if wants(Scenario::Keylog) {
        tables.push(keylog::run(&workdir));
    }
    if wants(Scenario::Ah) {
        tables.push(ah::run(&workdir));
    }
    let (mut pass, mut fail, mut skip) = if rows.is_empty() {
        (0, 0, 0)
    } else {
        print_matrix(&rows, opts.standin)
    };
    for t in &tables {
        let (p, f, s) = t.print();
        pass += p;
        fail += f;
        skip += s;
    }
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
