//! A TCP proxy on a loopback port in front of a database server, which can cut a
//! connection at its COMMIT: before the COMMIT reaches the server, or after the server
//! has committed and answered but before the answer reaches the client (a lost reply).
//! The statements flaskdb and sqlx send end transactions with the text `COMMIT`, which
//! no test statement sent through the proxy contains otherwise. It can also stall a
//! connection part-way through the reply to a statement holding a marker text.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where a connection is cut at a COMMIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The COMMIT never reaches the server: nothing is committed.
    BeforeCommit = 1,
    /// The server commits and answers; the answer is dropped with the connection.
    AfterReply = 2,
}

impl Cut {
    fn from_index(n: usize) -> Option<Cut> {
        match n {
            1 => Some(Cut::BeforeCommit),
            2 => Some(Cut::AfterReply),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Plan {
    /// The cut for the next COMMIT (0: none).
    next: AtomicUsize,
    /// With `every > 0`: every `every`-th COMMIT is cut, alternately before and after.
    every: AtomicU64,
    commits: AtomicU64,
    cuts: AtomicU64,
    /// Replies to a statement holding this text stop after their first byte.
    stall: std::sync::Mutex<Option<&'static [u8]>>,
    stalls: AtomicU64,
    /// Reads from clients: each is one message or more a client sent at once.
    sent: AtomicU64,
}

/// A running proxy; it stops with the test's runtime.
pub struct Proxy {
    addr: SocketAddr,
    target: String,
    plan: Arc<Plan>,
}

impl Proxy {
    /// Starts a proxy to the server of `url` (`scheme://user@host:port/..`).
    ///
    /// # Errors
    /// When `url` names no `host:port`, or no loopback port is free.
    pub async fn start(url: &str) -> anyhow::Result<Proxy> {
        let target = authority(url)?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let plan = Arc::new(Plan::default());
        let (to, shared) = (target.clone(), plan.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (to, plan) = (to.clone(), shared.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&to).await {
                        relay(client, server, &plan).await;
                    }
                });
            }
        });
        Ok(Proxy { addr, target, plan })
    }

    /// `url` with its server replaced by this proxy, and without TLS: the proxy reads
    /// the statements it relays, and sqlx's default (`sslmode=prefer`,
    /// `ssl-mode=PREFERRED`) encrypts them wherever the server offers TLS, as Debian's
    /// PostgreSQL cluster does.
    pub fn url(&self, url: &str) -> String {
        let url = url.replacen(&self.target, &self.addr.to_string(), 1);
        let no_tls = if url.starts_with("postgres") {
            "sslmode=disable"
        } else {
            "ssl-mode=DISABLED"
        };
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}{no_tls}")
    }

    /// Cuts the next COMMIT sent through the proxy, on whichever connection.
    pub fn cut_next(&self, cut: Cut) {
        self.plan.next.store(cut as usize, Ordering::SeqCst);
    }

    /// Cuts every `n`-th COMMIT from now on (0: none), alternately before the COMMIT
    /// and after its reply.
    pub fn cut_every(&self, n: u64) {
        self.plan.every.store(n, Ordering::SeqCst);
    }

    /// Relays the reply to the next statement holding `marker` only up to its first
    /// byte, then nothing more on that connection (it stays open): the client is left
    /// part-way through reading a message, as when the network stalls.
    pub fn stall_reply_to(&self, marker: &'static [u8]) {
        *self.plan.stall.lock().unwrap_or_else(|e| e.into_inner()) = Some(marker);
    }

    /// How many connections were stalled so far.
    pub fn stalls(&self) -> u64 {
        self.plan.stalls.load(Ordering::SeqCst)
    }

    /// How many times clients have sent something so far (a statement and the messages
    /// that go with it are one send; a ping is one of its own).
    pub fn sends(&self) -> u64 {
        self.plan.sent.load(Ordering::SeqCst)
    }

    /// How many connections were cut so far.
    pub fn cuts(&self) -> u64 {
        self.plan.cuts.load(Ordering::SeqCst)
    }
}

/// The `host:port` of a server URL.
fn authority(url: &str) -> anyhow::Result<String> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow::anyhow!("not a server URL"))?;
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    anyhow::ensure!(host.contains(':'), "the server URL names no port");
    Ok(host.to_owned())
}

impl Plan {
    /// The cut for a COMMIT being sent now, if any.
    fn cut_for_commit(&self) -> Option<Cut> {
        if let Some(cut) = Cut::from_index(self.next.swap(0, Ordering::SeqCst)) {
            return Some(cut);
        }
        let every = self.every.load(Ordering::SeqCst);
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        if every == 0 || !n.is_multiple_of(every) {
            return None;
        }
        Some(if (n / every).is_multiple_of(2) {
            Cut::AfterReply
        } else {
            Cut::BeforeCommit
        })
    }

    /// Whether `sent` is the statement whose reply is to stall (once).
    fn stalls_on(&self, sent: &[u8]) -> bool {
        let mut stall = self.stall.lock().unwrap_or_else(|e| e.into_inner());
        match *stall {
            Some(marker) if contains(sent, marker) => {
                *stall = None;
                self.stalls.fetch_add(1, Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }
}

async fn relay(mut client: TcpStream, mut server: TcpStream, plan: &Plan) {
    let (mut up, mut down) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        tokio::select! {
            read = client.read(&mut up) => {
                let Ok(n @ 1..) = read else { return };
                plan.sent.fetch_add(1, Ordering::SeqCst);
                let sent = &up[..n];
                if plan.stalls_on(sent) {
                    stall(client, server, sent).await;
                    return;
                }
                let cut = if contains(sent, b"COMMIT") { plan.cut_for_commit() } else { None };
                match cut {
                    Some(Cut::BeforeCommit) => {
                        plan.cuts.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    Some(Cut::AfterReply) => {
                        plan.cuts.fetch_add(1, Ordering::SeqCst);
                        // The server has committed once it answers; the answer is lost.
                        if server.write_all(sent).await.is_ok() {
                            let _ = server.read(&mut down).await;
                        }
                        return;
                    }
                    None => {
                        if server.write_all(sent).await.is_err() {
                            return;
                        }
                    }
                }
            }
            read = server.read(&mut down) => {
                let Ok(n @ 1..) = read else { return };
                if client.write_all(&down[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Sends `sent` on, relays the first byte of the server's reply, then only watches the
/// client until it goes away, for at most 30 s (then the server's connection closes too,
/// so a test that failed leaves no transaction open on the server).
async fn stall(mut client: TcpStream, mut server: TcpStream, sent: &[u8]) {
    let mut buf = vec![0u8; 64 * 1024];
    if server.write_all(sent).await.is_err() {
        return;
    }
    let Ok(1..) = server.read(&mut buf).await else {
        return;
    };
    if client.write_all(&buf[..1]).await.is_err() {
        return;
    }
    let watch = async { while let Ok(1..) = client.read(&mut buf).await {} };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), watch).await;
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
