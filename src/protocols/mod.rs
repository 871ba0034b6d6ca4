//! Application-protocol decoders fed by TCP reassembly (and UDP datagrams for DNS).
//!
//! Sits between `decode::tcp` (which delivers ordered bytes per direction, each chunk
//! tagged with the frame it came from) and `analyze` (which turns facts into findings).
//! Decoders state facts only; they never decide what is wrong.
//!
//! Contract with reassembly, per TCP connection:
//! - `StreamDecoder::new(client_port, server_port)` when the connection is created;
//! - `on_data(dir, bytes, frame, ts)` for each in-order chunk (a chunk never spans frames);
//! - `on_gap(dir, len)` where bytes were lost (the stream continues after the hole);
//! - `wants_data()` lets reassembly stop buffering once nothing more will be decoded
//!   (e.g. TLS application data after a completed handshake);
//! - `finish()` once, at the end, yields the flow's `AppFacts`.

use crate::model::{Dir, FrameNo, Timestamp};
use serde::Serialize;

/// Facts decoded from one TCP connection's payload.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AppFacts {
    /// Decode problems (malformed or truncated messages), in order seen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Per-connection decoder: recognises the protocol by content and dispatches.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    facts: AppFacts,
}

impl StreamDecoder {
    pub fn new(_client_port: u16, _server_port: u16) -> Self {
        StreamDecoder::default()
    }

    pub fn on_data(&mut self, _dir: Dir, _data: &[u8], _frame: FrameNo, _ts: Timestamp) {}

    pub fn on_gap(&mut self, _dir: Dir, _len: u64) {}

    /// False once nothing more will be learned from further bytes in `dir`.
    pub fn wants_data(&self, _dir: Dir) -> bool {
        false
    }

    pub fn finish(self) -> AppFacts {
        self.facts
    }
}

/// One line of what the decoders learned about a flow, for the human table.
pub fn summary(_facts: &AppFacts) -> String {
    String::new()
}
