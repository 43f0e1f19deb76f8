//! A minimal HTTP/1.1 server for the operator endpoints (metrics, admin):
//! one thread, one request per connection, no keep-alive. It binds where it
//! is told (loopback by default in the config) and stops when dropped. Cold path.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A request as the handler sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header lines as (name, value), names as sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    fn parse(text: &str) -> Self {
        let mut lines = text.lines();
        let mut first = lines.next().unwrap_or("").split_whitespace();
        let (method, path) = (first.next().unwrap_or("").to_string(), first.next().unwrap_or("").to_string());
        let headers = lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
            .collect();
        Self { method, path, headers }
    }

    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A response: status code, content type, body.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    /// A `text/plain` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self { status, content_type: "text/plain", body: body.into() }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// A running server; stops (and joins its thread) when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves on `listen` (port 0 picks one) from a thread named `name`,
    /// answering each request with `handle`.
    pub fn start(
        listen: &str,
        name: &str,
        mut handle: impl FnMut(&Request) -> Response + Send + 'static,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new().name(name.to_string()).spawn(move || {
            while !flag.load(Relaxed) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                // A request may arrive in several segments: read to the end of its headers.
                let mut buf = [0u8; 4096];
                let mut n = 0;
                while n < buf.len() && !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf[n..]) {
                        Ok(0) | Err(_) => break,
                        Ok(k) => n += k,
                    }
                }
                let r = handle(&Request::parse(&String::from_utf8_lossy(&buf[..n])));
                let _ = write!(
                    conn,
                    "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    r.status,
                    reason(r.status),
                    r.content_type,
                    r.body.len(),
                    r.body
                );
            }
        })?;
        Ok(Self { addr, stop, thread: Some(thread) })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_line_and_headers() {
        let r = Request::parse("POST /kill HTTP/1.1\r\nHost: x\r\nauthorization: Bearer t\r\n\r\nbody: no");
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/kill"));
        assert_eq!(r.header("Authorization"), Some("Bearer t"));
        assert_eq!(r.header("body"), None, "the body is not headers");
        assert_eq!(Request::parse(""), Request::default());
    }

    #[test]
    fn a_request_split_across_segments_is_read_whole() {
        let server = HttpServer::start("127.0.0.1:0", "t-http", |req| {
            Response::text(200, req.header("x-token").unwrap_or("none").to_string())
        })
        .unwrap();
        let mut c = std::net::TcpStream::connect(server.addr()).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
        c.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        c.write_all(b"X-Token: abc\r\n\r\n").unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        assert!(s.starts_with("HTTP/1.1 200 OK\r\n") && s.ends_with("\r\n\r\nabc"), "{s}");
    }
}
