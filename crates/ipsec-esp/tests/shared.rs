//! One ESP SA used by several threads at once: sealing through a shared `OutboundSa` never
//! gives two packets the same sequence number and stops at the maximum, and opening
//! through shared `InboundKeys` with a `SharedReplayWindow` (or a window behind the
//! caller's lock) delivers every packet once, replays and duplicates refused (RFC 4303
//! §3.3.3, §3.4.3).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::thread;

use ipsec_crypto::{RUST_CRYPTO, iana};
use ipsec_esp::{
    EspTransform, InboundKeys, InboundSa, OpenError, OutboundSa, ReplayGuard, SealError,
};
use ipsec_replay::{ReplayError, ReplayWindow, SharedReplayWindow};

const THREADS: usize = 4;
const PER_THREAD: usize = 500;
const PAYLOAD: usize = 100;

fn gcm() -> EspTransform {
    EspTransform::aead(
        RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 128).unwrap(),
        &[9; 20],
    )
    .unwrap()
}

/// The window behind a lock, held only for the check and the commit.
struct Locked(Mutex<ReplayWindow>);

impl ReplayGuard for &Locked {
    fn esn(&self) -> bool {
        self.0.lock().unwrap().esn()
    }

    fn check(&mut self, seq_low: u32) -> Result<u64, ReplayError> {
        self.0.lock().unwrap().check(seq_low)
    }

    fn commit(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.0.lock().unwrap().commit(seq)
    }
}

/// Packets sealed by `THREADS` threads at once through one SA.
fn seal_from_threads(sa: &OutboundSa) -> Vec<Vec<u8>> {
    let len = sa.packet_len(PAYLOAD);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                scope.spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| {
                            let mut buf = vec![0u8; len];
                            buf[sa.header_len()..][..PAYLOAD].fill((t * PER_THREAD + i) as u8);
                            let sealed = sa.seal(&mut buf, PAYLOAD, 59).unwrap();
                            buf.truncate(sealed);
                            buf
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

fn sequence_number(packet: &[u8]) -> u32 {
    u32::from_be_bytes(packet[4..8].try_into().unwrap())
}

#[test]
fn threads_sealing_on_one_sa_never_share_a_sequence_number() {
    let sa = OutboundSa::new(0x1234, false, gcm());
    let packets = seal_from_threads(&sa);
    let numbers: BTreeSet<u32> = packets.iter().map(|p| sequence_number(p)).collect();
    let total = (THREADS * PER_THREAD) as u32;
    assert_eq!(numbers.len(), total as usize);
    assert_eq!(numbers.first(), Some(&1));
    assert_eq!(numbers.last(), Some(&total));
    assert_eq!(sa.last_sequence_number(), u64::from(total));
}

/// The counter stops at the maximum: the last number is used once, then every packet is
/// refused and nothing wraps (RFC 4303 §3.3.3), for 32-bit and extended numbers alike.
#[test]
fn the_sequence_counter_stops_at_the_maximum() {
    for (esn, max) in [(false, u64::from(u32::MAX)), (true, u64::MAX)] {
        let sa = OutboundSa::resume(1, esn, gcm(), max - 1);
        let mut buf = vec![0u8; sa.packet_len(10)];
        sa.seal(&mut buf, 10, 59).unwrap();
        assert_eq!(sa.last_sequence_number(), max);
        for _ in 0..3 {
            assert_eq!(sa.seal(&mut buf, 10, 59), Err(SealError::SequenceExhausted));
        }
        assert_eq!(sa.last_sequence_number(), max);
    }
}

#[test]
fn threads_opening_on_one_sa_deliver_every_packet_once() {
    let sender = OutboundSa::new(0x1234, false, gcm());
    let packets = seal_from_threads(&sender);
    let keys = InboundKeys::new(0x1234, gcm());
    // Wide enough for the threads' packets to arrive out of order.
    let window = SharedReplayWindow::new(4096, false).unwrap();
    // Every packet twice: each thread opens its share and a copy of another thread's.
    let shares: Vec<Vec<Vec<u8>>> = (0..THREADS)
        .map(|t| {
            let mine = packets.iter().skip(t).step_by(THREADS);
            let other = packets.iter().skip((t + 1) % THREADS).step_by(THREADS);
            mine.zip(other)
                .flat_map(|(a, b)| [a.clone(), b.clone()])
                .collect()
        })
        .collect();
    let opened: Vec<(u64, u8)> = thread::scope(|scope| {
        let workers: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let (keys, window) = (&keys, &window);
                scope.spawn(move || {
                    let mut guard = window;
                    share
                        .into_iter()
                        .filter_map(|mut packet| match keys.open(&mut guard, &mut packet) {
                            Ok(opened) => Some((opened.sequence_number, opened.payload[0])),
                            Err(OpenError::Replayed { .. }) => None,
                            Err(other) => panic!("{other:?}"),
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let numbers: BTreeSet<u64> = opened.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        opened.len(),
        THREADS * PER_THREAD,
        "each packet delivered once"
    );
    assert_eq!(numbers.len(), THREADS * PER_THREAD);
}

/// The single-owner SA is the same code with its own window.
#[test]
fn an_inbound_sa_in_parts_opens_what_it_opened_whole() {
    let sender = OutboundSa::new(7, true, gcm());
    let mut buf = vec![0u8; sender.packet_len(PAYLOAD)];
    let len = sender.seal(&mut buf, PAYLOAD, 59).unwrap();
    let mut whole = InboundSa::new(7, ReplayWindow::new(64, true).unwrap(), gcm());
    let mut copy = buf[..len].to_vec();
    assert!(whole.open(&mut copy).is_ok());
    let (keys, mut window) =
        InboundSa::new(7, ReplayWindow::new(64, true).unwrap(), gcm()).into_parts();
    let mut copy = buf[..len].to_vec();
    assert!(keys.open(&mut window, &mut copy).is_ok());
    let mut again = buf[..len].to_vec();
    assert!(matches!(
        keys.open(&mut window, &mut again),
        Err(OpenError::Replayed { .. })
    ));
}

/// A window behind the caller's own lock serves as well.
#[test]
fn a_window_behind_a_lock_is_a_replay_guard() {
    let sender = OutboundSa::new(9, false, gcm());
    let keys = InboundKeys::new(9, gcm());
    let window = Locked(Mutex::new(ReplayWindow::new(64, false).unwrap()));
    let mut buf = vec![0u8; sender.packet_len(PAYLOAD)];
    let len = sender.seal(&mut buf, PAYLOAD, 59).unwrap();
    let mut guard = &window;
    let mut first = buf[..len].to_vec();
    assert!(keys.open(&mut guard, &mut first).is_ok());
    let mut second = buf[..len].to_vec();
    assert!(matches!(
        keys.open(&mut guard, &mut second),
        Err(OpenError::Replayed { .. })
    ));
}

/// Two copies of one packet opened one after the other (as two threads may): the second
/// is refused after its ICV verified, and its plaintext does not stay in the buffer.
#[test]
fn a_copy_refused_at_commit_leaves_no_plaintext() {
    let sender = OutboundSa::new(11, true, gcm());
    let keys = InboundKeys::new(11, gcm());
    let window = SharedReplayWindow::new(64, true).unwrap();
    let mut buf = vec![0u8; sender.packet_len(PAYLOAD)];
    buf[sender.header_len()..][..PAYLOAD].fill(0xab);
    let len = sender.seal(&mut buf, PAYLOAD, 59).unwrap();
    let mut guard = &window;
    // Both pass the check before either commits.
    let low = u32::from_be_bytes(buf[4..8].try_into().unwrap());
    assert!(guard.check(low).is_ok());
    let mut first = buf[..len].to_vec();
    assert!(keys.open(&mut guard, &mut first).is_ok());
    let mut second = buf[..len].to_vec();
    assert!(matches!(
        keys.open(&mut guard, &mut second),
        Err(OpenError::Replayed { .. })
    ));
    assert!(!second.windows(4).any(|w| w == [0xab; 4]));
}
