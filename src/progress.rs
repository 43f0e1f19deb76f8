//! The replay progress bar (indicatif): rate and ETA on a terminal, nothing
//! when stderr is a pipe or a file. Cold path: a thread of its own polls the
//! feeder's counter ten times a second.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A running bar (or nothing, off a terminal).
pub struct ProgressBar {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ProgressBar {
    /// Shows `counter` out of `total` on stderr while it is a terminal.
    pub fn start(counter: Arc<AtomicU64>, total: u64) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            return Self { done, thread: None };
        }
        let flag = done.clone();
        let thread = std::thread::Builder::new()
            .name("te-progress".into())
            .spawn(move || {
                let bar = indicatif::ProgressBar::new(total);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} {per_sec} ETA {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                while !flag.load(Ordering::Relaxed) {
                    bar.set_position(counter.load(Ordering::Relaxed));
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.set_position(counter.load(Ordering::Relaxed));
                bar.finish_and_clear();
            })
            .ok();
        Self { done, thread }
    }

    /// Stops and clears the bar.
    pub fn finish(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
