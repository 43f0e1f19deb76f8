//! The account universe: generated from `[accounts]` or read from a CSV file.
//! Names are interned to dense ids in file order. Cold path.

use std::path::{Path, PathBuf};

use tradeengine_model::{AccountPolicy, Interner};

use super::{parse_status, Config, ConfigError, MAX_OPEN_SYMBOLS};

/// Accounts with their names (for output) and policies (for the hot thread).
#[derive(Clone, Debug, Default)]
pub struct Universe {
    pub accounts: Interner,
    /// Indexed by dense account id.
    pub policies: Vec<AccountPolicy>,
}

impl Universe {
    /// Builds the universe the config describes (generated, or from `accounts.csv`).
    pub fn from_config(c: &Config) -> Result<Self, ConfigError> {
        if c.accounts.csv.is_empty() {
            return Ok(Self::generated(c));
        }
        let path = PathBuf::from(&c.accounts.csv);
        let path = match (&c.source, path.is_relative()) {
            (Some(src), true) => src.parent().unwrap_or(Path::new(".")).join(path),
            _ => path,
        };
        load_accounts_csv(&path, c)
    }

    fn generated(c: &Config) -> Self {
        let a = &c.accounts;
        let status = parse_status(&a.status).unwrap_or(tradeengine_model::AccountStatus::Active);
        let mut u = Self::default();
        for i in 0..a.count {
            let id = u.accounts.intern(&format!("{}{:04}", a.name_prefix, i));
            u.policies.push(AccountPolicy { account: id, status: status as u8, ..default_policy(c) });
        }
        u
    }

    /// The largest `max_open_symbols` of any account (position slots per account).
    pub fn max_open_symbols(&self) -> usize {
        self.policies.iter().map(|p| p.max_open_symbols as usize).max().unwrap_or(1)
    }
}

fn default_policy(c: &Config) -> AccountPolicy {
    AccountPolicy {
        status: tradeengine_model::AccountStatus::Active as u8,
        max_open_symbols: c.accounts.max_open_symbols,
        max_open_orders: c.risk.max_open_orders,
        initial_capital: c.accounts.initial_capital,
        max_order_qty: c.risk.max_order_qty,
        max_order_notional: c.risk.max_order_notional,
        max_capital_usage: c.risk.max_capital_usage,
        ..Default::default()
    }
}

/// The value of a risk-limit column (`max_order_qty`, `max_order_notional`,
/// `max_capital_usage`, `max_open_orders`) that sets no limit.
pub const UNLIMITED: &str = "unlimited";

const COLUMNS: &[&str] = &[
    "account",
    "status",
    "max_open_symbols",
    "initial_capital",
    "max_order_qty",
    "max_order_notional",
    "max_open_orders",
    "max_capital_usage",
    "kill",
];

/// Reads accounts from a CSV file (header row; see `default.toml` for the
/// columns). Errors name the file, line and column.
pub fn load_accounts_csv(path: &Path, c: &Config) -> Result<Universe, ConfigError> {
    let name = path.display().to_string();
    let err = |what: String| ConfigError { source_name: name.clone(), what };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read the accounts file: {e}")))?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let Some((_, header)) = lines.next() else {
        return Err(err("the accounts file is empty (a header row is required)".into()));
    };
    let cols: Vec<String> = header.split(',').map(|h| h.trim().to_ascii_lowercase()).collect();
    for (i, h) in cols.iter().enumerate() {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(err(format!("line 1, column {}: unknown column `{h}` (known: {})", i + 1, COLUMNS.join(", "))));
        }
    }
    if !cols.iter().any(|h| h == "account") {
        return Err(err("line 1: the header has no `account` column".into()));
    }
    let mut u = Universe::default();
    for (ln, line) in lines {
        let line_no = ln + 1;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != cols.len() {
            return Err(err(format!("line {line_no}: {} fields, the header has {}", fields.len(), cols.len())));
        }
        let mut p = default_policy(c);
        let mut account = "";
        for (col, v) in cols.iter().zip(&fields) {
            let bad = |what: &str| err(format!("line {line_no}, field `{col}`: {what}"));
            let num = || v.parse::<f64>().ok().filter(|x| x.is_finite() && *x > 0.0);
            match col.as_str() {
                "account" => account = v,
                "status" => p.status = parse_status(v).map_err(|w| bad(&w))? as u8,
                "max_open_symbols" => {
                    p.max_open_symbols = v
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_OPEN_SYMBOLS).contains(n))
                        .ok_or_else(|| bad(&format!("`{v}` is not a whole number in 1..={MAX_OPEN_SYMBOLS}")))?
                }
                "max_open_orders" if v.eq_ignore_ascii_case(UNLIMITED) => p.max_open_orders = u32::MAX,
                "max_open_orders" => {
                    p.max_open_orders = v.parse::<u32>().map_err(|_| bad(&format!("`{v}` is not a whole number")))?
                }
                "kill" => {
                    p.kill = match v.to_ascii_lowercase().as_str() {
                        "1" | "true" | "yes" => 1,
                        "0" | "false" | "no" | "" => 0,
                        _ => return Err(bad(&format!("`{v}` is not true/false"))),
                    }
                }
                "max_order_qty" | "max_order_notional" | "max_capital_usage" if v.eq_ignore_ascii_case(UNLIMITED) => {
                    match col.as_str() {
                        "max_order_qty" => p.max_order_qty = f64::INFINITY,
                        "max_order_notional" => p.max_order_notional = f64::INFINITY,
                        _ => p.max_capital_usage = f64::INFINITY,
                    }
                }
                other => {
                    let x = num().ok_or_else(|| bad(&format!("`{v}` is not a positive number")))?;
                    match other {
                        "initial_capital" => p.initial_capital = x,
                        "max_order_qty" => p.max_order_qty = x,
                        "max_order_notional" => p.max_order_notional = x,
                        _ => p.max_capital_usage = x,
                    }
                }
            }
        }
        if account.is_empty() {
            return Err(err(format!("line {line_no}, field `account`: empty account name")));
        }
        if u.accounts.get(account).is_some() {
            return Err(err(format!("line {line_no}, field `account`: `{account}` appears twice")));
        }
        p.account = u.accounts.intern(account);
        u.policies.push(p);
    }
    if u.policies.is_empty() {
        return Err(err("the accounts file has a header but no accounts".into()));
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_model::AccountStatus;

    fn write(content: &str) -> PathBuf {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let k = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("te-accounts-{}-{k}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("accounts.csv");
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn generated_universe_from_defaults() {
        let u = Universe::from_config(&Config::builtin()).unwrap();
        assert_eq!(u.policies.len(), 10);
        assert_eq!(u.accounts.name(3), Some("ACC-0003"));
        assert_eq!(u.policies[3].max_open_symbols, 20);
        assert_eq!(u.policies[3].initial_capital, 1_000_000.0);
        assert_eq!(u.policies[3].status(), AccountStatus::Active);
        assert_eq!(u.max_open_symbols(), 20);
    }

    #[test]
    fn csv_with_partial_columns() {
        let p = write("account,status,max_open_symbols\nalpha,ACTIVE,5\nbeta,blocked,30\n");
        let u = load_accounts_csv(&p, &Config::builtin()).unwrap();
        assert_eq!(u.accounts.get("beta"), Some(1));
        assert_eq!(u.policies[1].status(), AccountStatus::Blocked);
        assert_eq!(u.policies[0].max_open_symbols, 5);
        assert_eq!(u.policies[0].initial_capital, 1_000_000.0, "missing column takes the default");
        assert_eq!(u.max_open_symbols(), 30);
    }

    #[test]
    fn unlimited_risk_columns() {
        let p = write("account,max_order_qty,max_open_orders,max_capital_usage\nalpha,unlimited,UNLIMITED,unlimited\n");
        let u = load_accounts_csv(&p, &Config::builtin()).unwrap();
        assert_eq!(u.policies[0].max_order_qty, f64::INFINITY);
        assert_eq!(u.policies[0].max_open_orders, u32::MAX);
        assert_eq!(u.policies[0].max_capital_usage, f64::INFINITY);
        let p = write("account,initial_capital\nalpha,unlimited\n");
        assert!(load_accounts_csv(&p, &Config::builtin()).is_err(), "capital has to be a number");
    }

    #[test]
    fn csv_errors_name_line_and_field() {
        let cfg = Config::builtin();
        let cases = [
            ("account,status\nalpha,SLEEPING\n", "line 2, field `status`: unknown status `SLEEPING`"),
            ("account,max_open_symbols\nalpha,0\n", "line 2, field `max_open_symbols`"),
            ("account,initial_capital\nalpha,abc\n", "line 2, field `initial_capital`: `abc` is not a positive number"),
            ("account,colour\n", "line 1, column 2: unknown column `colour`"),
            ("account,status\nalpha\n", "line 2: 1 fields, the header has 2"),
            ("account\nalpha\nalpha\n", "line 3, field `account`: `alpha` appears twice"),
            ("status\nACTIVE\n", "no `account` column"),
            ("account\n", "no accounts"),
        ];
        for (text, want) in cases {
            let p = write(text);
            let e = load_accounts_csv(&p, &cfg).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
            assert!(e.contains("accounts.csv"), "{e}");
        }
    }
}
