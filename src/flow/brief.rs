//! What the analysis context (`analyze::rules::Ctx`) reads of a finished flow: its
//! addresses, times and state, its proxy requests, its TLS name and chain, its DNS
//! answers. The store keeps a flow's brief next to its encoding and reads it back
//! without rebuilding the flow, so the pass that gathers the context costs a fraction
//! of a pass over whole flows.

use crate::decode::tcp::conn::ConnState;
use crate::flow::record::{FlowSummary, Transport};
use crate::model::{FrameNo, Timestamp};
use crate::protocols::x509::CertInfo;
use std::net::SocketAddr;
use std::sync::Arc;

/// One flow as the analysis context sees it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FlowBrief {
    pub transport: Transport,
    #[serde(with = "crate::model::stored_addr")]
    pub client: SocketAddr,
    #[serde(with = "crate::model::stored_addr")]
    pub server: SocketAddr,
    pub state: ConnState,
    pub first_ts: Timestamp,
    pub last_ts: Timestamp,
    /// The client sent no payload byte.
    pub client_sent_nothing: bool,
    /// Some HTTP exchange was seen.
    pub http: bool,
    /// The requests only a proxy should get (CONNECT, absolute form), in order.
    pub proxy_requests: Vec<ProxyRequest>,
    pub tls: Option<TlsBrief>,
    pub dns: Vec<DnsBrief>,
    /// Some of the flow's facts are not kept with it (past `--max-facts`): this
    /// brief misses them; one made from the flow with those facts merged in does not.
    pub facts_elsewhere: bool,
}

/// A proxy request ([`HttpExchange::is_proxy_request`](crate::protocols::http::HttpExchange::is_proxy_request)).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ProxyRequest {
    pub request_ts: Option<Timestamp>,
    /// Seconds from the request's first byte to the response's first byte.
    pub response_time: Option<f64>,
    /// The request target, unless the snap length cut it short.
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub target: Option<Arc<str>>,
}

/// The handshake's name and the chain the server presented.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TlsBrief {
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub sni: Option<Arc<str>>,
    pub certificate_frame: Option<FrameNo>,
    pub established: bool,
    /// Kept by the store once per capture, like the flow's: written as their ids.
    #[serde(with = "crate::protocols::stored::certs")]
    pub certificates: Vec<CertInfo>,
}

/// A DNS query's name and answers.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DnsBrief {
    #[serde(with = "crate::protocols::stored::opt_text")]
    pub query: Option<Arc<str>>,
    #[serde(with = "crate::protocols::stored::text_list")]
    pub answers: Vec<Arc<str>>,
}

impl FlowBrief {
    /// The brief of `f`.
    pub fn of(f: &FlowSummary) -> FlowBrief {
        FlowBrief {
            transport: f.transport,
            client: f.client,
            server: f.server,
            state: f.state,
            first_ts: f.first_ts,
            last_ts: f.last_ts,
            client_sent_nothing: f.bytes[0] == 0,
            http: !f.app.http.is_empty(),
            proxy_requests: f
                .app
                .http
                .iter()
                .filter(|h| h.is_proxy_request())
                .map(|h| ProxyRequest {
                    request_ts: h.request_ts,
                    response_time: h.response_time,
                    target: h.whole_target().and(h.target.clone()),
                })
                .collect(),
            tls: f.app.tls.as_deref().map(|t| TlsBrief {
                sni: t.sni.clone(),
                certificate_frame: t.certificate_frame,
                established: t.established,
                certificates: t.certificates.clone(),
            }),
            dns: f
                .app
                .dns
                .iter()
                .map(|q| DnsBrief {
                    query: q.query.clone(),
                    answers: q.answers.clone(),
                })
                .collect(),
            facts_elsewhere: f.app.overflow.any(),
        }
    }
}
