//! A minimal HTTP/1.1 client over a loopback socket, for talking to the dashboard with
//! exactly the headers a test wants (a foreign `Host`, an `Origin`, no token) and to
//! chromedriver.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One answer: status and body (a chunked body decoded).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: String,
}

impl Answer {
    /// Parses the body as JSON.
    pub(crate) fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_str(&self.body)
            .map_err(|error| anyhow::anyhow!("{error}: {} {}", self.status, self.body))
    }
}

/// Sends a request to 127.0.0.1:`port`. `Host` is `127.0.0.1:<port>` unless `headers` gives
/// one.
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> anyhow::Result<Answer> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || method == "POST" || method == "DELETE" {
        head.push_str("Content-Type: application/json\r\n");
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let raw = read_answer(&mut stream)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (headers, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("not an HTTP answer: {text}"))?;
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no status: {headers}"))?;
    let body = if is_chunked(headers) {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Answer {
        status,
        headers: headers.to_owned(),
        body,
    })
}

fn is_chunked(headers: &str) -> bool {
    headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
}

fn content_length(headers: &str) -> Option<usize> {
    headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

/// Reads one answer: up to its `Content-Length`, to the end of a chunked body, or until the
/// server closes (a server may keep the connection open despite `Connection: close`).
fn read_answer(stream: &mut TcpStream) -> anyhow::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 65536];
    // Where the body starts and how long it is, once the headers are in.
    let mut framing: Option<(usize, Option<usize>, bool)> = None;
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Ok(raw);
        }
        raw.extend_from_slice(&buffer[..read]);
        if framing.is_none()
            && let Some(end) = raw.windows(4).position(|window| window == b"\r\n\r\n")
        {
            let headers = String::from_utf8_lossy(&raw[..end]).into_owned();
            framing = Some((end + 4, content_length(&headers), is_chunked(&headers)));
        }
        match framing {
            Some((start, Some(length), _)) if raw.len() - start >= length => return Ok(raw),
            Some((_, None, true)) if raw.ends_with(b"0\r\n\r\n") => return Ok(raw),
            _ => {}
        }
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        let (Some(chunk), Some(next)) = (after.get(..size), after.get(size..)) else {
            break;
        };
        if size == 0 {
            break;
        }
        out.push_str(chunk);
        rest = next.trim_start_matches("\r\n");
    }
    out
}
