//! A bound on decoded facts (HTTP exchanges, DNS transactions) kept in memory across
//! all flows of one analysis, on top of each decoder's own per-flow bound.
//!
//! Lives in the flow table's [`DecodeCtx`](super::DecodeCtx), set from `--max-facts`:
//! decoders `take` one unit per fact they keep and, refused, count the fact (per flow)
//! instead of keeping it; flows only added up in the summary `give_back` theirs. A
//! default budget (unit tests, fuzzing) is unlimited.

/// Facts that may still be kept, and those refused so far.
#[derive(Clone, Debug)]
pub struct FactBudget {
    left: usize,
    denied: u64,
}

impl Default for FactBudget {
    fn default() -> Self {
        FactBudget::new(usize::MAX)
    }
}

impl FactBudget {
    /// A budget that may keep `limit` facts.
    pub fn new(limit: usize) -> Self {
        FactBudget {
            left: limit,
            denied: 0,
        }
    }

    /// Asks to keep one more fact; false (and counted) when the budget is spent.
    pub fn take(&mut self) -> bool {
        if self.left > 0 {
            self.left -= 1;
            true
        } else {
            self.denied += 1;
            false
        }
    }

    /// Asks to keep one more fact for a decoder that keeps `kept` and allows `max` per
    /// flow: false when either bound is spent. Only the budget's own refusals count in
    /// `denied`; the decoder counts every fact it does not keep.
    pub fn take_below(&mut self, kept: usize, max: usize) -> bool {
        kept < max && self.take()
    }

    /// Returns `n` facts that are no longer kept.
    pub fn give_back(&mut self, n: usize) {
        self.left = self.left.saturating_add(n);
    }

    /// Facts refused so far, all flows together.
    pub fn denied(&self) -> u64 {
        self.denied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_and_counts_past_its_limit() {
        let mut b = FactBudget::new(2);
        assert!(b.take() && b.take());
        assert!(!b.take() && !b.take());
        assert_eq!(b.denied(), 2);
        b.give_back(1);
        assert!(b.take());
    }
}
