//! The gateway scenario: our `ipsec-peer` runs a remote-access gateway from a TOML file in
//! swanctl.conf's layout (one connection, `remote_addrs = "%any"`, remote id
//! `*.clients.test`, a group PSK in `[secrets]`, one child 10.99.1.1/32 <-> 10.99.3.0/24),
//! and three charon clients, each in its own namespace on its own veth pair and subnet
//! (10.99.1N.2 -> 10.99.1N.1), each with its own identity (`cN.clients.test`) and inner
//! address (10.99.3.N on its lo, its `local_ts`), connect at the same moment
//! (`swanctl --initiate` on three threads), ping our inner address at the same moment, and
//! hang up at the same moment.
//!
//! Checks per client: its IKE SA and Child SA up on both sides with the same SPIs; our
//! gateway holding exactly three IKE SAs (one per identity) and three Child SAs with six
//! distinct SPIs, each client's among them; all its echoes answered; its echo requests
//! arriving on its own Child SA (our `echo_request_answered` events name the inbound SPI,
//! and in the decrypted capture every request from 10.99.3.N travels under that client's
//! SPI and every reply to it under the client's inbound SPI: a reply sealed with another
//! client's SA would be dropped by that client); its keys equal to ours; tshark decrypting
//! its IKE and ESP with our key log; and its `swanctl --terminate` ending the SAs on both
//! sides.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::charon::{self, Charon, CharonConfig, IkeSaState};
use crate::netns::{ClientLink, GW_INNER, GatewayLab, ns_command};
use crate::peer::Peer;
use crate::report::{Table, TableRow};
use crate::suites::{SUITES, Suite};
use crate::util::{self, Json, norm_hex, say};
use crate::wireshark::{self, Capture, Verdict};
use crate::{Cell, keys};

pub(crate) const CLIENTS: usize = 3;
/// Echo requests per client (`ping -c 5 -i 0.2`).
const PINGS: u32 = 5;
const GW_ID: &str = "gw.clients.test";
const CLIENT_IDS: &str = "*.clients.test";
const GROUP_PSK: &str = "interop-clients-group-key-3141";
const CLIENT_NET: &str = "10.99.3.0/24";
/// Our peer's `--exit-after` backstop.
const EXIT_AFTER: u64 = 90;

const COLUMNS: [&str; 9] = [
    "IKE up",
    "Child up",
    "our SAs",
    "ping",
    "own SPIs",
    "keys equal",
    "tshark IKE",
    "tshark ESP",
    "delete",
];
const C_IKE: usize = 0;
const C_CHILD: usize = 1;
const C_OURS: usize = 2;
const C_PING: usize = 3;
const C_OWN: usize = 4;
const C_KEYS: usize = 5;
const C_TS_IKE: usize = 6;
const C_TS_ESP: usize = 7;
const C_DELETE: usize = 8;

pub(crate) const TITLE: &str = "gateway: ipsec-peer --config gateway.toml (rw: %any, *.clients.test, \
                                10.99.1.1/32 <-> 10.99.3.0/24) with three charon clients at once";

fn client_id(n: usize) -> String {
    format!("c{n}.clients.test")
}

/// The gateway's configuration, in swanctl.conf's layout.
pub(crate) fn gateway_toml(suite: &Suite) -> String {
    format!(
        r#"# written by the ipsec-rs interop harness: a remote-access gateway for the charon
# clients c1.clients.test, c2.clients.test, ... (a group key, each its own inner address)
[charon]
port = 500
port_nat_t = 4500

[connections.rw]
local_addrs = "%any"
remote_addrs = "%any"
proposals = "{ike}"

[connections.rw.local]
auth = "psk"
id = "{GW_ID}"

[connections.rw.remote]
auth = "psk"
id = "{CLIENT_IDS}"

[connections.rw.children.net]
local_ts = "{GW_INNER}/32"
remote_ts = "{CLIENT_NET}"
esp_proposals = "{esp}"
mode = "tunnel"

[secrets.ike-clients]
id = "{GW_ID}"
id-1 = "{CLIENT_IDS}"
secret = "{GROUP_PSK}"
"#,
        ike = suite.ike,
        esp = suite.esp,
    )
}

/// Runs the scenario (namespaces tagged `tag`) with our peer `bin`; files under
/// `workdir/gateway`.
pub(crate) fn run(bin: &Path, workdir: &Path, tag: &str) -> Table {
    let dir = workdir.join("gateway");
    let mut table = Table::new(TITLE, &COLUMNS);
    for n in 1..=CLIENTS {
        let mut r = TableRow::new(client_id(n), COLUMNS.len());
        r.files = Some(dir.join(format!("c{n}")));
        table.rows.push(r);
    }
    util::set_case_label("gateway");
    say!("=== gateway with {CLIENTS} charon clients ===");
    let result = fs::create_dir_all(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))
        .and_then(|_| body(&mut table, bin, &dir, tag));
    if let Err(e) = result {
        say!("gateway case aborted: {e}");
        for r in table.rows.iter_mut() {
            r.fail_unset(&format!("not reached: {e}"));
        }
    }
    table
        .notes
        .push(format!("(gateway files: {})", dir.display()));
    util::set_case_label("");
    table
}

/// What we know of one client by the end.
#[derive(Default)]
struct ClientState {
    /// charon's IKE SA once up
    sa: Option<IkeSaState>,
    /// our `ike_sa_established` for its identity
    ours_ike: Option<Json>,
    /// our `child_sa_ready` whose inbound SPI is charon's outbound one
    ours_child: Option<Json>,
    /// our inbound and outbound SPI for it (charon's out and in)
    spi_in: String,
    spi_out: String,
}

fn body(table: &mut Table, bin: &Path, dir: &Path, tag: &str) -> Result<(), String> {
    let suite = SUITES.first().ok_or("no suite")?;
    let lab = GatewayLab::create(tag, CLIENTS)?;
    let ifaces: Vec<&str> = lab.clients.iter().map(|c| c.gw_if.as_str()).collect();
    let pcap = dir.join("veth.pcapng");
    let mut cap = Capture::start_on(&lab.ours, &ifaces, &pcap)?;
    let toml = dir.join("gateway.toml");
    fs::write(&toml, gateway_toml(suite)).map_err(|e| e.to_string())?;
    let keylog = dir.join("keylog");
    let args: Vec<String> = vec![
        "--config".into(),
        toml.display().to_string(),
        "--keylog".into(),
        "--keylog-dir".into(),
        keylog.display().to_string(),
        "--exit-after".into(),
        EXIT_AFTER.to_string(),
    ];
    let mut peer = Peer::start_ipsec_args(bin, &lab.ours, dir, args, &keylog)?;
    // bound on 0.0.0.0:500 and :4500?
    let bound = util::poll(Duration::from_secs(5), Duration::from_millis(50), || {
        let out = util::run(
            &mut ns_command(&lab.ours, "ss", &["-Hulpn", "sport = :4500"], false),
            Duration::from_secs(5),
        )
        .ok()?;
        (!String::from_utf8_lossy(&out.stdout).trim().is_empty()).then_some(())
    });
    if bound.is_none() {
        peer.poll();
        return Err(format!(
            "our gateway did not bind UDP 4500; its events: {}",
            peer.events
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }

    let mut charons = Vec::new();
    for c in &lab.clients {
        let cdir = dir.join(format!("c{}", c.n));
        fs::create_dir_all(&cdir).map_err(|e| e.to_string())?;
        let id = client_id(c.n);
        let (ports, remote_port) = CharonConfig::STANDARD_PORTS;
        charons.push(Charon::start(
            &format!("client c{}", c.n),
            &c.ns,
            &cdir.join("charon"),
            &CharonConfig {
                local_addr: &c.addr,
                remote_addr: &c.gw_addr,
                local_ts: &format!("{}/32", c.inner),
                remote_ts: &format!("{GW_INNER}/32"),
                initiator: true,
                suite,
                esp: suite.esp,
                rekey: None,
                ids: Some((&id, GW_ID)),
                psk: GROUP_PSK,
                ports,
                remote_port,
            },
        )?);
    }

    // --- all three connect at once
    say!("the {CLIENTS} clients initiate at once");
    let initiated: Vec<Result<String, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = charons.iter().map(|ch| s.spawn(|| ch.initiate())).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("initiating thread panicked".into()))
            })
            .collect()
    });
    for ((r, res), c) in table.rows.iter_mut().zip(&initiated).zip(&lab.clients) {
        match res {
            Ok(_) => r.notes.push(format!(
                "swanctl --initiate from {} completed successfully",
                c.addr
            )),
            Err(e) => r.notes.push(format!("swanctl --initiate: {e}")),
        }
    }
    peer.wait_count("child_sa_ready", CLIENTS, Duration::from_secs(20));
    peer.wait_count("ike_keys", CLIENTS, Duration::from_secs(2));
    let mut st: Vec<ClientState> = Vec::new();
    for ch in &charons {
        let sa = util::poll(Duration::from_secs(5), Duration::from_millis(200), || {
            ch.list_sas().ok()?.into_iter().find(|s| {
                s.state == "ESTABLISHED" && s.children.iter().any(|c| c.state == "INSTALLED")
            })
        })
        .or_else(|| ch.list_sas().ok().and_then(|v| v.into_iter().next()));
        st.push(ClientState {
            sa,
            ..Default::default()
        });
    }

    // --- IKE SA, Child SA, and our gateway's SAs
    let ours_ike: Vec<Json> = events(&peer, "ike_sa_established");
    let ours_child: Vec<Json> = events(&peer, "child_sa_ready")
        .into_iter()
        .filter(|e| e.str_of("rekeyed").is_none())
        .collect();
    for ((r, s), c) in table.rows.iter_mut().zip(st.iter_mut()).zip(&lab.clients) {
        check_up(r, s, c, &ours_ike, &ours_child);
    }
    check_ours(table, &st, &ours_ike, &ours_child);

    // --- all three ping our inner address at once
    say!("the {CLIENTS} clients ping {GW_INNER} at once");
    let pings: Vec<(Vec<u32>, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = lab
            .clients
            .iter()
            .map(|c| s.spawn(move || charon::ping(&c.ns, &c.inner, GW_INNER, PINGS)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let want = CLIENTS * PINGS as usize;
    peer.wait_count("echo_request_answered", want, Duration::from_secs(5));
    for (i, ((r, (seqs, text)), c)) in table
        .rows
        .iter_mut()
        .zip(&pings)
        .zip(&lab.clients)
        .enumerate()
    {
        let _ = fs::write(dir.join(format!("c{}", c.n)).join("ping.txt"), text);
        let counters = charons
            .get(i)
            .and_then(|ch| ch.list_sas().ok())
            .and_then(|v| v.into_iter().next())
            .and_then(|sa| sa.children.into_iter().next())
            .map(|ch| {
                format!(
                    "; charon's Child SA counted {} packets in, {} out",
                    ch.packets_in, ch.packets_out
                )
            })
            .unwrap_or_default();
        r.set(
            C_PING,
            seqs.len() == PINGS as usize,
            format!(
                "ping -I {} -c {PINGS} {GW_INNER} in {}: {}/{PINGS} replies{counters}",
                c.inner,
                c.ns,
                seqs.len()
            ),
        );
    }

    // --- keys: each client's logged keys against ours for its SAs
    let logged: Vec<Vec<charon::LoggedIkeSa>> = charons
        .iter()
        .map(|ch| charon::parse_log(&ch.log()))
        .collect();
    for (c, l) in lab.clients.iter().zip(&logged) {
        let _ = fs::write(
            dir.join(format!("c{}", c.n)).join("charon-keys.txt"),
            charon::keys_summary(l),
        );
    }
    let unclaimed: Vec<String> = peer
        .events
        .iter()
        .filter(|e| e.event() == "ike_keys")
        .filter_map(|e| Some((norm_hex(&e.str_of("spi_i")?), norm_hex(&e.str_of("spi_r")?))))
        .filter(|(i, r)| {
            !logged
                .iter()
                .flatten()
                .any(|l| norm_hex(&l.spi_i) == *i && norm_hex(&l.spi_r) == *r)
        })
        .map(|(i, r)| format!("{i}_i {r}_r"))
        .collect();
    for ((r, l), s) in table.rows.iter_mut().zip(&logged).zip(&st) {
        let mine = events_of_client(&peer.events, l, s);
        let (mut ok, mut detail) = keys::compare(l, &mine);
        if !unclaimed.is_empty() {
            ok = false;
            detail.push_str(&format!(
                "; our gateway printed keys for IKE SAs no client logged: {}",
                unclaimed.join(", ")
            ));
        }
        r.set(C_KEYS, ok, detail);
    }

    // --- all three hang up at once
    say!("the {CLIENTS} clients terminate at once");
    let terminated: Vec<Result<String, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = charons
            .iter()
            .map(|ch| s.spawn(|| ch.terminate_ike()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("terminating thread panicked".into()))
            })
            .collect()
    });
    peer.wait_count("ike_sa_closed", CLIENTS, Duration::from_secs(10));
    peer.wait_count("child_sa_deleted", CLIENTS, Duration::from_secs(2));
    for (((r, s), ch), res) in table
        .rows
        .iter_mut()
        .zip(&st)
        .zip(&charons)
        .zip(&terminated)
    {
        check_delete(r, s, ch, res, &peer.events);
    }

    // --- stop everything, then read the capture
    let (status, killed) = peer.stop();
    table.notes.push(format!(
        "ipsec-peer exit after SIGTERM: {}{}",
        status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "unknown".into()),
        if killed { " (needed SIGKILL)" } else { "" }
    ));
    std::thread::sleep(Duration::from_millis(300));
    cap.stop();
    for ch in charons.iter_mut() {
        ch.stop();
    }
    let inners: Vec<String> = lab.clients.iter().map(|c| c.inner.clone()).collect();
    drop(lab);

    let scratch = dir.join("tshark");
    let _ = fs::create_dir_all(&scratch);
    match wireshark::analyse(&pcap, Some(&keylog), &scratch) {
        Err(e) => {
            for r in table.rows.iter_mut() {
                r.set(C_TS_IKE, false, e.clone());
                r.set(C_TS_ESP, false, e.clone());
                r.set(C_OWN, false, format!("no decrypted capture: {e}"));
            }
        }
        Ok(v) => {
            for ((r, s), c) in table.rows.iter_mut().zip(&st).zip(&inners) {
                check_capture(r, s, c, &v, &peer.events);
            }
        }
    }
    Ok(())
}

fn events(peer: &Peer, name: &str) -> Vec<Json> {
    peer.events
        .iter()
        .filter(|e| e.event() == name)
        .cloned()
        .collect()
}

fn hex_eq(a: &str, b: &str) -> bool {
    !a.is_empty() && norm_hex(a) == norm_hex(b)
}

/// IKE up and Child up for one client; fills in what the later checks need.
fn check_up(
    r: &mut TableRow,
    s: &mut ClientState,
    c: &ClientLink,
    ours_ike: &[Json],
    ours_child: &[Json],
) {
    let id = client_id(c.n);
    let mut why = Vec::new();
    s.ours_ike = ours_ike
        .iter()
        .find(|e| e.str_of("peer_id").as_deref() == Some(id.as_str()))
        .cloned();
    match (&s.sa, &s.ours_ike) {
        (None, _) => why.push("charon lists no IKE SA".to_string()),
        (Some(sa), _) if sa.state != "ESTABLISHED" => {
            why.push(format!("charon's IKE SA is {}", sa.state))
        }
        (Some(sa), ours) => {
            if sa.local_id != id || sa.remote_id != GW_ID {
                why.push(format!(
                    "charon's IKE SA is between {:?} and {:?}",
                    sa.local_id, sa.remote_id
                ));
            }
            match ours {
                None => why.push(format!(
                    "our gateway printed no ike_sa_established with peer_id {id}"
                )),
                Some(e) => {
                    let (i, rr) = (
                        e.str_of("spi_i").unwrap_or_default(),
                        e.str_of("spi_r").unwrap_or_default(),
                    );
                    if !hex_eq(&i, &sa.spi_i) || !hex_eq(&rr, &sa.spi_r) {
                        why.push(format!(
                            "SPIs differ: ours {i}/{rr}, charon's {}/{}",
                            sa.spi_i, sa.spi_r
                        ));
                    }
                }
            }
        }
    }
    let detail = match (&s.sa, &s.ours_ike) {
        (Some(sa), Some(e)) if why.is_empty() => format!(
            "ESTABLISHED on both sides ({id} <-> {GW_ID}), SPIs {}_i {}_r, our IKE SA #{} \
             with {}",
            sa.spi_i,
            sa.spi_r,
            e.str_of("ike_sa").unwrap_or_default(),
            e.str_of("remote").unwrap_or_default()
        ),
        _ => why.join("; "),
    };
    r.set(C_IKE, why.is_empty(), detail);

    let mut why = Vec::new();
    let ch =
        s.sa.as_ref()
            .and_then(|sa| sa.children.iter().find(|x| x.name == charon::CHILD));
    match ch {
        None => why.push("charon lists no Child SA".to_string()),
        Some(ch) => {
            s.spi_in = norm_hex(&ch.spi_out);
            s.spi_out = norm_hex(&ch.spi_in);
            if ch.state != "INSTALLED" {
                why.push(format!("charon's Child SA is {}", ch.state));
            }
            if ch.mode != "TUNNEL-in-UDP" {
                why.push(format!("charon's Child SA mode is {}", ch.mode));
            }
            s.ours_child = ours_child
                .iter()
                .find(|e| hex_eq(&e.str_of("inbound_spi").unwrap_or_default(), &ch.spi_out))
                .cloned();
            match &s.ours_child {
                None => why.push(format!(
                    "our gateway printed no child_sa_ready with inbound SPI {}",
                    ch.spi_out
                )),
                Some(e) => {
                    let out = e.str_of("outbound_spi").unwrap_or_default();
                    if !hex_eq(&out, &ch.spi_in) {
                        why.push(format!(
                            "our outbound SPI {out}, charon's inbound {}",
                            ch.spi_in
                        ));
                    }
                    if e.bool_of("udp_encap") != Some(true) {
                        why.push("our gateway reports udp_encap != true".into());
                    }
                    let ike = s.ours_ike.as_ref().and_then(|x| x.str_of("ike_sa"));
                    if e.str_of("ike_sa") != ike {
                        why.push(format!(
                            "our Child SA belongs to IKE SA #{}, the client's is #{}",
                            e.str_of("ike_sa").unwrap_or_default(),
                            ike.unwrap_or_default()
                        ));
                    }
                }
            }
        }
    }
    let detail = match ch {
        Some(ch) if why.is_empty() => format!(
            "INSTALLED {} on both sides, charon in {} out {}",
            ch.mode, ch.spi_in, ch.spi_out
        ),
        _ => why.join("; "),
    };
    r.set(C_CHILD, why.is_empty(), detail);
}

/// Our gateway holds exactly one IKE SA per client identity and one Child SA per client,
/// with six distinct SPIs, and each client's SAs are among them.
fn check_ours(table: &mut Table, st: &[ClientState], ours_ike: &[Json], ours_child: &[Json]) {
    let peer_ids: BTreeSet<String> = ours_ike
        .iter()
        .filter_map(|e| e.str_of("peer_id"))
        .collect();
    let handles: BTreeSet<String> = ours_ike.iter().filter_map(|e| e.str_of("ike_sa")).collect();
    let spis: BTreeSet<String> = ours_child
        .iter()
        .flat_map(|e| [e.str_of("inbound_spi"), e.str_of("outbound_spi")])
        .flatten()
        .map(|s| norm_hex(&s))
        .collect();
    let claimed: BTreeSet<String> = st
        .iter()
        .filter(|s| s.ours_child.is_some())
        .flat_map(|s| [s.spi_in.clone(), s.spi_out.clone()])
        .collect();
    let mut global = Vec::new();
    if ours_ike.len() != CLIENTS || peer_ids.len() != CLIENTS || handles.len() != CLIENTS {
        global.push(format!(
            "our gateway reported {} IKE SAs ({} handles) with peer ids {:?}, expected {CLIENTS}",
            ours_ike.len(),
            handles.len(),
            peer_ids
        ));
    }
    if ours_child.len() != CLIENTS || spis.len() != 2 * CLIENTS {
        global.push(format!(
            "our gateway reported {} Child SAs with {} distinct SPIs, expected {CLIENTS} with {}",
            ours_child.len(),
            spis.len(),
            2 * CLIENTS
        ));
    }
    let strays: Vec<&String> = spis.difference(&claimed).collect();
    if !strays.is_empty() {
        global.push(format!("our SPIs no client holds: {strays:?}"));
    }
    let summary = format!(
        "our gateway: {} IKE SAs ({}), {} Child SAs, {} distinct SPIs",
        ours_ike.len(),
        peer_ids.into_iter().collect::<Vec<_>>().join(", "),
        ours_child.len(),
        spis.len()
    );
    for (r, s) in table.rows.iter_mut().zip(st) {
        let mut why = global.clone();
        match (&s.ours_ike, &s.ours_child) {
            (Some(ike), Some(_)) => {
                let detail = format!(
                    "{summary}; this client's: IKE SA #{}, Child SA in {} out {}",
                    ike.str_of("ike_sa").unwrap_or_default(),
                    s.spi_in,
                    s.spi_out
                );
                if why.is_empty() {
                    r.set(C_OURS, true, detail);
                    continue;
                }
                why.insert(0, detail);
            }
            _ => why.push("this client's IKE SA or Child SA is not among ours".into()),
        }
        r.set(C_OURS, false, why.join("; "));
    }
}

/// Our events that concern one client: the keys of its IKE SA and ESP SAs, its Child SA.
fn events_of_client(events: &[Json], logged: &[charon::LoggedIkeSa], s: &ClientState) -> Vec<Json> {
    let mut ike: BTreeSet<(String, String)> = logged
        .iter()
        .map(|l| (norm_hex(&l.spi_i), norm_hex(&l.spi_r)))
        .collect();
    if let Some(sa) = &s.sa {
        ike.insert((norm_hex(&sa.spi_i), norm_hex(&sa.spi_r)));
    }
    let mut esp: BTreeSet<String> = logged
        .iter()
        .flat_map(|l| l.esp.iter().map(|e| norm_hex(&e.spi)))
        .collect();
    esp.extend([s.spi_in.clone(), s.spi_out.clone()]);
    esp.remove("");
    let has = |e: &Json, k: &str| e.str_of(k).is_some_and(|v| esp.contains(&norm_hex(&v)));
    events
        .iter()
        .filter(|e| match e.event() {
            "ike_keys" => ike.contains(&(
                norm_hex(&e.str_of("spi_i").unwrap_or_default()),
                norm_hex(&e.str_of("spi_r").unwrap_or_default()),
            )),
            "esp_keys" => has(e, "spi"),
            "child_sa_ready" => has(e, "inbound_spi") || has(e, "outbound_spi"),
            _ => false,
        })
        .cloned()
        .collect()
}

/// The delete check of one client, after all three terminated.
fn check_delete(
    r: &mut TableRow,
    s: &ClientState,
    ch: &Charon,
    res: &Result<String, String>,
    events: &[Json],
) {
    let mut why = Vec::new();
    match res {
        Ok(out) if out.contains("terminate completed successfully") => {}
        Ok(out) => why.push(format!(
            "swanctl --terminate: {}",
            out.trim().lines().last().unwrap_or("")
        )),
        Err(e) => why.push(format!("swanctl --terminate: {e}")),
    }
    let ike = s.ours_ike.as_ref().and_then(|e| e.str_of("ike_sa"));
    let closed = events
        .iter()
        .find(|e| e.event() == "ike_sa_closed" && e.str_of("ike_sa") == ike && ike.is_some());
    match closed {
        None => why.push(format!(
            "our gateway printed no ike_sa_closed for IKE SA #{}",
            ike.clone().unwrap_or_default()
        )),
        Some(e) => {
            let reason = e.str_of("reason").unwrap_or_default();
            if reason != "PeerDelete" {
                why.push(format!(
                    "our ike_sa_closed reason {reason:?}, expected \"PeerDelete\""
                ));
            }
        }
    }
    let child_deleted = events.iter().any(|e| {
        e.event() == "child_sa_deleted"
            && hex_eq(&e.str_of("inbound_spi").unwrap_or_default(), &s.spi_in)
    });
    if !child_deleted {
        why.push(format!(
            "our gateway printed no child_sa_deleted for inbound SPI {}",
            s.spi_in
        ));
    }
    let empty = util::poll(Duration::from_secs(5), Duration::from_millis(200), || {
        ch.list_sas().ok().and_then(|v| v.is_empty().then_some(()))
    });
    if empty.is_none() {
        why.push("charon still lists SAs".into());
    }
    if !ch.log().contains("IKE_SA deleted") {
        why.push("charon did not log IKE_SA deleted (no response to its DELETE?)".into());
    }
    let detail = if why.is_empty() {
        format!(
            "swanctl --terminate --ike: our IKE SA #{} closed (PeerDelete), Child SA {} \
             deleted, charon's --list-sas empty",
            ike.unwrap_or_default(),
            s.spi_in
        )
    } else {
        why.join("; ")
    };
    r.set(C_DELETE, why.is_empty(), detail);
}

/// The capture's verdict for one client: its IKE SA's SK messages and its two ESP SPIs all
/// decrypted with our key log; its echo requests under its own SPI to us, the replies under
/// its inbound SPI, and nothing of its traffic under another SPI; our events naming the
/// same inbound SPI for its echo requests.
fn check_capture(r: &mut TableRow, s: &ClientState, inner: &str, v: &Verdict, events: &[Json]) {
    // tshark IKE
    match &s.sa {
        None => r.set(C_TS_IKE, false, "no IKE SA to look for"),
        Some(sa) => {
            let key = format!("{}_{}", norm_hex(&sa.spi_i), norm_hex(&sa.spi_r));
            let (n, ok) = v.sk_by_sa.get(&key).copied().unwrap_or_default();
            let pass = n >= 4 && ok == n;
            let mut d = format!(
                "{ok}/{n} SK messages of IKE SA {}_i {}_r decrypted, ICV correct \
                 (capture: {})",
                sa.spi_i,
                sa.spi_r,
                v.ike_summary()
            );
            if n < 4 {
                d.push_str("; expected at least 4 (IKE_AUTH and INFORMATIONAL Delete, both ways)");
            }
            if !pass {
                d.extend(
                    v.problems
                        .iter()
                        .filter(|p| p.contains("IKE"))
                        .take(3)
                        .map(|p| format!("; {p}")),
                );
            }
            r.set(C_TS_IKE, pass, d);
        }
    }
    // tshark ESP
    let spis = [s.spi_in.clone(), s.spi_out.clone()];
    let (n, ok) = spis
        .iter()
        .filter_map(|spi| v.esp_by_spi.get(spi))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let in_udp = v
        .esp_frames
        .iter()
        .filter(|f| spis.contains(&f.spi) && !f.udp_ports.is_empty())
        .count();
    let pass = !s.spi_in.is_empty() && n >= 2 * PINGS as usize && ok == n && in_udp == n;
    r.set(
        C_TS_ESP,
        pass,
        format!(
            "{ok}/{n} ESP packets under SPIs {} and {} decrypted, ICV correct, {in_udp} in UDP \
             (expected at least {})",
            s.spi_in,
            s.spi_out,
            2 * PINGS
        ),
    );
    // own SPIs: ours by events, and the capture's decrypted inner packets
    let mut why = Vec::new();
    let answered: Vec<&Json> = events
        .iter()
        .filter(|e| {
            e.event() == "echo_request_answered" && e.str_of("from").as_deref() == Some(inner)
        })
        .collect();
    let on_own = answered
        .iter()
        .filter(|e| hex_eq(&e.str_of("inbound_spi").unwrap_or_default(), &s.spi_in))
        .count();
    let sent = answered
        .iter()
        .filter(|e| e.str_of("outcome").as_deref() == Some("Sent"))
        .count();
    if answered.len() < PINGS as usize || on_own != answered.len() || sent != answered.len() {
        why.push(format!(
            "our gateway answered {} echo requests from {inner}, {on_own} of them on inbound \
             SPI {}, {sent} replies sent",
            answered.len(),
            s.spi_in
        ));
    }
    let requests: Vec<&wireshark::EspFrame> = v
        .esp_frames
        .iter()
        .filter(|f| f.ok && f.inner_src == inner && f.icmp_type == Some(8))
        .collect();
    let replies: Vec<&wireshark::EspFrame> = v
        .esp_frames
        .iter()
        .filter(|f| f.ok && f.inner_dst == inner && f.icmp_type == Some(0))
        .collect();
    let strays: Vec<String> = v
        .esp_frames
        .iter()
        .filter(|f| f.ok && (f.inner_src == inner || f.inner_dst == inner))
        .filter(|f| {
            let own = if f.inner_src == inner {
                &s.spi_in
            } else {
                &s.spi_out
            };
            f.spi != *own
        })
        .map(|f| {
            format!(
                "frame {} ({} -> {}) under {}",
                f.frame, f.inner_src, f.inner_dst, f.spi
            )
        })
        .collect();
    if requests.len() < PINGS as usize || replies.len() < PINGS as usize {
        why.push(format!(
            "capture: {} echo requests from {inner}, {} replies to it (expected {PINGS} each)",
            requests.len(),
            replies.len()
        ));
    }
    if !strays.is_empty() {
        why.push(format!(
            "this client's traffic under another SPI: {}",
            strays.join(", ")
        ));
    }
    let detail = format!(
        "our gateway answered {} echo requests from {inner}, all arrived on inbound SPI {}; \
         capture: {} requests from {inner} all under {}, {} replies to it all under {}",
        answered.len(),
        s.spi_in,
        requests.len(),
        s.spi_in,
        replies.len(),
        s.spi_out
    );
    if why.is_empty() {
        r.set(C_OWN, true, detail);
    } else {
        r.put(C_OWN, Cell::Fail(why.join("; ")));
    }
}
