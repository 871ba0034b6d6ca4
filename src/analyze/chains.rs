//! The certificate chains servers presented (TLS ≤ 1.2 sends them in clear), one
//! entry per distinct chain and name, with which trust stores would accept each.
//! Read by the SSL-inspection rules, `--export-certs` and the report's
//! `summary.chains`.

use super::Config;
use super::trust::{self, Verdict};
use crate::flow::brief::FlowBrief;
use crate::protocols::x509::CertInfo;
use std::collections::HashMap;

/// One presented chain.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The name the client asked for (SNI), else the server's address.
    pub host: String,
    pub sni: Option<String>,
    /// 1-based flow ids that presented it.
    pub flows: Vec<usize>,
    /// Frame of the first Certificate message.
    pub frame: Option<u64>,
    /// Leaf subject and the issuer of the top certificate sent.
    pub subject: String,
    pub issuer: String,
    /// SHA-256 of each certificate, leaf first.
    pub sha256: Vec<String>,
    /// Some handshake presenting it completed.
    pub established: bool,
    /// Which stores would accept it, at capture time and for `host`.
    pub trusted_by: Vec<Verdict>,
    pub certs: Vec<CertInfo>,
}

impl Chain {
    pub fn verdict(&self, store: &str) -> Option<&Verdict> {
        self.trusted_by.iter().find(|v| v.store == store)
    }
}

/// Where each (name, chain) is in a list of chains, so finding one costs the same
/// however many there are.
pub type ChainIndex = HashMap<(String, Vec<String>), usize>;

/// Adds the chain flow `id` presented, or the flow to the chain's flows; `index` is
/// where each chain of `out` is.
pub fn add(out: &mut Vec<Chain>, index: &mut ChainIndex, id: usize, f: &FlowBrief, cfg: &Config) {
    let Some(t) = &f.tls else { return };
    let Some(leaf) = t.certificates.first() else {
        return;
    };
    let host = t
        .sni
        .as_deref()
        .map(str::to_string)
        .unwrap_or_else(|| f.server.ip().to_string());
    let sha: Vec<String> = t.certificates.iter().map(|c| c.sha256.clone()).collect();
    let key = (host, sha);
    if let Some(ch) = index.get(&key).and_then(|&i| out.get_mut(i)) {
        ch.flows.push(id);
        ch.established |= t.established;
        return;
    }
    index.insert(key.clone(), out.len());
    let (host, sha) = key;
    let at_unix = f.first_ts.0.div_euclid(1_000_000_000);
    let trusted_by = trust::verdicts(
        &t.certificates,
        t.sni.as_deref(),
        at_unix,
        cfg.system_store.as_ref(),
        cfg.ca_file.as_ref(),
    );
    out.push(Chain {
        host,
        sni: t.sni.as_deref().map(str::to_string),
        flows: vec![id],
        frame: t.certificate_frame.map(|f| f.0),
        subject: leaf.subject.clone(),
        issuer: t
            .certificates
            .last()
            .map_or_else(String::new, |c| c.issuer.clone()),
        sha256: sha,
        established: t.established,
        trusted_by,
        certs: t.certificates.clone(),
    });
}

/// Every distinct (name, chain) of several captures, in order of first appearance: each
/// capture's chains are found with its context ([`add`]), and a chain seen in two
/// captures is one chain here.
pub fn merge<'a>(parts: impl IntoIterator<Item = &'a [Chain]>) -> Vec<Chain> {
    let mut out: Vec<Chain> = Vec::new();
    let mut index = ChainIndex::new();
    for part in parts {
        for ch in part {
            let key = (ch.host.clone(), ch.sha256.clone());
            match index.get(&key).and_then(|&i| out.get_mut(i)) {
                Some(o) => {
                    o.flows.extend_from_slice(&ch.flows);
                    o.established |= ch.established;
                }
                None => {
                    index.insert(key, out.len());
                    out.push(ch.clone());
                }
            }
        }
    }
    out
}
