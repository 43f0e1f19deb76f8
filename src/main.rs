//! `tradeengine`: the command-line front door.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tradeengine::config::{Config, DEFAULT_TOML};
use tradeengine::pipeline::{run_workload, HotHooks};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};

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
    },
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

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Config(ConfigCommand::Default) => {
            print!("{DEFAULT_TOML}");
            Ok(())
        }
        Command::Config(ConfigCommand::Check { file }) => {
            let cfg = Config::load_or_default(file.as_deref().or(cli.config.as_deref()))?;
            let universe = tradeengine::config::Universe::from_config(&cfg)?;
            eprintln!(
                "{}: ok ({} accounts)",
                cfg.source_name(),
                universe.policies.len()
            );
            print!("{}", cfg.to_toml());
            Ok(())
        }
        Command::Bench(BenchCommand::W1 { n, workload, seed }) => {
            let cfg = Config::load_or_default(cli.config.as_deref())?;
            let w = Workload::new(workload, n, seed);
            let run = run_workload(&cfg, &w, HotHooks::default())?;
            for warning in &run.layout.warnings {
                eprintln!("tradeengine: warning: {warning}");
            }
            println!("{}", run.result_line());
            Ok(())
        }
    }
}
