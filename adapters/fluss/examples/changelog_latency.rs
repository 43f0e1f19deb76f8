//! Changelog feedback latency on a running cluster: one client upserts
//! `open_positions_rollup` rows (one at a time, each acknowledged), stamping
//! the wall clock into the row; a second client follows the changelog with
//! the same `FlussClient::follow` the engine's follower uses and records
//! "written → seen" for each change. Prints p50/p90/p99/max.
//!
//!     cargo run --release -p tradeengine-fluss --example changelog_latency -- 127.0.0.1:9123 [samples]

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tradeengine_fluss::{FlussClient, Value};

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as i64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let bootstrap = args.next().unwrap_or_else(|| "127.0.0.1:9123".into());
    let samples: usize = args.next().map_or(1000, |s| s.parse().expect("samples: a number"));
    let db = format!("latency{}", std::process::id());
    let mut writer = FlussClient::connect(&bootstrap, &db, Duration::from_secs(30)).expect("connect");
    writer.ensure_schema().expect("schema");
    let follower = FlussClient::connect_follower(&bootstrap, &db, Duration::from_secs(30)).expect("connect");
    let from = follower.end_offset("open_positions_rollup").expect("offsets");
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let seen = std::thread::spawn(move || {
        let mut lat = Vec::with_capacity(samples);
        follower
            .follow("open_positions_rollup", from, Duration::from_millis(50), &s2, |_, kind, row| {
                if kind != "UpdateBefore" {
                    if let Value::Int(sent) = row[7] {
                        lat.push(now_ns() - sent);
                    }
                }
                lat.len() < samples
            })
            .expect("follow");
        lat
    });
    let mut acked = Vec::with_capacity(samples);
    for k in 0..samples {
        let sent = now_ns();
        let row = vec![
            Value::Text(format!("ACC-{:04}", k % 100).into()),
            Value::Text("SYM001".into()),
            Value::Real(1.0 + k as f64),
            Value::Real(10.0),
            Value::Real(0.0),
            Value::Real(10.0),
            Value::Int(99),
            Value::Int(sent),
            Value::Int(k as i64),
        ];
        writer.upsert("open_positions_rollup", &[row], false).expect("upsert");
        acked.push(now_ns() - sent);
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut lat = seen.join().expect("follower");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let pct = |v: &mut Vec<i64>, p: f64| {
        v.sort_unstable();
        v[((v.len() as f64 * p) as usize).min(v.len() - 1)] as f64 / 1e6
    };
    for (name, v) in [("upsert acknowledged", &mut acked), ("written -> seen by the follower", &mut lat)] {
        println!(
            "{name}: n={} p50={:.2} ms p90={:.2} ms p99={:.2} ms max={:.2} ms",
            v.len(),
            pct(v, 0.5),
            pct(v, 0.9),
            pct(v, 0.99),
            pct(v, 1.0)
        );
    }
}
