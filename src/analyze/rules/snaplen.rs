//! Packets cut by the capture's snap length (`tcpdump -s 96`): what they held past the
//! cut is unknown, so the other rules conclude nothing from its absence; this one says
//! how many were cut and how to capture whole packets.

use super::{Ctx, Rule};
use crate::analyze::findings::MAX_EVIDENCE;
use crate::analyze::{Finding, FindingKind, Severity};
use crate::flow::record::FlowSummary;

/// Bytes of this flow's direction (0: client, 1: server) are unknown: cut by the snap
/// length or lost by the capture.
pub fn unseen(f: &FlowSummary, dir: usize) -> bool {
    f.snaplen_bytes.get(dir).is_some_and(|&n| n > 0) || f.gaps.get(dir).is_some_and(|&n| n > 0)
}

/// A UDP conversation in a capture with cut packets whose server sent more packets
/// than `answered` responses were read: some answers are in the cut ones.
pub fn udp_answers_cut(ctx: &Ctx<'_>, f: &FlowSummary, answered: usize) -> bool {
    ctx.capture.input.decode.snaplen_cut > 0 && f.packets[1] > answered as u64
}

#[derive(Default)]
pub struct Check {
    found: Option<Finding>,
    shown: usize,
}

impl Rule for Check {
    fn visit(&mut self, ctx: &Ctx<'_>, id: usize, f: &FlowSummary) {
        let cut = ctx.capture.input.decode.snaplen_cut;
        let bytes = f.snaplen_bytes[0] + f.snaplen_bytes[1];
        if cut == 0 || bytes == 0 || self.shown >= MAX_EVIDENCE {
            return;
        }
        let packets = ctx.capture.input.packets;
        let found = self.found.get_or_insert_with(|| {
            Finding::new(
                FindingKind::CaptureSnaplenCut,
                Severity::Info,
                format!("{cut} of {packets} packets were cut by the capture's snap length"),
                format!(
                    "The capture kept only the first bytes of {cut} packets (a snap length \
                     such as `tcpdump -s 96`): the status lines, headers, DNS answers and \
                     TLS records past the cut are missing. Nothing is concluded from what \
                     was cut — a response or a DNS answer in a cut packet is not \"no \
                     response\" — so problems may go unseen."
                ),
                &[],
            )
        });
        self.shown += 1;
        found.push(ctx.ev(
            id,
            f,
            vec![f.first_frame.0],
            format!(
                "{} bytes cut from the client's packets, {} from the server's",
                f.snaplen_bytes[0], f.snaplen_bytes[1]
            ),
            None,
        ));
    }

    fn finish(self: Box<Self>, ctx: &Ctx<'_>) -> Vec<Finding> {
        let cut = ctx.capture.input.decode.snaplen_cut;
        match self.found {
            Some(f) => vec![f],
            // Only UDP packets were cut: no TCP flow to show.
            None if cut > 0 => vec![Finding::new(
                FindingKind::CaptureSnaplenCut,
                Severity::Info,
                format!(
                    "{cut} of {} packets were cut by the capture's snap length",
                    ctx.capture.input.packets
                ),
                "The capture kept only the first bytes of these packets: what they held \
                 past the cut is missing, and nothing is concluded from it."
                    .to_string(),
                &[],
            )],
            None => Vec::new(),
        }
    }
}
