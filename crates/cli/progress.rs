//! Progress bars drawn from a workflow's [`Event`]s (on stderr, only when it
//! is a terminal and the user did not ask for quiet).

use indicatif::{ProgressBar, ProgressStyle};
use motif_workflow::Event;

/// One bar per stage.
pub struct Progress {
    show: bool,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Bars shown unless `quiet`.
    #[must_use]
    pub fn new(quiet: bool) -> Self {
        Self { show: !quiet, bar: None }
    }

    /// Handles one event.
    pub fn event(&mut self, e: Event) {
        match e {
            Event::Stage { name, total } => {
                self.clear();
                if !self.show {
                    return;
                }
                let bar = match total {
                    Some(n) => ProgressBar::new(n).with_style(
                        ProgressStyle::with_template("{msg:>10} {bar:30} {pos}/{len} ({eta})")
                            .expect("a valid template"),
                    ),
                    None => ProgressBar::new_spinner().with_style(
                        ProgressStyle::with_template("{msg:>10} {spinner} {pos} ({per_sec})")
                            .expect("a valid template"),
                    ),
                };
                bar.set_message(name);
                self.bar = Some(bar);
            }
            Event::Advance(n) => {
                if let Some(b) = &self.bar {
                    b.inc(n);
                }
            }
            Event::Detail(d) => {
                if let Some(b) = &self.bar {
                    b.set_message(d);
                }
            }
            Event::Note(n) => {
                if self.show {
                    let print = || eprintln!("motiftool: {n}");
                    match &self.bar {
                        Some(b) => b.suspend(print),
                        None => print(),
                    }
                }
            }
            Event::Warning(w) => {
                let print = || eprintln!("motiftool: warning: {w}");
                match &self.bar {
                    Some(b) => b.suspend(print),
                    None => print(),
                }
            }
        }
    }

    /// Removes the current bar.
    pub fn clear(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
