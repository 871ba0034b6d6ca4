//! Latency per stage (guide section 5, step 1 "measure latency"): TCP handshake to the
//! proxy (SYN → SYN/ACK), CONNECT → 200, TLS ClientHello → ServerHello, and request →
//! first response byte. Read by the slow-response rule and the report's
//! `summary.latency`. Whether a flow goes to a proxy is the caller's to say (the
//! rules' context knows the proxies), so this module needs nothing from the rules.

use super::http_lines::request_line;
use crate::flow::record::FlowSummary;

/// The stages, in the order a proxied request goes through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// SYN → SYN/ACK on a connection to the proxy.
    TcpToProxy,
    /// CONNECT request → the proxy's 2xx.
    Connect,
    /// TLS ClientHello → ServerHello (through the tunnel: the proxy or the server).
    TlsHello,
    /// HTTP request's first byte → response's first byte (time to first byte).
    FirstByte,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::TcpToProxy,
        Stage::Connect,
        Stage::TlsHello,
        Stage::FirstByte,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Stage::TcpToProxy => "TCP to proxy",
            Stage::Connect => "CONNECT → 200",
            Stage::TlsHello => "ClientHello → ServerHello",
            Stage::FirstByte => "request → first byte",
        }
    }
}

/// One measured stage of one flow.
#[derive(Clone, Debug)]
pub struct Sample {
    pub stage: Stage,
    pub flow: usize,
    pub seconds: f64,
    /// The frames that start and end the stage.
    pub frames: Vec<u64>,
    /// What was measured (`POST /v1/chat/completions → 200`).
    pub what: String,
}

/// Hands every stage measured in one flow to `emit`, one at a time: a busy capture has
/// tens of thousands, and only their times are kept. `to_proxy`: the flow is a
/// connection to a proxy (its handshake is the TCP-to-proxy stage). `what` is
/// written out only for samples slower than `describe_above` seconds (it is empty for
/// the others).
pub fn flow_samples(
    to_proxy: bool,
    id: usize,
    f: &FlowSummary,
    describe_above: f64,
    emit: &mut dyn FnMut(Sample),
) {
    let describe = |seconds: f64, what: &dyn Fn() -> String| {
        if seconds > describe_above {
            what()
        } else {
            String::new()
        }
    };
    if to_proxy && let Some(rtt) = f.rtt {
        emit(Sample {
            stage: Stage::TcpToProxy,
            flow: id,
            seconds: rtt,
            frames: f
                .syn_frame
                .iter()
                .chain(&f.synack_frame)
                .map(|x| x.0)
                .collect(),
            what: describe(rtt, &|| format!("SYN → SYN/ACK with {}", f.server)),
        });
    }
    for h in &f.app.http {
        let (Some(t), Some(status)) = (h.response_time, h.status) else {
            continue;
        };
        let connect = h.method.as_deref() == Some("CONNECT");
        if connect && !(200..300).contains(&status) {
            continue;
        }
        let seconds = t.max(0.0);
        emit(Sample {
            stage: if connect {
                Stage::Connect
            } else {
                Stage::FirstByte
            },
            flow: id,
            seconds,
            frames: super::rules::exchange_frames(h),
            what: describe(seconds, &|| format!("{} → {status}", request_line(h))),
        });
    }
    if let Some(t) = &f.app.tls
        && let (Some(a), Some(b)) = (t.client_hello_ts, t.server_hello_ts)
    {
        let seconds = b.secs_since(a).max(0.0);
        emit(Sample {
            stage: Stage::TlsHello,
            flow: id,
            seconds,
            frames: t
                .client_hello_frame
                .iter()
                .chain(&t.server_hello_frame)
                .map(|x| x.0)
                .collect(),
            what: describe(seconds, &|| {
                format!(
                    "ClientHello → ServerHello{}",
                    t.sni
                        .as_deref()
                        .map(|s| format!(" for {s}"))
                        .unwrap_or_default()
                )
            }),
        });
    }
}

/// The slowest sample of a stage.
#[derive(Clone, Debug)]
pub struct Slowest {
    pub flow: usize,
    pub frames: Vec<u64>,
}

#[derive(Clone, Debug)]
pub struct StageStats {
    pub samples: usize,
    pub median_s: f64,
    pub max_s: f64,
    pub slowest: Slowest,
}

/// The flow with the longest single stage.
#[derive(Clone, Debug)]
pub struct SlowestFlow {
    pub flow: usize,
    pub stage: Stage,
    pub seconds: f64,
}

/// `summary.latency`: per stage (absent when never seen) and the slowest flow.
#[derive(Clone, Debug, Default)]
pub struct Latency {
    pub tcp_to_proxy: Option<StageStats>,
    pub connect: Option<StageStats>,
    pub tls_hello: Option<StageStats>,
    pub first_byte: Option<StageStats>,
    pub slowest_flow: Option<SlowestFlow>,
}

impl Latency {
    pub fn stage(&self, s: Stage) -> Option<&StageStats> {
        match s {
            Stage::TcpToProxy => self.tcp_to_proxy.as_ref(),
            Stage::Connect => self.connect.as_ref(),
            Stage::TlsHello => self.tls_hello.as_ref(),
            Stage::FirstByte => self.first_byte.as_ref(),
        }
    }
}

fn round(s: f64) -> f64 {
    (s * 1e6).round() / 1e6
}

/// One stage's times and its slowest sample, gathered a sample at a time.
#[derive(Default)]
struct StageAcc {
    seconds: Vec<f64>,
    slowest: Option<Sample>,
}

impl StageAcc {
    /// Keeps the time; the sample itself only if it is the slowest so far (the later
    /// of equals, as a stable sort would put last).
    fn add(&mut self, s: Sample) {
        self.seconds.push(s.seconds);
        if self
            .slowest
            .as_ref()
            .is_none_or(|b| s.seconds.total_cmp(&b.seconds).is_ge())
        {
            self.slowest = Some(s);
        }
    }

    fn stats(mut self) -> Option<StageStats> {
        let max = self.slowest?;
        let v = &mut self.seconds;
        v.sort_by(|a, b| a.total_cmp(b));
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(StageStats {
            samples: n,
            median_s: round(median),
            max_s: round(max.seconds),
            slowest: Slowest {
                flow: max.flow,
                frames: max.frames,
            },
        })
    }
}

/// `summary.latency`, gathered a sample at a time as the rules' pass hands it each flow.
#[derive(Default)]
pub struct Measure {
    acc: [StageAcc; 4],
    slowest_flow: Option<SlowestFlow>,
}

impl Measure {
    /// Adds the samples of one flow (`to_proxy`: as for [`flow_samples`]).
    pub fn add_flow(&mut self, to_proxy: bool, id: usize, f: &FlowSummary) {
        flow_samples(to_proxy, id, f, f64::INFINITY, &mut |s| self.add(s));
    }

    pub fn add(&mut self, s: Sample) {
        if self
            .slowest_flow
            .as_ref()
            .is_none_or(|b| s.seconds.total_cmp(&b.seconds).is_ge())
        {
            self.slowest_flow = Some(SlowestFlow {
                flow: s.flow,
                stage: s.stage,
                seconds: s.seconds,
            });
        }
        let i = Stage::ALL.iter().position(|&x| x == s.stage).unwrap_or(0);
        if let Some(a) = self.acc.get_mut(i) {
            a.add(s);
        }
    }

    pub fn finish(self) -> Latency {
        let Measure { acc, slowest_flow } = self;
        let [tcp_to_proxy, connect, tls_hello, first_byte] = acc;
        Latency {
            tcp_to_proxy: tcp_to_proxy.stats(),
            connect: connect.stats(),
            tls_hello: tls_hello.stats(),
            first_byte: first_byte.stats(),
            slowest_flow: slowest_flow.map(|s| SlowestFlow {
                seconds: round(s.seconds),
                ..s
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(all: &[Sample], stage: Stage) -> Option<StageStats> {
        let mut acc = StageAcc::default();
        for s in all.iter().filter(|s| s.stage == stage) {
            acc.add(s.clone());
        }
        acc.stats()
    }

    fn s(stage: Stage, flow: usize, seconds: f64) -> Sample {
        Sample {
            stage,
            flow,
            seconds,
            frames: vec![],
            what: String::new(),
        }
    }

    #[test]
    fn median_and_slowest() {
        let all = [
            s(Stage::FirstByte, 1, 0.5),
            s(Stage::FirstByte, 2, 12.0),
            s(Stage::FirstByte, 3, 1.0),
            s(Stage::Connect, 1, 0.002),
        ];
        let st = stats(&all, Stage::FirstByte).unwrap_or_else(|| unreachable!());
        assert_eq!((st.samples, st.median_s, st.max_s), (3, 1.0, 12.0));
        assert_eq!(st.slowest.flow, 2);
        assert!(stats(&all, Stage::TlsHello).is_none());
        let two = [s(Stage::Connect, 1, 1.0), s(Stage::Connect, 2, 2.0)];
        assert_eq!(stats(&two, Stage::Connect).map(|s| s.median_s), Some(1.5));
    }
}
