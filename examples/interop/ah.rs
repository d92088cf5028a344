//! The AH scenario (RFC 4302): two of our endpoints in the harness process negotiate an AH
//! Child SA (`ah_proposals = sha256`) over IKE, once in tunnel mode and once in transport
//! mode, IPv4; A pings B three times and B answers. Every AH packet (a whole IPv4 packet)
//! goes into a pcap file with link type RAW, and `tshark -V` must dissect each one's AH
//! header: "Authentication Header", the SPI of the sender's outbound SA
//! (`Endpoint::child_sas`), sequence numbers 1, 2, 3 per SA, the inner IPv4 packet after AH
//! in tunnel mode (ICMP right after it in transport mode), and no malformed packet or error
//! expert info. What each endpoint delivered must equal what the other sent.

use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ipsec::{Child, IpsecProtocol, Mode};

use crate::inproc::{Pair, WireKind, endpoint};
use crate::packet;
use crate::report::{Table, TableRow};
use crate::util::{self, say};

const COLUMNS: [&str; 6] = [
    "AH SA up",
    "delivered",
    "AH header",
    "SPI + seq",
    "payload",
    "no errors",
];
const C_UP: usize = 0;
const C_DELIVERED: usize = 1;
const C_HEADER: usize = 2;
const C_SPI_SEQ: usize = 3;
const C_PAYLOAD: usize = 4;
const C_CLEAN: usize = 5;

const A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const HOST_A: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);
const HOST_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 7);
const PINGS: u16 = 3;

pub(crate) const TITLE: &str =
    "ah: AH (sha256) between two of our endpoints, captured as LINKTYPE_RAW, read by tshark -V";

pub(crate) fn run(workdir: &Path) -> Table {
    util::set_case_label("ah");
    say!("=== AH tunnel and transport, dissected by tshark ===");
    let dir = workdir.join("ah");
    let mut table = Table::new(TITLE, &COLUMNS);
    for mode in [Mode::Tunnel, Mode::Transport] {
        let label = format!("{mode:?} mode, IPv4").to_lowercase();
        let mut row = TableRow::new(label, COLUMNS.len());
        let mdir = dir.join(format!("{mode:?}").to_lowercase());
        row.files = Some(mdir.clone());
        let r = fs::create_dir_all(&mdir)
            .map_err(|e| e.to_string())
            .and_then(|_| case(&mut row, mode, &mdir));
        if let Err(e) = r {
            say!("AH {mode:?} case aborted: {e}");
            row.fail_unset(&format!("not reached: {e}"));
        }
        table.rows.push(row);
    }
    util::set_case_label("");
    table
}

fn case(row: &mut TableRow, mode: Mode, dir: &Path) -> Result<(), String> {
    let (ts_a, ts_b, src, dst) = match mode {
        Mode::Tunnel => ("10.1.0.0/16", "10.2.0.0/16", HOST_A, HOST_B),
        _ => ("192.0.2.1/32", "198.51.100.1/32", A, B),
    };
    let mut pair = Pair::new(A, B, |now, is_a, keys| {
        let (addrs, ids, ts) = if is_a {
            ((A, B), ("a.ah.test", "b.ah.test"), (ts_a, ts_b))
        } else {
            ((B, A), ("b.ah.test", "a.ah.test"), (ts_b, ts_a))
        };
        let child = Child::builder("net")
            .local_ts(ts.0)
            .remote_ts(ts.1)
            .ah_proposals("sha256")
            .mode(mode)
            .build();
        endpoint(
            now,
            "ah",
            addrs,
            ids,
            "aes128gcm16-prfsha256-x25519",
            child,
            keys,
        )
    })?;
    pair.connect("ah")?;
    let now = pair.now;
    let ca = pair.a.ep.child_sas(now);
    let cb = pair.b.ep.child_sas(now);
    let (a_out, b_out) = match (ca.first(), cb.first()) {
        (Some(x), Some(y)) => {
            let mut why = Vec::new();
            for (side, c) in [("A", x), ("B", y)] {
                if c.protocol != IpsecProtocol::Ah || c.mode != mode {
                    why.push(format!(
                        "{side}'s Child SA is {:?} {:?}",
                        c.protocol, c.mode
                    ));
                }
                if c.udp_encapsulation.is_some() {
                    why.push(format!("{side}'s Child SA is UDP-encapsulated"));
                }
            }
            if x.outbound_spi != y.inbound_spi || y.outbound_spi != x.inbound_spi {
                why.push(format!(
                    "SPIs do not cross: A in {:08x} out {:08x}, B in {:08x} out {:08x}",
                    x.inbound_spi, x.outbound_spi, y.inbound_spi, y.outbound_spi
                ));
            }
            let detail = format!(
                "AH {mode:?} on both sides ({:?}), A out {:08x} = B in, B out {:08x} = A in",
                x.algorithms.integrity, x.outbound_spi, y.outbound_spi
            );
            row.set(
                C_UP,
                why.is_empty(),
                if why.is_empty() {
                    detail
                } else {
                    why.join("; ")
                },
            );
            (x.outbound_spi, y.outbound_spi)
        }
        _ => {
            return Err(format!(
                "no Child SA: A has {}, B has {}; dropped: {:?}; A's events: {:?}",
                ca.len(),
                cb.len(),
                pair.dropped,
                pair.a.events
            ));
        }
    };

    // --- three echoes, A to B, answered
    let mut sent = Vec::new();
    let mut outcomes = Vec::new();
    for seq in 1..=PINGS {
        let p = packet::icmp_echo(src, dst, false, 0x4148, seq, b"authenticated, not secret");
        outcomes.push(pair.send_from_a(&p));
        sent.push(p);
    }
    let replies: Vec<Vec<u8>> = sent
        .iter()
        .filter_map(|p| {
            let e = packet::parse_echo(p)?;
            Some(packet::icmp_echo(
                e.destination,
                e.source,
                true,
                e.id,
                e.seq,
                e.data,
            ))
        })
        .collect();
    {
        let mut why = Vec::new();
        if outcomes.iter().any(|o| o != "Sent") || pair.b.replies.iter().any(|o| o != "Sent") {
            why.push(format!(
                "send outcomes: A {outcomes:?}, B's replies {:?}",
                pair.b.replies
            ));
        }
        let b_got: Vec<&Vec<u8>> = pair.b.delivered.iter().map(|d| &d.packet).collect();
        let a_got: Vec<&Vec<u8>> = pair.a.delivered.iter().map(|d| &d.packet).collect();
        if b_got != sent.iter().collect::<Vec<_>>() {
            why.push(format!(
                "B delivered {} packets, not the {} A sent byte for byte",
                b_got.len(),
                sent.len()
            ));
        }
        if a_got != replies.iter().collect::<Vec<_>>() {
            why.push(format!(
                "A delivered {} packets, not B's {} replies byte for byte",
                a_got.len(),
                replies.len()
            ));
        }
        let spi_ok = pair.b.delivered.iter().all(|d| d.inbound_spi == a_out)
            && pair.a.delivered.iter().all(|d| d.inbound_spi == b_out);
        if !spi_ok {
            why.push("a packet was delivered from another SA".into());
        }
        if mode == Mode::Transport {
            let payload_ok = pair.b.delivered.iter().zip(&sent).all(|(d, s)| {
                d.transport && d.next_header == 1 && Some(&d.payload[..]) == s.get(20..)
            });
            if !payload_ok {
                why.push(
                    "transport mode did not hand over the ICMP message (next header 1)".into(),
                );
            }
        }
        if !pair.dropped.is_empty() {
            why.push(format!("dropped: {:?}", pair.dropped));
        }
        let what = match mode {
            Mode::Tunnel => "inner packets",
            _ => "ICMP messages (IP header put back)",
        };
        row.set(
            C_DELIVERED,
            why.is_empty(),
            if why.is_empty() {
                format!(
                    "B delivered A's {} echo requests and A B's {} replies, equal byte for byte \
                     ({what})",
                    sent.len(),
                    replies.len()
                )
            } else {
                why.join("; ")
            },
        );
    }
    pair.disconnect();

    // --- the capture
    let pcap = dir.join("ah.pcap");
    let n = pair.write_pcap(&pcap, &[WireKind::Ah])?;
    let expected: Vec<(u32, u32, bool)> = pair
        .wire
        .iter()
        .filter(|w| w.kind == WireKind::Ah)
        .scan((0u32, 0u32), |seqs, w| {
            let seq = if w.from_a {
                seqs.0 += 1;
                seqs.0
            } else {
                seqs.1 += 1;
                seqs.1
            };
            Some((if w.from_a { a_out } else { b_out }, seq, w.from_a))
        })
        .collect();
    let out = util::run(
        Command::new("tshark").args(["-n", "-r"]).arg(&pcap).args([
            "-o",
            "ip.check_checksum:TRUE",
            "-V",
        ]),
        Duration::from_secs(60),
    )?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let _ = fs::write(dir.join("tshark-V.txt"), &text);
    if !out.status.success() {
        return Err(format!(
            "tshark failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    judge(row, &text, n, &expected, mode, (src, dst));
    Ok(())
}

/// One frame of `tshark -V` output, as its lines.
fn frames(text: &str) -> Vec<Vec<&str>> {
    let mut frames: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Frame ") {
            frames.push(Vec::new());
        }
        if let Some(f) = frames.last_mut() {
            f.push(line);
        }
    }
    frames
}

fn judge(
    row: &mut TableRow,
    text: &str,
    n: usize,
    expected: &[(u32, u32, bool)],
    mode: Mode,
    (src, dst): (Ipv4Addr, Ipv4Addr),
) {
    let fr = frames(text);
    let field = |f: &[&str], name: &str| -> Option<String> {
        f.iter()
            .map(|l| l.trim())
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    // AH header present
    let with_ah = fr
        .iter()
        .filter(|f| f.iter().any(|l| l.starts_with("Authentication Header")))
        .count();
    row.set(
        C_HEADER,
        n > 0 && fr.len() == n && with_ah == n,
        format!(
            "{with_ah}/{} frames dissected with an Authentication Header ({n} AH packets \
             written)",
            fr.len()
        ),
    );
    // SPI and sequence numbers
    let mut why = Vec::new();
    for (i, (f, (spi, seq, from_a))) in fr.iter().zip(expected).enumerate() {
        // "AH SPI: 0xc0ffee01", "AH Sequence: 1"
        let got_spi = field(f, "AH SPI:").unwrap_or_default();
        let got_seq = field(f, "AH Sequence:").unwrap_or_default();
        if util::norm_hex(&got_spi) != format!("{spi:08x}") || got_seq != seq.to_string() {
            why.push(format!(
                "frame {}: SPI {got_spi:?} sequence {got_seq:?}, expected 0x{spi:08x} sequence \
                 {seq} ({})",
                i + 1,
                if *from_a { "A's outbound SA" } else { "B's" }
            ));
        }
    }
    if expected.len() != fr.len() {
        why.push(format!(
            "{} frames, {} AH packets sent",
            fr.len(),
            expected.len()
        ));
    }
    let spis: std::collections::BTreeSet<String> = expected
        .iter()
        .map(|(s, _, _)| format!("{s:08x}"))
        .collect();
    row.set(
        C_SPI_SEQ,
        why.is_empty() && !expected.is_empty(),
        if why.is_empty() {
            format!(
                "every frame carries its sender's outbound SPI ({}) and sequence numbers 1..{} \
                 per SA in order",
                spis.into_iter().collect::<Vec<_>>().join(", "),
                PINGS
            )
        } else {
            why.join("; ")
        },
    );
    // what follows AH
    let mut why = Vec::new();
    for (i, f) in fr.iter().enumerate() {
        let ah_at = f
            .iter()
            .position(|l| l.starts_with("Authentication Header"));
        let after: Vec<&str> = match ah_at {
            Some(p) => f
                .iter()
                .skip(p + 1)
                .filter(|l| !l.starts_with(' ') && !l.is_empty())
                .copied()
                .collect(),
            None => Vec::new(),
        };
        let first = after.first().copied().unwrap_or("");
        let ok = match mode {
            Mode::Tunnel => {
                // the request's inner header A->B hosts, the reply's B->A
                let fwd = format!("Internet Protocol Version 4, Src: {src}, Dst: {dst}");
                let back = format!("Internet Protocol Version 4, Src: {dst}, Dst: {src}");
                (first == fwd || first == back)
                    && after
                        .get(1)
                        .is_some_and(|l| l.starts_with("Internet Control Message Protocol"))
            }
            _ => first.starts_with("Internet Control Message Protocol"),
        };
        if !ok {
            why.push(format!("frame {}: after AH {:?}", i + 1, after));
        }
    }
    let what = match mode {
        Mode::Tunnel => format!(
            "the inner IPv4 packet ({src} <-> {dst}) with its ICMP echo after AH in every frame"
        ),
        _ => "the ICMP echo right after AH in every frame".to_string(),
    };
    row.set(
        C_PAYLOAD,
        why.is_empty() && !fr.is_empty(),
        if why.is_empty() { what } else { why.join("; ") },
    );
    // expert info, and every IPv4 header checksum verified
    let checksums: Vec<bool> = fr
        .iter()
        .flat_map(|f| {
            f.iter()
                .filter(|l| l.trim().starts_with("[Header checksum status:"))
                .map(|l| l.trim() == "[Header checksum status: Good]")
        })
        .collect();
    let bad_sums = checksums.iter().filter(|g| !**g).count();
    let bad: Vec<String> = fr
        .iter()
        .enumerate()
        .flat_map(|(i, f)| {
            f.iter()
                .filter(|l| {
                    l.contains("Malformed Packet")
                        || l.contains("Expert Info (Error")
                        || l.contains("Expert Info (Warning")
                        || l.contains("[incorrect")
                })
                .map(move |l| format!("frame {}: {}", i + 1, l.trim()))
        })
        .collect();
    let ok = bad.is_empty() && !fr.is_empty() && bad_sums == 0 && !checksums.is_empty();
    row.set(
        C_CLEAN,
        ok,
        if ok {
            format!(
                "no malformed packet, no error or warning expert info; {} IPv4 header checksums \
                 verified Good",
                checksums.len()
            )
        } else {
            let mut b: Vec<String> = bad.into_iter().take(5).collect();
            b.push(format!(
                "{bad_sums} of {} IPv4 header checksums not Good",
                checksums.len()
            ));
            b.join("; ")
        },
    );
}
