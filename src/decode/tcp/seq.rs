//! TCP sequence numbers: 32 bits that wrap around (RFC 9293 3.4), compared and
//! subtracted modulo 2^32. Modelled on smoltcp's `TcpSeqNumber`.

use std::cmp::Ordering;
use std::ops::{Add, Sub};

/// A sequence or acknowledgement number.
///
/// Ordering is by wrapping distance: `a < b` when `b` lies less than 2^31 after `a`,
/// so a stream crossing 2^32 keeps its order. That order is not total (numbers 2^31
/// apart compare either way), hence only `PartialOrd`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNo(pub u32);

impl Add<usize> for SeqNo {
    type Output = SeqNo;

    /// The number `n` bytes later, modulo 2^32.
    fn add(self, n: usize) -> SeqNo {
        SeqNo(self.0.wrapping_add(n as u32))
    }
}

impl Sub for SeqNo {
    type Output = i32;

    /// Signed distance from `rhs` to `self`, modulo 2^32.
    fn sub(self, rhs: SeqNo) -> i32 {
        self.0.wrapping_sub(rhs.0) as i32
    }
}

impl PartialOrd for SeqNo {
    fn partial_cmp(&self, other: &SeqNo) -> Option<Ordering> {
        Some((*self - *other).cmp(&0))
    }
}

impl std::fmt::Display for SeqNo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_order_wrap_around() {
        let near_end = SeqNo(u32::MAX - 1);
        let after = near_end + 4;
        assert_eq!(after, SeqNo(2));
        assert_eq!(after - near_end, 4);
        assert_eq!(near_end - after, -4);
        assert!(near_end < after);
        assert!(after > near_end);
        assert!(SeqNo(5) <= SeqNo(5));
        // More than 2^31 ahead reads as behind.
        assert!(SeqNo(0) + (1usize << 31) + 1 < SeqNo(0));
    }
}
