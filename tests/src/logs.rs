//! Captures `tracing` output of one future, for cases that assert on logs.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::instrument::WithSubscriber;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `fut` with every `tracing` event at `level` or above written to a buffer;
/// returns its output and the log text.
pub async fn capture<F: Future>(level: tracing::Level, fut: F) -> (F::Output, String) {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let out = fut.with_subscriber(subscriber).await;
    let text = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
    (out, text)
}
