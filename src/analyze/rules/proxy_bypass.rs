//! Not in the guide's sections: a client that uses a proxy also tries to reach a
//! public web host directly and gets no connection (the tool ignores HTTPS_PROXY).

use super::{Ctx, flow_ev};
use crate::analyze::{Finding, Severity};
use crate::decode::flows::Transport;
use crate::decode::tcp::conn::ConnState;
use std::collections::HashSet;

pub fn check(ctx: &Ctx<'_>) -> Vec<Finding> {
    let proxy_clients: HashSet<_> = ctx
        .flows()
        .filter(|(_, f)| ctx.proxies.contains(&f.server))
        .map(|(_, f)| f.client.ip())
        .collect();
    let mut found: Option<Finding> = None;
    for (id, f) in ctx.flows() {
        if f.transport != Transport::Tcp
            || !matches!(f.server.port(), 80 | 443)
            || ctx.is_proxy(f)
            || f.server.ip().is_loopback()
            || !proxy_clients.contains(&f.client.ip())
            || !matches!(f.state, ConnState::S0 | ConnState::REJ)
        {
            continue;
        }
        let host = f.server.to_string();
        let syn = f.syn_frame.map_or(f.first_frame.0, |s| s.0);
        found
            .get_or_insert_with(|| {
                Finding::new(
                    "direct_connection_failed",
                    Severity::Warning,
                    format!("Direct connection to {host} failed while other traffic uses a proxy"),
                    "This client talks to a proxy, yet also tried to reach a web server \
                     directly, and got no connection: the tool making it ignores the proxy \
                     settings (HTTPS_PROXY / HTTP_PROXY), or its host is listed in NO_PROXY."
                        .to_string(),
                    &[("host", host.clone())],
                )
            })
            .push(flow_ev(
                id,
                f,
                vec![syn, f.last_frame.0],
                format!(
                    "{} SYN(s) to {host}, {}",
                    f.client_syns.max(1),
                    if f.state == ConnState::REJ {
                        "refused"
                    } else {
                        "never answered"
                    }
                ),
            ));
    }
    found.into_iter().collect()
}
