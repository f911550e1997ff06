//! The driver: per backend, fills the tables, starts the two servers as child
//! processes on loopback, checks that their answers agree, then loads them with `wrk`
//! in turns and prints the table.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::common::{self, WORLD_ROWS, WorldRow};
use crate::schema;
use crate::sqlx_app::RawPool;

/// A database server (or file) the tests run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// PostgreSQL.
    Postgres,
    /// MariaDB.
    MySql,
    /// SQLite on a file, in WAL mode.
    Sqlite,
}

impl Backend {
    /// The name `--backend` takes.
    fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "pg",
            Backend::MySql => "mysql",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The URL both servers connect to (`FLASKDB_TEST_POSTGRES_URL` and
    /// `FLASKDB_TEST_MYSQL_URL` override the servers' defaults).
    fn url(self, work: &Path) -> String {
        let env = |name: &str, default: &str| std::env::var(name).unwrap_or(default.to_owned());
        match self {
            Backend::Postgres => env(
                "FLASKDB_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            Backend::MySql => env("FLASKDB_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
            Backend::Sqlite => format!("sqlite://{}", work.join("te.db").display()),
        }
    }
}

/// The two servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    /// axum + flaskdb.
    Flaskdb,
    /// axum + raw sqlx.
    Sqlx,
}

impl Side {
    /// The name `serve` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Side::Flaskdb => "flaskdb",
            Side::Sqlx => "sqlx",
        }
    }
}

/// TechEmpower's four database tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Test {
    /// One row.
    Db,
    /// 20 rows, one query each.
    Queries,
    /// The fortunes page.
    Fortunes,
    /// 20 rows read and written back.
    Updates,
}

impl Test {
    fn name(self) -> &'static str {
        match self {
            Test::Db => "db",
            Test::Queries => "queries",
            Test::Fortunes => "fortunes",
            Test::Updates => "updates",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Test::Db => "/db",
            Test::Queries => "/queries?queries=20",
            Test::Fortunes => "/fortunes",
            Test::Updates => "/updates?queries=20",
        }
    }
}

/// What the command line asked for.
#[derive(Debug)]
pub(crate) struct Options {
    /// The backends, in order.
    pub(crate) backends: Vec<Backend>,
    /// The tests, in order.
    pub(crate) tests: Vec<Test>,
    /// wrk's connection counts.
    pub(crate) connections: Vec<u32>,
    /// Seconds per wrk run.
    pub(crate) duration: u64,
    /// Timed runs per side, test and concurrency (the medians are reported).
    pub(crate) rounds: usize,
    /// Both servers' pool size.
    pub(crate) pool: u32,
    /// The flaskdb server's port; the sqlx server listens on the next one.
    pub(crate) port: u16,
    /// Only compare the answers, time nothing.
    pub(crate) check_only: bool,
}

impl Options {
    /// Parses the driver's arguments.
    pub(crate) fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut o = Options {
            backends: vec![Backend::Postgres, Backend::MySql, Backend::Sqlite],
            tests: vec![Test::Db, Test::Queries, Test::Fortunes, Test::Updates],
            connections: vec![16, 64, 256],
            duration: 10,
            rounds: 1,
            pool: 16,
            port: 18080,
            check_only: false,
        };
        let mut duration = None;
        let mut quick = false;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => quick = true,
                "--check" => o.check_only = true,
                "--backend" => {
                    o.backends = match value()?.as_str() {
                        "pg" | "postgres" => vec![Backend::Postgres],
                        "mysql" | "mariadb" => vec![Backend::MySql],
                        "sqlite" => vec![Backend::Sqlite],
                        "all" => vec![Backend::Postgres, Backend::MySql, Backend::Sqlite],
                        other => bail!("unknown backend {other} (pg, mysql, sqlite, all)"),
                    }
                }
                "--tests" => {
                    o.tests = value()?
                        .split(',')
                        .map(|t| match t {
                            "db" => Ok(Test::Db),
                            "queries" => Ok(Test::Queries),
                            "fortunes" => Ok(Test::Fortunes),
                            "updates" => Ok(Test::Updates),
                            other => bail!("unknown test {other}"),
                        })
                        .collect::<anyhow::Result<_>>()?
                }
                "--connections" => {
                    o.connections = value()?
                        .split(',')
                        .map(|c| c.parse().context("--connections takes numbers"))
                        .collect::<anyhow::Result<_>>()?
                }
                "--duration" => duration = Some(value()?.parse().context("--duration: seconds")?),
                "--rounds" => o.rounds = value()?.parse().context("--rounds: a number")?,
                "--pool" => o.pool = value()?.parse().context("--pool: a number")?,
                "--port" => o.port = value()?.parse().context("--port: a port")?,
                other => bail!("unknown argument {other} (see the crate's documentation)"),
            }
        }
        o.duration = duration.unwrap_or(if quick { 3 } else { 10 });
        ensure!(
            o.rounds >= 1 && o.duration >= 1,
            "--rounds and --duration must be positive"
        );
        Ok(o)
    }
}

/// A server process, killed when dropped.
struct Server {
    side: Side,
    port: u16,
    log: PathBuf,
    _child: Child,
}

impl Server {
    async fn start(
        side: Side,
        url: &str,
        port: u16,
        pool: u32,
        log: PathBuf,
    ) -> anyhow::Result<Server> {
        let out = std::fs::File::create(&log)?;
        let child = Command::new(std::env::current_exe()?)
            .args([
                "serve",
                side.name(),
                url,
                &port.to_string(),
                &pool.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true)
            .spawn()?;
        let server = Server {
            side,
            port,
            log,
            _child: child,
        };
        let start = Instant::now();
        loop {
            if let Ok(reply) = get(port, "/fortunes").await
                && reply.status == 200
            {
                return Ok(server);
            }
            if start.elapsed() > Duration::from_secs(60) {
                bail!(
                    "the {} server did not answer within 60 s (log: {})",
                    side.name(),
                    server.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// An HTTP answer.
struct Reply {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// `GET path` on a new connection (`Connection: close`), with a minimal HTTP/1.1 reader.
async fn get(port: u16, path: &str) -> anyhow::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = std::str::from_utf8(&raw[..split])?;
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    let mut content_type = String::new();
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').context("bad header")?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-type" => content_type = value.trim().to_owned(),
            "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let end = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .context("bad chunk")?;
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end])?.trim(), 16)?;
            if size == 0 {
                break;
            }
            let data = rest.get(end + 2..end + 2 + size).context("short chunk")?;
            out.extend_from_slice(data);
            rest = rest.get(end + 4 + size..).context("short chunk")?;
        }
        body = out;
    }
    Ok(Reply {
        status,
        content_type,
        body,
    })
}

/// `GET path`, expecting a 200 with JSON.
async fn get_json(server: &Server, path: &str) -> anyhow::Result<serde_json::Value> {
    let reply = get(server.port, path).await?;
    let side = server.side.name();
    ensure!(
        reply.status == 200,
        "{side} {path}: status {} ({})",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    ensure!(
        reply.content_type.starts_with("application/json"),
        "{side} {path}: content type {}",
        reply.content_type
    );
    serde_json::from_slice(&reply.body).with_context(|| format!("{side} {path}: not JSON"))
}

/// A world object as TechEmpower requires it: exactly `id` and `randomNumber`, both in
/// 1..=10,000.
fn world_of(value: &serde_json::Value, what: &str) -> anyhow::Result<WorldRow> {
    let object = value
        .as_object()
        .with_context(|| format!("{what}: not an object: {value}"))?;
    ensure!(
        object.len() == 2,
        "{what}: fields other than id and randomNumber: {value}"
    );
    let field = |name: &str| -> anyhow::Result<i32> {
        let n = object
            .get(name)
            .and_then(serde_json::Value::as_i64)
            .with_context(|| format!("{what}: no integer {name}: {value}"))?;
        ensure!(
            (1..=i64::from(WORLD_ROWS)).contains(&n),
            "{what}: {name} {n} out of range"
        );
        Ok(i32::try_from(n)?)
    };
    Ok(WorldRow {
        id: field("id")?,
        randomnumber: field("randomNumber")?,
    })
}

/// An array of `n` worlds.
fn worlds_of(value: &serde_json::Value, n: usize, what: &str) -> anyhow::Result<Vec<WorldRow>> {
    let items = value
        .as_array()
        .with_context(|| format!("{what}: not an array"))?;
    ensure!(
        items.len() == n,
        "{what}: {} items, expected {n}",
        items.len()
    );
    items.iter().map(|v| world_of(v, what)).collect()
}

/// Rows read from a server must be the stored rows (nothing writes meanwhile).
async fn same_as_stored(pool: &RawPool, rows: &[WorldRow], what: &str) -> anyhow::Result<()> {
    let ids: Vec<i32> = rows.iter().map(|w| w.id).collect();
    let stored = schema::worlds(pool, &ids).await?;
    ensure!(
        stored == rows,
        "{what}: {rows:?} differ from the stored {stored:?}"
    );
    Ok(())
}

/// Compares the two servers' answers on every test; an error names the first mismatch.
async fn check(pool: &RawPool, servers: &[Server; 2]) -> anyhow::Result<()> {
    let [flask, raw] = servers;
    for server in servers {
        let side = server.side.name();
        for _ in 0..5 {
            let w = world_of(&get_json(server, "/db").await?, &format!("{side} /db"))?;
            same_as_stored(pool, &[w], &format!("{side} /db")).await?;
        }
        for (query, n) in [
            ("", 1),
            ("?queries=", 1),
            ("?queries=foo", 1),
            ("?queries=0", 1),
            ("?queries=1", 1),
            ("?queries=20", 20),
            ("?queries=501", 500),
        ] {
            let what = format!("{side} /queries{query}");
            let rows = worlds_of(
                &get_json(server, &format!("/queries{query}")).await?,
                n,
                &what,
            )?;
            same_as_stored(pool, &rows, &what).await?;
        }
        for (query, n) in [
            ("?queries=1", 1),
            ("?queries=20", 20),
            ("?queries=501", 500),
        ] {
            let what = format!("{side} /updates{query}");
            let rows = worlds_of(
                &get_json(server, &format!("/updates{query}")).await?,
                n,
                &what,
            )?;
            // A key drawn twice in one request is written twice; the others must read
            // back as answered.
            let once: Vec<WorldRow> = rows
                .iter()
                .filter(|w| rows.iter().filter(|o| o.id == w.id).count() == 1)
                .copied()
                .collect();
            ensure!(
                once.len() * 2 >= rows.len(),
                "{what}: too many repeated keys"
            );
            same_as_stored(pool, &once, &format!("{what}, read back")).await?;
        }
    }
    let expected = common::render_fortunes(
        &common::templates(),
        schema::fortunes(pool)
            .await?
            .into_iter()
            .map(|f| (f.id, f.message))
            .collect(),
    )?;
    ensure!(
        expected.matches("<tr>").count() == 14
            && expected.contains("&lt;script&gt;alert(")
            && expected.contains("フレームワークのベンチマーク"),
        "the stored fortunes are not TechEmpower's: {expected}"
    );
    let mut pages = Vec::new();
    for server in [flask, raw] {
        let reply = get(server.port, "/fortunes").await?;
        let side = server.side.name();
        ensure!(
            reply.status == 200,
            "{side} /fortunes: status {}",
            reply.status
        );
        ensure!(
            reply.content_type.starts_with("text/html"),
            "{side} /fortunes: content type {}",
            reply.content_type
        );
        pages.push(reply.body);
    }
    ensure!(
        pages[0] == expected.as_bytes(),
        "flaskdb /fortunes differs from the expected page:\n{}\n{expected}",
        String::from_utf8_lossy(&pages[0])
    );
    ensure!(pages[0] == pages[1], "the two /fortunes pages differ");
    Ok(())
}

/// What one wrk run measured.
#[derive(Clone, Debug, Default)]
struct Measure {
    requests_per_second: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
    socket_errors: u64,
}

/// A wrk latency (`812.00us`, `1.23ms`, `2.00s`, `1.50m`) in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = text.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

/// Reads wrk's report.
fn parse_wrk(out: &str) -> anyhow::Result<Measure> {
    let mut m = Measure::default();
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            m.requests_per_second = v.trim().parse()?;
        } else if words.first() == Some(&"99%") && words.len() == 2 {
            m.p99_ms = millis(words[1]).with_context(|| format!("latency {line}"))?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            m.non_2xx = v.trim().parse()?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            m.socket_errors = v
                .split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        } else if words.get(1) == Some(&"requests") && words.get(2) == Some(&"in") {
            m.requests = words[0].parse()?;
        }
    }
    ensure!(
        m.requests_per_second > 0.0,
        "no Requests/sec in wrk's output:\n{out}"
    );
    Ok(m)
}

/// One wrk run against `server`; its output is kept beside the server's log.
async fn wrk(
    server: &Server,
    test: Test,
    connections: u32,
    seconds: u64,
    label: &str,
) -> anyhow::Result<Measure> {
    let url = format!("http://127.0.0.1:{}{}", server.port, test.path());
    let output = Command::new("wrk")
        .arg(format!("-t{}", connections.min(2)))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .args(["--timeout", "8s", "--latency", &url])
        .output()
        .await
        .context("wrk did not start: run scripts/load-tools.sh")?;
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "wrk failed: {}{out}",
        String::from_utf8_lossy(&output.stderr)
    );
    let log = server.log.with_extension(format!("{label}.wrk"));
    std::fs::write(&log, &out)?;
    parse_wrk(&out).with_context(|| format!("{}", log.display()))
}

/// The median of some numbers.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// One line of the table: a test at one concurrency, both sides' runs.
struct Line {
    test: Test,
    connections: u32,
    runs: [Vec<Measure>; 2],
}

impl Line {
    fn print(&self, backend: Backend) {
        let rps = |i: usize| median(self.runs[i].iter().map(|m| m.requests_per_second).collect());
        let p99 = |i: usize| median(self.runs[i].iter().map(|m| m.p99_ms).collect());
        let errors = |i: usize| {
            let non: u64 = self.runs[i].iter().map(|m| m.non_2xx).sum();
            let socket: u64 = self.runs[i].iter().map(|m| m.socket_errors).sum();
            format!("{non}/{socket}")
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | **{:.2}** | {:.2} | {:.2} | **{:.2}** | {} | {} |",
            backend.name(),
            self.test.name(),
            self.connections,
            rps(0),
            rps(1),
            rps(0) / rps(1),
            p99(0),
            p99(1),
            p99(0) / p99(1),
            errors(0),
            errors(1),
        );
    }
}

fn print_header() {
    println!(
        "| backend | test | c | flaskdb req/s | sqlx req/s | ratio | flaskdb p99 ms | sqlx p99 ms | p99 ratio | flaskdb non-2xx/socket err | sqlx non-2xx/socket err |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
}

/// Failed requests a server logged.
fn failures_logged(server: &Server) -> Vec<String> {
    std::fs::read_to_string(&server.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("request failed"))
        .map(str::to_owned)
        .collect()
}

/// The whole run; returns an error on the first mismatch.
pub(crate) async fn run(options: Options) -> anyhow::Result<()> {
    let work = std::env::temp_dir().join("flaskdb-techempower");
    std::fs::create_dir_all(&work)?;
    println!(
        "pool {} per server, wrk {} s per run, {} round(s); logs in {}",
        options.pool,
        options.duration,
        options.rounds,
        work.display()
    );
    let mut all = Vec::new();
    for &backend in &options.backends {
        let started = Instant::now();
        let url = backend.url(&work);
        if backend == Backend::Sqlite {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(work.join(format!("te.db{suffix}")));
            }
        }
        let pool = RawPool::connect(&url, 2)
            .await
            .with_context(|| format!("connecting to {}", backend.name()))?;
        schema::setup(&pool).await?;
        let servers = [
            Server::start(
                Side::Flaskdb,
                &url,
                options.port,
                options.pool,
                work.join(format!("{}-flaskdb.log", backend.name())),
            )
            .await?,
            Server::start(
                Side::Sqlx,
                &url,
                options.port + 1,
                options.pool,
                work.join(format!("{}-sqlx.log", backend.name())),
            )
            .await?,
        ];
        check(&pool, &servers)
            .await
            .with_context(|| format!("{}: the servers' answers disagree", backend.name()))?;
        println!(
            "{}: answers agree ({:.1} s with setup)",
            backend.name(),
            started.elapsed().as_secs_f64()
        );
        drop(pool);
        if options.check_only {
            continue;
        }
        let mut lines = Vec::new();
        for &test in &options.tests {
            // Warm both servers up on this test (statement caches, pools) untimed.
            for server in &servers {
                let warm = options.duration.min(2);
                wrk(server, test, options.connections[0], warm, "warmup").await?;
            }
            for &connections in &options.connections {
                let mut line = Line {
                    test,
                    connections,
                    runs: [Vec::new(), Vec::new()],
                };
                for round in 0..options.rounds {
                    // Taking turns: the side that goes first alternates by round.
                    let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
                    for i in order {
                        let label = format!("{}-c{connections}-r{round}", test.name());
                        let m =
                            wrk(&servers[i], test, connections, options.duration, &label).await?;
                        line.runs[i].push(m);
                    }
                }
                lines.push(line);
            }
        }
        print_header();
        for line in &lines {
            line.print(backend);
        }
        for server in &servers {
            let failures = failures_logged(server);
            if !failures.is_empty() {
                println!(
                    "{} {}: {} failure line(s) in {}, first: {}",
                    backend.name(),
                    server.side.name(),
                    failures.len(),
                    server.log.display(),
                    failures[0]
                );
            }
        }
        all.push((backend, lines));
    }
    if !options.check_only && all.len() > 1 {
        println!("\nAll backends:");
        print_header();
        for (backend, lines) in &all {
            for line in lines {
                line.print(*backend);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let out = "Running 3s test @ http://127.0.0.1:18080/db
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.00us  200.00us   5.00ms   90.00%
  Latency Distribution
     50%  780.00us
     75%    1.00ms
     90%    1.20ms
     99%    2.50ms
  59000 requests in 3.00s, 8.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  19666.67
Transfer/sec:      2.67MB
";
        let m = parse_wrk(out).expect("parses");
        assert_eq!(m.requests, 59000);
        assert_eq!(m.non_2xx, 7);
        assert_eq!(m.socket_errors, 3);
        assert!((m.p99_ms - 2.5).abs() < 1e-9);
        assert!((m.requests_per_second - 19666.67).abs() < 1e-9);
        assert_eq!(millis("1.50m"), Some(90_000.0));
        assert_eq!(millis("812.00us"), Some(0.812));
    }
}
