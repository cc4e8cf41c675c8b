//! An HTTP proxy on 127.0.0.1 that serves `CONNECT` only (what clients use to reach
//! `https://` through a corporate proxy): it records each request's target and
//! `Proxy-Authorization`, opens the tunnel, and copies bytes both ways.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// `(target, proxy-authorization)` of every CONNECT so far.
pub type Connects = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A running proxy; dropping it stops accepting.
pub struct Proxy {
    pub addr: SocketAddr,
    /// `(target, proxy-authorization)` of every CONNECT.
    pub connects: Connects,
    _stop: oneshot::Sender<()>,
}

/// The request head, up to the blank line (bounded).
async fn head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 16 * 1024 || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    String::from_utf8(buf).ok()
}

async fn tunnel(mut client: TcpStream, connects: Connects) {
    let Some(head) = head(&mut client).await else {
        return;
    };
    let mut lines = head.lines();
    let request = lines.next().unwrap_or_default();
    let mut parts = request.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        let _ = client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    let auth = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    if let Ok(mut connects) = connects.lock() {
        connects.push((target.to_owned(), auth));
    }
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        .await
        .is_ok()
    {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}

/// Starts the proxy on `addr`.
pub async fn connect_proxy(addr: SocketAddr) -> std::io::Result<Proxy> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let connects: Connects = Arc::new(Mutex::new(Vec::new()));
    let (stop, mut stopped) = oneshot::channel::<()>();
    let recorded = connects.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    if let Ok((stream, _)) = accepted {
                        tokio::spawn(tunnel(stream, recorded.clone()));
                    }
                }
                _ = &mut stopped => return,
            }
        }
    });
    Ok(Proxy {
        addr,
        connects,
        _stop: stop,
    })
}
