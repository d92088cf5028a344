//! Two network namespaces joined by a veth pair: ours (10.99.0.1) and charon's (10.99.0.2,
//! with 10.99.2.1/32 on its loopback as the inner address).

use std::process::Command;
use std::time::Duration;

use crate::util::{self, run_ok, say};

pub(crate) const OUR_ADDR: &str = "10.99.0.1";
pub(crate) const CHARON_ADDR: &str = "10.99.0.2";
pub(crate) const OUR_INNER: &str = "10.99.1.1";
pub(crate) const CHARON_INNER: &str = "10.99.2.1";
/// Interface names inside the namespaces (created there directly, so they never clash).
pub(crate) const OUR_IF: &str = "veth-ours";
pub(crate) const CHARON_IF: &str = "veth-charon";

/// Prefix of every namespace this harness creates: `ipsecrs-<pid>-<case>-{o,c}`.
pub(crate) const NS_PREFIX: &str = "ipsecrs-";

pub(crate) struct Lab {
    pub(crate) ours: String,
    pub(crate) charon: String,
}

const T: Duration = Duration::from_secs(10);

fn ip(args: &[&str]) -> Result<(), String> {
    run_ok(Command::new("ip").args(args), T).map(|_| ())
}

impl Lab {
    /// `with_our_inner`: also put 10.99.1.1/32 on our loopback (only the charon that stands
    /// in for our peer needs it; ipsec-peer builds its inner packets itself).
    pub(crate) fn create(tag: &str, with_our_inner: bool) -> Result<Lab, String> {
        let pid = std::process::id();
        let lab = Lab {
            ours: format!("{NS_PREFIX}{pid}-{tag}-o"),
            charon: format!("{NS_PREFIX}{pid}-{tag}-c"),
        };
        for ns in [&lab.ours, &lab.charon] {
            util::register_netns(ns);
            ip(&["netns", "add", ns])?;
        }
        let (o, c) = (lab.ours.as_str(), lab.charon.as_str());
        ip(&[
            "-n", o, "link", "add", OUR_IF, "type", "veth", "peer", "name", CHARON_IF, "netns", c,
        ])?;
        ip(&["-n", o, "link", "set", "lo", "up"])?;
        ip(&["-n", c, "link", "set", "lo", "up"])?;
        ip(&[
            "-n",
            o,
            "addr",
            "add",
            &format!("{OUR_ADDR}/24"),
            "dev",
            OUR_IF,
        ])?;
        ip(&[
            "-n",
            c,
            "addr",
            "add",
            &format!("{CHARON_ADDR}/24"),
            "dev",
            CHARON_IF,
        ])?;
        ip(&[
            "-n",
            c,
            "addr",
            "add",
            &format!("{CHARON_INNER}/32"),
            "dev",
            "lo",
        ])?;
        if with_our_inner {
            ip(&[
                "-n",
                o,
                "addr",
                "add",
                &format!("{OUR_INNER}/32"),
                "dev",
                "lo",
            ])?;
        }
        ip(&["-n", o, "link", "set", OUR_IF, "up"])?;
        ip(&["-n", c, "link", "set", CHARON_IF, "up"])?;
        // veth carrier comes up asynchronously; wait until our side can reach charon's.
        let reach = util::poll(Duration::from_secs(5), Duration::from_millis(100), || {
            let out = util::run(
                Command::new("ip").args([
                    "netns",
                    "exec",
                    o,
                    "ping",
                    "-c",
                    "1",
                    "-W",
                    "1",
                    CHARON_ADDR,
                ]),
                Duration::from_secs(3),
            )
            .ok()?;
            out.status.success().then_some(())
        });
        if reach.is_none() {
            return Err(format!(
                "{OUR_ADDR} cannot reach {CHARON_ADDR} over the veth pair"
            ));
        }
        say!("namespaces {o} ({OUR_ADDR}) and {c} ({CHARON_ADDR}, inner {CHARON_INNER}) ready");
        Ok(lab)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        util::delete_netns(&self.ours);
        util::delete_netns(&self.charon);
    }
}

/// A command run inside a namespace: `ip netns exec NS PROGRAM ARGS...`, wrapped in
/// `setpriv --pdeathsig KILL` for long-running ones so they die with the harness even if it
/// is killed outright.
pub(crate) fn ns_command(ns: &str, program: &str, args: &[&str], die_with_us: bool) -> Command {
    let mut cmd;
    if die_with_us && std::path::Path::new("/usr/bin/setpriv").exists() {
        cmd = Command::new("/usr/bin/setpriv");
        cmd.args(["--pdeathsig", "KILL", "ip", "netns", "exec", ns, program]);
    } else {
        cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, program]);
    }
    cmd.args(args);
    cmd
}

/// Removes namespaces left by an earlier run of this harness that was killed outright
/// (named `ipsecrs-<pid>-...` where that pid no longer runs).
pub(crate) fn sweep_stale() {
    let Ok(out) = util::run(Command::new("ip").args(["netns", "list"]), T) else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(NS_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !util::pid_alive(pid) {
            say!("removing stale namespace {name} from an earlier run");
            util::delete_netns(name);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The gateway scenario: our namespace and one per client, each joined to ours by its own veth
// pair on its own subnet.

/// Our inner address on the gateway (the clients' `remote_ts`).
pub(crate) const GW_INNER: &str = OUR_INNER;

/// One client's addresses and names, `n` from 1.
#[derive(Clone, Debug)]
pub(crate) struct ClientLink {
    pub(crate) n: usize,
    pub(crate) ns: String,
    /// ours on this client's link: 10.99.1N.1
    pub(crate) gw_addr: String,
    /// the client's: 10.99.1N.2
    pub(crate) addr: String,
    /// the client's inner address, on its lo: 10.99.3.N
    pub(crate) inner: String,
    /// the interface in our namespace (captured)
    pub(crate) gw_if: String,
}

pub(crate) struct GatewayLab {
    pub(crate) ours: String,
    pub(crate) clients: Vec<ClientLink>,
}

impl GatewayLab {
    /// Our namespace and `n` client namespaces (`n` at most 9).
    pub(crate) fn create(tag: &str, n: usize) -> Result<GatewayLab, String> {
        let pid = std::process::id();
        let ours = format!("{NS_PREFIX}{pid}-{tag}-o");
        util::register_netns(&ours);
        let mut lab = GatewayLab {
            ours: ours.clone(),
            clients: Vec::new(),
        };
        ip(&["netns", "add", &ours])?;
        ip(&["-n", &ours, "link", "set", "lo", "up"])?;
        for i in 1..=n {
            let c = ClientLink {
                n: i,
                ns: format!("{NS_PREFIX}{pid}-{tag}-c{i}"),
                gw_addr: format!("10.99.1{i}.1"),
                addr: format!("10.99.1{i}.2"),
                inner: format!("10.99.3.{i}"),
                gw_if: format!("veth-gw{i}"),
            };
            util::register_netns(&c.ns);
            // pushed before it exists, so that Drop deletes whatever was made
            lab.clients.push(c.clone());
            let cns = c.ns.as_str();
            let c_if = format!("veth-c{i}");
            ip(&["netns", "add", cns])?;
            ip(&[
                "-n", &ours, "link", "add", &c.gw_if, "type", "veth", "peer", "name", &c_if,
                "netns", cns,
            ])?;
            ip(&["-n", cns, "link", "set", "lo", "up"])?;
            ip(&[
                "-n",
                &ours,
                "addr",
                "add",
                &format!("{}/24", c.gw_addr),
                "dev",
                &c.gw_if,
            ])?;
            ip(&[
                "-n",
                cns,
                "addr",
                "add",
                &format!("{}/24", c.addr),
                "dev",
                &c_if,
            ])?;
            ip(&[
                "-n",
                cns,
                "addr",
                "add",
                &format!("{}/32", c.inner),
                "dev",
                "lo",
            ])?;
            ip(&["-n", &ours, "link", "set", &c.gw_if, "up"])?;
            ip(&["-n", cns, "link", "set", &c_if, "up"])?;
        }
        for c in &lab.clients {
            let reach = util::poll(Duration::from_secs(5), Duration::from_millis(100), || {
                let out = util::run(
                    Command::new("ip").args([
                        "netns", "exec", &c.ns, "ping", "-c", "1", "-W", "1", &c.gw_addr,
                    ]),
                    Duration::from_secs(3),
                )
                .ok()?;
                out.status.success().then_some(())
            });
            if reach.is_none() {
                return Err(format!(
                    "client {} ({}) cannot reach the gateway's {}",
                    c.n, c.addr, c.gw_addr
                ));
            }
        }
        say!(
            "gateway namespace {ours}, {} clients: {}",
            lab.clients.len(),
            lab.clients
                .iter()
                .map(|c| format!("{} ({} -> {}, inner {})", c.ns, c.addr, c.gw_addr, c.inner))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(lab)
    }
}

impl Drop for GatewayLab {
    fn drop(&mut self) {
        for c in &self.clients {
            util::delete_netns(&c.ns);
        }
        util::delete_netns(&self.ours);
    }
}
