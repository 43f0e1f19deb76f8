//! `tradeengine capture …`: inspect a capture file, and generate W1/W2 as a
//! capture file with the config that replays it under W1's rules. Cold path.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tradeengine_adapters::feeds::capture::{read_header, CaptureHeader};
use tradeengine_adapters::feeds::time::format_ns;
use tradeengine_adapters::feeds::{
    CaptureFile, CaptureWriter, Dictionary, InputKind, RecordType, RecordedInput, Workload,
};
use tradeengine_model::StrategySignal;

fn header_lines(s: &mut String, h: &CaptureHeader, ty: RecordType) {
    let _ = writeln!(s, "format         TECAPTUR version {}", h.version);
    let _ = writeln!(s, "records        {} × {} bytes ({})", h.record_count, h.record_size, ty.name());
    let _ = writeln!(s, "created        {}", format_ns(h.created_ns));
    let _ = writeln!(s, "blocks         {} records each, CRC-32 verified", h.block_records);
}

fn dictionary_lines(s: &mut String, d: &Dictionary) {
    for (what, names) in [("accounts", &d.accounts), ("symbols", &d.symbols), ("strategies", &d.strategies)] {
        let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
        let more = if names.len() > 8 { format!(" … (+{})", names.len() - 8) } else { String::new() };
        let _ = writeln!(s, "{what:<14} {} {}{more}", names.len(), shown.join(" "));
    }
}

fn signal_line(d: &Dictionary, x: &StrategySignal) -> String {
    format!(
        "seq {} {} {} {} close {} sma5 {} sma21 {} strength {} run {}",
        x.seq,
        format_ns(x.ts_event),
        d.symbols.get(x.symbol as usize).map_or("?", String::as_str),
        x.side().map_or("?", |s| s.name()),
        x.close,
        x.sma5,
        x.sma21,
        x.strength,
        d.strategies.get(x.strategy as usize).map_or("?", String::as_str),
    )
}

/// `capture inspect`: header, counts, time range, names, first and last
/// records. Verifies every block (an error names the offset).
pub fn inspect(path: &Path) -> anyhow::Result<String> {
    let h = read_header(path)?;
    let mut s = format!("file           {}\n", path.display());
    match RecordType::from_u16(h.record_type) {
        Some(RecordType::Signals) => {
            let f = CaptureFile::<StrategySignal>::open(path)?;
            header_lines(&mut s, f.header(), RecordType::Signals);
            dictionary_lines(&mut s, f.dictionary());
            let d = f.dictionary();
            let (mut buy, mut sell) = (0u64, 0u64);
            for b in f.blocks() {
                for x in b {
                    match x.side() {
                        Some(tradeengine_model::Side::Buy) => buy += 1,
                        _ => sell += 1,
                    }
                }
            }
            let _ = writeln!(s, "actions        {buy} BUY, {sell} SELL");
            if let (Some(first), Some(last)) = (f.get(0), f.get(f.len().saturating_sub(1))) {
                let _ = writeln!(s, "time range     {} .. {}", format_ns(first.ts_event), format_ns(last.ts_event));
                let _ = writeln!(s, "first          {}", signal_line(d, &first));
                let _ = writeln!(s, "last           {}", signal_line(d, &last));
            }
        }
        Some(RecordType::Recording) => {
            let f = CaptureFile::<RecordedInput>::open(path)?;
            header_lines(&mut s, f.header(), RecordType::Recording);
            dictionary_lines(&mut s, f.dictionary());
            let mut counts = [0u64; 6];
            for b in f.blocks() {
                for r in b {
                    counts[InputKind::from_u8(r.kind).map_or(0, |k| k as usize)] += 1;
                }
            }
            let _ = writeln!(
                s,
                "inputs         {} signals, {} exec reports, {} controls, {} policies, {} rollups",
                counts[1], counts[2], counts[3], counts[4], counts[5]
            );
        }
        None => anyhow::bail!("{}: unknown record type {}", path.display(), h.record_type),
    }
    Ok(s)
}

/// The config that replays a generated capture under W1's rules: the same
/// universe (accounts CSV beside it), constant size, scale-in, lowest-id ties.
pub fn workload_feed_config(w: &Workload, accounts_csv: &str) -> String {
    format!(
        "# Replays a capture of {tag} (seed {seed}) under W1.md's rules:\n\
         #   tradeengine --config <this file> replay --feed <capture>\n\
         [capacity]\nsymbols = {symbols}\npositions = 0\n\n\
         [routing]\ntie_break = \"lowest-id\"\nallow_scale_in = {scale}\n\n\
         [sizing]\nmodel = \"constant\"\ndefault_qty = {qty:?}\n\n\
         [risk]\nkill_switch = false\n\n\
         [accounts]\ncsv = \"{accounts_csv}\"\n",
        tag = w.tag(),
        seed = w.seed,
        symbols = w.symbols,
        scale = w.allow_scale_in,
        qty = w.default_qty,
    )
}

/// The accounts CSV of a workload's universe (every limit W1.md leaves open is `unlimited`).
pub fn workload_accounts_csv(w: &Workload) -> String {
    let mut s = String::from(
        "account,status,max_open_symbols,initial_capital,max_order_qty,max_order_notional,max_open_orders,max_capital_usage\n",
    );
    for p in w.account_policies() {
        let _ = writeln!(
            s,
            "{},{},{},{:?},unlimited,unlimited,unlimited,unlimited",
            w.account_name(p.account),
            p.status().name(),
            p.max_open_symbols,
            p.initial_capital
        );
    }
    s
}

/// `capture generate`: writes `out` (the signals), `out.toml` and
/// `out.accounts.csv`; returns the two side files.
pub fn generate(w: &Workload, out: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let mut writer = CaptureWriter::<StrategySignal>::create(out)?;
    let mut g = w.generator();
    let mut buf = vec![StrategySignal::default(); 4096];
    loop {
        let n = g.fill(&mut buf);
        if n == 0 {
            break;
        }
        writer.push_all(&buf[..n])?;
    }
    let dict = Dictionary {
        accounts: Vec::new(),
        symbols: (0..w.symbols).map(|i| w.symbol_name(i)).collect(),
        strategies: vec![w.tag().to_string()],
    };
    writer.finish(&dict)?;
    let side = |ext: &str| PathBuf::from(format!("{}.{ext}", out.display()));
    let (toml, csv) = (side("toml"), side("accounts.csv"));
    let csv_name = csv.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    std::fs::write(&csv, workload_accounts_csv(w)).with_context(|| format!("writing {}", csv.display()))?;
    std::fs::write(&toml, workload_feed_config(w, &csv_name)).with_context(|| format!("writing {}", toml.display()))?;
    Ok((toml, csv))
}
