//! The rekey cases (RFC 7296 §1.3.2, §1.3.3, §2.8): for about half a minute our peer pings
//! charon's inner address every 300 ms while one side rekeys the Child SA every 8 s and the
//! IKE SA every 15 s: charon (R1, `rekey_time`s in its swanctl.conf, `rand_time = 0`), or our
//! peer (R2, `--child-rekey 8 --ike-rekey 15`, which take off up to a tenth at random).
//!
//! Checks, besides the short cases' ones:
//! - traffic: every echo request sent across the rekeys is answered (at most one lost);
//! - rekeys: at least two Child SA rekeys and one IKE SA rekey, reported by our peer
//!   (`child_sa_ready` with `rekeyed`, `ike_sa_rekeyed`) and logged by charon, initiated by
//!   the side that was to rekey, none failed, every replaced Child SA deleted; and at the end
//!   charon lists exactly the IKE SA and the one Child SA our peer reported last.
//!
//! The key check and the tshark checks then cover every IKE SA and ESP SA of the run.
//!
//! What charon 5.9.8 logs (`enc` level 1 and up) for a Child SA rekey it initiates, then for
//! one it answers, and for an IKE SA rekey it answers:
//!
//! ```text
//! 11[ENC] <lab|1> generating CREATE_CHILD_SA request 2 [ N(REKEY_SA) SA No KE TSi TSr ]
//! 12[ENC] <lab|1> parsed CREATE_CHILD_SA response 2 [ SA No KE TSi TSr ]
//! 12[IKE] <lab|1> inbound CHILD_SA net{2} established with SPIs bbe52954_i 9cd94ae2_o and TS ...
//! 12[IKE] <lab|1> closing CHILD_SA net{1} with SPIs 2e8f387f_i (1066 bytes) 9f04bea0_o ...
//! 14[ENC] <lab|1> parsed CREATE_CHILD_SA request 2 [ N(REKEY_SA) SA No KE TSi TSr ]
//! 15[ENC] <lab|1> parsed CREATE_CHILD_SA request 4 [ SA No KE ]
//! 15[IKE] <lab|1> IKE_SA lab[2] rekeyed between 10.99.0.2[responder@lab.test]...10.99.0.1[...]
//! 15[MGR] <lab|1> checkin IKEv2 SA lab[2] with SPIs 1d043f517aca9943_i 906d03d9f873c6fe_r
//! ```
//! `charon_rekeys` counts the CREATE_CHILD_SA requests: generated (charon initiated) or
//! parsed (charon answered), a Child SA rekey by its N(REKEY_SA), an IKE SA rekey by having
//! no traffic selectors, PFS by a KE payload in a Child SA rekey. Retransmits are noted.

use std::time::{Duration, Instant};

use crate::Rekey;
use crate::charon::{self, Charon, RekeyTimes};
use crate::netns::CHARON_INNER;
use crate::peer::Peer;
use crate::util::{Json, norm_hex};

/// R2: our peer's `--child-rekey` and `--ike-rekey`, in seconds.
pub(crate) const CHILD_REKEY: u64 = 8;
pub(crate) const IKE_REKEY: u64 = 15;
/// R1: charon's rekey times (hard lifetimes far beyond the run).
pub(crate) const CHARON_TIMES: RekeyTimes = RekeyTimes {
    child_rekey: CHILD_REKEY,
    child_life: 60,
    ike_rekey: IKE_REKEY,
    ike_over: 60,
};
/// Echo requests, and their interval: 110 x 300 ms = 33 s, so four Child SA rekeys (at about
/// 8, 16, 24 and 32 s) and two IKE SA rekeys (15 and 30 s) fall inside, and none falls
/// between the last echo and the delete.
pub(crate) const PINGS: u32 = 110;
pub(crate) const PING_INTERVAL_MS: u64 = 300;
/// The first echo waits this long after the first Child SA is up: when charon initiated,
/// an echo sent at once overtakes its processing of our IKE_AUTH response.
pub(crate) const PING_DELAY_MS: u64 = 300;
/// Our peer's `--delete-after` (from its first Child SA) when it deletes.
pub(crate) const DELETE_AFTER: u64 = 35;
/// Our peer's `--exit-after` backstop in rekey cases.
pub(crate) const EXIT_AFTER: u64 = 90;
/// What the run must show at least.
pub(crate) const MIN_CHILD_REKEYS: usize = 2;
pub(crate) const MIN_IKE_REKEYS: usize = 1;
/// Echo requests that may go unanswered (or unsent) across all the rekeys.
pub(crate) const MAX_LOST: usize = 1;

// ---------------------------------------------------------------------------------------------
// Traffic

/// The traffic check's outcome.
pub(crate) struct Traffic {
    pub(crate) ok: bool,
    pub(crate) detail: String,
    /// echo replies received (two ESP packets each in the capture)
    pub(crate) answered: usize,
}

/// The `seq` of every event named `name` (from `from`, if given).
fn seqs(events: &[Json], name: &str, from: Option<&str>) -> Vec<u64> {
    let mut v: Vec<u64> = events
        .iter()
        .filter(|e| e.event() == name)
        .filter(|e| from.is_none() || e.str_of("from").as_deref() == from)
        .filter_map(|e| e.str_of("seq")?.parse().ok())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Waits for our peer's PINGS echo requests (and their replies) and counts the lost ones.
pub(crate) fn traffic(peer: &mut Peer) -> Traffic {
    let n = PINGS as usize;
    let attempts =
        |ev: &[Json]| seqs(ev, "ping_sent", None).len() + seqs(ev, "ping_not_sent", None).len();
    let run = Duration::from_millis(PING_INTERVAL_MS * u64::from(PINGS) + PING_DELAY_MS);
    let all_sent = peer.wait_all(run + Duration::from_secs(10), |ev| attempts(ev) >= n);
    // the last reply
    peer.wait_all(Duration::from_millis(1500), |ev| {
        let last = seqs(ev, "ping_sent", None).last().copied();
        last.is_none_or(|l| seqs(ev, "ping_reply", Some(CHARON_INNER)).contains(&l))
    });
    let sent = seqs(&peer.events, "ping_sent", None);
    let not_sent = seqs(&peer.events, "ping_not_sent", None);
    let answered = seqs(&peer.events, "ping_reply", Some(CHARON_INNER));
    let lost: Vec<u64> = sent
        .iter()
        .copied()
        .filter(|s| !answered.contains(s))
        .collect();
    let at = |s: &u64| {
        let ms = (s.saturating_sub(1)) * PING_INTERVAL_MS + PING_DELAY_MS;
        format!("{s} (at {:.1} s)", ms as f64 / 1000.0)
    };
    let list = |v: &[u64]| v.iter().map(at).collect::<Vec<_>>().join(", ");
    let mut detail = format!(
        "our peer sent {} echo requests to {CHARON_INNER} every {PING_INTERVAL_MS} ms across the rekeys, {} answered",
        sent.len(),
        answered.len()
    );
    if !lost.is_empty() {
        detail.push_str(&format!("; lost seq {}", list(&lost)));
    }
    if !not_sent.is_empty() {
        detail.push_str(&format!("; not sent (no SA): seq {}", list(&not_sent)));
    }
    if !all_sent {
        detail.push_str(&format!("; expected {n} echo requests"));
    }
    let ok = all_sent && !answered.is_empty() && lost.len() + not_sent.len() <= MAX_LOST;
    if ok && lost.len() + not_sent.len() == 0 {
        detail.push_str(", none lost");
    }
    Traffic {
        ok,
        detail,
        answered: answered.len(),
    }
}

// ---------------------------------------------------------------------------------------------
// Rekeys as our peer reported them

/// Our peer's view of the rekeys.
#[derive(Default)]
struct OurRekeys {
    /// `child_sa_ready` events with `rekeyed`
    child: usize,
    /// `ike_sa_rekeyed` events
    ike: usize,
    problems: Vec<String>,
    /// the last `child_sa_ready` not deleted since: (inbound SPI, outbound SPI)
    last_child: Option<(String, String)>,
    /// the last IKE SA (`ike_sa_rekeyed`, else `ike_keys`): (spi_i, spi_r)
    last_ike: Option<(String, String)>,
    /// inbound SPIs of the Child SAs our peer deleted (`child_sa_deleted`)
    deleted: Vec<String>,
}

fn our_rekeys(events: &[Json]) -> OurRekeys {
    let mut r = OurRekeys::default();
    let mut inbound_seen: Vec<String> = Vec::new();
    r.deleted = events
        .iter()
        .filter(|e| e.event() == "child_sa_deleted")
        .filter_map(|e| e.str_of("inbound_spi").map(|s| norm_hex(&s)))
        .collect();
    let spis =
        |e: &Json, a: &str, b: &str| Some((norm_hex(&e.str_of(a)?), norm_hex(&e.str_of(b)?)));
    for e in events {
        match e.event() {
            "child_sa_ready" => {
                if let Some(old) = e.str_of("rekeyed").map(|s| norm_hex(&s)) {
                    r.child += 1;
                    if !inbound_seen.contains(&old) {
                        r.problems.push(format!(
                            "child_sa_ready rekeyed {old}, a Child SA our peer never reported"
                        ));
                    }
                    if !r.deleted.contains(&old) {
                        r.problems.push(format!(
                            "the rekeyed Child SA {old} was never deleted (no child_sa_deleted)"
                        ));
                    }
                }
                if let Some((i, o)) = spis(e, "inbound_spi", "outbound_spi") {
                    inbound_seen.push(i.clone());
                    if !r.deleted.contains(&i) {
                        r.last_child = Some((i, o));
                    }
                }
            }
            "ike_sa_rekeyed" => {
                r.ike += 1;
                r.last_ike = spis(e, "spi_i", "spi_r");
            }
            "ike_keys" if r.ike == 0 => r.last_ike = spis(e, "spi_i", "spi_r"),
            "child_sa_failed" => r.problems.push(format!(
                "child_sa_failed ({}, rekeying {})",
                e.str_of("reason").unwrap_or_default(),
                e.str_of("rekeying").unwrap_or_else(|| "null".into())
            )),
            _ => {}
        }
    }
    let ike_keys = events.iter().filter(|e| e.event() == "ike_keys").count();
    if ike_keys != 1 + r.ike {
        r.problems.push(format!(
            "{ike_keys} ike_keys events for {} IKE SAs (1 + {} rekeyed)",
            1 + r.ike,
            r.ike
        ));
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Rekeys as charon logged them

/// charon's view of the rekeys, from its log.
#[derive(Default, Debug)]
struct CharonRekeys {
    /// Child SA rekeys charon initiated / answered
    child_initiated: usize,
    child_answered: usize,
    /// Child SA rekey requests with a KE payload (PFS)
    child_with_ke: usize,
    /// IKE SA rekeys charon initiated / answered
    ike_initiated: usize,
    ike_answered: usize,
    /// "IKE_SA lab[N] rekeyed between ...": IKE SA rekeys completed
    ike_completed: usize,
    /// retransmitted requests (not a failure, but worth a note)
    retransmits: usize,
    /// lines that report a failed or aborted rekey
    problems: Vec<String>,
}

impl CharonRekeys {
    fn child(&self) -> usize {
        self.child_initiated + self.child_answered
    }
    fn ike(&self) -> usize {
        self.ike_initiated + self.ike_answered
    }
}

/// Counts the rekeys in charon's log by their CREATE_CHILD_SA requests, which charon (`enc`
/// level 1) logs as generated (it initiated) or parsed (it answered): a Child SA rekey carries
/// N(REKEY_SA) and TSi/TSr, an IKE SA rekey neither ("[ SA No KE ]").
fn charon_rekeys(log: &str) -> CharonRekeys {
    let mut c = CharonRekeys::default();
    for line in log.lines() {
        let msg = line.split_once("> ").map_or(line, |(_, m)| m).trim();
        let payloads = msg.split_once(" [ ").map_or("", |(_, p)| p);
        let child = payloads.contains("N(REKEY_SA)");
        let ike = !child && !payloads.contains("TSi");
        let request = msg.starts_with("generating CREATE_CHILD_SA request")
            || msg.starts_with("parsed CREATE_CHILD_SA request");
        if request && child && payloads.split_whitespace().any(|p| p == "KE") {
            c.child_with_ke += 1;
        }
        if msg.starts_with("generating CREATE_CHILD_SA request") {
            c.child_initiated += usize::from(child);
            c.ike_initiated += usize::from(ike);
        } else if msg.starts_with("parsed CREATE_CHILD_SA request") {
            c.child_answered += usize::from(child);
            c.ike_answered += usize::from(ike);
        } else if msg.starts_with("IKE_SA ") && msg.contains(" rekeyed between ") {
            c.ike_completed += 1;
        } else if msg.starts_with("retransmit ") {
            c.retransmits += 1;
        }
        let lower = msg.to_ascii_lowercase();
        let failed_rekey = lower.contains("rekey")
            && ["fail", "abort", "collision"]
                .iter()
                .any(|w| lower.contains(w));
        // error notifies, long or as charon abbreviates them in message summaries
        let error_notify = [
            "NO_PROPOSAL_CHOSEN",
            "N(NO_PROP)",
            "INVALID_KE_PAYLOAD",
            "N(INVAL_KE)",
            "TEMPORARY_FAILURE",
            "N(TEMP_FAIL)",
        ]
        .iter()
        .any(|n| msg.contains(n));
        if failed_rekey || error_notify {
            c.problems.push(msg.to_string());
        }
    }
    c
}

// ---------------------------------------------------------------------------------------------
// The check

/// charon's SAs at the end against the last ones our peer reported: one ESTABLISHED IKE SA
/// with our last SPIs, one INSTALLED Child SA with our last SPIs (reversed). Child SAs that
/// charon keeps for a few seconds after a rekey (`delete_rekeyed_delay`, 5 s) are allowed if
/// they are DELETED and our peer deleted them too.
fn final_state(charon: &Charon, ours: &OurRekeys) -> Result<String, String> {
    let sas = charon.list_sas()?;
    let [sa] = sas.as_slice() else {
        return Err(format!("charon lists {} IKE SAs", sas.len()));
    };
    let (i, r) = ours
        .last_ike
        .clone()
        .ok_or("our peer reported no IKE SA SPIs")?;
    if sa.state != "ESTABLISHED" || norm_hex(&sa.spi_i) != i || norm_hex(&sa.spi_r) != r {
        return Err(format!(
            "charon's IKE SA {}_i {}_r is {}, our last one {i}_i {r}_r",
            sa.spi_i, sa.spi_r, sa.state
        ));
    }
    let (installed, others): (Vec<&charon::ChildSaState>, Vec<&charon::ChildSaState>) = sa
        .children
        .iter()
        .filter(|c| c.name == charon::CHILD)
        .partition(|c| c.state == "INSTALLED");
    let [ch] = installed.as_slice() else {
        return Err(format!(
            "charon lists {} INSTALLED Child SAs",
            installed.len()
        ));
    };
    let (oi, oo) = ours
        .last_child
        .clone()
        .ok_or("our peer reported no Child SA")?;
    if norm_hex(&ch.spi_in) != oo || norm_hex(&ch.spi_out) != oi {
        return Err(format!(
            "charon's INSTALLED Child SA is in {} out {}, our last one in {oi} out {oo}",
            ch.spi_in, ch.spi_out
        ));
    }
    for o in &others {
        if o.state != "DELETED" || !ours.deleted.contains(&norm_hex(&o.spi_out)) {
            return Err(format!(
                "charon also lists Child SA in {} out {} as {}",
                o.spi_in, o.spi_out, o.state
            ));
        }
    }
    let lingering = if others.is_empty() {
        String::new()
    } else {
        format!(
            " (and {} replaced one{} DELETED, kept for delete_rekeyed_delay)",
            others.len(),
            if others.len() == 1 { "" } else { "s" }
        )
    };
    Ok(format!(
        "at the end charon lists IKE SA {i}_i {r}_r and Child SA in {} out {}{lingering}: our last ones",
        ch.spi_in, ch.spi_out
    ))
}

/// The rekeys check of a case rekeyed `by` one side, with or without `pfs` (a KE payload in
/// every Child SA rekey); `t_up` is about when the first Child SA came up. Returns (passed,
/// detail).
pub(crate) fn check_rekeys(
    peer: &mut Peer,
    charon: &Charon,
    by: Rekey,
    pfs: bool,
    t_up: Instant,
) -> (bool, String) {
    // charon's SAs against our last ones, polled: a rekey may just be under way (before our
    // peer's --delete-after, if it deletes)
    let deadline = Duration::from_secs(DELETE_AFTER)
        .saturating_sub(t_up.elapsed())
        .saturating_sub(Duration::from_millis(700))
        .min(Duration::from_secs(4));
    let end = Instant::now() + deadline;
    let (ours, fin) = loop {
        peer.poll();
        let ours = our_rekeys(&peer.events);
        let r = final_state(charon, &ours);
        if r.is_ok() || Instant::now() >= end {
            break (ours, r);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let theirs = charon_rekeys(&charon.log());
    let mut why = ours.problems.clone();
    why.extend(theirs.problems.iter().map(|p| format!("charon: {p}")));
    if ours.child < MIN_CHILD_REKEYS || ours.ike < MIN_IKE_REKEYS {
        why.push(format!(
            "our peer reported {} Child SA and {} IKE SA rekeys, expected at least {MIN_CHILD_REKEYS} and {MIN_IKE_REKEYS}",
            ours.child, ours.ike
        ));
    }
    let (by_charon, by_us) = (
        (theirs.child_initiated, theirs.ike_initiated),
        (theirs.child_answered, theirs.ike_answered),
    );
    let (expected, other) = match by {
        Rekey::ByCharon => (by_charon, by_us),
        _ => (by_us, by_charon),
    };
    if expected != (ours.child, ours.ike) || other != (0, 0) {
        why.push(format!(
            "charon logged {} Child SA and {} IKE SA rekeys it initiated, {} and {} it answered; our peer reported {} and {}",
            by_charon.0, by_charon.1, by_us.0, by_us.1, ours.child, ours.ike
        ));
    }
    let want_ke = if pfs { theirs.child() } else { 0 };
    if theirs.child_with_ke != want_ke {
        why.push(format!(
            "{} of charon's {} Child SA rekey requests carried KE, expected {want_ke} ({})",
            theirs.child_with_ke,
            theirs.child(),
            if pfs { "PFS" } else { "no PFS" }
        ));
    }
    if theirs.ike_completed != ours.ike {
        why.push(format!(
            "charon logged {} IKE SAs \"rekeyed between\", our peer reported {}",
            theirs.ike_completed, ours.ike
        ));
    }
    let mut detail = format!(
        "{} Child SA ({}) and {} IKE SA rekeys by {}, every replaced Child SA deleted (charon logged {} and {})",
        ours.child,
        if pfs { "PFS: KE in each" } else { "no KE" },
        ours.ike,
        by.label(),
        theirs.child(),
        theirs.ike()
    );
    if theirs.retransmits > 0 {
        detail.push_str(&format!(
            "; charon retransmitted {} requests",
            theirs.retransmits
        ));
    }
    match fin {
        Ok(d) => detail.push_str(&format!("; {d}")),
        Err(e) => why.push(e),
    }
    if why.is_empty() {
        (true, detail)
    } else {
        (false, format!("{}; {detail}", why.join("; ")))
    }
}
