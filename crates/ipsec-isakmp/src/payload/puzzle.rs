//! Client puzzles (RFC 8019 §8): the PUZZLE notification's data and the Puzzle Solution
//! payload.

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_room};
use crate::field;
use crate::registry::PrfId;

/// Keys in every puzzle solution (RFC 8019 §7.1.3: "find the four different keys").
pub const PUZZLE_KEYS: usize = 4;

/// The data of a PUZZLE notification (RFC 8019 §8.1): the PRF to solve the puzzle with and
/// the difficulty, the trailing zero bits each result must have (0: as many as the
/// initiator can afford, §7.1.1.1).
///
/// ```text
///  0                   1                   2
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |              PRF              |  Difficulty   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PuzzleRequest {
    /// The PRF transform ID (RFC 7296 §3.3.2, Transform Type 2).
    pub prf: PrfId,
    /// Trailing zero bits each of the four results must have.
    pub difficulty: u8,
}

impl PuzzleRequest {
    /// Length of the notification data.
    pub const LEN: usize = 3;

    /// Decodes the notification data, which must be exactly three octets.
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        let [prf_high, prf_low, difficulty] =
            <[u8; Self::LEN]>::try_from(data).map_err(|_| Error::InvalidField {
                what: Structure::Notify,
                field: "PUZZLE data length",
                value: u32::try_from(data.len()).unwrap_or(u32::MAX),
            })?;
        Ok(Self {
            prf: PrfId::from(u16::from_be_bytes([prf_high, prf_low])),
            difficulty,
        })
    }

    /// The notification data.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let [high, low] = self.prf.value().to_be_bytes();
        [high, low, self.difficulty]
    }
}

/// A Puzzle Solution payload, PS (RFC 8019 §8.2): four different keys of one length for the
/// puzzle's PRF, concatenated.
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                     Puzzle Solution Data                      ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PuzzleSolution {
    /// The four keys, each `data.len() / 4` octets.
    pub data: Vec<u8>,
}

impl PuzzleSolution {
    /// Decodes a payload body: not empty, and a whole number of four equal keys
    /// (RFC 8019 §8.2).
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        if body.is_empty() || !body.len().is_multiple_of(PUZZLE_KEYS) {
            return Err(Error::InvalidField {
                what: Structure::PuzzleSolution,
                field: "Puzzle Solution Data length",
                value: u32::try_from(body.len()).unwrap_or(u32::MAX),
            });
        }
        Ok(Self {
            data: body.to_vec(),
        })
    }

    /// The solution of `keys`, which must be four of one length.
    pub fn from_keys(keys: &[&[u8]; PUZZLE_KEYS]) -> Self {
        Self {
            data: keys.concat(),
        }
    }

    /// The keys, in order (none if the data is not four keys of one non-zero length).
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        let len = self.data.len() / PUZZLE_KEYS;
        let whole = len > 0 && self.data.len().is_multiple_of(PUZZLE_KEYS);
        self.data.chunks(len.max(1)).filter(move |_| whole)
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        self.data.len()
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        field::put(buf, 0, &self.data);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// RFC 8019 §8.1 with HMAC-SHA2-256 (5) and 8 bits: `00 05 08`.
    #[test]
    fn puzzle_data_round_trips() {
        let request = PuzzleRequest::parse(&[0, 5, 8]).unwrap();
        assert_eq!(request.prf, PrfId::HmacSha2_256);
        assert_eq!(request.difficulty, 8);
        assert_eq!(request.to_bytes(), [0, 5, 8]);
        assert!(PuzzleRequest::parse(&[0, 5]).is_err());
        assert!(PuzzleRequest::parse(&[0, 5, 8, 0]).is_err());
    }

    #[test]
    fn a_solution_is_four_keys_of_one_length() {
        let solution = PuzzleSolution::parse(&[0, 0xdd, 1, 0xd0, 2, 0x1d, 2, 0xbf]).unwrap();
        let keys: Vec<&[u8]> = solution.keys().collect();
        assert_eq!(keys, [&[0, 0xdd][..], &[1, 0xd0], &[2, 0x1d], &[2, 0xbf]]);
        assert!(PuzzleSolution::parse(&[]).is_err());
        assert!(PuzzleSolution::parse(&[1, 2, 3]).is_err());
        assert!(PuzzleSolution::parse(&[1, 2, 3, 4, 5]).is_err());
        let odd = PuzzleSolution {
            data: alloc::vec![1, 2, 3],
        };
        assert_eq!(odd.keys().count(), 0);
    }
}
