//! Our keys against charon's: every IKE SA and every ESP SA charon logged keys for (the first
//! ones and every rekeyed one), matched with our peer's `ike_keys` / `esp_keys` events by SPI.
//!
//! An IKE SA is matched by its SPI pair and compared on SKEYSEED and all seven SK_* (SK_ai
//! and SK_ar are empty for AEAD suites). An ESP SA is matched by its SPI and compared on its
//! keymat (encryption key with salt, then integrity key) and on its direction (source and
//! destination). Charon logs a Child SA's keys as "initiator"/"responder" keys of the
//! exchange that created it, which after a rekey need not be the IKE SA's initiator;
//! `charon::parse_log` sorts that out.

use std::collections::BTreeMap;

use crate::charon::LoggedIkeSa;
use crate::util::{Json, norm_hex};

const IKE_KEYS: [&str; 8] = [
    "skeyseed", "sk_d", "sk_ai", "sk_ar", "sk_ei", "sk_er", "sk_pi", "sk_pr",
];

/// One ESP SA as our peer reported it.
#[derive(Default)]
struct OurEsp {
    keymat: String,
    /// from `esp_keys` (the stand-in has none)
    src_dst: Option<(String, String)>,
    /// from `child_sa_ready`: is this SPI our inbound SA?
    inbound: Option<bool>,
}

/// Our ESP SAs by SPI: `esp_keys` events, and the SPIs (and, from the stand-in, the keymats)
/// of `child_sa_ready` events.
fn our_esp_sas(events: &[Json]) -> BTreeMap<String, OurEsp> {
    let mut sas: BTreeMap<String, OurEsp> = BTreeMap::new();
    for e in events {
        match e.event() {
            "esp_keys" => {
                let Some(spi) = e.str_of("spi") else { continue };
                let sa = sas.entry(norm_hex(&spi)).or_default();
                sa.keymat = format!(
                    "{}{}",
                    e.str_of("encryption_key").unwrap_or_default(),
                    e.str_of("integrity_key").unwrap_or_default()
                );
                sa.src_dst = Some((
                    e.str_of("source").unwrap_or_default(),
                    e.str_of("destination").unwrap_or_default(),
                ));
            }
            "child_sa_ready" => {
                for (dir, inbound) in [("inbound", true), ("outbound", false)] {
                    let Some(spi) = e.str_of(&format!("{dir}_spi")) else {
                        continue;
                    };
                    let sa = sas.entry(norm_hex(&spi)).or_default();
                    sa.inbound = Some(inbound);
                    if let Some(k) = e.str_of(&format!("{dir}_keymat")).filter(|k| !k.is_empty()) {
                        sa.keymat = k;
                    }
                }
            }
            _ => {}
        }
    }
    sas
}

/// Our IKE SAs: (spi_i, spi_r, the `ike_keys` event).
fn our_ike_sas(events: &[Json]) -> Vec<(String, String, &Json)> {
    events
        .iter()
        .filter(|e| e.event() == "ike_keys")
        .filter_map(|e| {
            Some((
                norm_hex(&e.str_of("spi_i")?),
                norm_hex(&e.str_of("spi_r")?),
                e,
            ))
        })
        .collect()
}

/// Compares SKEYSEED and the SK_* of one IKE SA; returns how many were equal.
fn compare_ike_sa(l: &LoggedIkeSa, ours: &Json, why: &mut Vec<String>) -> usize {
    let mut equal = 0;
    for name in IKE_KEYS {
        let mine = norm_hex(&ours.str_of(name).unwrap_or_default());
        let theirs = l.keys.get(name).map(|k| norm_hex(k)).unwrap_or_default();
        let required = !matches!(name, "sk_ai" | "sk_ar");
        if required && theirs.is_empty() {
            why.push(format!(
                "charon's log has no {name} for IKE SA {}_i {}_r",
                l.spi_i, l.spi_r
            ));
        } else if mine != theirs {
            why.push(format!(
                "{name} of IKE SA {}_i {}_r: ours {mine:?}, charon's {theirs:?}",
                l.spi_i, l.spi_r
            ));
        } else if !theirs.is_empty() {
            equal += 1;
        }
    }
    equal
}

/// Compares every ESP SA charon logged for IKE SA `l` with ours; returns how many matched.
fn compare_esp_sas(
    l: &LoggedIkeSa,
    ours: &BTreeMap<String, OurEsp>,
    why: &mut Vec<String>,
) -> usize {
    let mut equal = 0;
    for e in &l.esp {
        let spi = norm_hex(&e.spi);
        let Some(mine) = ours.get(&spi) else {
            why.push(format!(
                "charon logged ESP SA {spi} ({} -> {}), our peer reported no such SA",
                e.src, e.dst
            ));
            continue;
        };
        let mut ok = true;
        if mine.inbound == Some(e.inbound) {
            why.push(format!("SPI {spi} is inbound (or outbound) for both sides"));
            ok = false;
        }
        if let Some((src, dst)) = &mine.src_dst
            && (src != &e.src || dst != &e.dst)
        {
            why.push(format!(
                "ESP SA {spi}: ours {src} -> {dst}, charon's {} -> {}",
                e.src, e.dst
            ));
            ok = false;
        }
        if norm_hex(&mine.keymat) != norm_hex(&e.keymat()) {
            why.push(format!(
                "ESP SA {spi} keymat: ours {:?}, charon's {:?}",
                mine.keymat,
                e.keymat()
            ));
            ok = false;
        }
        equal += usize::from(ok);
    }
    equal
}

/// The key check of a case: every IKE SA and ESP SA charon logged keys for has the same keys
/// on our side, and every one we reported is among charon's (none of ours unmatched). Returns
/// (passed, detail).
pub(crate) fn compare(logged: &[LoggedIkeSa], events: &[Json]) -> (bool, String) {
    let mut why = Vec::new();
    let our_ike = our_ike_sas(events);
    let our_esp = our_esp_sas(events);
    if our_ike.is_empty() {
        why.push("our peer printed no ike_keys".to_string());
    }
    if our_esp.is_empty() {
        why.push("our peer reported no ESP SA (esp_keys, child_sa_ready)".to_string());
    }
    let (mut ike_sas, mut ike_keys, mut esp_sas) = (0, 0, 0);
    for l in logged {
        let (i, r) = (norm_hex(&l.spi_i), norm_hex(&l.spi_r));
        match our_ike.iter().find(|(oi, or, _)| *oi == i && *or == r) {
            None => why.push(format!(
                "charon logged keys for IKE SA {i}_i {r}_r, our peer printed none"
            )),
            Some((_, _, ours)) => {
                let n = compare_ike_sa(l, ours, &mut why);
                ike_keys += n;
                ike_sas += usize::from(n > 0);
            }
        }
        esp_sas += compare_esp_sas(l, &our_esp, &mut why);
    }
    for (i, r, _) in &our_ike {
        if !logged
            .iter()
            .any(|l| norm_hex(&l.spi_i) == *i && norm_hex(&l.spi_r) == *r)
        {
            why.push(format!(
                "our peer printed keys for IKE SA {i}_i {r}_r, charon logged none"
            ));
        }
    }
    for spi in our_esp.keys() {
        if !logged
            .iter()
            .flat_map(|l| &l.esp)
            .any(|e| norm_hex(&e.spi) == *spi)
        {
            why.push(format!(
                "our peer reported ESP SA {spi}, charon logged no keys for it"
            ));
        }
    }
    if why.is_empty() {
        (
            true,
            format!(
                "{} keys equal: SKEYSEED and SK_* of {ike_sas} IKE SA{}, keymat of {esp_sas} ESP SAs",
                ike_keys + esp_sas,
                if ike_sas == 1 { "" } else { "s" }
            ),
        )
    } else {
        (false, why.join("; "))
    }
}
