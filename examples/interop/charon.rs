//! A strongSwan charon in a network namespace: configuration, start/stop, swanctl, and the keys
//! it logs.
//!
//! Key lines in charon 5.9.8's filelog (`ike 4`, `chd 4`, `mgr 2`, `enc 2`, `net 2`,
//! `ike_name = yes`), after the thread and group (`08[IKE] `) and the IKE SA tag (`<lab|1> `,
//! `<1> ` before a responder has found its config):
//!
//! ```text
//! 08[IKE] <lab|1> shared Diffie Hellman secret => 32 bytes @ 0x7fe7b0002e90
//! 08[IKE] <lab|1>    0: C7 D8 C3 33 7F AB 61 19 05 91 CA 76 46 79 AD C8  ...3..a....vFy..
//! 08[IKE] <lab|1>   16: 42 AE E4 00 0D 7E 34 9C 9B DB 39 5B AE B3 E7 2F  B....~4...9[.../
//! 08[IKE] <lab|1> SKEYSEED => 32 bytes @ ...
//! 08[IKE] <lab|1> Sk_d secret => 32 bytes @ ...        (also Sk_ai, Sk_ar, Sk_ei, Sk_er, Sk_pi, Sk_pr)
//! 08[MGR] <lab|1> checkin IKEv2 SA lab[1] with SPIs f85e41f0eb6d4b3b_i d5a5519a5f9ff2ad_r
//! 08[IKE] <lab|1> initiating IKE_SA lab[1] to 10.99.0.2          (this charon is the initiator)
//! 03[CHD] <lab|1> encryption initiator key => 36 bytes @ ...     (also "encryption responder key",
//! 03[CHD] <lab|1> integrity initiator key => 32 bytes @ ...       "integrity responder key")
//! 03[CHD] <lab|1> adding inbound ESP SA
//! 03[CHD] <lab|1>   SPI 0x464dc546, src 10.99.0.2 dst 10.99.0.1
//! 03[CHD] <lab|1> adding outbound ESP SA
//! 03[CHD] <lab|1>   SPI 0x2a30e3ed, src 10.99.0.1 dst 10.99.0.2
//! ```
//! "initiator key" protects initiator-to-responder traffic; AEAD keys carry their salt at the end.
//!
//! Rekeys: charon logs keys again for every rekeyed IKE SA and Child SA. A Child SA's
//! "initiator" is that of the CREATE_CHILD_SA exchange that made it, told by whether the
//! thread last logged `parsed ... request` or `parsed ... response`. A rekeyed IKE SA's keys
//! may come under the old IKE SA's tag (charon initiated the rekey) or the new one's (it
//! answered); the thread then checks in the new SA by name (`checkin IKEv2 SA lab[2] with
//! SPIs ...`), which is what `parse_log` goes by.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::netns::ns_command;
use crate::suites::Suite;
use crate::util::{self, Proc, run, run_ok, say};

pub(crate) const CONN: &str = "lab";
pub(crate) const CHILD: &str = "net";
pub(crate) const PSK: &str = "interop-lab-psk-0123456789";
pub(crate) const ID_INITIATOR: &str = "initiator@lab.test";
pub(crate) const ID_RESPONDER: &str = "responder@lab.test";

const PLUGINS: &str = "random nonce openssl pem pkcs1 x509 revocation constraints pubkey curve25519 \
                       aes sha1 sha2 hmac gcm ccm ctr xcbc chapoly kdf kernel-libipsec \
                       kernel-netlink socket-default vici updown";

/// How one charon is set up.
pub(crate) struct CharonConfig<'a> {
    pub(crate) local_addr: &'a str,
    pub(crate) remote_addr: &'a str,
    pub(crate) local_ts: &'a str,
    pub(crate) remote_ts: &'a str,
    /// The IKE initiator of the test (`swanctl --initiate` is run on it); decides the IDs.
    pub(crate) initiator: bool,
    pub(crate) suite: &'a Suite,
    /// `esp_proposals` (the suite's `esp`, or `esp_pfs` for PFS in rekeys)
    pub(crate) esp: &'a str,
    /// Short rekey times (charon rekeys); None: strongSwan's defaults (4 h IKE, 1 h Child).
    pub(crate) rekey: Option<RekeyTimes>,
    /// Its own and the remote identity; None: [`ID_INITIATOR`] / [`ID_RESPONDER`] as
    /// `initiator` says.
    pub(crate) ids: Option<(&'a str, &'a str)>,
    /// The pre-shared key, owned by the two identities.
    pub(crate) psk: &'a str,
    /// strongswan.conf's `charon.port` and `charon.port_nat_t` (500 and 4500 by default).
    pub(crate) ports: (u16, u16),
    /// The connection's `remote_port` (where it sends IKE_SA_INIT).
    pub(crate) remote_port: u16,
}

impl CharonConfig<'_> {
    /// The standard ports: charon on 500/4500, the remote side's IKE port 500.
    pub(crate) const STANDARD_PORTS: ((u16, u16), u16) = ((500, 4500), 500);
}

/// Rekey times for a charon that is to rekey during the test, in seconds. `rand_time` is 0
/// for both, so charon rekeys exactly on time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RekeyTimes {
    /// children.<child>.rekey_time
    pub(crate) child_rekey: u64,
    /// children.<child>.life_time (hard)
    pub(crate) child_life: u64,
    /// connections.<conn>.rekey_time
    pub(crate) ike_rekey: u64,
    /// connections.<conn>.over_time (hard lifetime = rekey_time + over_time)
    pub(crate) ike_over: u64,
}

impl RekeyTimes {
    /// The swanctl.conf lines for the connection and for the child.
    fn swanctl_lines(rekey: Option<&RekeyTimes>) -> (String, String) {
        match rekey {
            None => (String::new(), String::new()),
            Some(r) => (
                format!(
                    "    rekey_time = {}s\n    over_time = {}s\n    rand_time = 0s\n",
                    r.ike_rekey, r.ike_over
                ),
                format!(
                    "        rekey_time = {}s\n        life_time = {}s\n        rand_time = 0s\n",
                    r.child_rekey, r.child_life
                ),
            ),
        }
    }
}

pub(crate) struct Charon {
    pub(crate) label: String,
    pub(crate) dir: PathBuf,
    proc: Option<Proc>,
}

impl Charon {
    pub(crate) fn vici_uri(&self) -> String {
        format!("unix://{}", self.dir.join("charon.vici").display())
    }
    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.join("charon.log")
    }

    /// Writes strongswan.conf and swanctl.conf into `dir`, starts charon in `ns` with a
    /// private /run, waits for its vici socket and loads the connection.
    pub(crate) fn start(
        label: &str,
        ns: &str,
        dir: &Path,
        cfg: &CharonConfig<'_>,
    ) -> Result<Charon, String> {
        let rundir = dir.join("run");
        fs::create_dir_all(&rundir).map_err(|e| format!("{}: {e}", rundir.display()))?;
        let vici = dir.join("charon.vici");
        let log = dir.join("charon.log");
        let _ = fs::remove_file(&vici);
        let conf = format!(
            r#"# written by the ipsec-rs interop harness
charon {{
  load_modular = no
  load = {PLUGINS}
  port = {port}
  port_nat_t = {port_nat_t}
  retransmit_tries = 3
  retransmit_timeout = 2.0
  install_routes = yes
  plugins {{
    vici {{
      socket = unix://{vici}
    }}
  }}
  filelog {{
    interop {{
      path = {log}
      append = no
      flush_line = yes
      default = 1
      ike = 4
      chd = 4
      mgr = 2
      enc = 2
      net = 2
      ike_name = yes
    }}
  }}
  syslog {{
    daemon {{
      default = -1
    }}
  }}
}}
"#,
            vici = vici.display(),
            log = log.display(),
            port = cfg.ports.0,
            port_nat_t = cfg.ports.1,
        );
        fs::write(dir.join("strongswan.conf"), conf).map_err(|e| e.to_string())?;
        let (local_id, remote_id) = match cfg.ids {
            Some(ids) => ids,
            None if cfg.initiator => (ID_INITIATOR, ID_RESPONDER),
            None => (ID_RESPONDER, ID_INITIATOR),
        };
        let (ike_times, child_times) = RekeyTimes::swanctl_lines(cfg.rekey.as_ref());
        let swanctl = format!(
            r#"connections {{
  {CONN} {{
    version = 2
    local_addrs = {la}
    remote_addrs = {ra}
    remote_port = {remote_port}
    proposals = {ike}
    mobike = no
{ike_times}    local {{
      auth = psk
      id = {local_id}
    }}
    remote {{
      auth = psk
      id = {remote_id}
    }}
    children {{
      {CHILD} {{
        local_ts = {lts}
        remote_ts = {rts}
        esp_proposals = {esp}
        mode = tunnel
        start_action = none
{child_times}      }}
    }}
  }}
}}
secrets {{
  ike-lab {{
    id-1 = {local_id}
    id-2 = {remote_id}
    secret = "{psk}"
  }}
}}
"#,
            la = cfg.local_addr,
            ra = cfg.remote_addr,
            ike = cfg.suite.ike,
            esp = cfg.esp,
            lts = cfg.local_ts,
            rts = cfg.remote_ts,
            remote_port = cfg.remote_port,
            psk = cfg.psk,
        );
        fs::write(dir.join("swanctl.conf"), swanctl).map_err(|e| e.to_string())?;

        let (o, e) = util::log_files(&dir.join("charon.stdout"), &dir.join("charon.stderr"))?;
        let script = format!(
            "mount --bind '{}' /run && exec /usr/lib/ipsec/charon",
            rundir.display()
        );
        let mut cmd = ns_command(ns, "sh", &["-c", &script], true);
        cmd.env("STRONGSWAN_CONF", dir.join("strongswan.conf"))
            .stdin(std::process::Stdio::null())
            .stdout(o)
            .stderr(e);
        let proc = Proc::spawn(&format!("charon ({label})"), &mut cmd)?;
        let pid = proc.pid();
        let mut charon = Charon {
            label: label.to_string(),
            dir: dir.to_path_buf(),
            proc: Some(proc),
        };

        let up = util::poll(Duration::from_secs(10), Duration::from_millis(50), || {
            if let Some(p) = charon.proc.as_mut()
                && p.try_status().is_some()
            {
                return Some(false);
            }
            vici.exists().then_some(true)
        });
        if up != Some(true) {
            return Err(format!(
                "charon ({label}) did not open its vici socket; stderr: {}",
                fs::read_to_string(dir.join("charon.stderr"))
                    .unwrap_or_default()
                    .trim()
            ));
        }
        charon.swanctl(
            &[
                "--load-all",
                "--file",
                &dir.join("swanctl.conf").display().to_string(),
            ],
            15,
        )?;
        let ports = if (cfg.ports, cfg.remote_port) == CharonConfig::STANDARD_PORTS {
            String::new()
        } else {
            format!(
                " (ports {}/{}, remote port {})",
                cfg.ports.0, cfg.ports.1, cfg.remote_port
            )
        };
        say!(
            "charon ({label}) pid {pid} in {ns}: {} <-> {}{ports}, {} / {}{}",
            cfg.local_addr,
            cfg.remote_addr,
            cfg.suite.ike,
            cfg.esp,
            cfg.rekey
                .map(|r| format!(
                    ", rekeys Child SA every {} s, IKE SA every {} s",
                    r.child_rekey, r.ike_rekey
                ))
                .unwrap_or_default()
        );
        Ok(charon)
    }

    /// Runs `swanctl ARGS --uri ...`; the timeout in seconds bounds it (and is passed to
    /// commands that wait, as `--timeout`).
    pub(crate) fn swanctl(&self, args: &[&str], timeout_s: u64) -> Result<String, String> {
        let mut cmd = Command::new("swanctl");
        cmd.args(args).args(["--uri", &self.vici_uri()]);
        let out = run_ok(&mut cmd, Duration::from_secs(timeout_s + 5))?;
        let _ = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("swanctl.out"))
            .and_then(|mut f| {
                use std::io::Write;
                writeln!(f, "$ swanctl {}\n{out}", args.join(" "))
            });
        Ok(out)
    }

    pub(crate) fn initiate(&self) -> Result<String, String> {
        self.swanctl(&["--initiate", "--child", CHILD, "--timeout", "15"], 15)
    }

    pub(crate) fn terminate_ike(&self) -> Result<String, String> {
        self.swanctl(&["--terminate", "--ike", CONN, "--timeout", "10"], 10)
    }

    pub(crate) fn list_sas(&self) -> Result<Vec<IkeSaState>, String> {
        self.swanctl(&["--list-sas"], 10)
            .map(|t| parse_list_sas(&t))
    }

    pub(crate) fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let (st, killed) = p.stop(Duration::from_secs(5));
            say!(
                "charon ({}) stopped: {:?}{}",
                self.label,
                st,
                if killed { " (killed)" } else { "" }
            );
        }
    }
}

impl Drop for Charon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs ping inside a namespace: `ping -c COUNT -i 0.2 -W 2 -I SRC DST`; returns the icmp_seq
/// numbers that were answered.
pub(crate) fn ping(ns: &str, src: &str, dst: &str, count: u32) -> (Vec<u32>, String) {
    let c = count.to_string();
    let mut cmd = ns_command(
        ns,
        "ping",
        &["-n", "-c", &c, "-i", "0.2", "-W", "2", "-I", src, dst],
        false,
    );
    match run(&mut cmd, Duration::from_secs(5 + u64::from(count) * 3)) {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let seqs = text
                .lines()
                .filter(|l| l.contains(" bytes from "))
                .filter_map(|l| {
                    l.split("icmp_seq=")
                        .nth(1)?
                        .split_whitespace()
                        .next()?
                        .parse()
                        .ok()
                })
                .collect();
            (seqs, text)
        }
        Err(e) => (Vec::new(), e),
    }
}

// ---------------------------------------------------------------------------------------------
// swanctl --list-sas

#[derive(Clone, Debug, Default)]
pub(crate) struct IkeSaState {
    pub(crate) name: String,
    pub(crate) state: String,
    pub(crate) spi_i: String,
    pub(crate) spi_r: String,
    pub(crate) local_id: String,
    pub(crate) remote_id: String,
    pub(crate) children: Vec<ChildSaState>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ChildSaState {
    pub(crate) name: String,
    pub(crate) state: String,
    /// e.g. TUNNEL-in-UDP
    pub(crate) mode: String,
    pub(crate) spi_in: String,
    pub(crate) spi_out: String,
    pub(crate) packets_in: u64,
    pub(crate) packets_out: u64,
}

/// Parses swanctl's human-readable --list-sas output:
/// ```text
/// lab: #1, ESTABLISHED, IKEv2, f85e41f0eb6d4b3b_i d5a5519a5f9ff2ad_r*
///   local  'responder@lab.test' @ 10.99.0.2[4500]
///   remote 'initiator@lab.test' @ 10.99.0.1[4500]
///   net: #1, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256
///     in  2a30e3ed,      0 bytes,     0 packets
///     out 464dc546,      0 bytes,     0 packets
/// ```
pub(crate) fn parse_list_sas(text: &str) -> Vec<IkeSaState> {
    let mut sas: Vec<IkeSaState> = Vec::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        let fields: Vec<&str> = t.split(", ").collect();
        if indent == 0 && t.contains(": #") && t.contains("IKEv") {
            let name = t.split(':').next().unwrap_or("").to_string();
            let state = fields.get(1).copied().unwrap_or("").to_string();
            let spis: Vec<&str> = fields
                .get(3)
                .copied()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let strip =
                |s: &str, suf: &str| s.trim_end_matches('*').trim_end_matches(suf).to_string();
            sas.push(IkeSaState {
                name,
                state,
                spi_i: spis.first().map(|s| strip(s, "_i")).unwrap_or_default(),
                spi_r: spis.get(1).map(|s| strip(s, "_r")).unwrap_or_default(),
                ..Default::default()
            });
            continue;
        }
        let Some(sa) = sas.last_mut() else { continue };
        if indent == 2 && (t.starts_with("local ") || t.starts_with("remote ")) {
            let id = t.split('\'').nth(1).unwrap_or("").to_string();
            if t.starts_with("local ") {
                sa.local_id = id;
            } else {
                sa.remote_id = id;
            }
        } else if indent == 2 && t.contains(": #") && t.contains("reqid") {
            sa.children.push(ChildSaState {
                name: t.split(':').next().unwrap_or("").to_string(),
                state: fields.get(2).copied().unwrap_or("").to_string(),
                mode: fields.get(3).copied().unwrap_or("").to_string(),
                ..Default::default()
            });
        } else if indent == 4 && (t.starts_with("in ") || t.starts_with("out ")) {
            let Some(ch) = sa.children.last_mut() else {
                continue;
            };
            let spi = t
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .trim_end_matches(',')
                .to_string();
            let packets = fields
                .iter()
                .find(|f| f.trim().ends_with("packets"))
                .and_then(|f| f.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if t.starts_with("in ") {
                ch.spi_in = spi;
                ch.packets_in = packets;
            } else {
                ch.spi_out = spi;
                ch.packets_out = packets;
            }
        }
    }
    sas
}

// ---------------------------------------------------------------------------------------------
// Keys from charon's log

#[derive(Clone, Debug, Default)]
pub(crate) struct LoggedIkeSa {
    pub(crate) unique_id: String,
    pub(crate) spi_i: String,
    pub(crate) spi_r: String,
    pub(crate) initiator: bool,
    /// g_ir, skeyseed, sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr (lower-case hex)
    pub(crate) keys: BTreeMap<String, String>,
    pub(crate) esp: Vec<LoggedEspSa>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct LoggedEspSa {
    pub(crate) spi: String,
    pub(crate) inbound: bool,
    pub(crate) src: String,
    pub(crate) dst: String,
    pub(crate) encr: String,
    pub(crate) integ: String,
}

impl LoggedEspSa {
    /// Encryption key (with salt) followed by the integrity key: what ipsec-peer prints as
    /// `inbound_keymat` / `outbound_keymat`.
    pub(crate) fn keymat(&self) -> String {
        format!("{}{}", self.encr, self.integ)
    }
}

struct LogLine<'a> {
    thread: &'a str,
    group: &'a str,
    /// IKE SA unique id from `<name|N>` or `<N>`
    sa: Option<&'a str>,
    msg: &'a str,
}

fn split_log_line(line: &str) -> Option<LogLine<'_>> {
    // optional time prefix, then "TT[GRP] "
    let bracket = line.find('[')?;
    let close = bracket + line[bracket..].find(']')?;
    let thread = line[..bracket].rsplit(' ').next()?.trim();
    if thread.is_empty() || !thread.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let group = &line[bracket + 1..close];
    let mut msg = line.get(close + 2..).unwrap_or("");
    let mut sa = None;
    if msg.starts_with('<')
        && let Some(end) = msg.find("> ")
    {
        let tag = &msg[1..end];
        sa = Some(tag.rsplit('|').next().unwrap_or(tag));
        msg = &msg[end + 2..];
    }
    Some(LogLine {
        thread,
        group,
        sa,
        msg,
    })
}

/// Parses every IKE SA (with its keys and ESP SAs) out of a charon filelog.
///
/// Lines carry the tag of the IKE SA a thread has checked out, which during an IKE SA rekey
/// is the old one: the new IKE SA's keys are logged under the old tag. So IKE SA keys are
/// kept per thread until that thread checks in an IKE SA (`checkin IKEv2 SA lab[2] with
/// SPIs ...`, the new one first), and SPIs and `initiating IKE_SA lab[2]` go to the SA the
/// message names. Child SA keys and ESP SAs belong to the tagged IKE SA.
pub(crate) fn parse_log(text: &str) -> Vec<LoggedIkeSa> {
    let lines: Vec<&str> = text.lines().collect();
    let mut p = LogParser::default();
    for (i, line) in lines.iter().enumerate() {
        let Some(l) = split_log_line(line) else {
            continue;
        };
        let Some(uid) = l.sa else {
            continue;
        };
        if is_hexdump_row(l.msg) {
            continue;
        }
        if let Some((label, rest)) = l.msg.split_once(" => ") {
            // hexdump header "LABEL => N bytes @ 0x..."; its rows follow (other threads'
            // lines may come in between, the loop still sees those)
            let n: usize = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if let Some(bytes) = read_hexdump(&lines[i + 1..], l.thread, l.group, n) {
                p.key(&l, uid, label, &bytes);
            }
            continue;
        }
        match l.group {
            "IKE" if l.msg.starts_with("initiating IKE_SA ") => {
                if let Some(n) = named_sa(l.msg, " to ") {
                    p.sa(n).initiator = true;
                }
            }
            "ENC" if l.msg.starts_with("parsed ") => p.parsed(&l),
            "MGR" if l.msg.contains(" with SPIs ") => p.checkin(&l),
            "CHD" if l.msg == "adding inbound ESP SA" || l.msg == "adding outbound ESP SA" => {
                // next line of the same thread: "  SPI 0x464dc546, src 10.99.0.2 dst 10.99.0.1"
                let next = lines[i + 1..]
                    .iter()
                    .take(50)
                    .filter_map(|x| split_log_line(x))
                    .find(|x| x.thread == l.thread);
                if let Some(n) = next {
                    p.esp_sa(uid, l.msg.contains("inbound"), n.msg);
                }
            }
            _ => {}
        }
    }
    p.sas
        .into_values()
        .filter(|s| !s.spi_i.is_empty())
        .collect()
}

/// The unique id N of the IKE SA a message names as `name[N]` before `before`
/// ("checkin IKEv2 SA lab[2] with SPIs ...", "initiating IKE_SA lab[2] to ...").
fn named_sa<'a>(msg: &'a str, before: &str) -> Option<&'a str> {
    let head = msg.split(before).next()?;
    let open = head.rfind('[')?;
    let close = open + head[open..].find(']')?;
    let n = &head[open + 1..close];
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

/// State while reading a charon log (see `parse_log`).
#[derive(Default)]
struct LogParser {
    sas: BTreeMap<String, LoggedIkeSa>,
    /// IKE SA keys per thread, until that thread checks in the IKE SA they belong to
    ike_keys: BTreeMap<String, BTreeMap<String, String>>,
    /// Child SA keys per IKE SA, until its "adding ... ESP SA" lines
    child_keys: BTreeMap<String, PendingChild>,
    /// per thread: whether the last message it parsed was a response (charon initiated that
    /// exchange) or a request; keys are derived right after, in the same thread
    parsed_response: BTreeMap<String, bool>,
}

impl LogParser {
    fn sa(&mut self, uid: &str) -> &mut LoggedIkeSa {
        self.sas
            .entry(uid.to_string())
            .or_insert_with(|| LoggedIkeSa {
                unique_id: uid.to_string(),
                ..Default::default()
            })
    }

    /// A key's hexdump, logged under IKE SA `uid`.
    fn key(&mut self, l: &LogLine<'_>, uid: &str, label: &str, bytes: &[u8]) {
        let key = match (l.group, label) {
            ("IKE", "shared Diffie Hellman secret") => "g_ir",
            ("IKE", "SKEYSEED") => "skeyseed",
            ("IKE", "Sk_d secret") => "sk_d",
            ("IKE", "Sk_ai secret") => "sk_ai",
            ("IKE", "Sk_ar secret") => "sk_ar",
            ("IKE", "Sk_ei secret") => "sk_ei",
            ("IKE", "Sk_er secret") => "sk_er",
            ("IKE", "Sk_pi secret") => "sk_pi",
            ("IKE", "Sk_pr secret") => "sk_pr",
            ("CHD", "encryption initiator key") => "encr_i",
            ("CHD", "encryption responder key") => "encr_r",
            ("CHD", "integrity initiator key") => "integ_i",
            ("CHD", "integrity responder key") => "integ_r",
            _ => return,
        };
        if l.group == "CHD" {
            let initiator = self.parsed_response.get(l.thread).copied();
            let p = self.child_keys.entry(uid.to_string()).or_default();
            p.keys.insert(key.to_string(), util::hex(bytes));
            p.initiator = initiator;
        } else {
            self.ike_keys
                .entry(l.thread.to_string())
                .or_default()
                .insert(key.to_string(), util::hex(bytes));
        }
    }

    /// "parsed CREATE_CHILD_SA response 2 [ SA No KE TSi TSr ]"
    fn parsed(&mut self, l: &LogLine<'_>) {
        let kind = l.msg.split_whitespace().nth(2);
        if let Some(response) = match kind {
            Some("response") => Some(true),
            Some("request") => Some(false),
            _ => None,
        } {
            self.parsed_response.insert(l.thread.to_string(), response);
        }
    }

    /// "checkin IKEv2 SA lab[2] with SPIs d386800b9a866454_i f157315def3d451e_r": the SPIs of
    /// the SA it names, and the IKE keys this thread logged last (SKEYSEED and the rest; a
    /// Child SA's PFS exchange alone leaves only a DH secret, which is dropped).
    fn checkin(&mut self, l: &LogLine<'_>) {
        let Some(n) = named_sa(l.msg, " with SPIs ") else {
            return;
        };
        let spis: Vec<&str> = l
            .msg
            .rsplit(" with SPIs ")
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let keys = self.ike_keys.remove(l.thread);
        let initiator = self.parsed_response.get(l.thread).copied();
        let sa = self.sa(n);
        if let (Some(a), Some(b)) = (spis.first(), spis.get(1)) {
            let (a, b) = (a.trim_end_matches("_i"), b.trim_end_matches("_r"));
            if b.bytes().any(|c| c != b'0') {
                sa.spi_i = a.to_string();
                sa.spi_r = b.to_string();
            }
        }
        if let Some(keys) = keys.filter(|k| k.contains_key("skeyseed")) {
            if sa.keys.is_empty()
                && let Some(i) = initiator
            {
                // the exchange that made it: IKE_SA_INIT, or CREATE_CHILD_SA for a rekey
                sa.initiator = i;
            }
            sa.keys = keys;
        }
    }

    /// An "adding inbound/outbound ESP SA" of IKE SA `uid`, with its next line `spi_line`
    /// ("  SPI 0x464dc546, src 10.99.0.2 dst 10.99.0.1").
    fn esp_sa(&mut self, uid: &str, inbound: bool, spi_line: &str) {
        let Some(rest) = spi_line.trim().strip_prefix("SPI ") else {
            return;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        let spi = util::norm_hex(words.first().unwrap_or(&"").trim_end_matches(','));
        let after = |w: &str| {
            words
                .iter()
                .position(|x| *x == w)
                .and_then(|p| words.get(p + 1))
                .unwrap_or(&"")
                .to_string()
        };
        let p = self.child_keys.get(uid).cloned().unwrap_or_default();
        let sa = self.sa(uid);
        // initiator keys protect initiator->responder traffic; the initiator is that of the
        // exchange that created the Child SA (IKE_AUTH or CREATE_CHILD_SA), not necessarily
        // the IKE SA's
        let initiator = p.initiator.unwrap_or(sa.initiator);
        let (ek, ik) = if inbound != initiator {
            ("encr_i", "integ_i")
        } else {
            ("encr_r", "integ_r")
        };
        sa.esp.push(LoggedEspSa {
            spi,
            inbound,
            src: after("src"),
            dst: after("dst"),
            encr: p.keys.get(ek).cloned().unwrap_or_default(),
            integ: p.keys.get(ik).cloned().unwrap_or_default(),
        });
    }
}

/// A Child SA's keys as logged, before its "adding inbound/outbound ESP SA" lines.
#[derive(Clone, Debug, Default)]
struct PendingChild {
    keys: BTreeMap<String, String>,
    /// charon initiated the exchange that derived them (None: no "parsed" line seen)
    initiator: Option<bool>,
}

fn is_hexdump_row(msg: &str) -> bool {
    let t = msg.trim_start();
    t.len() < msg.len()
        && t.split_once(": ")
            .is_some_and(|(off, _)| !off.is_empty() && off.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads the `OFF: XX XX ...` rows after a hexdump header (same thread and group); the bytes
/// if all `n` were found.
fn read_hexdump(lines: &[&str], thread: &str, group: &str, n: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    for line in lines.iter().take(4 * n / 16 + 200) {
        if out.len() >= n {
            break;
        }
        let Some(l) = split_log_line(line) else {
            continue;
        };
        if l.thread != thread || l.group != group {
            continue; // another thread's line in between
        }
        if !is_hexdump_row(l.msg) {
            break;
        }
        let rest = l
            .msg
            .trim_start()
            .split_once(": ")
            .map(|(_, r)| r)
            .unwrap_or("");
        let want = (n - out.len()).min(16);
        for tok in rest.split_whitespace().take(want) {
            match u8::from_str_radix(tok, 16) {
                Ok(b) if tok.len() == 2 => out.push(b),
                _ => return None,
            }
        }
    }
    (out.len() == n).then_some(out)
}

/// Summarises logged keys like shared/data/charon-captures/*/keys.txt.
pub(crate) fn keys_summary(sas: &[LoggedIkeSa]) -> String {
    let mut s = String::new();
    for sa in sas {
        s.push_str(&format!(
            "IKE_SA {}_i {}_r  (#{}, {})\n",
            sa.spi_i,
            sa.spi_r,
            sa.unique_id,
            if sa.initiator {
                "initiator"
            } else {
                "responder"
            }
        ));
        for k in [
            "g_ir", "skeyseed", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr",
        ] {
            if let Some(v) = sa.keys.get(k) {
                s.push_str(&format!("  {k:<9} {v}\n"));
            }
        }
        for e in &sa.esp {
            s.push_str(&format!(
                "ESP SA 0x{} {} -> {} ({})\n  encr  {}\n",
                e.spi,
                e.src,
                e.dst,
                if e.inbound { "inbound" } else { "outbound" },
                e.encr
            ));
            if !e.integ.is_empty() {
                s.push_str(&format!("  integ {}\n", e.integ));
            }
        }
    }
    s
}
