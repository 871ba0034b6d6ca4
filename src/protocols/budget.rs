//! A bound on decoded facts (HTTP exchanges, DNS transactions) kept in memory across
//! all flows of one analysis, on top of each decoder's own per-flow bound.
//!
//! Per-thread, like the analysis itself: `FlowTable::new` sets it from `--max-facts`;
//! decoders `take` one unit per fact they keep and, refused, count the fact instead of
//! keeping it (a fact refused by a decoder's own per-flow bound is counted the same
//! way, through `take_below`, so every fact not kept shows in `facts_not_kept`); flows
//! only added up in the summary `give_back` theirs. Outside an analysis (unit tests,
//! fuzzing) it is unlimited.

use std::cell::Cell;

thread_local! {
    static LEFT: Cell<usize> = const { Cell::new(usize::MAX) };
    static DENIED: Cell<u64> = const { Cell::new(0) };
}

/// Starts an analysis that may keep `limit` facts.
pub fn reset(limit: usize) {
    LEFT.set(limit);
    DENIED.set(0);
}

/// Asks to keep one more fact; false (and counted) when the budget is spent.
pub fn take() -> bool {
    let left = LEFT.get();
    if left > 0 {
        LEFT.set(left - 1);
        true
    } else {
        DENIED.set(DENIED.get() + 1);
        false
    }
}

/// Asks to keep one more fact where `kept` are kept and a decoder's own bound allows
/// `max`: false, and counted like a refusal of the budget, when either is spent.
pub fn take_below(kept: usize, max: usize) -> bool {
    if kept >= max {
        refuse();
        return false;
    }
    take()
}

/// Counts a fact a decoder's own bound did not let it keep.
pub fn refuse() {
    DENIED.set(DENIED.get() + 1);
}

/// Returns `n` facts that are no longer kept.
pub fn give_back(n: usize) {
    LEFT.set(LEFT.get().saturating_add(n));
}

/// Facts refused since the last `reset`.
pub fn denied() -> u64 {
    DENIED.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_and_counts_past_its_limit() {
        reset(2);
        assert!(take() && take());
        assert!(!take() && !take());
        assert_eq!(denied(), 2);
        give_back(1);
        assert!(take());
        reset(usize::MAX);
    }
}
