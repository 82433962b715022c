//! hello-world: a small HTTP service that greets. The example application of xtask-s2i.
//!
//! `hello-world` serves on `$PORT` (default 8080): `GET /` answers `Hello World!`,
//! `GET /?name=OKD` answers `Hello OKD!`, `GET /healthz` answers `ok`; one log line per request
//! on stderr. SIGTERM and SIGINT stop it at once, also as PID 1 in a container (where the kernel
//! gives signals no default action). `hello-world --name NAME` prints the greeting and exits.
//!
//! The HTTP side is the standard library only: the service answers three GET routes, one short
//! request per connection, so a server framework would add crates to vendor and bytes to the
//! `scratch` image without adding anything it needs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use clap::Parser;

/// Greets, over HTTP on `$PORT` or once with `--name`.
#[derive(Debug, Parser)]
#[command(version = concat!(env!("CARGO_PKG_VERSION"), " (image ", env!("S2I_RUNTIME_IMAGE"), ")"))]
struct Args {
    /// Print the greeting for NAME and exit instead of serving
    #[arg(long)]
    name: Option<String>,
}

/// The port when `$PORT` is unset.
const DEFAULT_PORT: u16 = 8080;
/// The longest request head read; longer requests get 431.
const MAX_HEAD: u64 = 8 * 1024;

fn main() {
    let args = Args::parse();
    if let Some(name) = args.name {
        println!("{}", greeting(&name));
        return;
    }
    let port = match std::env::var("PORT") {
        Err(_) => DEFAULT_PORT,
        Ok(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                eprintln!(
                    "error: `PORT` is `{p}`, not a TCP port\nnote: set it to a port from 1 to 65535, or unset it for {DEFAULT_PORT}"
                );
                std::process::exit(2);
            }
        },
    };
    signals::exit_on_term();
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: failed to listen on port {port}: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("hello-world listening on 0.0.0.0:{port}");
    for stream in listener.incoming().flatten() {
        std::thread::spawn(move || serve(stream));
    }
}

fn greeting(name: &str) -> String {
    format!("Hello {name}!")
}

/// Answers one request and logs it.
fn serve(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "-".into());
    let mut reader = BufReader::new((&stream).take(MAX_HEAD));
    let mut line = String::new();
    let head = reader.read_line(&mut line).and_then(|_| {
        // The rest of the head is read (and ignored), so closing the connection does not reset
        // it under a client that is still sending headers.
        let mut header = String::new();
        loop {
            header.clear();
            if reader.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
                return Ok(header.ends_with('\n'));
            }
        }
    });
    let (status, body, request) = match head {
        Ok(true) if line.ends_with('\n') => {
            let request = line.trim_end().to_string();
            let (status, body) = respond(&request);
            (status, body, request)
        }
        Ok(_) => (
            431,
            "incomplete or too large request head\n".to_string(),
            String::new(),
        ),
        Err(e) => (400, format!("{e}\n"), String::new()),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    eprintln!("{peer} \"{}\" {status}", request.escape_debug());
}

/// The status and body for a request line such as `GET /?name=OKD HTTP/1.1`.
fn respond(request_line: &str) -> (u16, String) {
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next())
    else {
        return (400, "bad request line\n".into());
    };
    if method != "GET" {
        return (405, "only GET\n".into());
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        "/healthz" => (200, "ok\n".into()),
        "/" => {
            let name = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("name="))
                .map(decode)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "World".into());
            (200, format!("{}\n", greeting(&name)))
        }
        _ => (404, "not found\n".into()),
    }
}

/// Percent-decodes a query value (`+` is a space); control characters are dropped.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out)
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// Exits on SIGTERM and SIGINT. A process that is PID 1 (as this binary is, alone on `scratch`)
/// gets no default action for them, so without handlers `docker stop` would wait and kill it.
mod signals {
    unsafe extern "C" {
        fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
        fn write(fd: i32, buf: *const u8, count: usize) -> isize;
        fn _exit(status: i32) -> !;
    }

    const SIGINT: i32 = 2;
    const SIGTERM: i32 = 15;

    /// Only async-signal-safe calls: one `write` and `_exit`.
    extern "C" fn on_signal(_: i32) {
        const MSG: &[u8] = b"hello-world stopping\n";
        // SAFETY: `write` and `_exit` are async-signal-safe; MSG outlives the call.
        unsafe {
            write(2, MSG.as_ptr(), MSG.len());
            _exit(0)
        }
    }

    pub fn exit_on_term() {
        // SAFETY: installs a handler that only makes async-signal-safe calls.
        unsafe {
            signal(SIGTERM, on_signal);
            signal(SIGINT, on_signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets() {
        assert_eq!(greeting("OKD"), "Hello OKD!");
    }

    #[test]
    fn routes() {
        assert_eq!(respond("GET / HTTP/1.1"), (200, "Hello World!\n".into()));
        assert_eq!(
            respond("GET /?name=OKD HTTP/1.1"),
            (200, "Hello OKD!\n".into())
        );
        assert_eq!(
            respond("GET /?x=1&name=Open%20Shift HTTP/1.1"),
            (200, "Hello Open Shift!\n".into())
        );
        assert_eq!(respond("GET /?name= HTTP/1.1").1, "Hello World!\n");
        assert_eq!(respond("GET /healthz HTTP/1.1"), (200, "ok\n".into()));
        assert_eq!(respond("GET /nope HTTP/1.1").0, 404);
        assert_eq!(respond("POST / HTTP/1.1").0, 405);
        assert_eq!(respond("garbage").0, 400);
    }

    #[test]
    fn decodes_query_values() {
        assert_eq!(decode("a+b%21"), "a b!");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("x%0Ay"), "xy");
    }
}
