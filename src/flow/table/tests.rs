use super::*;
use crate::decode::ip::TcpFlags;
use crate::decode::tcp::SeqNo;

fn seg(sport: u16, seq: u32, flags: u8, payload: &[u8]) -> TcpSegment<'_> {
    TcpSegment {
        src_port: sport,
        dst_port: 8080,
        seq: SeqNo(seq),
        ack: SeqNo(1),
        flags: TcpFlags(flags),
        window: 1000,
        payload,
        wire_len: payload.len() as u32,
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn global_buffer_cap_sheds_and_marks_the_flow_partial() {
    let cfg = TableConfig {
        max_total_buffered: 150,
        ..TableConfig::default()
    };
    let mut t = FlowTable::new(cfg);
    let server = addr("10.0.0.1:8080");
    let data = [7u8; 100];
    for (i, port) in [40000u16, 40001].into_iter().enumerate() {
        let c = SocketAddr::new(addr("10.0.0.2:1").ip(), port);
        let f = FrameNo(i as u64 * 2 + 1);
        t.tcp(
            c,
            server,
            &seg(port, 0, TcpFlags::SYN, &[]),
            f,
            Timestamp(0),
            60,
        );
        // Data far above the next expected byte: held, waiting for the hole.
        t.tcp(
            c,
            server,
            &seg(port, 1000, TcpFlags::ACK, &data),
            FrameNo(f.0 + 1),
            Timestamp(0),
            160,
        );
    }
    assert!(t.buffered() <= 150, "held {}", t.buffered());
    let flows: Vec<FlowSummary> = t.finish().0.listed.iter().collect();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].cap_hits, [0, 0]);
    assert_eq!(flows[1].cap_hits, [1, 0]);
    assert_eq!(flows[1].gaps[0], 1);
}

/// SYN, then RST from the server: a refused attempt, closed at once.
fn refused(t: &mut FlowTable, port: u16, frame: u64, ts: i64) {
    let server = addr("10.0.0.1:8080");
    let c = SocketAddr::new(addr("10.0.0.2:1").ip(), port);
    t.tcp(
        c,
        server,
        &seg(port, 0, TcpFlags::SYN, &[]),
        FrameNo(frame),
        Timestamp(ts),
        60,
    );
    let mut rst = seg(8080, 0, TcpFlags::RST | TcpFlags::ACK, &[]);
    rst.src_port = 8080;
    rst.dst_port = port;
    t.tcp(server, c, &rst, FrameNo(frame + 1), Timestamp(ts), 60);
}

#[test]
fn closed_connections_leave_after_the_linger_time_or_frames() {
    let cfg = TableConfig {
        linger_frames: 1_000,
        ..TableConfig::default()
    };
    // Many frames in no time (generated timestamps): the frame count ends the
    // linger.
    let mut t = FlowTable::new(cfg);
    refused(&mut t, 30000, 1, 0);
    for i in 0..2_000u64 {
        refused(&mut t, 31000 + i as u16, 3 + 2 * i, 0);
    }
    // Frames up to 4,002: the last sweep (every 250 frames) let go of the ones
    // closed more than 1,000 frames before it.
    assert!(t.open_flows() < 800, "{} open", t.open_flows());
    let flows: Vec<FlowSummary> = t.finish().0.listed.iter().collect();
    assert_eq!(
        flows.len(),
        2_001,
        "each attempt is one flow, none split or lost"
    );
    assert!(
        flows
            .iter()
            .all(|f| f.state == ConnState::REJ && f.packets == [1, 1])
    );
    // Few frames over a long time: the linger time ends it, as before.
    let mut t = FlowTable::new(cfg);
    refused(&mut t, 30000, 1, 0);
    refused(&mut t, 30001, 3, 4_000_000_000);
    assert_eq!(t.open_flows(), 2, "within 5 s nothing leaves");
    refused(&mut t, 30002, 5, 11_000_000_000);
    assert_eq!(t.open_flows(), 1, "10 s on, both earlier ones left");
    // An open connection stays however many frames go by.
    let mut t = FlowTable::new(cfg);
    syn_flood(&mut t, 1);
    for i in 0..3_000u64 {
        refused(&mut t, 40000 + (i % 1000) as u16, 10 + 2 * i, 0);
    }
    let flows: Vec<FlowSummary> = t.finish().0.listed.iter().collect();
    assert_eq!(flows.iter().filter(|f| f.state == ConnState::S0).count(), 1);
}

fn syn_flood(t: &mut FlowTable, flows: u16) {
    let server = addr("10.0.0.1:8080");
    for p in 0..flows {
        let c = SocketAddr::new(addr("10.0.0.2:1").ip(), 20000 + p);
        let f = FrameNo(u64::from(p) + 1);
        t.tcp(
            c,
            server,
            &seg(20000 + p, 0, TcpFlags::SYN, &[]),
            f,
            Timestamp(i64::from(p)),
            60,
        );
    }
}

#[test]
fn full_table_evicts_the_least_recently_active_and_counts_it() {
    let cfg = TableConfig {
        max_flows: 32,
        ..TableConfig::default()
    };
    let mut t = FlowTable::new(cfg);
    syn_flood(&mut t, 100);
    assert!(t.open_flows() <= 32);
    let (flows, limits) = t.finish();
    let flows: Vec<FlowSummary> = flows.listed.iter().collect();
    assert_eq!(flows.len(), 100);
    let evicted: Vec<&FlowSummary> = flows.iter().filter(|f| f.evicted).collect();
    assert_eq!(limits.flows_evicted, evicted.len() as u64);
    assert!(evicted.len() >= 68, "{}", evicted.len());
    // The oldest went first; the newest stayed to the end.
    assert!(flows[0].evicted && !flows[99].evicted);
    assert!(evicted.iter().all(|f| f.partial()));
    assert_eq!(limits.partial_flows, limits.flows_evicted);
}

#[test]
fn records_past_the_cap_are_counted_not_kept() {
    let cfg = TableConfig {
        max_records: 10,
        ..TableConfig::default()
    };
    let mut t = FlowTable::new(cfg);
    syn_flood(&mut t, 25);
    let (flows, limits) = t.finish();
    let flows: Vec<FlowSummary> = flows.listed.iter().collect();
    assert_eq!(flows.len(), 10);
    // The earliest flows are the ones kept.
    assert_eq!(flows[0].first_frame, FrameNo(1));
    assert_eq!(limits.flows_summarized, 15);
    let agg = limits.summarized.unwrap();
    assert_eq!((agg.flows, agg.tcp, agg.packets), (15, 15, 15));
    assert_eq!(agg.states.get("S0"), Some(&15));
    assert_eq!((agg.first_frame, agg.last_frame), (Some(11), Some(25)));
}

#[test]
fn new_syn_after_close_is_a_new_connection() {
    let mut t = FlowTable::new(TableConfig::default());
    let (c, s) = (addr("10.0.0.2:40000"), addr("10.0.0.1:8080"));
    t.tcp(
        c,
        s,
        &seg(40000, 100, TcpFlags::SYN, &[]),
        FrameNo(1),
        Timestamp(0),
        60,
    );
    let mut rst = seg(8080, 0, TcpFlags::RST | TcpFlags::ACK, &[]);
    rst.dst_port = 40000;
    t.tcp(s, c, &rst, FrameNo(2), Timestamp(1), 60);
    t.tcp(
        c,
        s,
        &seg(40000, 5000, TcpFlags::SYN, &[]),
        FrameNo(3),
        Timestamp(2),
        60,
    );
    let flows: Vec<FlowSummary> = t.finish().0.listed.iter().collect();
    assert_eq!(flows.len(), 2);
    assert_eq!(flows[0].state, ConnState::REJ);
    assert_eq!(flows[1].state, ConnState::S0);
    assert_eq!(flows[1].first_frame, FrameNo(3));
}
