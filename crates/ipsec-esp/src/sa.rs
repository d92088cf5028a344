//! ESP protection for one SA, in place on the caller's buffers (RFC 4303 §3).
//!
//! An outbound packet is laid out in one buffer:
//!
//! ```text
//! | SPI | Seq | IV | payload | TFC padding | padding | Pad Length | Next Header | ICV |
//! |<-- header_len() -->|<-- the caller's -->|<------------ tail_len() ------------->|
//! ```
//!
//! The caller writes the payload at `header_len()` and leaves `tail_len(payload_len)` bytes
//! after it; [`OutboundSa::seal`] fills in the rest. [`InboundSa::open`] verifies and decrypts
//! such a packet where it lies and hands back the payload inside it. Neither allocates.

use core::sync::atomic::{AtomicU64, Ordering};
use ipsec_crypto::{AEAD_IV_LEN, CryptoError};
use ipsec_replay::{ReplayError, ReplayWindow, SharedReplayWindow};

use crate::error::{EmitError, Error};
use crate::field;
use crate::header::{EspHeaderView, HEADER_LEN};
use crate::trailer::{EspTrailer, NEXT_HEADER_DUMMY, TRAILER_LEN, check_default_padding};
use crate::transform::EspTransform;

/// Why an outbound packet could not be sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The buffer cannot hold the sealed packet.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the sealed packet needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// Every sequence number has been used: the SA must be rekeyed, never wrapped
    /// (RFC 4303 §3.3.3).
    #[error("sequence numbers exhausted; the SA must be rekeyed")]
    SequenceExhausted,
    /// The cryptographic transform failed.
    #[error("cryptographic transform failed: {0}")]
    Crypto(#[from] CryptoError),
}

/// Why an inbound packet was dropped (RFC 4303 §3.4). Each is a reason to count, never a
/// reason to end the SA; no plaintext is released with any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The packet is malformed: too short for header, IV, trailer and ICV, or a reserved SPI.
    #[error("malformed packet: {0}")]
    Malformed(#[from] Error),
    /// The ciphertext is not a whole number of cipher blocks (RFC 4303 §2.4).
    #[error("ciphertext of {len} bytes is not a whole number of {block}-byte blocks")]
    NotBlockAligned {
        /// Ciphertext length.
        len: usize,
        /// The cipher's block length.
        block: usize,
    },
    /// The packet's SPI is not this SA's.
    #[error("SPI {found:#010x} is not this SA's {expected:#010x}")]
    UnknownSpi {
        /// This SA's SPI.
        expected: u32,
        /// The packet's.
        found: u32,
    },
    /// A packet with this sequence number was already received (RFC 4303 §3.4.3).
    #[error("replayed sequence number {seq}")]
    Replayed {
        /// The full sequence number.
        seq: u64,
    },
    /// The sequence number lies left of the anti-replay window (RFC 4303 §3.4.3).
    #[error("sequence number {seq} is older than the window")]
    TooOld {
        /// The full sequence number.
        seq: u64,
    },
    /// The ICV did not verify (RFC 4303 §3.4.4).
    #[error("ICV mismatch")]
    IcvMismatch,
}

impl From<ReplayError> for OpenError {
    fn from(error: ReplayError) -> Self {
        match error {
            ReplayError::Duplicate { seq } => Self::Replayed { seq },
            ReplayError::TooOld { seq, .. } => Self::TooOld { seq },
            _ => Self::TooOld { seq: 0 },
        }
    }
}

/// The additional authenticated data of an AEAD: SPI and sequence number, with the ESN's
/// high half between them when ESN is on (RFC 4106 §5, RFC 7634 §2.1, RFC 4543 §3.2).
struct Aad {
    bytes: [u8; 12],
    len: usize,
}

impl Aad {
    fn new(spi: u32, seq: u64, esn: bool) -> Self {
        let mut bytes = [0u8; 12];
        field::set_u32(&mut bytes, 0, spi);
        if esn {
            field::set_u64(&mut bytes, 4, seq);
            Self { bytes, len: 12 }
        } else {
            field::set_u32(&mut bytes, 4, seq as u32);
            Self { bytes, len: 8 }
        }
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// The outbound half of an ESP SA: its SPI, sequence counter and keyed transform.
///
/// Sealing takes `&self`: the sequence counter is atomic, so any number of threads can
/// seal packets of one SA at once, each with a sequence number of its own (RFC 4303 §3.3.3
/// asks only that none repeats; the order they leave in is the threads' business). Needs
/// 64-bit atomics on the target.
#[derive(Debug)]
pub struct OutboundSa {
    spi: u32,
    esn: bool,
    /// The last sequence number taken; 0 before the first packet (RFC 4303 §3.3.3). It
    /// stops at the maximum.
    last_seq: AtomicU64,
    transform: EspTransform,
    /// Pad every payload to at least this many bytes with TFC padding (RFC 4303 §2.7).
    tfc_pad_to: usize,
    /// The plaintext is padded to a multiple of this (RFC 4303 §2.4).
    alignment: usize,
}

impl OutboundSa {
    /// The outbound SA with `spi` (the peer's inbound SPI), 64-bit extended sequence numbers
    /// if `esn` (RFC 4303 §2.2.1), and `transform`.
    pub fn new(spi: u32, esn: bool, transform: EspTransform) -> Self {
        Self {
            spi,
            esn,
            last_seq: AtomicU64::new(0),
            alignment: transform.default_padding_alignment(),
            transform,
            tfc_pad_to: 0,
        }
    }

    /// An outbound SA that has already sent every sequence number up to `last_seq`, for
    /// state carried over from elsewhere (a restart, a standby gateway).
    pub fn resume(spi: u32, esn: bool, transform: EspTransform, last_seq: u64) -> Self {
        Self {
            last_seq: AtomicU64::new(last_seq),
            ..Self::new(spi, esn, transform)
        }
    }

    /// Pads the plaintext to a multiple of `alignment` bytes (RFC 4303 §2.4): a power of two
    /// from 4 to 256 and a multiple of the cipher's block. The default is
    /// [`EspTransform::default_padding_alignment`]; 4 gives the shortest packets.
    pub fn set_padding_alignment(&mut self, alignment: usize) -> Result<(), EmitError> {
        if !alignment.is_power_of_two()
            || !(4..=256).contains(&alignment)
            || !alignment.is_multiple_of(self.transform.block_len().max(1))
        {
            return Err(EmitError::InvalidAlignment { alignment });
        }
        self.alignment = alignment;
        Ok(())
    }

    /// Pads every payload shorter than `len` bytes to `len` with Traffic Flow Confidentiality
    /// padding (RFC 4303 §2.7). Only for tunnel mode, where the inner IP header tells the
    /// receiver where the payload ends; only when the peer did not send
    /// ESP_TFC_PADDING_NOT_SUPPORTED (RFC 7296 §3.10.1).
    pub fn set_tfc_padding(&mut self, len: usize) {
        self.tfc_pad_to = len;
    }

    /// The SPI sent in every packet.
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// The last sequence number used; 0 before the first packet.
    pub fn last_sequence_number(&self) -> u64 {
        self.last_seq.load(Ordering::Relaxed)
    }

    /// The highest sequence number this SA may send: 2^32 - 1, or 2^64 - 1 with ESN.
    pub fn max_sequence_number(&self) -> u64 {
        if self.esn {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        }
    }

    /// Bytes before the payload: SPI, Sequence Number and IV.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.transform.iv_len()
    }

    fn padded_payload_len(&self, payload_len: usize) -> usize {
        payload_len.max(self.tfc_pad_to)
    }

    fn trailer(&self, payload_len: usize, next_header: u8) -> Result<EspTrailer, SealError> {
        EspTrailer::for_payload(
            self.padded_payload_len(payload_len),
            self.alignment,
            next_header,
        )
        .map_err(|_| {
            SealError::Crypto(CryptoError::BufferLength {
                actual: self.transform.block_len(),
                reason: "cipher block length cannot be padded to",
            })
        })
    }

    /// Bytes after a payload of `payload_len`: TFC padding, padding, Pad Length, Next Header
    /// and ICV.
    pub fn tail_len(&self, payload_len: usize) -> usize {
        let padded = self.padded_payload_len(payload_len);
        let trailer = self
            .trailer(payload_len, 0)
            .map_or(TRAILER_LEN, |t| t.buffer_len());
        (padded - payload_len) + trailer + self.transform.icv_len()
    }

    /// The whole packet's length for a payload of `payload_len` bytes.
    pub fn packet_len(&self, payload_len: usize) -> usize {
        self.header_len()
            .saturating_add(payload_len)
            .saturating_add(self.tail_len(payload_len))
    }

    /// Seals the payload of `payload_len` bytes that the caller put at
    /// `buf[header_len()..]`, and returns the packet's length from `buf[0]`.
    ///
    /// Takes the next sequence number (RFC 4303 §3.3.3), writes SPI and sequence number, an
    /// IV that never repeats under this key, TFC padding, the default padding and the
    /// trailer (§2.4 – §2.7), encrypts and appends the ICV (§3.3.2); with ESN the high half
    /// of the sequence number is authenticated but not sent (§2.2.1).
    pub fn seal(
        &self,
        buf: &mut [u8],
        payload_len: usize,
        next_header: u8,
    ) -> Result<usize, SealError> {
        let header_len = self.header_len();
        let padded = self.padded_payload_len(payload_len);
        let trailer = self.trailer(payload_len, next_header)?;
        let icv_len = self.transform.icv_len();
        let plaintext_end = header_len
            .saturating_add(padded)
            .saturating_add(trailer.buffer_len());
        let total = plaintext_end.saturating_add(icv_len);
        if buf.len() < total {
            return Err(SealError::BufferTooSmall {
                needed: total,
                available: buf.len(),
            });
        }
        let packet = buf.get_mut(..total).ok_or(SealError::BufferTooSmall {
            needed: total,
            available: 0,
        })?;
        if let Some(tfc) = packet.get_mut(header_len + payload_len..header_len + padded) {
            tfc.fill(0);
        }
        trailer
            .emit(field::rest_mut(packet, header_len + padded))
            .map_err(|_| SealError::BufferTooSmall {
                needed: total,
                available: total,
            })?;
        // Taken last, once nothing else can fail before the packet is protected: a number
        // is spent only on a packet that goes out (or on a crypto failure).
        let seq = self.next_sequence_number()?;
        field::set_u32(packet, 0, self.spi);
        field::set_u32(packet, 4, seq as u32);
        self.protect(packet, seq, plaintext_end)?;
        Ok(total)
    }

    /// Takes the next sequence number (RFC 4303 §3.3.3): never one already taken, never
    /// past the maximum (the SA must be rekeyed then, not wrapped).
    fn next_sequence_number(&self) -> Result<u64, SealError> {
        let max = self.max_sequence_number();
        let next = |last: u64| last.checked_add(1).filter(|seq| *seq <= max);
        self.last_seq
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, next)
            .ok()
            .and_then(next)
            .ok_or(SealError::SequenceExhausted)
    }

    /// Seals a dummy packet of `len` payload bytes, which the receiver discards (Next Header
    /// 59, RFC 4303 §2.6); the caller fills the payload with whatever it likes.
    pub fn seal_dummy(&self, buf: &mut [u8], len: usize) -> Result<usize, SealError> {
        self.seal(buf, len, NEXT_HEADER_DUMMY)
    }

    /// Writes the IV, encrypts `packet[header_len..plaintext_end]` and appends the ICV.
    fn protect(&self, packet: &mut [u8], seq: u64, plaintext_end: usize) -> Result<(), SealError> {
        match &self.transform {
            EspTransform::Aead(aead) => {
                // The IV is the sequence number: unique per key because the counter never
                // wraps (RFC 4106 §3.1 allows a counter).
                let iv = seq.to_be_bytes();
                field::put(packet, HEADER_LEN, &iv);
                let aad = Aad::new(self.spi, seq, self.esn);
                let body = field::rest_mut(packet, HEADER_LEN + AEAD_IV_LEN);
                aead.seal_in_place(&iv, aad.as_slice(), body)?;
            }
            EspTransform::CipherIntegrity { cipher, integrity } => {
                let iv_len = cipher.spec().iv_len;
                let (head, rest) = packet.split_at_mut(HEADER_LEN);
                let (iv, body) = rest.split_at_mut(iv_len);
                // A counter-mode IV is the sequence number, unique per key (RFC 3686 §3.1). A
                // CBC IV is the cipher applied to the sequence number under the SA's key:
                // unpredictable without the key, as RFC 3602 §2.3 requires (NIST SP 800-38A
                // App. C, first method).
                if !iv.is_empty() {
                    iv.fill(0);
                    field::put(iv, 0, &seq.to_be_bytes());
                    if !cipher.spec().unique_iv {
                        let zero = [0u8; 16];
                        cipher.encrypt_in_place(zero.get(..iv_len).unwrap_or_default(), iv)?;
                    }
                }
                let (ciphertext, icv) = body.split_at_mut(plaintext_end - HEADER_LEN - iv_len);
                cipher.encrypt_in_place(iv, ciphertext)?;
                let high = ((seq >> 32) as u32).to_be_bytes();
                let esn_high: &[u8] = if self.esn { &high } else { &[] };
                integrity.compute(&[head, iv, ciphertext, esn_high], icv)?;
            }
        }
        Ok(())
    }
}

/// An opened packet: where its payload lies in the caller's buffer and what it is.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened<'a> {
    /// The payload, decrypted in place (TFC padding, if any, still at its end).
    pub payload: &'a mut [u8],
    /// Next Header: the IP protocol number of the payload (RFC 4303 §2.6).
    pub next_header: u8,
    /// The full (ESN-inferred) sequence number.
    pub sequence_number: u64,
}

impl Opened<'_> {
    /// A dummy packet (Next Header 59), to be discarded silently (RFC 4303 §2.6).
    pub fn is_dummy(&self) -> bool {
        self.next_header == NEXT_HEADER_DUMMY
    }
}

/// The anti-replay window an inbound SA consults while it opens a packet (RFC 4303
/// §3.4.3): once before the ICV is checked, to drop a replay cheaply, and once after the
/// packet proved authentic, to mark it received. [`ReplayWindow`] is one, for a single
/// owner ([`InboundSa::open`]); a reference to a [`SharedReplayWindow`] is one for threads
/// that open packets of one SA at once ([`InboundKeys::open`]), without a lock; a window
/// behind the caller's own lock can be one too, held for the two calls only, never for
/// the ICV check or decryption.
pub trait ReplayGuard {
    /// Whether the SA uses 64-bit extended sequence numbers (RFC 4303 §2.2.1): the window
    /// infers the high half, and the ICV covers it, by the same setting.
    fn esn(&self) -> bool;
    /// The full sequence number of a packet carrying `seq_low`, if it is not a replay and
    /// not too old (with ESN, the high half inferred, RFC 4303 Appendix A).
    fn check(&mut self, seq_low: u32) -> Result<u64, ReplayError>;
    /// Marks `seq` as received; refuses it if it was meanwhile (another thread opened the
    /// same packet).
    fn commit(&mut self, seq: u64) -> Result<(), ReplayError>;
}

impl ReplayGuard for ReplayWindow {
    fn esn(&self) -> bool {
        ReplayWindow::esn(self)
    }

    fn check(&mut self, seq_low: u32) -> Result<u64, ReplayError> {
        ReplayWindow::check(self, seq_low)
    }

    fn commit(&mut self, seq: u64) -> Result<(), ReplayError> {
        ReplayWindow::commit(self, seq)
    }
}

impl ReplayGuard for &SharedReplayWindow {
    fn esn(&self) -> bool {
        SharedReplayWindow::esn(self)
    }

    fn check(&mut self, seq_low: u32) -> Result<u64, ReplayError> {
        SharedReplayWindow::check(self, seq_low)
    }

    fn commit(&mut self, seq: u64) -> Result<(), ReplayError> {
        SharedReplayWindow::commit(self, seq)
    }
}

/// The inbound half of an ESP SA without its anti-replay window: its SPI and its keyed
/// transform. Opening takes `&self` and the window apart, so that threads can share one
/// SA; whether sequence numbers are extended is the window's setting, so the inferred high
/// half and the one the ICV covers cannot disagree.
#[derive(Debug)]
pub struct InboundKeys {
    spi: u32,
    transform: EspTransform,
}

/// The inbound half of an ESP SA: its SPI, anti-replay window and keyed transform.
#[derive(Debug)]
pub struct InboundSa {
    keys: InboundKeys,
    window: ReplayWindow,
}

impl InboundSa {
    /// The inbound SA with `spi` (the one this side chose), `window` (whose ESN setting is
    /// the SA's) and `transform`.
    pub fn new(spi: u32, window: ReplayWindow, transform: EspTransform) -> Self {
        Self {
            keys: InboundKeys::new(spi, transform),
            window,
        }
    }

    /// The SPI packets for this SA carry.
    pub fn spi(&self) -> u32 {
        self.keys.spi
    }

    /// The anti-replay window.
    pub fn window(&self) -> &ReplayWindow {
        &self.window
    }

    /// The keys and the window apart, for a data plane that shares the keys between threads
    /// and keeps the window behind a lock.
    pub fn into_parts(self) -> (InboundKeys, ReplayWindow) {
        (self.keys, self.window)
    }

    /// Verifies and decrypts the ESP packet `packet` (starting at the SPI) in place
    /// (RFC 4303 §3.4): SPI, replay check before the ICV (§3.4.3), ICV (§3.4.4) before any
    /// plaintext is released, decryption, padding check (§2.4), and only then the replay
    /// window moves.
    pub fn open<'a>(&mut self, packet: &'a mut [u8]) -> Result<Opened<'a>, OpenError> {
        self.keys.open(&mut self.window, packet)
    }
}

impl InboundKeys {
    /// The keys of the inbound SA with `spi` and `transform`.
    pub fn new(spi: u32, transform: EspTransform) -> Self {
        Self { spi, transform }
    }

    /// The SPI packets for this SA carry.
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// As [`InboundSa::open`], with the SA's anti-replay window `window` (RFC 4303 §3.4):
    /// consulted before the ICV and moved only after the packet proved authentic and well
    /// formed.
    pub fn open<'a, W: ReplayGuard + ?Sized>(
        &self,
        window: &mut W,
        packet: &'a mut [u8],
    ) -> Result<Opened<'a>, OpenError> {
        let view = EspHeaderView::new_checked(&*packet)?;
        let (spi, seq_low) = (view.spi(), view.sequence_number());
        if spi != self.spi {
            return Err(OpenError::UnknownSpi {
                expected: self.spi,
                found: spi,
            });
        }
        let iv_len = self.transform.iv_len();
        let icv_len = self.transform.icv_len();
        let minimum = HEADER_LEN + iv_len + TRAILER_LEN + icv_len;
        if packet.len() < minimum {
            return Err(Error::Truncated {
                what: crate::error::Structure::Header,
                needed: minimum,
                available: packet.len(),
            }
            .into());
        }
        let esn = window.esn();
        let seq = window.check(seq_low)?;
        let plaintext_len = match &self.transform {
            EspTransform::Aead(aead) => {
                let aad = Aad::new(spi, seq, esn);
                let (head, body) = packet.split_at_mut(HEADER_LEN + AEAD_IV_LEN);
                let iv: [u8; AEAD_IV_LEN] = head
                    .get(HEADER_LEN..)
                    .and_then(|iv| iv.try_into().ok())
                    .unwrap_or_default();
                aead.open_in_place(&iv, aad.as_slice(), body)
                    .map_err(|_| OpenError::IcvMismatch)?;
                body.len() - icv_len
            }
            EspTransform::CipherIntegrity { cipher, integrity } => {
                let block = cipher.spec().block_len;
                let (head, rest) = packet.split_at_mut(HEADER_LEN);
                let (iv, body) = rest.split_at_mut(iv_len);
                let (ciphertext, icv) = body.split_at_mut(body.len() - icv_len);
                if !ciphertext.len().is_multiple_of(block.max(1)) {
                    return Err(OpenError::NotBlockAligned {
                        len: ciphertext.len(),
                        block,
                    });
                }
                let high = ((seq >> 32) as u32).to_be_bytes();
                let esn_high: &[u8] = if esn { &high } else { &[] };
                integrity
                    .verify(&[head, iv, ciphertext, esn_high], icv)
                    .map_err(|_| OpenError::IcvMismatch)?;
                cipher
                    .decrypt_in_place(iv, ciphertext)
                    .map_err(|_| OpenError::IcvMismatch)?;
                ciphertext.len()
            }
        };
        let start = HEADER_LEN + iv_len;
        let plaintext = packet
            .get_mut(start..start + plaintext_len)
            .unwrap_or_default();
        let checked = crate::trailer::EspPlaintextView::new_checked(&*plaintext).and_then(|view| {
            check_default_padding(view.padding())?;
            Ok((view.payload().len(), view.trailer()))
        });
        let (payload_len, trailer) = match checked {
            Ok(found) => found,
            Err(error) => {
                // Authentic but malformed: still no plaintext leaves.
                plaintext.fill(0);
                return Err(error.into());
            }
        };
        if let Err(replayed) = window.commit(seq) {
            // Another thread opened the same packet first: no second copy of the
            // plaintext leaves either.
            plaintext.fill(0);
            return Err(replayed.into());
        }
        Ok(Opened {
            payload: plaintext.get_mut(..payload_len).unwrap_or_default(),
            next_header: trailer.next_header,
            sequence_number: seq,
        })
    }
}
