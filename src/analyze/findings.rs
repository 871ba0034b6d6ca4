//! What a rule concluded: a finding with its evidence and the remedy adapted to it.

use super::FindingKind;

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
    /// Steps adapted to what was seen.
    pub remedy: Vec<String>,
}

/// Pieces of evidence kept per finding.
pub const MAX_EVIDENCE: usize = 50;

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
            remedy: crate::remedies::remedy(kind, vars),
        }
    }

    /// Adds one piece of evidence, recording its flow.
    pub fn with(mut self, ev: Evidence) -> Finding {
        self.push(ev);
        self
    }

    pub fn push(&mut self, ev: Evidence) {
        if let Some(f) = ev.flow {
            // Flows mostly come in order: only look back when this one does not.
            let new = self.flows.last().is_none_or(|&l| l < f) || !self.flows.contains(&f);
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
