//! The admin endpoint: operators flip the kill switch and change an account's
//! status on a running engine. HTTP on loopback by default, every request
//! authenticated with a bearer token; accepted actions go to the hot thread
//! as [`Control`] events on its control ring (this thread is the ring's only
//! producer). Cold path.
//!
//! Requests (all `POST`, header `Authorization: Bearer <token>`):
//! `/kill`, `/release`, `/accounts/<name>/kill`, `/accounts/<name>/release`,
//! `/accounts/<name>/block-buys`, `/accounts/<name>/allow-buys`,
//! `/accounts/<name>/status/ACTIVE|BLOCKED`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ringbuffers::{Producer, WaitStrategy, Waiter};
use tradeengine_model::{Control, ControlOp};

use super::http::{HttpServer, Response};

/// A parsed admin action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminAction {
    pub op: ControlOp,
    pub account: u32,
    pub value: u8,
}

/// Parses a request path into an action; the error is the HTTP status and message.
pub fn parse_path(path: &str, accounts: &HashMap<String, u32>) -> Result<AdminAction, (u16, String)> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let global = |op| Ok(AdminAction { op, account: 0, value: 0 });
    match parts.as_slice() {
        ["kill"] => global(ControlOp::KillAll),
        ["release"] => global(ControlOp::ReleaseAll),
        ["accounts", name, rest @ ..] => {
            let account = *accounts.get(*name).ok_or_else(|| (404, format!("unknown account `{name}`")))?;
            let (op, value) = match rest {
                ["kill"] => (ControlOp::KillAccount, 0),
                ["release"] => (ControlOp::ReleaseAccount, 0),
                ["block-buys"] => (ControlOp::BlockBuys, 0),
                ["allow-buys"] => (ControlOp::AllowBuys, 0),
                ["status", s] => {
                    let st = crate::config::parse_status(s).map_err(|e| (400, e))?;
                    (ControlOp::SetStatus, st as u8)
                }
                _ => return Err((404, format!("unknown account action `{}`", rest.join("/")))),
            };
            Ok(AdminAction { op, account, value })
        }
        _ => Err((404, format!("unknown path `{path}`"))),
    }
}

/// A running admin endpoint; stops when dropped.
pub struct AdminServer {
    http: HttpServer,
}

impl AdminServer {
    /// Serves on `listen` (port 0 picks one), accepting `token` only, sending
    /// actions into `control`. `accounts` maps names to dense ids.
    pub fn start(
        listen: &str,
        token: String,
        mut control: Producer<Control>,
        accounts: HashMap<String, u32>,
    ) -> std::io::Result<Self> {
        if token.is_empty() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "the admin endpoint needs a token"));
        }
        let bearer = format!("Bearer {token}");
        let mut waiter = Waiter::new(WaitStrategy::SpinThenYield);
        let http = HttpServer::start(listen, "te-admin", move |req| {
            if !req.header("authorization").is_some_and(|v| constant_time_eq(v, &bearer)) {
                return Response::text(401, "missing or wrong bearer token\n");
            }
            if req.method != "POST" {
                return Response::text(405, "use POST\n");
            }
            match parse_path(&req.path, &accounts) {
                Ok(a) => {
                    let c = Control { op: a.op as u8, account: a.account, value: a.value, ..Default::default() };
                    match control.push_slice(&[c], &mut waiter) {
                        Ok(()) => Response::text(200, format!("ok {}\n", a.op.name())),
                        Err(_) => Response::text(503, "the engine is not running\n"),
                    }
                }
                Err((code, msg)) => Response::text(code, msg + "\n"),
            }
        })?;
        Ok(Self { http })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.http.addr()
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Sends one admin request (the `tradeengine admin` client). Returns the
/// status code and body.
pub fn send(addr: &str, token: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut c = TcpStream::connect(addr)?;
    c.set_read_timeout(Some(Duration::from_secs(5)))?;
    let req =
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n");
    c.write_all(req.as_bytes())?;
    let mut s = String::new();
    c.read_to_string(&mut s)?;
    let code = s.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = s.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((code, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeengine_model::AccountStatus;

    #[test]
    fn paths_parse_to_actions() {
        let accounts: HashMap<String, u32> = [("ACC-0003".to_string(), 3)].into();
        assert_eq!(parse_path("/kill", &accounts).unwrap().op, ControlOp::KillAll);
        assert_eq!(parse_path("/release", &accounts).unwrap().op, ControlOp::ReleaseAll);
        let a = parse_path("/accounts/ACC-0003/status/blocked", &accounts).unwrap();
        assert_eq!((a.op, a.account, a.value), (ControlOp::SetStatus, 3, AccountStatus::Blocked as u8));
        assert_eq!(parse_path("/accounts/ACC-0003/block-buys", &accounts).unwrap().op, ControlOp::BlockBuys);
        assert_eq!(parse_path("/accounts/NOPE/kill", &accounts).unwrap_err().0, 404);
        assert_eq!(parse_path("/accounts/ACC-0003/status/SLEEPY", &accounts).unwrap_err().0, 400);
        assert_eq!(parse_path("/reboot", &accounts).unwrap_err().0, 404);
        assert!(constant_time_eq("Bearer x", "Bearer x") && !constant_time_eq("Bearer x", "Bearer y"));
    }

    #[test]
    fn only_the_token_gets_through_to_the_control_ring() {
        let (tx, mut rx) = ringbuffers::channel::<Control>("control", 16);
        let accounts: HashMap<String, u32> = [("A".to_string(), 0)].into();
        let server = AdminServer::start("127.0.0.1:0", "s3cret".into(), tx, accounts).unwrap();
        let addr = server.addr().to_string();
        assert_eq!(send(&addr, "wrong", "/kill").unwrap().0, 401);
        assert_eq!(send(&addr, "s3cret", "/accounts/B/kill").unwrap().0, 404);
        let (code, body) = send(&addr, "s3cret", "/accounts/A/status/BLOCKED").unwrap();
        assert_eq!((code, body.as_str()), (200, "ok set_status\n"));
        assert_eq!(send(&addr, "s3cret", "/kill").unwrap().0, 200);
        let mut got = Vec::new();
        rx.drain(16, |b| got.extend_from_slice(b));
        assert_eq!(
            got.iter().map(|c| c.op()).collect::<Vec<_>>(),
            vec![Some(ControlOp::SetStatus), Some(ControlOp::KillAll)]
        );
        assert_eq!(got[0].value, AccountStatus::Blocked as u8);
        assert!(
            AdminServer::start("127.0.0.1:0", String::new(), ringbuffers::channel("c", 2).0, HashMap::new()).is_err()
        );
    }
}
