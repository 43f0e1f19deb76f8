//! Strategy signals from text files (CSV with a header, or JSON lines) into
//! capture files, and back out as CSV. Cold path.
//!
//! Field names are the seed's: `runId, symbol, timestamp, close, sma5,
//! sma21, signal, signalStrength` (case and `_` do not matter; CSV columns in
//! any order). Every bad row is reported as `file:line: field X: what`; by
//! default the first one stops the import and no output file is left behind,
//! with `skip_bad` bad rows are counted, reported and left out.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use tradeengine_model::{Interner, Side, StrategySignal};

use super::capture::{CaptureError, CaptureFile, CaptureWriter, Dictionary};
use super::time::{format_ns, parse_timestamp_ns};

/// The fields of one signal row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    RunId,
    Symbol,
    Timestamp,
    Close,
    Sma5,
    Sma21,
    Signal,
    Strength,
}

impl Field {
    /// Every field, in the export's column order.
    pub const ALL: [Field; 8] = [
        Field::RunId,
        Field::Symbol,
        Field::Timestamp,
        Field::Close,
        Field::Sma5,
        Field::Sma21,
        Field::Signal,
        Field::Strength,
    ];

    /// The seed's name of the field.
    pub fn name(self) -> &'static str {
        match self {
            Field::RunId => "runId",
            Field::Symbol => "symbol",
            Field::Timestamp => "timestamp",
            Field::Close => "close",
            Field::Sma5 => "sma5",
            Field::Sma21 => "sma21",
            Field::Signal => "signal",
            Field::Strength => "signalStrength",
        }
    }

    /// The field a column or key names (case and `_` ignored).
    pub fn from_name(s: &str) -> Option<Field> {
        let k: String = s.trim().chars().filter(|c| *c != '_').flat_map(char::to_lowercase).collect();
        Field::ALL.into_iter().find(|f| f.name().to_lowercase() == k)
    }
}

/// One parsed signal row, names not yet interned.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalRow {
    pub run_id: String,
    pub symbol: String,
    pub ts_event: u64,
    pub close: f64,
    pub sma5: f64,
    pub sma21: f64,
    pub side: Side,
    pub strength: f64,
}

/// A row's problem: the field (if one) and what is wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    pub field: Option<Field>,
    pub what: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field {
            Some(fl) => write!(f, "field {}: {}", fl.name(), self.what),
            None => f.write_str(&self.what),
        }
    }
}

fn bad(field: Field, what: impl Into<String>) -> RowError {
    RowError { field: Some(field), what: what.into() }
}

/// Builds a row from its field texts (`None` = field absent), checking each.
fn row_from_texts(get: impl Fn(Field) -> Option<String>) -> Result<SignalRow, RowError> {
    let text = |f: Field| get(f).ok_or_else(|| bad(f, "missing"));
    let number = |f: Field| -> Result<f64, RowError> {
        let t = text(f)?;
        let v: f64 = t.trim().parse().map_err(|_| bad(f, format!("`{t}` is not a number")))?;
        if !v.is_finite() {
            return Err(bad(f, format!("`{t}` is not a finite number")));
        }
        Ok(v)
    };
    let name = |f: Field| -> Result<String, RowError> {
        let t = text(f)?;
        let t = t.trim();
        if t.is_empty() {
            return Err(bad(f, "empty"));
        }
        Dictionary::check_name(t).map_err(|e| bad(f, e))?;
        Ok(t.to_string())
    };
    let run_id = name(Field::RunId)?;
    let symbol = name(Field::Symbol)?;
    let ts_event = parse_timestamp_ns(&text(Field::Timestamp)?).map_err(|e| bad(Field::Timestamp, e))?;
    let close = number(Field::Close)?;
    if close <= 0.0 {
        return Err(bad(Field::Close, format!("{close} is not a positive price")));
    }
    let sma5 = number(Field::Sma5)?;
    let sma21 = number(Field::Sma21)?;
    let side_text = text(Field::Signal)?;
    let side = match side_text.trim().to_ascii_uppercase().as_str() {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(bad(Field::Signal, format!("unknown action `{side_text}` (expected BUY or SELL)"))),
    };
    let strength = number(Field::Strength)?;
    if !(0.0..=1.0).contains(&strength) {
        return Err(bad(Field::Strength, format!("{strength} is outside [0, 1]")));
    }
    Ok(SignalRow { run_id, symbol, ts_event, close, sma5, sma21, side, strength })
}

/// Splits one CSV line into cells (RFC 4180 quotes: `"a,b"`, `""` inside quotes).
pub fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if cur.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, '"') => return Err("stray quote inside an unquoted cell".into()),
            (false, ',') => {
                cells.push(std::mem::take(&mut cur));
                was_quoted = false;
            }
            (false, c) => {
                if was_quoted && !c.is_whitespace() {
                    return Err("text after a closing quote".into());
                }
                cur.push(c)
            }
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    cells.push(cur);
    Ok(cells)
}

/// The column of each field in a CSV header.
#[derive(Clone, Debug)]
pub struct CsvColumns {
    index: [Option<usize>; 8],
    width: usize,
}

impl CsvColumns {
    /// Reads a header line; every field must have a column, unknown columns
    /// are ignored, duplicates refused.
    pub fn from_header(line: &str) -> Result<Self, String> {
        let cells = split_csv(line)?;
        let mut index = [None; 8];
        for (i, c) in cells.iter().enumerate() {
            if let Some(f) = Field::from_name(c) {
                let slot = &mut index[f as usize];
                if slot.is_some() {
                    return Err(format!("column {} appears twice", f.name()));
                }
                *slot = Some(i);
            }
        }
        let missing: Vec<&str> =
            Field::ALL.iter().filter(|f| index[**f as usize].is_none()).map(|f| f.name()).collect();
        if !missing.is_empty() {
            return Err(format!("header lacks column(s) {} (has: {})", missing.join(", "), cells.join(",")));
        }
        Ok(Self { index, width: cells.len() })
    }

    /// Parses one data line.
    pub fn parse_row(&self, line: &str) -> Result<SignalRow, RowError> {
        let cells = split_csv(line).map_err(|what| RowError { field: None, what })?;
        if cells.len() < self.width {
            // The first field (by column) the short row lacks.
            let absent = Field::ALL
                .into_iter()
                .filter_map(|f| self.index[f as usize].filter(|&i| i >= cells.len()).map(|i| (i, f)))
                .min();
            return Err(RowError {
                field: absent.map(|(_, f)| f),
                what: format!("missing: the row has {} cells, the header {}", cells.len(), self.width),
            });
        }
        row_from_texts(|f| self.index[f as usize].and_then(|i| cells.get(i)).cloned())
    }
}

/// Parses one JSON-lines object (numbers may be JSON numbers or strings; the
/// timestamp a string or epoch milliseconds).
pub fn parse_json_row(line: &str) -> Result<SignalRow, RowError> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| RowError { field: None, what: format!("not JSON: {e}") })?;
    let obj = v.as_object().ok_or_else(|| RowError { field: None, what: "not a JSON object".into() })?;
    let mut texts: [Option<String>; 8] = Default::default();
    for (k, v) in obj {
        if let Some(f) = Field::from_name(k) {
            texts[f as usize] = match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Null => None,
                other => return Err(bad(f, format!("`{other}` is neither a string nor a number"))),
            };
        }
    }
    row_from_texts(|f| texts[f as usize].clone())
}

/// Input text format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    Csv,
    JsonLines,
}

impl TextFormat {
    /// By extension: `.json`, `.jsonl`, `.ndjson` are JSON lines, the rest CSV.
    pub fn from_path(p: &Path) -> Self {
        match p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json" | "jsonl" | "ndjson") => TextFormat::JsonLines,
            _ => TextFormat::Csv,
        }
    }
}

/// An import error: file, line (1-based), and the row's problem.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {what}", path.display())]
pub struct ImportError {
    pub path: PathBuf,
    pub line: u64,
    pub what: String,
}

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    pub rows: u64,
    pub skipped: u64,
    /// The first bad rows' messages (at most 20).
    pub errors: Vec<String>,
    pub symbols: usize,
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
}

/// Reads `input` (CSV or JSON lines) and writes a capture file at `out`.
/// Signals get sequence numbers 0, 1, … in file order; timestamps must not
/// go back. The output is written beside `out` and renamed into place only
/// when the whole input was read.
pub fn import_signals(
    input: &Path,
    out: &Path,
    format: TextFormat,
    skip_bad: bool,
) -> Result<ImportReport, ImportFailure> {
    let file = std::fs::File::open(input).map_err(|e| ImportError {
        path: input.into(),
        line: 0,
        what: format!("cannot open: {e}"),
    })?;
    let tmp = out.with_extension("partial");
    let r = import_into(std::io::BufReader::with_capacity(1 << 20, file), input, &tmp, format, skip_bad);
    match r {
        Ok(rep) => {
            std::fs::rename(&tmp, out).map_err(|e| ImportError {
                path: out.into(),
                line: 0,
                what: format!("cannot move the finished file into place: {e}"),
            })?;
            Ok(rep)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Why an import failed: a bad input row or file, or the capture file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    Input(#[from] ImportError),
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

fn import_into(
    reader: impl BufRead,
    input: &Path,
    out: &Path,
    format: TextFormat,
    skip_bad: bool,
) -> Result<ImportReport, ImportFailure> {
    let mut w = CaptureWriter::<StrategySignal>::create(out)?;
    let (mut symbols, mut strategies) = (Interner::new(), Interner::new());
    let mut rep = ImportReport::default();
    let mut columns: Option<CsvColumns> = None;
    let at = |line: u64, what: String| ImportError { path: input.into(), line, what };
    for (i, line) in reader.lines().enumerate() {
        let lineno = i as u64 + 1;
        let line = line.map_err(|e| at(lineno, format!("cannot read: {e}")))?;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (format == TextFormat::Csv && line.starts_with('#')) {
            continue;
        }
        let parsed = match format {
            TextFormat::JsonLines => parse_json_row(line),
            TextFormat::Csv => match &columns {
                None => {
                    columns = Some(CsvColumns::from_header(line).map_err(|e| at(lineno, format!("header: {e}")))?);
                    continue;
                }
                Some(c) => c.parse_row(line),
            },
        };
        let checked = parsed.and_then(|row| match rep.last_ts {
            Some(prev) if row.ts_event < prev => Err(bad(
                Field::Timestamp,
                format!(
                    "{} is earlier than the row before ({}): sort the input by time",
                    format_ns(row.ts_event),
                    format_ns(prev)
                ),
            )),
            _ => Ok(row),
        });
        let row = match checked {
            Ok(r) => r,
            Err(e) if skip_bad => {
                rep.skipped += 1;
                if rep.errors.len() < 20 {
                    rep.errors.push(at(lineno, e.to_string()).to_string());
                }
                continue;
            }
            Err(e) => return Err(at(lineno, e.to_string()).into()),
        };
        let strategy = strategies.intern(&row.run_id);
        let Ok(strategy) = u16::try_from(strategy) else {
            return Err(at(lineno, format!("field runId: more than {} distinct run ids", u16::MAX as u32 + 1)).into());
        };
        let sig = StrategySignal {
            seq: rep.rows,
            ts_event: row.ts_event,
            close: row.close,
            sma5: row.sma5,
            sma21: row.sma21,
            strength: row.strength,
            symbol: symbols.intern(&row.symbol),
            strategy,
            side: row.side as u8,
            ..Default::default()
        };
        w.push(&sig)?;
        rep.first_ts.get_or_insert(row.ts_event);
        rep.last_ts = Some(row.ts_event);
        rep.rows += 1;
    }
    if format == TextFormat::Csv && columns.is_none() {
        return Err(at(0, "no header row: the file is empty".into()).into());
    }
    rep.symbols = symbols.len();
    w.finish(&Dictionary::from_interners(&Interner::new(), &symbols, &strategies))?;
    Ok(rep)
}

/// Writes a signals file as CSV (header, one row per record, the seed's
/// field names; floats in their shortest exact form, timestamps ISO-8601 in
/// nanoseconds) — importing the output gives the same records back.
pub fn export_csv(f: &CaptureFile<StrategySignal>, out: &mut dyn Write) -> std::io::Result<u64> {
    let d = f.dictionary();
    let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    writeln!(out, "{}", names.join(","))?;
    let mut n = 0;
    for block in f.blocks() {
        for s in block {
            let sym = d.symbols.get(s.symbol as usize).map_or("?", String::as_str);
            let run = d.strategies.get(s.strategy as usize).map_or("?", String::as_str);
            let side = s.side().map_or("?", Side::name);
            writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                csv_cell(run),
                csv_cell(sym),
                format_ns(s.ts_event),
                s.close,
                s.sma5,
                s.sma21,
                side,
                s.strength
            )?;
            n += 1;
        }
    }
    Ok(n)
}

fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "signal,symbol,close,timestamp,sma5,sma21,signalStrength,runId,extra";

    #[test]
    fn csv_columns_in_any_order() {
        let c = CsvColumns::from_header(HEADER).unwrap();
        let r = c.parse_row("buy,AAPL,101.5,2010-01-04,100,99.5,0.25,\"seed, v1\",x").unwrap();
        assert_eq!(r.symbol, "AAPL");
        assert_eq!(r.run_id, "seed, v1");
        assert_eq!(r.side, Side::Buy);
        assert_eq!(r.close, 101.5);
        assert_eq!(r.ts_event, parse_timestamp_ns("2010-01-04").unwrap());
    }

    #[test]
    fn bad_rows_name_the_field() {
        let c = CsvColumns::from_header(HEADER).unwrap();
        let e = |l: &str| c.parse_row(l).unwrap_err().to_string();
        assert_eq!(e("HOLD,A,1,2010-01-04,1,1,0.5,r,x"), "field signal: unknown action `HOLD` (expected BUY or SELL)");
        assert_eq!(e("BUY,A,abc,2010-01-04,1,1,0.5,r,x"), "field close: `abc` is not a number");
        assert_eq!(e("BUY,A,-1,2010-01-04,1,1,0.5,r,x"), "field close: -1 is not a positive price");
        assert!(e("BUY,A,1,2010-01-04,1,1,1.5,r,x").starts_with("field signalStrength: 1.5 is outside"));
        assert!(e("BUY,A,1,2010-13-04,1,1,0.5,r,x").starts_with("field timestamp:"));
        assert!(e("BUY,A,1,2010-01-04").starts_with("field sma5: missing"), "{}", e("BUY,A,1,2010-01-04"));
        assert_eq!(e("BUY,,1,2010-01-04,1,1,0.5,r,x"), "field symbol: empty");
        assert_eq!(e("BUY,A,NaN,2010-01-04,1,1,0.5,r,x"), "field close: `NaN` is not a finite number");
        assert!(CsvColumns::from_header("symbol,close").unwrap_err().contains("lacks column(s) runId, timestamp"));
        assert!(CsvColumns::from_header("symbol,SYMBOL").unwrap_err().contains("appears twice"));
    }

    #[test]
    fn json_lines() {
        let r = parse_json_row(
            r#"{"runId":"r","symbol":"X","timestamp":1700000000000,"close":"10.5","sma5":10,"sma21":9,"signal":"SELL","signalStrength":0.5}"#,
        )
        .unwrap();
        assert_eq!((r.side, r.close, r.ts_event), (Side::Sell, 10.5, 1_700_000_000_000_000_000));
        assert_eq!(parse_json_row("[1]").unwrap_err().what, "not a JSON object");
        let e = parse_json_row(r#"{"runId":"r","symbol":"X","timestamp":1,"close":true}"#).unwrap_err();
        assert_eq!(e.field, Some(Field::Close));
        assert!(parse_json_row("{").unwrap_err().what.starts_with("not JSON"));
    }

    #[test]
    fn quotes() {
        assert_eq!(split_csv(r#"a,"b,""c""",d"#).unwrap(), vec!["a", "b,\"c\"", "d"]);
        assert!(split_csv(r#"a,"b"#).is_err());
        assert!(split_csv(r#"a,b"c"#).is_err());
        assert!(split_csv(r#""a"b"#).is_err());
    }
}
