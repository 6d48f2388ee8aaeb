//! Serving the center on a socket, with the bounds a public write path
//! needs against a flood (the 2024 night: a flood that "only delayed"
//! transmission):
//!
//! - at most [`Limits::connections`] connections at once — the next one waits
//!   in the kernel's accept queue, never in the center's memory — and at most
//!   [`Limits::per_address_connections`] from one address (an IPv6 /64);
//! - a connection that sends nothing for [`Limits::idle`] is closed, and one
//!   that takes longer than [`Limits::header_timeout`] to send a request's
//!   headers is cut off (hyper's timer, which `axum::serve` does not set);
//! - each address may make [`Limits::per_address_burst`] requests at once and
//!   [`Limits::per_address_per_second`] a second after that (429 beyond);
//! - the request-level bounds of [`crate::router_with`].

use std::collections::HashMap;
use std::future::Future as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

use crate::{router_with, Center, Limits};

/// Serves `center` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, center: Center, limits: Limits) -> io::Result<()> {
    let per_address = GovernorConfigBuilder::default()
        .period(Duration::from_secs_f64(
            1.0 / limits.per_address_per_second.max(1) as f64,
        ))
        .burst_size(limits.per_address_burst.max(1))
        .key_extractor(PeerKey)
        .finish()
        .expect("positive rate and burst");
    let limiter = per_address.limiter().clone();
    // Forget addresses that went quiet, so a flood from many addresses
    // cannot grow the table without bound.
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(30)).await;
            limiter.retain_recent();
        }
    });
    let app = router_with(center, limits.clone()).layer(GovernorLayer::new(per_address));
    let mut listener = Bounded {
        inner: listener,
        slots: Arc::new(Semaphore::new(limits.connections.max(1))),
        idle: limits.idle,
        per_address: limits.per_address_connections.max(1),
        open: Arc::new(std::sync::Mutex::new(HashMap::new())),
    };
    // hyper directly rather than `axum::serve`, which sets no timer: a
    // client gets `header_timeout` to send a request's headers, however
    // slowly it trickles them.
    // HTTP/1.1 only: every bound above is written for it.
    let mut http = auto::Builder::new(TokioExecutor::new()).http1_only();
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let http = Arc::new(http);
    loop {
        let (io, addr) = listener.accept().await;
        let peer = ConnectInfo(Peer(addr));
        let svc = tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(peer);
                req
            },
        );
        let http = http.clone();
        tokio::spawn(async move {
            let _ = http
                .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(svc))
                .await;
        });
    }
}

/// The peer of a connection, for per-address limits.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

#[derive(Debug, Clone, Copy)]
struct PeerKey;

impl KeyExtractor for PeerKey {
    type Key = std::net::IpAddr;
    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<Self::Key, GovernorError> {
        req.extensions()
            .get::<axum::extract::ConnectInfo<Peer>>()
            .map(|c| address_of(&c.0 .0))
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// Open connections per address.
type OpenByAddress = Arc<std::sync::Mutex<HashMap<IpAddr, usize>>>;

/// A listener that holds one of a bounded number of slots per connection,
/// and refuses an address more than its share of them.
pub struct Bounded {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    idle: Duration,
    per_address: usize,
    open: OpenByAddress,
}

/// The address a connection counts against (an IPv6 /64 is one address:
/// anyone holding one holds all of it).
fn address_of(addr: &SocketAddr) -> IpAddr {
    match addr.ip() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
        }
        v4 => v4,
    }
}

impl Listener for Bounded {
    type Io = BoundedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (BoundedIo, SocketAddr) {
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let ip = address_of(&addr);
                    {
                        let mut open = self.open.lock().expect("not poisoned");
                        let n = open.entry(ip).or_default();
                        if *n >= self.per_address {
                            continue; // dropped: closed at once
                        }
                        *n += 1;
                    }
                    let _ = stream.set_nodelay(true);
                    return (
                        BoundedIo {
                            stream,
                            _permit: permit,
                            idle: self.idle,
                            active: false,
                            deadline: Box::pin(tokio::time::sleep(self.idle)),
                            open: self.open.clone(),
                            ip,
                        },
                        addr,
                    );
                }
                // Out of file descriptors and the like: wait, then retry.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection that gives back its slot when dropped and is closed when
/// the peer sends nothing for the idle time.
pub struct BoundedIo {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    idle: Duration,
    /// Whether bytes arrived since the deadline was last set: the clock is
    /// read once per idle period, not once per read.
    active: bool,
    deadline: Pin<Box<Sleep>>,
    open: OpenByAddress,
    ip: IpAddr,
}

impl Drop for BoundedIo {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("not poisoned");
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl AsyncRead for BoundedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.active = true;
                }
                Poll::Ready(r)
            }
            Poll::Pending => loop {
                match self.deadline.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) if self.active => {
                        self.active = false;
                        let next = Instant::now() + self.idle;
                        self.deadline.as_mut().reset(next);
                    }
                    Poll::Ready(()) => {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "connection idle too long",
                        )))
                    }
                }
            },
        }
    }
}

impl AsyncWrite for BoundedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
