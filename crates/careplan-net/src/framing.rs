//! Coded answers to requests the HTTP parser refuses.
//!
//! hyper answers a request it cannot read — bad syntax, a request target or head too long, another HTTP
//! version — by itself, with an empty 400, 414, 431 or 505, and offers no hook to shape that answer. The
//! servers never answer those statuses themselves, so [`CodedFraming`] wraps a connection's writer,
//! follows the responses written on it (each head, then as many body bytes as its `Content-Length`
//! says) and replaces such an empty parser refusal with the same status carrying the project's error
//! body, as every other refusal does.
//!
//! Invariant: bytes other than a parser refusal reach the client unchanged and in order. A response whose
//! framing the writer cannot follow (no `Content-Length`, or an answer to `HEAD`) turns the connection to
//! plain pass-through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use careplan_core::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::server::error_body;

/// The longest response head the writer holds while it decides (the servers' heads are a few hundred
/// bytes); a longer one is passed through.
const MAX_HEAD: usize = 16 * 1024;

/// Where the writer is in the stream of responses.
#[derive(Debug)]
enum Writing {
    /// At a response head, holding what has been written of it.
    Head(Vec<u8>),
    /// In a body with this many bytes still to come.
    Body(u64),
    /// The framing is no longer followed: everything passes.
    Through,
}

/// A connection whose parser refusals are answered with coded error bodies.
#[derive(Debug)]
pub(crate) struct CodedFraming<T> {
    inner: T,
    writing: Writing,
    /// Bytes accepted from the server and not yet written to the connection.
    pending: Vec<u8>,
}

impl<T> CodedFraming<T> {
    pub(crate) fn new(inner: T) -> Self {
        Self {
            inner,
            writing: Writing::Head(Vec::new()),
            pending: Vec::new(),
        }
    }
}

/// The coded answer replacing an empty parser refusal with `status`, if it is one.
fn coded_answer(status: u16) -> Option<Vec<u8>> {
    let (code, reason, message) = match status {
        400 => (
            ErrorCode::RequestMalformed,
            "Bad Request",
            "the request is not HTTP/1.1 the server can read (request line, headers or Content-Length)",
        ),
        414 => (
            ErrorCode::RequestUriTooLong,
            "URI Too Long",
            "the request target is longer than the server reads",
        ),
        431 => (
            ErrorCode::RequestHeadTooLarge,
            "Request Header Fields Too Large",
            "the request head is larger, or has more headers, than the server reads",
        ),
        505 => (
            ErrorCode::HttpVersionUnsupported,
            "HTTP Version Not Supported",
            "the servers speak HTTP/1.1",
        ),
        _ => return None,
    };
    let body = serde_json::to_vec(&error_body(code, message)).ok()?;
    let mut answer = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

/// What follows a complete response `head`: the bytes to write for it and the writer's next state.
fn decide(head: Vec<u8>) -> (Vec<u8>, Writing) {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(_)) = response.parse(&head) else {
        return (head, Writing::Through);
    };
    let status = response.code.unwrap_or(0);
    let mut length = None;
    for header in response.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            length = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok());
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return (head, Writing::Through);
        }
    }
    if length == Some(0)
        && let Some(answer) = coded_answer(status)
    {
        return (answer, Writing::Through);
    }
    match (status, length) {
        (100..=199 | 204 | 304, _) => (head, Writing::Head(Vec::new())),
        (_, Some(0)) => (head, Writing::Head(Vec::new())),
        (_, Some(n)) => (head, Writing::Body(n)),
        (_, None) => (head, Writing::Through),
    }
}

impl<T: AsyncWrite + Unpin> CodedFraming<T> {
    /// Writes what is pending; ready once nothing is.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..written);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CodedFraming<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        match &mut this.writing {
            Writing::Through => Pin::new(&mut this.inner).poll_write(cx, buf),
            Writing::Body(left) => {
                let take = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..take]))?;
                *left -= written as u64;
                if *left == 0 {
                    this.writing = Writing::Head(Vec::new());
                }
                Poll::Ready(Ok(written))
            }
            Writing::Head(held) => {
                // Accept bytes up to the end of the head; the rest of `buf` comes in the next call.
                let before = held.len();
                held.extend_from_slice(buf);
                let end = held.windows(4).position(|w| w == b"\r\n\r\n").map(|at| at + 4);
                match end {
                    Some(end) => {
                        held.truncate(end);
                        let accepted = end - before;
                        let head = std::mem::take(held);
                        let (bytes, next) = decide(head);
                        this.pending = bytes;
                        this.writing = next;
                        // What was accepted is the caller's to forget; it is written by the next call or
                        // flush if the connection cannot take it now.
                        let _ = this.poll_pending(cx)?;
                        Poll::Ready(Ok(accepted))
                    }
                    None if held.len() > MAX_HEAD => {
                        this.pending = std::mem::take(held);
                        this.writing = Writing::Through;
                        let _ = this.poll_pending(cx)?;
                        Poll::Ready(Ok(buf.len()))
                    }
                    None => Poll::Ready(Ok(buf.len())),
                }
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CodedFraming<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    /// What reaches the client when the server writes `writes`, one write call each.
    async fn through(writes: &[&[u8]]) -> Vec<u8> {
        let mut out = CodedFraming::new(Vec::new());
        for write in writes {
            out.write_all(write).await.unwrap();
        }
        out.flush().await.unwrap();
        out.inner
    }

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

    #[tokio::test]
    async fn responses_pass_unchanged_however_they_are_cut() {
        let two = [
            OK,
            b"HTTP/1.1 422 Unprocessable Entity\r\ncontent-length: 2\r\n\r\n{}",
        ]
        .concat();
        assert_eq!(through(&[&two]).await, two);
        // Cut at every byte: the same bytes arrive.
        let bytes: Vec<&[u8]> = two.chunks(1).collect();
        assert_eq!(through(&bytes).await, two);
    }

    #[tokio::test]
    async fn a_body_that_looks_like_a_refusal_is_left_alone() {
        // A file whose bytes are a parser refusal, downloaded: it is body, not a head.
        let refusal_bytes = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let download = [
            format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                refusal_bytes.len()
            )
            .as_bytes(),
            refusal_bytes,
        ]
        .concat();
        assert_eq!(through(&[&download]).await, download);
    }

    #[tokio::test]
    async fn an_empty_parser_refusal_gets_the_coded_body_after_earlier_responses() {
        for (status, code) in [
            (400, "REQUEST_MALFORMED"),
            (414, "REQUEST_URI_TOO_LONG"),
            (431, "REQUEST_HEAD_TOO_LARGE"),
            (505, "HTTP_VERSION_UNSUPPORTED"),
        ] {
            let refusal = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\ndate: now\r\n\r\n");
            let written = through(&[OK, refusal.as_bytes()]).await;
            let text = String::from_utf8(written).unwrap();
            let (first, second) = text.split_at(OK.len());
            assert_eq!(first.as_bytes(), OK);
            assert!(second.starts_with(&format!("HTTP/1.1 {status} ")), "{second}");
            let (head, body) = second.split_once("\r\n\r\n").unwrap();
            assert!(
                head.contains(&format!("content-length: {}", body.len())),
                "{head}"
            );
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(body["code"], code);
        }
    }

    #[tokio::test]
    async fn a_refusal_with_a_body_of_its_own_is_the_server_s_and_kept() {
        let own = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(through(&[own]).await, own);
    }
}
