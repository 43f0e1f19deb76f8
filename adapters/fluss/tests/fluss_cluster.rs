//! Against a real Fluss cluster (ZooKeeper, coordinator, tablet server from
//! Maven Central's fluss-server, started by tools/fluss/cluster.sh): the
//! schema is created idempotently, log tables append and scan back in order,
//! primary-key tables upsert, look up, delete, and show their changelog; an
//! unreachable cluster is a clear error.

use std::time::Duration;

use tradeengine_fluss::{FlussClient, Value, SCHEMAS};

#[path = "../../../tests/common/fluss.rs"]
mod fluss;
use fluss::{free_base, Cluster};

#[test]
fn tables_round_trip_on_a_real_cluster() {
    let cluster = Cluster::start("roundtrip");
    let mut c = FlussClient::connect(&cluster.bootstrap, "tradeengine", Duration::from_secs(30)).unwrap();
    assert!(!c.server_nodes().unwrap().is_empty());
    c.ensure_schema().unwrap();
    c.ensure_schema().unwrap(); // idempotent
    let mut tables = c.tables().unwrap();
    tables.sort();
    let mut want: Vec<String> = SCHEMAS.iter().map(|t| t.name.to_string()).collect();
    want.sort();
    assert_eq!(tables, want);

    // A log table: rows come back in order, values equal (NULLs included).
    let t = |s: &str| Value::Text(s.into());
    let rows: Vec<Vec<Value>> = (0..5)
        .map(|i| {
            vec![
                Value::Int(i),
                Value::Int(1_700_000_000_000_000_000 + i),
                Value::Int(0),
                t("SYM001"),
                t(if i % 2 == 0 { "BUY" } else { "SELL" }),
                t(if i == 3 { "no_holder" } else { "routed" }),
                t("open"),
                if i == 3 { Value::Null } else { t("ACC-0001") },
                if i == 3 { Value::Null } else { Value::Int(i + 1) },
                Value::Real(1.0),
                Value::Real(100.25 + i as f64),
            ]
        })
        .collect();
    c.append("trade_signals", &rows).unwrap();
    let back = c.scan("trade_signals").unwrap();
    assert_eq!(back.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), rows);

    // A primary-key table: upsert, update, look up, delete; the changelog.
    let pos = |qty: f64| {
        vec![
            t("ACC-0001"),
            t("SYM001"),
            Value::Real(qty),
            Value::Real(10.5),
            Value::Real(0.0),
            Value::Real(10.5),
            Value::Int(0),
            Value::Int(7),
            Value::Int(99),
        ]
    };
    c.upsert("open_positions_rollup", &[pos(1.0)], false).unwrap();
    c.upsert("open_positions_rollup", &[pos(3.0)], false).unwrap();
    let key = [t("ACC-0001"), t("SYM001")];
    assert_eq!(c.lookup("open_positions_rollup", &key).unwrap(), Some(pos(3.0)));
    c.upsert("open_positions_rollup", &[pos(3.0)], true).unwrap();
    assert_eq!(c.lookup("open_positions_rollup", &key).unwrap(), None);
    let changes: Vec<String> = c.scan("open_positions_rollup").unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(changes.first().map(String::as_str), Some("Insert"), "{changes:?}");
    assert_eq!(changes.last().map(String::as_str), Some("Delete"), "{changes:?}");
}

#[test]
fn an_unreachable_cluster_is_a_clear_error() {
    let port = free_base();
    let e = FlussClient::connect(&format!("127.0.0.1:{port}"), "tradeengine", Duration::from_secs(5)).err().unwrap();
    let s = e.to_string();
    assert!(s.starts_with(&format!("fluss 127.0.0.1:{port}: connecting")), "{s}");
}
