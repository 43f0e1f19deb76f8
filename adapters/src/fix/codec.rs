//! FIX 4.4 tag=value framing: splitting a byte stream into messages with
//! BodyLength (9) and CheckSum (10) validated, reading a message's fields,
//! and building messages. Nothing here allocates per message: frames are
//! slices of the caller's buffer, fields are indexed in a fixed array, and
//! messages are built in a fixed buffer.

use std::fmt::Write as _;

/// The field separator.
pub const SOH: u8 = 0x01;
/// The only BeginString this codec speaks.
pub const BEGIN_STRING: &[u8] = b"8=FIX.4.4\x01";
/// Largest body accepted (BodyLength); longer frames are garbage.
pub const MAX_BODY: usize = 16 * 1024;
/// Most fields a message may have.
pub const MAX_FIELDS: usize = 128;

/// What the front of a byte buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole, valid message of this many bytes.
    Message(usize),
    /// The start of a message; more bytes are needed.
    Incomplete,
    /// Bytes to drop (garbage before a message, or a bad frame), and why.
    Skip(usize, FrameError),
}

/// Why bytes were dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Bytes that do not start with `8=FIX.4.4`.
    Garbage,
    /// BodyLength missing, not a number, or above [`MAX_BODY`].
    BadBodyLength,
    /// No `10=nnn` where BodyLength says the body ends.
    BadTrailer,
    /// CheckSum does not match the bytes.
    BadChecksum,
}

impl FrameError {
    /// Short name for counters and logs.
    pub fn name(self) -> &'static str {
        match self {
            FrameError::Garbage => "garbage",
            FrameError::BadBodyLength => "bad_body_length",
            FrameError::BadTrailer => "bad_trailer",
            FrameError::BadChecksum => "bad_checksum",
        }
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// Where the next possible message starts after garbage at the front: the
/// next `8=` (or the end, keeping a trailing `8` that may start one).
fn resync(buf: &[u8]) -> usize {
    match find(buf, b"8=", 1) {
        Some(i) => i,
        None if buf.last() == Some(&b'8') => buf.len() - 1,
        None => buf.len(),
    }
}

/// Classifies the front of `buf` (see [`Frame`]).
pub fn split_frame(buf: &[u8]) -> Frame {
    if buf.is_empty() {
        return Frame::Incomplete;
    }
    let n = BEGIN_STRING.len().min(buf.len());
    if buf[..n] != BEGIN_STRING[..n] {
        return Frame::Skip(resync(buf), FrameError::Garbage);
    }
    if buf.len() < BEGIN_STRING.len() + 2 {
        return Frame::Incomplete;
    }
    let rest = &buf[BEGIN_STRING.len()..];
    if &rest[..2] != b"9=" {
        return Frame::Skip(resync(buf), FrameError::BadBodyLength);
    }
    let mut len = 0usize;
    let mut i = 2;
    loop {
        match rest.get(i) {
            None if i > 8 => return Frame::Skip(resync(buf), FrameError::BadBodyLength),
            None => return Frame::Incomplete,
            Some(&SOH) if i > 2 => break,
            Some(d) if d.is_ascii_digit() && i < 8 => len = len * 10 + (d - b'0') as usize,
            Some(_) => return Frame::Skip(resync(buf), FrameError::BadBodyLength),
        }
        i += 1;
    }
    if len > MAX_BODY {
        return Frame::Skip(resync(buf), FrameError::BadBodyLength);
    }
    let body_start = BEGIN_STRING.len() + i + 1;
    let trailer = body_start + len;
    let total = trailer + 7;
    if buf.len() < total {
        return Frame::Incomplete;
    }
    let t = &buf[trailer..total];
    if &t[..3] != b"10=" || t[6] != SOH || !t[3..6].iter().all(u8::is_ascii_digit) {
        return Frame::Skip(resync(buf), FrameError::BadTrailer);
    }
    let stated = (t[3] - b'0') as u32 * 100 + (t[4] - b'0') as u32 * 10 + (t[5] - b'0') as u32;
    if checksum(&buf[..trailer]) != stated {
        return Frame::Skip(total, FrameError::BadChecksum);
    }
    Frame::Message(total)
}

/// FIX CheckSum: the byte sum modulo 256.
pub fn checksum(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |a, &b| a.wrapping_add(b as u32)) % 256
}

/// A parsed message: its fields indexed in place (no copy, no allocation).
pub struct FixMsg<'a> {
    bytes: &'a [u8],
    fields: [(u32, u32, u32); MAX_FIELDS],
    len: usize,
}

/// A message that frames but whose fields do not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// A field without `=`, or a tag that is not a positive number.
    Malformed { at: usize },
    /// More than [`MAX_FIELDS`] fields.
    TooManyFields,
    /// No MsgType (35) as the third field.
    NoMsgType,
}

impl<'a> FixMsg<'a> {
    /// Indexes the fields of one framed message (as [`split_frame`] found it).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, FieldError> {
        let mut m = FixMsg { bytes, fields: [(0, 0, 0); MAX_FIELDS], len: 0 };
        let mut pos = 0usize;
        while pos < bytes.len() {
            let end = bytes[pos..].iter().position(|&b| b == SOH).map_or(bytes.len(), |k| pos + k);
            let field = &bytes[pos..end];
            let eq = field.iter().position(|&b| b == b'=').ok_or(FieldError::Malformed { at: pos })?;
            let tag = parse_u64(&field[..eq])
                .filter(|&t| t > 0 && t < u32::MAX as u64)
                .ok_or(FieldError::Malformed { at: pos })?;
            if m.len == MAX_FIELDS {
                return Err(FieldError::TooManyFields);
            }
            m.fields[m.len] = (tag as u32, (pos + eq + 1) as u32, end as u32);
            m.len += 1;
            pos = end + 1;
        }
        if m.len < 3 || m.fields[2].0 != 35 {
            return Err(FieldError::NoMsgType);
        }
        Ok(m)
    }

    /// The value of the first field `tag`.
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.fields[..self.len].iter().find(|f| f.0 == tag).map(|&(_, s, e)| &self.bytes[s as usize..e as usize])
    }

    /// The value of `tag` as text.
    pub fn str(&self, tag: u32) -> Option<&'a str> {
        self.get(tag).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The value of `tag` as an unsigned integer.
    pub fn u64(&self, tag: u32) -> Option<u64> {
        self.get(tag).and_then(parse_u64)
    }

    /// The value of `tag` as a finite decimal number.
    pub fn f64(&self, tag: u32) -> Option<f64> {
        self.str(tag).and_then(|s| s.parse::<f64>().ok()).filter(|v| v.is_finite())
    }

    /// The value of `tag` as one character.
    pub fn char(&self, tag: u32) -> Option<u8> {
        match self.get(tag) {
            Some([c]) => Some(*c),
            _ => None,
        }
    }

    /// MsgType (35).
    pub fn msg_type(&self) -> &'a [u8] {
        let (_, s, e) = self.fields[2];
        &self.bytes[s as usize..e as usize]
    }

    /// MsgSeqNum (34).
    pub fn seq(&self) -> Option<u64> {
        self.u64(34)
    }

    /// The whole message.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Every (tag, value) in order.
    pub fn fields(&self) -> impl Iterator<Item = (u32, &'a [u8])> + '_ {
        self.fields[..self.len].iter().map(|&(t, s, e)| (t, &self.bytes[s as usize..e as usize]))
    }
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |a, &d| a * 10 + (d - b'0') as u64))
}

/// Builds one message at a time in a fixed buffer: body fields first, then
/// [`MsgBuilder::finish`] puts BeginString and BodyLength in front and the
/// CheckSum behind. No allocation after construction.
pub struct MsgBuilder {
    buf: Box<[u8]>,
    /// Where the body starts (room for the header in front).
    body_start: usize,
    end: usize,
    /// Where the finished message starts.
    start: usize,
    overflow: bool,
    /// `YYYYMMDD-HH:MM:SS.` of `time_sec` (timestamps repeat within a second).
    time_text: [u8; 18],
    time_sec: u64,
}

const HEADER_ROOM: usize = 32;

struct Cursor<'a> {
    buf: &'a mut [u8],
    end: &'a mut usize,
    overflow: &'a mut bool,
}

impl std::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let b = s.as_bytes();
        if *self.end + b.len() > self.buf.len() {
            *self.overflow = true;
            return Err(std::fmt::Error);
        }
        self.buf[*self.end..*self.end + b.len()].copy_from_slice(b);
        *self.end += b.len();
        Ok(())
    }
}

impl Default for MsgBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MsgBuilder {
    /// A builder for messages up to [`MAX_BODY`] bytes.
    pub fn new() -> Self {
        let cap = HEADER_ROOM + MAX_BODY + 8;
        Self {
            buf: vec![0; cap].into_boxed_slice(),
            body_start: HEADER_ROOM,
            end: HEADER_ROOM,
            start: 0,
            overflow: false,
            time_text: [0; 18],
            time_sec: u64::MAX,
        }
    }

    /// Starts a message of type `msg_type` (35 is the body's first field).
    pub fn begin(&mut self, msg_type: &str) -> &mut Self {
        self.end = self.body_start;
        self.overflow = false;
        self.str(35, msg_type)
    }

    fn cursor(&mut self) -> Cursor<'_> {
        let limit = self.body_start + MAX_BODY;
        Cursor { buf: &mut self.buf[..limit], end: &mut self.end, overflow: &mut self.overflow }
    }

    fn put(&mut self, bytes: &[u8]) {
        let limit = self.body_start + MAX_BODY;
        if self.end + bytes.len() > limit {
            self.overflow = true;
            return;
        }
        self.buf[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    fn put_uint(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.put(&digits[i..]);
    }

    fn put_tag(&mut self, tag: u32) {
        self.put_uint(tag as u64);
        self.put(b"=");
    }

    /// Appends `tag=value` (value as text).
    pub fn str(&mut self, tag: u32, value: &str) -> &mut Self {
        self.put_tag(tag);
        self.put(value.as_bytes());
        self.put(&[SOH]);
        self
    }

    /// Appends `tag=value` for an integer.
    pub fn u64(&mut self, tag: u32, value: u64) -> &mut Self {
        self.put_tag(tag);
        self.put_uint(value);
        self.put(&[SOH]);
        self
    }

    /// Appends `tag=value` for a price or quantity (shortest exact decimal;
    /// whole numbers take a fast integer path).
    pub fn f64(&mut self, tag: u32, value: f64) -> &mut Self {
        if value.fract() == 0.0 && value.abs() < 1e15 {
            self.put_tag(tag);
            if value < 0.0 {
                self.put(b"-");
            }
            self.put_uint(value.abs() as u64);
            self.put(&[SOH]);
            return self;
        }
        let _ = write!(self.cursor(), "{tag}={value}\x01");
        self
    }

    /// Appends `tag=<prefix><n><suffix>` (identifiers such as ClOrdIDs) without formatting machinery.
    pub fn id(&mut self, tag: u32, prefix: &str, n1: u64, mid: &str, n2: u64, suffix: &str) -> &mut Self {
        self.put_tag(tag);
        self.put(prefix.as_bytes());
        self.put_uint(n1);
        self.put(mid.as_bytes());
        self.put_uint(n2);
        self.put(suffix.as_bytes());
        self.put(&[SOH]);
        self
    }

    /// Appends `tag=c` for a one-character value.
    pub fn char(&mut self, tag: u32, value: u8) -> &mut Self {
        self.put_tag(tag);
        self.put(&[value, SOH]);
        self
    }

    /// Appends a UTCTimestamp field (`YYYYMMDD-HH:MM:SS.sss`) of `unix_ns`.
    /// The text up to the second is cached: one calendar conversion a second.
    pub fn time(&mut self, tag: u32, unix_ns: u64) -> &mut Self {
        let secs = unix_ns / 1_000_000_000;
        let ms = unix_ns % 1_000_000_000 / 1_000_000;
        if secs != self.time_sec {
            let (y, mo, d) = crate::feeds::time::civil_from_days((secs / 86_400) as i64);
            let t = secs % 86_400;
            let mut text = [0u8; 18];
            let mut end = 0usize;
            let mut over = false;
            let mut c = Cursor { buf: &mut text, end: &mut end, overflow: &mut over };
            let _ = write!(c, "{y:04}{mo:02}{d:02}-{:02}:{:02}:{:02}.", t / 3600, t % 3600 / 60, t % 60);
            if end == 18 {
                self.time_text = text;
                self.time_sec = secs;
            }
        }
        self.put_tag(tag);
        let text = self.time_text;
        self.put(&text);
        self.put(&[b'0' + (ms / 100) as u8, b'0' + (ms / 10 % 10) as u8, b'0' + (ms % 10) as u8, SOH]);
        self
    }

    /// Puts BeginString and BodyLength in front and CheckSum behind; returns
    /// the whole message, or `None` if the body overflowed [`MAX_BODY`].
    pub fn finish(&mut self) -> Option<&[u8]> {
        if self.overflow {
            return None;
        }
        let body_len = self.end - self.body_start;
        // "8=FIX.4.4|9=<len>|" written backwards, right before the body.
        let mut at = self.body_start - 1;
        self.buf[at] = SOH;
        let mut v = body_len;
        loop {
            at -= 1;
            self.buf[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        at -= 2;
        self.buf[at..at + 2].copy_from_slice(b"9=");
        at -= BEGIN_STRING.len();
        self.buf[at..at + BEGIN_STRING.len()].copy_from_slice(BEGIN_STRING);
        self.start = at;
        let sum = checksum(&self.buf[self.start..self.end]);
        let tail =
            [b'1', b'0', b'=', b'0' + (sum / 100) as u8, b'0' + (sum / 10 % 10) as u8, b'0' + (sum % 10) as u8, SOH];
        self.buf[self.end..self.end + 7].copy_from_slice(&tail);
        self.end += 7;
        Some(&self.buf[self.start..self.end])
    }
}

/// Renders a message for logs and errors: SOH as `|`.
pub fn display(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| if b == SOH { '|' } else { b as char }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat() -> Vec<u8> {
        let mut b = MsgBuilder::new();
        b.begin("0").str(49, "TE").str(56, "EXEC").u64(34, 7).time(52, 1_700_000_000_123_456_789);
        b.finish().unwrap().to_vec()
    }

    #[test]
    fn builds_and_frames_a_message() {
        let m = heartbeat();
        let text = display(&m);
        assert!(text.starts_with("8=FIX.4.4|9="), "{text}");
        assert!(text.contains("|35=0|49=TE|56=EXEC|34=7|52=20231114-22:13:20.123|10="), "{text}");
        assert_eq!(split_frame(&m), Frame::Message(m.len()));
        let f = FixMsg::parse(&m).unwrap();
        assert_eq!(f.msg_type(), b"0");
        assert_eq!(f.seq(), Some(7));
        assert_eq!(f.str(56), Some("EXEC"));
        // Body length counts from after 9=…| to before 10=.
        let body_len: usize = f.str(9).unwrap().parse().unwrap();
        let start = m.windows(4).position(|w| w == b"|35=".map(|c| if c == b'|' { SOH } else { c })).unwrap() + 1;
        assert_eq!(body_len, m.len() - 7 - start);
    }

    #[test]
    fn streams_split_anywhere() {
        let m = heartbeat();
        for cut in 0..m.len() {
            assert_eq!(split_frame(&m[..cut]), Frame::Incomplete, "every strict prefix waits for more (cut {cut})");
        }
    }

    #[test]
    fn bad_frames_are_skipped_with_a_reason() {
        let m = heartbeat();
        // Garbage before a message: skipped up to the message.
        let mut g = b"xx8=junk".to_vec();
        g.extend_from_slice(&m);
        assert_eq!(split_frame(&g), Frame::Skip(2, FrameError::Garbage));
        assert_eq!(
            split_frame(&g[2..]),
            Frame::Skip(6, FrameError::Garbage),
            "8=junk is not FIX.4.4: on to the next 8="
        );
        // Wrong checksum: the whole frame goes.
        let mut c = m.clone();
        let n = c.len();
        c[n - 2] = if c[n - 2] == b'9' { b'0' } else { c[n - 2] + 1 };
        assert_eq!(split_frame(&c), Frame::Skip(n, FrameError::BadChecksum));
        // Huge or non-numeric body length.
        // (nothing after them starts a message: all of it goes)
        assert_eq!(split_frame(b"8=FIX.4.4\x019=99999\x01"), Frame::Skip(18, FrameError::BadBodyLength));
        assert_eq!(split_frame(b"8=FIX.4.4\x019=1x\x01"), Frame::Skip(15, FrameError::BadBodyLength));
        let mut two = b"8=FIX.4.4\x0110=5\x01".to_vec();
        two.extend_from_slice(&m);
        assert_eq!(split_frame(&two), Frame::Skip(15, FrameError::BadBodyLength), "on to the next message");
        assert_eq!(split_frame(&two[15..]), Frame::Message(m.len()));
        // Body length pointing into the middle of the trailer.
        let mut t = m.clone();
        let pos = t.iter().position(|&b| b == b'9').unwrap() + 2;
        t[pos] = if t[pos] == b'9' { b'8' } else { t[pos] + 1 };
        assert!(matches!(split_frame(&t), Frame::Skip(_, FrameError::BadTrailer) | Frame::Incomplete));
        // Other versions are garbage.
        assert_eq!(split_frame(b"8=FIX.4.2\x019=5\x01"), Frame::Skip(14, FrameError::Garbage));
    }

    #[test]
    fn fields_must_be_tag_equals_value() {
        assert_eq!(FixMsg::parse(b"8=FIX.4.4\x019=5\x01nonsense\x01").err(), Some(FieldError::Malformed { at: 14 }));
        assert_eq!(FixMsg::parse(b"8=FIX.4.4\x019=5\x0134=1\x01").err(), Some(FieldError::NoMsgType));
        let mut many = b"8=FIX.4.4\x019=5\x0135=0\x01".to_vec();
        for _ in 0..MAX_FIELDS {
            many.extend_from_slice(b"58=x\x01");
        }
        assert_eq!(FixMsg::parse(&many).err(), Some(FieldError::TooManyFields));
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let mut b = MsgBuilder::new();
        b.begin("D");
        let long = "x".repeat(1000);
        for _ in 0..20 {
            b.str(58, &long);
        }
        assert!(b.finish().is_none());
        b.begin("0");
        assert!(b.finish().is_some(), "the builder is reusable after an overflow");
    }
}
