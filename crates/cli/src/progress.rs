//! Progress bars on the terminal (hidden when stderr is not one).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use ontosweep_sweep::Progress;

#[derive(Default)]
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, stage: &str, total: usize) {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(stage.to_string());
        *self.current.lock().unwrap() = Some(bar);
    }

    fn advance(&self, done: usize) {
        if let Some(bar) = &*self.current.lock().unwrap() {
            bar.inc(done as u64);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.current.lock().unwrap().take() {
            bar.finish_and_clear();
        }
    }

    fn warn(&self, message: &str) {
        match &*self.current.lock().unwrap() {
            Some(bar) => bar.suspend(|| eprintln!("warning: {message}")),
            None => eprintln!("warning: {message}"),
        }
    }
}
