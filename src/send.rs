//! `tradeengine send`: a small ingress client. A JSON-lines file goes as
//! text, a capture file of signals as binary frames (4-byte little-endian
//! length 64, then the signal). Cold path.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;

use anyhow::Context;
use tradeengine_adapters::feeds::capture::read_header;
use tradeengine_adapters::feeds::CaptureFile;
use tradeengine_model::StrategySignal;

/// What the engine answered.
#[derive(Clone, Debug, Default)]
pub struct SendReport {
    /// Lines or frames sent.
    pub sent: u64,
    pub accepted: u64,
    /// The refusals, as the engine worded them.
    pub errors: Vec<String>,
    /// Input sequence numbers given to accepted signals, in order.
    pub seqs: Vec<u64>,
}

/// Sends `file` (JSON lines, or a capture file; stdin for `None` or `-`) to
/// the ingress at `addr` and collects the answers.
pub fn send(addr: &str, file: Option<&Path>) -> anyhow::Result<SendReport> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("no ingress answers at {addr}"))?;
    let _ = stream.set_nodelay(true);
    let reader = stream.try_clone()?;
    // Read answers while writing, so neither side's buffers fill up.
    let answers =
        std::thread::spawn(move || -> Vec<String> { BufReader::new(reader).lines().map_while(Result::ok).collect() });
    let mut sent = 0u64;
    let is_capture = file.filter(|f| f.as_os_str() != "-").is_some_and(|f| read_header(f).is_ok());
    match file.filter(|f| f.as_os_str() != "-") {
        Some(f) if is_capture => {
            let cap = CaptureFile::<StrategySignal>::open(f)?;
            let mut buf = Vec::with_capacity(68 * 4096);
            for block in cap.blocks() {
                buf.clear();
                for s in block {
                    buf.extend_from_slice(&64u32.to_le_bytes());
                    buf.extend_from_slice(bytemuck::bytes_of(s));
                }
                stream.write_all(&buf)?;
                sent += block.len() as u64;
            }
        }
        Some(f) => {
            let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            sent += write_lines(&mut stream, text.as_bytes())?;
        }
        None => {
            let mut text = Vec::new();
            std::io::stdin().read_to_end(&mut text)?;
            sent += write_lines(&mut stream, &text)?;
        }
    }
    stream.shutdown(std::net::Shutdown::Write)?;
    let lines = answers.join().map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    let mut r = SendReport { sent, ..Default::default() };
    for l in lines {
        if let Some(seq) = l.strip_prefix("ok ").and_then(|v| v.trim().parse().ok()) {
            r.accepted += 1;
            r.seqs.push(seq);
        } else {
            r.errors.push(l.strip_prefix("error ").unwrap_or(&l).to_string());
        }
    }
    Ok(r)
}

fn write_lines(stream: &mut TcpStream, text: &[u8]) -> anyhow::Result<u64> {
    let n = text.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count() as u64;
    stream.write_all(text)?;
    if !text.ends_with(b"\n") {
        stream.write_all(b"\n")?;
    }
    Ok(n)
}
