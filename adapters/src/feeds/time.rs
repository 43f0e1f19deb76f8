//! Event-time text forms: parsing timestamps of imported files (ISO-8601,
//! plain dates, epoch milliseconds) and formatting nanoseconds back to
//! ISO-8601 so that export → import round-trips exactly. Cold path.

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn num(s: &str, what: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} `{s}` is not a number"));
    }
    s.parse().map_err(|_| format!("{what} `{s}` is out of range"))
}

/// Parses `YYYY-MM-DD` or `YYYYMMDD` to days since the epoch, checking the calendar.
pub fn parse_date(s: &str) -> Result<i64, String> {
    let mut it = s.split('-');
    let (y, m, d) = match (it.next(), it.next(), it.next(), it.next()) {
        (Some(y), Some(m), Some(d), None) if y.len() == 4 && m.len() == 2 && d.len() == 2 => (y, m, d),
        (Some(c), None, None, None) if c.len() == 8 && c.is_ascii() => (&c[..4], &c[4..6], &c[6..]),
        _ => return Err(format!("`{s}` is not a date (YYYY-MM-DD or YYYYMMDD)")),
    };
    let (y, m, d) = (num(y, "year")? as i64, num(m, "month")?, num(d, "day")?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(format!("`{s}` is not a calendar date"));
    }
    Ok(days_from_civil(y, m, d))
}

/// Parses an event time to nanoseconds since the Unix epoch: an integer is
/// epoch milliseconds; otherwise `YYYY-MM-DD`, or ISO-8601
/// `YYYY-MM-DD[T ]hh:mm:ss[.fffffffff][Z|±hh:mm]` (no zone = UTC). Times
/// before 1970 or past the `u64` range are refused.
pub fn parse_timestamp_ns(s: &str) -> Result<u64, String> {
    let s = s.trim();
    if !s.is_ascii() {
        return Err(format!("timestamp `{s}` has characters outside ASCII"));
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: u64 = s.parse().map_err(|_| format!("epoch milliseconds `{s}` out of range"))?;
        return ms.checked_mul(1_000_000).ok_or_else(|| format!("epoch milliseconds `{s}` out of range"));
    }
    let (date, rest) = if s.len() > 10 { s.split_at(10) } else { (s, "") };
    let days = parse_date(date).map_err(|e| format!("timestamp `{s}`: {e}"))?;
    let mut secs = days as i128 * 86_400;
    let mut nanos: i128 = 0;
    if !rest.is_empty() {
        let rest =
            rest.strip_prefix(['T', ' ']).ok_or_else(|| format!("timestamp `{s}`: expected `T` after the date"))?;
        let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (hms, frac) = match clock.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (clock, None),
        };
        let parts: Vec<&str> = hms.split(':').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.len() != 2) {
            return Err(format!("timestamp `{s}`: time must be hh:mm:ss"));
        }
        let (h, m, sec) = (num(parts[0], "hour")?, num(parts[1], "minute")?, num(parts[2], "second")?);
        if h > 23 || m > 59 || sec > 59 {
            return Err(format!("timestamp `{s}`: time {hms} out of range"));
        }
        secs += (h * 3600 + m * 60 + sec) as i128;
        if let Some(f) = frac {
            if f.is_empty() || f.len() > 9 {
                return Err(format!("timestamp `{s}`: fraction must have 1 to 9 digits"));
            }
            nanos = num(f, "fraction")? as i128 * 10i128.pow(9 - f.len() as u32);
        }
        match zone {
            "" | "Z" | "z" => {}
            z => {
                let sign = if z.starts_with('-') { -1 } else { 1 };
                let hm = z[1..].replace(':', "");
                if hm.len() != 4 {
                    return Err(format!("timestamp `{s}`: zone offset must be ±hh:mm"));
                }
                let (oh, om) = (num(&hm[..2], "zone hour")?, num(&hm[2..], "zone minute")?);
                secs -= sign * (oh * 3600 + om * 60) as i128;
            }
        }
    }
    let ns = secs * 1_000_000_000 + nanos;
    u64::try_from(ns).map_err(|_| format!("timestamp `{s}` is outside 1970-01-01 .. 2554-07-21"))
}

/// Formats nanoseconds since the epoch as `YYYY-MM-DDThh:mm:ss.fffffffffZ`.
pub fn format_ns(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let frac = ns % 1_000_000_000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z", t / 3600, t % 3600 / 60, t % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_round_trip() {
        assert_eq!(parse_timestamp_ns("1970-01-02").unwrap(), 86_400_000_000_000);
        assert_eq!(parse_date("20090821").unwrap(), parse_date("2009-08-21").unwrap());
        assert!(parse_date("2009082").is_err());
        assert_eq!(parse_timestamp_ns("1700000000000").unwrap(), 1_700_000_000_000_000_000);
        let t = parse_timestamp_ns("2023-11-14T22:13:20.000000001Z").unwrap();
        assert_eq!(t, 1_700_000_000_000_000_001);
        assert_eq!(format_ns(t), "2023-11-14T22:13:20.000000001Z");
        assert_eq!(parse_timestamp_ns("2023-11-15T00:13:20+02:00").unwrap(), 1_700_000_000_000_000_000);
        assert_eq!(parse_timestamp_ns("2023-11-14 22:13:20.5").unwrap(), 1_700_000_000_500_000_000);
        for ns in [0u64, 1, 86_399_999_999_999, 1_262_304_000_123_456_789, u64::MAX / 2] {
            assert_eq!(parse_timestamp_ns(&format_ns(ns)).unwrap(), ns);
        }
    }

    #[test]
    fn bad_forms_say_why() {
        assert!(parse_timestamp_ns("2023-02-30").unwrap_err().contains("not a calendar date"));
        assert!(parse_timestamp_ns("1969-12-31").unwrap_err().contains("outside"));
        assert!(parse_timestamp_ns("9999-12-31").unwrap_err().contains("outside"));
        assert!(parse_timestamp_ns("2023-01-01T25:00:00").unwrap_err().contains("out of range"));
        assert!(parse_timestamp_ns("yesterday").is_err());
        assert!(parse_timestamp_ns("99999999999999999999").unwrap_err().contains("out of range"));
        assert!(parse_timestamp_ns("").is_err());
        // Found by cargo fuzz: a multi-byte character across the date's end.
        assert!(parse_timestamp_ns("2024-01-0\u{2eb}T00:00:00").unwrap_err().contains("outside ASCII"));
    }
}
