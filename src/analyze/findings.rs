//! What a rule concluded: a finding with its evidence and the remedy adapted to it.

use super::FindingKind;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashSet};

/// How bad a finding is. `Error` makes `analyze` exit with code 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
            Severity::Info => "INFO",
        }
    }
}

/// One fact from the wire that supports a finding.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// 1-based flow id, as in the report's `flows[].id`.
    pub flow: Option<usize>,
    /// 1-based frame numbers as Wireshark shows them.
    pub frames: Vec<u64>,
    /// Seconds from the capture's first packet to when the connection (or, for HTTP,
    /// the request) began.
    pub at: Option<f64>,
    /// What was seen: the status line, header, alert or certificate issuer.
    pub seen: String,
    /// Wireshark display filter selecting the packets.
    pub display_filter: Option<String>,
}

/// A problem (or notable fact) found in a capture.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What the finding is about (its stable snake_case id: `trafficdoc explain ID`).
    pub kind: FindingKind,
    pub severity: Severity,
    /// Section 1-7 of the corporate proxy troubleshooting guide, if it covers this.
    pub guide_section: Option<u8>,
    pub title: String,
    pub explanation: String,
    /// 1-based flow ids involved.
    pub flows: Vec<usize>,
    /// The first [`MAX_EVIDENCE`] pieces of evidence; `flows` still names every flow.
    pub evidence: Vec<Evidence>,
    /// Evidence past the first [`MAX_EVIDENCE`], counted: a problem repeated on
    /// thousands of connections needs examples, not thousands of lines (and memory
    /// stays bounded on big captures).
    pub evidence_omitted: usize,
    /// Other targets (proxies, names) with this same finding, folded into it past
    /// [`MAX_TARGETS`] separate ones: their flows are in `flows`, their evidence
    /// in `evidence` and `evidence_omitted`.
    pub more_targets: usize,
    /// Steps adapted to what was seen.
    pub remedy: Vec<String>,
    /// `flows` as a set, built once a flow comes out of order (then looking through
    /// `flows` for each new one would cost as much as all of them).
    flow_set: Option<HashSet<usize>>,
}

/// Pieces of evidence kept per finding.
pub const MAX_EVIDENCE: usize = 50;

/// Separate findings of one kind per capture, one per target (a proxy, a name): a
/// scan of a whole network, or a flood of lookups for random names, is one problem
/// with many targets, not thousands of findings.
pub const MAX_TARGETS: usize = 8;

impl Finding {
    /// A finding of `kind`, with section and remedy from the catalog filled with `vars`.
    pub fn new(
        kind: FindingKind,
        severity: Severity,
        title: String,
        explanation: String,
        vars: &[(&str, String)],
    ) -> Finding {
        Finding {
            kind,
            severity,
            guide_section: crate::remedies::section(kind),
            title,
            explanation,
            flows: Vec::new(),
            evidence: Vec::new(),
            evidence_omitted: 0,
            more_targets: 0,
            remedy: crate::remedies::remedy(kind, vars),
            flow_set: None,
        }
    }

    /// Adds one piece of evidence, recording its flow.
    pub fn with(mut self, ev: Evidence) -> Finding {
        self.push(ev);
        self
    }

    /// Adds one piece of evidence, its frames in ascending order (as Wireshark lists
    /// them), recording its flow.
    pub fn push(&mut self, mut ev: Evidence) {
        ev.frames.sort_unstable();
        ev.frames.dedup();
        if let Some(f) = ev.flow {
            // Flows mostly come in order: only look back when this one does not.
            let new = match self.flows.last() {
                Some(&l) if l == f => false,
                Some(&l) if l > f => self
                    .flow_set
                    .get_or_insert_with(|| self.flows.iter().copied().collect())
                    .insert(f),
                _ => {
                    if let Some(set) = self.flow_set.as_mut() {
                        set.insert(f);
                    }
                    true
                }
            };
            if new {
                self.flows.push(f);
            }
        }
        if self.evidence.len() < MAX_EVIDENCE {
            self.evidence.push(ev);
        } else {
            self.evidence_omitted += 1;
        }
    }
}

/// Findings of one kind, one per target, listed in target order; past
/// [`MAX_TARGETS`] targets every further one goes to one more finding (made for the
/// first of them) that counts them in `more_targets`.
#[derive(Default)]
pub struct PerTarget {
    kept: BTreeMap<String, Finding>,
    rest: Option<Finding>,
    rest_targets: HashSet<String>,
}

impl PerTarget {
    /// The finding for `target`: its own, made by `make` if it has none yet, or the
    /// one for the targets past [`MAX_TARGETS`]. None when `make` makes none.
    pub fn finding(
        &mut self,
        target: &str,
        make: impl FnOnce() -> Option<Finding>,
    ) -> Option<&mut Finding> {
        if self.kept.contains_key(target) || self.kept.len() < MAX_TARGETS {
            return match self.kept.entry(target.to_string()) {
                Entry::Occupied(o) => Some(o.into_mut()),
                Entry::Vacant(v) => Some(v.insert(make()?)),
            };
        }
        if self.rest.is_none() {
            self.rest = Some(make()?);
        }
        if !self.rest_targets.contains(target) {
            self.rest_targets.insert(target.to_string());
        }
        self.rest.as_mut()
    }

    /// Each target's own finding, to amend once every flow was seen (not the one for
    /// the targets past [`MAX_TARGETS`]).
    pub fn kept_mut(&mut self) -> impl Iterator<Item = (&str, &mut Finding)> {
        self.kept.iter_mut().map(|(k, f)| (k.as_str(), f))
    }

    /// The findings, one per target, then the one for the rest.
    pub fn into_findings(self) -> impl Iterator<Item = Finding> {
        let more = self.rest_targets.len().saturating_sub(1);
        let rest = self.rest.map(|mut f| {
            if more > 0 {
                f.more_targets = more;
                f.title = format!("{} (and {more} more like it)", f.title);
            }
            f
        });
        self.kept.into_values().chain(rest)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn evidence_frames_are_listed_in_ascending_order_once_each() {
        let kind = *FindingKind::ALL.first().unwrap();
        let f = Finding::new(kind, Severity::Error, "t".into(), "e".into(), &[]).with(Evidence {
            flow: Some(1),
            frames: vec![93, 87, 89, 87],
            ..Evidence::default()
        });
        assert_eq!(f.evidence[0].frames, vec![87, 89, 93]);
    }
}
