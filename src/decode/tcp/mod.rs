//! TCP: connection state (Zeek's `conn_state` and `history`) and stream reassembly.
//!
//! `conn` follows both endpoints through the handshake, data, FIN and RST exactly as
//! Zeek's TCP analyzer does, so the states we print are the ones network people already
//! read in `conn.log`. `reassembly` turns segments into ordered bytes for the protocol
//! decoders, with bounded buffers; `seq` is the wrapping sequence-number type both use.

pub mod conn;
pub mod reassembly;
pub mod seq;

pub use conn::{ConnState, TcpConn};
pub use reassembly::{Limits, Reassembler, StreamSink};
pub use seq::SeqNo;
