//! Progress on the terminal: a bar when stderr is one, else a plain line every few seconds
//! (for logs of batch jobs).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use ontosweep_sweep::Progress;

/// How often a plain progress line is printed when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct Bars {
    current: Mutex<Option<Current>>,
    /// Image embeddings this run put in the cache.
    cached: AtomicUsize,
}

impl Bars {
    /// Image embeddings this run has put in the embedding cache so far.
    pub fn cached_images(&self) -> usize {
        self.cached.load(Ordering::Relaxed)
    }

    /// Clears the bar, so that a last message starts on a line of its own.
    pub fn clear(&self) {
        if let Some(Current::Bar(bar)) = &*self.current.lock().unwrap() {
            bar.finish_and_clear();
        }
    }
}

enum Current {
    Bar(ProgressBar),
    Plain(Plain),
}

struct Plain {
    stage: String,
    total: usize,
    done: usize,
    started: Instant,
    printed: Instant,
}

impl Plain {
    fn line(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = self.done as f64 / elapsed.max(1e-9);
        let left = self.total.saturating_sub(self.done);
        let eta = if rate > 0.0 {
            format_duration(Duration::from_secs_f64(left as f64 / rate))
        } else {
            "?".into()
        };
        format!(
            "{}: {}/{} ({:.0}/s, eta {eta})",
            self.stage, self.done, self.total, rate
        )
    }
}

fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

impl Progress for Bars {
    fn start(&self, stage: &str, total: usize) {
        let current = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>16} [{bar:30}] {pos}/{len} ({rate}, eta {eta})",
                )
                .expect("valid template")
                .with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", state.per_sec());
                    },
                )
                .progress_chars("=> "),
            );
            bar.set_message(stage.to_string());
            Current::Bar(bar)
        } else {
            let now = Instant::now();
            Current::Plain(Plain {
                stage: stage.to_string(),
                total,
                done: 0,
                started: now,
                printed: now,
            })
        };
        *self.current.lock().unwrap() = Some(current);
    }

    fn advance(&self, done: usize) {
        match &mut *self.current.lock().unwrap() {
            Some(Current::Bar(bar)) => bar.inc(done as u64),
            Some(Current::Plain(plain)) => {
                plain.done += done;
                if plain.printed.elapsed() >= PLAIN_EVERY {
                    plain.printed = Instant::now();
                    eprintln!("{}", plain.line());
                }
            }
            None => {}
        }
    }

    fn finish(&self) {
        match self.current.lock().unwrap().take() {
            Some(Current::Bar(bar)) => bar.finish_and_clear(),
            // A stage that took long enough to report on gets its last line.
            Some(Current::Plain(plain)) if plain.started.elapsed() >= PLAIN_EVERY => {
                eprintln!("{}", plain.line());
            }
            _ => {}
        }
    }

    fn cached(&self, done: usize) {
        self.cached.fetch_add(done, Ordering::Relaxed);
    }

    fn warn(&self, message: &str) {
        match &*self.current.lock().unwrap() {
            Some(Current::Bar(bar)) => bar.suspend(|| eprintln!("warning: {message}")),
            _ => eprintln!("warning: {message}"),
        }
    }
}
