//! Finished flows sent through the spill file (`--flow-memory 0`: nearly every chunk of
//! encodings leaves memory) give byte-identical reports, warnings and exit codes to
//! flows kept in memory: on every fixture and corpus capture, in JSON and as the table.

use crate::common::*;
use std::path::Path;
use trafficdoc::flow::table::TableConfig;

/// How many of the capture's chunks of finished flows went to the spill file.
fn spilled_chunks(path: &Path, flow_memory: Option<usize>) -> usize {
    let cfg = TableConfig {
        flow_memory,
        ..TableConfig::default()
    };
    analyze_file(path, cfg).map_or(0, |a| a.flows.spilled_chunks())
}

#[test]
fn reports_are_the_same_with_flows_in_the_spill_file() {
    let mut spilled = 0;
    for path in all_captures() {
        let p = path.to_str().unwrap();
        for format in ["json", "table"] {
            let kept = run(&["analyze", "--format", format, p]);
            let sent = run(&["analyze", "--format", format, "--flow-memory", "0", p]);
            assert_eq!(sent.stdout, kept.stdout, "{p} ({format}): report differs");
            assert_eq!(sent.stderr, kept.stderr, "{p} ({format}): warnings differ");
            assert_eq!(sent.code, kept.code, "{p} ({format}): exit code differs");
        }
        assert_eq!(
            spilled_chunks(&path, None),
            0,
            "{p}: small captures stay in memory"
        );
        if spilled_chunks(&path, Some(0)) > 0 {
            spilled += 1;
        }
    }
    // Chunks are then 256 bytes: every capture with more than a flow or two spills.
    assert!(
        spilled >= 20,
        "only {spilled} captures went through the spill file"
    );
}
