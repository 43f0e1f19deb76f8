//! `tradeengine`: the command-line front door.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

mod progress;

use clap::{Parser, Subcommand};
use tradeengine::cold::PersistParams;
use tradeengine::config::{Config, DEFAULT_TOML};
use tradeengine::feed::{RunSpec, SourceSpec};
use tradeengine::latency::{run_latency, LatencyParams};
use tradeengine::pipeline::{run_workload, HotHooks, RunControl, WorkloadFeed};
use tradeengine::replay::{run_replay, ReplayParams, StoreChoice};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};
use tradeengine_adapters::store::{SqliteStore, Store};

/// TradeEngine: a low-latency trading engine. Strategy signals are routed to
/// accounts, sized, risk-checked, sent to a venue and applied to positions on
/// one pinned hot thread.
#[derive(Parser, Debug)]
#[command(name = "tradeengine", version, about, long_about = None)]
struct Cli {
    /// Config file (TOML). Without it the built-in default is used
    /// (`tradeengine config default` prints it).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Configuration: print the built-in default, or check a file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Reports cores, affinity, isolation, frequency governor and transparent
    /// huge pages, and recommends a pinning layout.
    Doctor,
    /// Replays a workload through the engine into a store (SQLite in ./data/
    /// by default), printing a summary and the `W1 …` result line. After a
    /// crash, `--resume` continues from the store's checkpoint: nothing lost,
    /// nothing applied twice.
    Replay {
        /// The workload to generate.
        #[arg(long, default_value = "w1", conflicts_with = "feed")]
        workload: WorkloadKind,
        /// Replay a capture file instead of a generated workload: signals
        /// (accounts and rules from the config; `capture generate` writes a
        /// matching config beside the file), or a recording (`--record`),
        /// which reproduces the recorded run under the config it ran with.
        #[arg(long, value_name = "FILE")]
        feed: Option<PathBuf>,
        /// Record every input the hot thread consumes, in the order it
        /// consumes them (signals, controls, policies, rollups), into FILE.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        /// Pace on event time: 1.0 = the recorded pace, 10 = ten times
        /// faster. Without it, as fast as the engine goes.
        #[arg(long, value_parser = parse_speed)]
        speed: Option<f64>,
        /// Write the backtest report (summary, per-account and per-symbol
        /// tables, equity and drawdown PNGs) to this folder after the run.
        #[arg(long, value_name = "DIR")]
        report: Option<PathBuf>,
        /// Number of signals of the whole run.
        #[arg(long, default_value_t = 10_000_000)]
        n: u64,
        /// Seed of the workload's random numbers.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Store: sqlite (the embedded default), fluss (`[fluss]` in the
        /// config; a build with `--features fluss`) or none. Default: the
        /// config's `store`.
        #[arg(long, value_parser = ["sqlite", "none", "fluss"])]
        store: Option<String>,
        /// SQLite database file.
        #[arg(long, default_value = "data/tradeengine.db")]
        db: PathBuf,
        /// Continue the run the store holds, from its checkpoint.
        #[arg(long)]
        resume: bool,
        /// Serve Prometheus metrics during the run at this address (loopback:
        /// e.g. 127.0.0.1:9464).
        #[arg(long, value_name = "ADDR")]
        metrics: Option<String>,
        /// Serve the admin endpoint during the run (at ADDR, default
        /// `admin.listen`); needs a token (`admin.token` or TRADEENGINE_ADMIN_TOKEN).
        #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
        admin: Option<String>,
    },
    /// Operator actions on a running engine's admin endpoint.
    Admin {
        /// Endpoint address (default `admin.listen` from the config).
        #[arg(long)]
        addr: Option<String>,
        /// Bearer token (default TRADEENGINE_ADMIN_TOKEN, then `admin.token`).
        #[arg(long)]
        token: Option<String>,
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// Reads the store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Capture files: import signals from CSV / JSON lines, export, inspect,
    /// generate W1/W2 (format: docs/capture-format.md).
    #[command(subcommand)]
    Capture(CaptureCommand),
    /// The live engine: signals on the TCP ingress (`live.ingress`), orders to
    /// the FIX 4.4 venue (`live.fix_addr`), fills into positions and the
    /// SQLite store. Ctrl-C stops the ingress, drains orders in flight (at
    /// most `live.drain_secs`), flushes the store and logs out.
    Run {
        /// SQLite database file.
        #[arg(long, default_value = "data/tradeengine.db")]
        db: PathBuf,
        /// Continue the run the store holds (input sequence numbers go on
        /// after its checkpoint).
        #[arg(long)]
        resume: bool,
        /// Record every input the hot thread consumes (signals, execution
        /// reports, controls…), in consumption order, into FILE.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
    },
    /// Sends signals to a running engine's ingress: a JSON-lines file (one
    /// StrategySignal per line) as text, or a capture file as binary frames.
    /// Prints the engine's refusals; exits non-zero if any signal was refused.
    Send {
        /// Ingress address (default `live.ingress`).
        #[arg(long)]
        addr: Option<String>,
        /// The file to send (`-` or nothing: JSON lines from stdin).
        file: Option<PathBuf>,
    },
    /// Makes strategy signals from market data.
    #[command(subcommand)]
    Signals(SignalsCommand),
    /// Writes the backtest report of the run a store holds: summary.txt,
    /// accounts.csv, symbols.csv, equity.csv, equity.png, drawdown.png.
    Report {
        /// SQLite database of the run.
        #[arg(long, default_value = "data/tradeengine.db")]
        db: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "results/report")]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum CaptureCommand {
    /// Converts StrategySignal rows (runId, symbol, timestamp, close, sma5,
    /// sma21, signal, signalStrength) from CSV with a header (columns in any
    /// order) or JSON lines (.json/.jsonl/.ndjson) into a capture file.
    /// Timestamps: ISO-8601, YYYY-MM-DD, or epoch milliseconds.
    Import {
        /// The CSV or JSON-lines file.
        input: PathBuf,
        /// The capture file to write.
        #[arg(long)]
        out: PathBuf,
        /// Input format (default: from the extension).
        #[arg(long, value_parser = ["csv", "jsonl"])]
        format: Option<String>,
        /// Report and skip bad rows instead of stopping at the first.
        #[arg(long)]
        skip_bad: bool,
    },
    /// Writes a signals capture file as CSV (the import's columns) to stdout or --out.
    Export {
        file: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verifies a capture file and prints its header, counts, time range,
    /// names and first/last records.
    Inspect { file: PathBuf },
    /// Writes W1 or W2 as a capture file, with `<out>.toml` and
    /// `<out>.accounts.csv` that replay it under W1's rules.
    Generate {
        #[arg(long, default_value = "w1")]
        workload: WorkloadKind,
        #[arg(long, default_value_t = 100_000)]
        n: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum SignalsCommand {
    /// SMA5/SMA21 crossovers of daily OHLCV bars (CSV: Date, Symbol, Open,
    /// High, Low, Close, Volume): BUY when SMA5 crosses above SMA21, SELL
    /// below; strength min(1, 50·|SMA5−SMA21|/SMA21). Bad bars and missing
    /// trading days are reported and skipped.
    SmaCross {
        #[arg(long)]
        bars: PathBuf,
        /// The capture file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Global kill switch on: no new orders.
    Kill,
    /// Global kill switch off.
    Release,
    /// Kill switch on for one account.
    KillAccount { account: String },
    /// Kill switch off for one account.
    ReleaseAccount { account: String },
    /// Sets an account's status (ACTIVE or BLOCKED; BLOCKED may still SELL to close).
    SetStatus { account: String, status: String },
    /// Blocks new BUYs for an account.
    BlockBuys { account: String },
    /// Allows BUYs for an account again.
    AllowBuys { account: String },
}

impl AdminCommand {
    fn path(&self) -> String {
        match self {
            AdminCommand::Kill => "/kill".into(),
            AdminCommand::Release => "/release".into(),
            AdminCommand::KillAccount { account } => format!("/accounts/{account}/kill"),
            AdminCommand::ReleaseAccount { account } => format!("/accounts/{account}/release"),
            AdminCommand::SetStatus { account, status } => format!("/accounts/{account}/status/{status}"),
            AdminCommand::BlockBuys { account } => format!("/accounts/{account}/block-buys"),
            AdminCommand::AllowBuys { account } => format!("/accounts/{account}/allow-buys"),
        }
    }
}

#[derive(Subcommand, Debug)]
enum StoreCommand {
    /// Prints a table as CSV with a header, rows in primary-key or log order.
    Dump {
        /// open_positions_rollup, portfolio, orders, account_policy, engine_checkpoint,
        /// trade_signals, fills, pnl_timeseries or risk_events.
        table: String,
        /// Store to read (default: the config's `store`; fluss needs `--features fluss`).
        #[arg(long, value_parser = ["sqlite", "fluss"])]
        store: Option<String>,
        /// SQLite database file.
        #[arg(long, default_value = "data/tradeengine.db")]
        db: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Runs the reference workload (W1 or W2) through the real threads and
    /// rings and prints one result line:
    /// `W1 n=<N> routed_buy=<a> routed_sell=<b> dropped=<c> open_positions=<d> checksum=<f> realized_pnl=<f> secs=<s> signals_per_s=<r>`
    W1 {
        /// Number of signals.
        #[arg(long, default_value_t = 10_000_000)]
        n: u64,
        /// Which workload: w1 (1,000 accounts, 500 symbols) or w2 (100,000 accounts, 10,000 symbols).
        #[arg(long, default_value = "w1")]
        workload: WorkloadKind,
        /// Seed of the workload's random numbers.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Generate the signals on the feeder thread as they are sent (its
        /// core then does the generator's work during the run) instead of
        /// into memory before the run starts (64 bytes per signal).
        #[arg(long)]
        generate: bool,
    },
    /// Tail latency: tick-to-trade of the engine against the bare ring round
    /// trip (the floor), measured in one run on the same cores and rings.
    /// Prints the percentiles, writes `.hgrm` files and `latency.png` to
    /// `--out`, and ends with one line:
    /// `LATENCY rate=<signals/s> samples=<n> engine_p50=<a> engine_p99=<b> engine_p999=<c> engine_p9999=<d> engine_max=<e> floor_p50=<f> floor_p99=<g> floor_p999=<h> floor_p9999=<i> ratio_p50=<a/f> ratio_p999=<c/h>`
    Latency {
        /// Signals per second (paced, coordinated omission corrected), or `max`.
        #[arg(long, default_value = "1000000", value_parser = parse_rate)]
        rate: Rate,
        /// Measured events of each kind (engine signals and floor probes).
        #[arg(long, default_value_t = 5_100_000)]
        samples: u64,
        /// Events sent first and not measured.
        #[arg(long, default_value_t = 500_000)]
        warmup: u64,
        /// Events per block (blocks alternate engine / floor).
        #[arg(long, default_value_t = 1_000)]
        block: u64,
        /// Results folder.
        #[arg(long, default_value = "results/latency")]
        out: PathBuf,
        /// Seed of the W1 stream.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a positive speed factor (1.0 = recorded pace)")),
    }
}

/// `--rate`: signals per second (`None`: `max`).
#[derive(Clone, Copy, Debug)]
struct Rate(Option<f64>);

fn parse_rate(s: &str) -> Result<Rate, String> {
    if s == "max" {
        return Ok(Rate(None));
    }
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(Rate(Some(r))),
        _ => Err(format!("`{s}` is not a positive rate (signals per second) or `max`")),
    }
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Prints the built-in default config, with its documentation.
    Default,
    /// Validates a config file (or `--config`) and prints the effective values.
    Check {
        /// The file to check (defaults to `--config`, else the built-in default).
        file: Option<PathBuf>,
    },
}

use anyhow::Context as _;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tradeengine: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn capture_command(c: CaptureCommand) -> anyhow::Result<()> {
    use tradeengine_adapters::feeds::import::{export_csv, import_signals, TextFormat};
    match c {
        CaptureCommand::Import { input, out, format, skip_bad } => {
            let fmt = match format.as_deref() {
                Some("jsonl") => TextFormat::JsonLines,
                Some(_) => TextFormat::Csv,
                None => TextFormat::from_path(&input),
            };
            let t0 = std::time::Instant::now();
            let r = import_signals(&input, &out, fmt, skip_bad)?;
            let secs = t0.elapsed().as_secs_f64();
            for e in &r.errors {
                eprintln!("tradeengine: skipped: {e}");
            }
            if r.skipped as usize > r.errors.len() {
                eprintln!("tradeengine: … {} more bad rows skipped", r.skipped as usize - r.errors.len());
            }
            println!(
                "imported {} signals ({} symbols, {} bad rows skipped) into {} in {secs:.3} s ({:.0} rows/s)",
                r.rows,
                r.symbols,
                r.skipped,
                out.display(),
                (r.rows + r.skipped) as f64 / secs.max(1e-9)
            );
            Ok(())
        }
        CaptureCommand::Export { file, out } => {
            let f = tradeengine_adapters::feeds::CaptureFile::<tradeengine_model::StrategySignal>::open(&file)?;
            let r = match out {
                Some(p) => {
                    let mut w = std::io::BufWriter::new(
                        std::fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?,
                    );
                    export_csv(&f, &mut w).and_then(|n| std::io::Write::flush(&mut w).map(|()| n))
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut w = std::io::BufWriter::new(stdout.lock());
                    export_csv(&f, &mut w).and_then(|n| std::io::Write::flush(&mut w).map(|()| n))
                }
            };
            match r {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(anyhow::Error::from(e).context("exporting")),
            }
        }
        CaptureCommand::Inspect { file } => {
            print!("{}", tradeengine::capture_cmd::inspect(&file)?);
            Ok(())
        }
        CaptureCommand::Generate { workload, n, seed, out } => {
            let w = Workload::new(workload, n, seed);
            let (toml, csv) = tradeengine::capture_cmd::generate(&w, &out)?;
            println!("wrote {} ({n} signals), {} and {}", out.display(), toml.display(), csv.display());
            println!("replay it: tradeengine --config {} replay --feed {}", toml.display(), out.display());
            Ok(())
        }
    }
}

/// The store a command writes or reads.
fn store_choice(cfg: &Config, store: &str, db: &std::path::Path) -> anyhow::Result<StoreChoice> {
    match store {
        "none" => Ok(StoreChoice::None),
        "sqlite" => Ok(StoreChoice::Sqlite(db.to_path_buf())),
        #[cfg(feature = "fluss")]
        "fluss" => Ok(StoreChoice::Fluss(cfg.fluss.clone())),
        other => {
            let _ = cfg;
            anyhow::bail!("store `{other}` is not available in this build (the Fluss store needs `--features fluss`)")
        }
    }
}

/// First Ctrl-C: stop feeding, finish cleanly with a partial summary.
/// Second: leave at once (the store keeps its last committed checkpoint).
fn install_ctrl_c(stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            eprintln!("tradeengine: second interrupt, exiting now");
            std::process::exit(130);
        }
        eprintln!("tradeengine: interrupted: finishing the signals already sent (Ctrl-C again to quit now)");
    })
    .context("installing the Ctrl-C handler")
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(ConfigCommand::Default) => {
            print!("{DEFAULT_TOML}");
            Ok(())
        }
        Command::Config(ConfigCommand::Check { file }) => {
            let cfg = Config::load_or_default(file.as_deref().or(cli.config.as_deref()))?;
            let universe = tradeengine::config::Universe::from_config(&cfg)?;
            eprintln!("{}: ok ({} accounts)", cfg.source_name(), universe.policies.len());
            print!("{}", cfg.to_toml());
            Ok(())
        }
        Command::Bench(BenchCommand::W1 { n, workload, seed, generate }) => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            let w = Workload::new(workload, n, seed);
            let feed = if generate { WorkloadFeed::Generated } else { WorkloadFeed::Preloaded };
            let run = run_workload(&cfg, &w, feed, HotHooks::default())?;
            for warning in &run.layout.warnings {
                eprintln!("tradeengine: warning: {warning}");
            }
            eprintln!("{}", run.pipeline_line());
            println!("{}", run.result_line());
            Ok(())
        }
        Command::Bench(BenchCommand::Latency { rate, samples, warmup, block, out, seed }) => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            let p = LatencyParams { rate: rate.0, samples, warmup, block, seed };
            let run = run_latency(&cfg, &p, HotHooks::default(), Some(&out))?;
            for warning in &run.layout.warnings {
                eprintln!("tradeengine: warning: {warning}");
            }
            print!("{}", run.summary.table());
            let m = &run.measured;
            println!("{}", m.by_side_line());
            println!(
                "harness: sent={} orders={} secs={:.3} send_stalls={} max_send_lag_ns={} hot_pinned={}",
                m.sent, m.orders, m.secs, m.send_stalls, m.max_send_lag_ns, run.hot_pinned
            );
            println!("report: {}", out.display());
            println!("{}", run.latency_line());
            Ok(())
        }
        Command::Replay { workload, feed, record, speed, report, n, seed, store, db, resume, metrics, admin } => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            let spec = match &feed {
                Some(path) => RunSpec::from_file(&cfg, path)?,
                None => RunSpec::workload(&cfg, &Workload::new(workload, n, seed)),
            };
            if matches!(spec.source, SourceSpec::Recording(_)) && resume {
                anyhow::bail!("a recording replays from its start: --resume is for workloads and signal feeds");
            }
            if let (Some(r), Some(f)) = (&record, &feed) {
                if r == f {
                    anyhow::bail!("--record {} would overwrite the feed being replayed", r.display());
                }
            }
            let admin = match admin {
                None => None,
                Some(addr) => {
                    let token = cfg.admin.effective_token();
                    if token.is_empty() {
                        anyhow::bail!(
                            "--admin needs a token: set TRADEENGINE_ADMIN_TOKEN or `admin.token` in the config"
                        );
                    }
                    Some((if addr.is_empty() { cfg.admin.listen.clone() } else { addr }, token))
                }
            };
            let store = store.unwrap_or_else(|| cfg.store.clone());
            if report.is_some() && store != "sqlite" {
                anyhow::bail!("--report reads the run back from its SQLite store: use --store sqlite");
            }
            let store = store_choice(&cfg, &store, &db)?;
            let stop = Arc::new(AtomicBool::new(false));
            install_ctrl_c(stop.clone())?;
            let progress = Arc::new(AtomicU64::new(0));
            let bar = progress::ProgressBar::start(progress.clone(), spec.n);
            let p = ReplayParams {
                spec,
                feed: RunControl { speed, stop: Some(stop), progress: Some(progress), record },
                store,
                resume,
                persist: PersistParams::default(),
                metrics_listen: metrics,
                admin,
            };
            let run = run_replay(&p, HotHooks::default());
            bar.finish();
            let run = run?;
            for warning in &run.layout.warnings {
                eprintln!("tradeengine: warning: {warning}");
            }
            print!("{}", run.summary());
            println!("{}", run.result_line());
            if let Some(dir) = report {
                let (_, written) =
                    tradeengine::report::report_from_store(&db, &dir, run.persist.tick_to_trade.as_ref())?;
                println!("report: {} ({written} files)", dir.display());
            }
            Ok(())
        }
        Command::Store(StoreCommand::Dump { table, store, db }) => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            let store = store.unwrap_or_else(|| cfg.store.clone());
            let mut s: Box<dyn Store> = match store_choice(&cfg, &store, &db)? {
                StoreChoice::Sqlite(path) => Box::new(SqliteStore::open_existing(&path)?),
                #[cfg(feature = "fluss")]
                // Names are read back as stored: no universe needed.
                StoreChoice::Fluss(_) => Box::new(tradeengine::fluss::open_store(&cfg, Default::default())?),
                StoreChoice::None => anyhow::bail!("the `none` store keeps no table"),
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let r = s
                .dump(&table, &mut out)
                .map_err(anyhow::Error::from)
                .and_then(|()| Ok(std::io::Write::flush(&mut out)?));
            match r {
                // A reader that stops early (`| head`) is not an error.
                Err(e) if is_broken_pipe(&e) => Ok(()),
                other => other,
            }
        }
        Command::Admin { addr, token, action } => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            let addr = addr.unwrap_or_else(|| cfg.admin.listen.clone());
            let token = token.unwrap_or_else(|| cfg.admin.effective_token());
            let (code, body) = tradeengine::cold::admin::send(&addr, &token, &action.path())
                .with_context(|| format!("no admin endpoint answers at {addr}"))?;
            if code != 200 {
                anyhow::bail!("admin endpoint {addr} answered {code}: {}", body.trim());
            }
            print!("{body}");
            Ok(())
        }
        Command::Capture(c) => capture_command(c),
        Command::Run { db, resume, record } => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            let control = tradeengine::live::LiveControl::default();
            install_ctrl_c(control.flag())?;
            let p = tradeengine::live::LiveParams { db, resume, record, ingress: None, fix_addr: None };
            let run = tradeengine::live::run_live(&cfg, &p, &control, HotHooks::default())?;
            print!("{}", run.summary());
            Ok(())
        }
        Command::Send { addr, file } => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            let addr = addr.unwrap_or_else(|| cfg.live.ingress.clone());
            let r = tradeengine::send::send(&addr, file.as_deref())?;
            for e in &r.errors {
                eprintln!("tradeengine: refused: {e}");
            }
            println!("sent {} signals to {addr}: {} accepted, {} refused", r.sent, r.accepted, r.errors.len());
            if !r.errors.is_empty() {
                anyhow::bail!("{} signals were refused", r.errors.len());
            }
            Ok(())
        }
        Command::Signals(SignalsCommand::SmaCross { bars, out }) => {
            let r = tradeengine_adapters::feeds::bars::sma_cross_file(&bars, &out).map_err(anyhow::Error::msg)?;
            for e in &r.errors {
                eprintln!("tradeengine: skipped bad bar: {e}");
            }
            if r.bad as usize > r.errors.len() {
                eprintln!("tradeengine: … {} more bad bars skipped", r.bad as usize - r.errors.len());
            }
            for g in &r.gaps {
                eprintln!("tradeengine: gap: {g} (averages restart after it)");
            }
            println!(
                "bars: {} good, {} bad; {} symbols over {} trading days; {} symbols miss {} days",
                r.bars, r.bad, r.symbols, r.trading_days, r.symbols_with_gaps, r.missing_days
            );
            println!("signals: {} ({} BUY, {} SELL) -> {}", r.signals, r.buys, r.sells, out.display());
            Ok(())
        }
        Command::Report { db, out } => {
            let (b, n) = tradeengine::report::report_from_store(&db, &out, None)?;
            print!("{}", b.summary());
            println!("report: {} ({n} files)", out.display());
            Ok(())
        }
        Command::Doctor => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            print!("{}", tradeengine::doctor::report(&cfg));
            Ok(())
        }
    }
}
