//! Times of day on live event lines, as tcpdump prints them: `HH:MM:SS.micro`, local
//! time.

use crate::model::Timestamp;
use std::sync::OnceLock;

/// The local time zone's offset from UTC in seconds, found once by [`init`].
static OFFSET: OnceLock<i64> = OnceLock::new();

/// Finds the local offset. Call it before threads start: the `time` crate only reads
/// the time zone in a single-threaded process (elsewhere, times are UTC).
pub fn init() {
    OFFSET.get_or_init(|| {
        time::UtcOffset::current_local_offset().map_or(0, |o| i64::from(o.whole_seconds()))
    });
}

/// `ts` as `HH:MM:SS.uuuuuu` in local time (UTC when the zone is unknown).
pub fn hms(ts: Timestamp) -> String {
    at(ts, OFFSET.get().copied().unwrap_or(0))
}

fn at(ts: Timestamp, offset: i64) -> String {
    let secs = ts.0.div_euclid(1_000_000_000).saturating_add(offset);
    let micros = ts.0.rem_euclid(1_000_000_000) / 1000;
    let day = secs.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{micros:06}",
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcpdump_style_time_of_day() {
        // 2026-12-04 14:46:43.000123 UTC
        let ts = Timestamp::from_parts(1_796_395_603, 123_456);
        assert_eq!(at(ts, 0), "14:46:43.000123");
        assert_eq!(at(ts, 3600), "15:46:43.000123");
        assert_eq!(at(ts, -15 * 3600), "23:46:43.000123");
    }
}
