//! Showing a start as it happens, on stderr only (stdout keeps the one result):
//! - on a terminal, one live line (indicatif): the step, the time spent against the timeout,
//!   the pull's layers, and the engine's newest log line while it loads;
//! - elsewhere (a pipe, a log file), one plain line per step;
//! - with `--output json`, nothing.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::args::Output;
use super::terminal;
use crate::lifecycle::StartEvent;

/// Lines longer than this are cut, so the live line stays one line on common terminals.
const MAX_SHOWN: usize = 100;

/// One line, safe for the terminal (engine output and names come from outside aima), cut short.
fn cut(text: &str) -> String {
    let text = terminal::cell(text);
    match text.char_indices().nth(MAX_SHOWN) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.into_owned(),
    }
}

pub(crate) enum StartDisplay {
    Live {
        bar: ProgressBar,
        /// The current step's text, shown before the engine's log line.
        step: Mutex<String>,
    },
    Lines {
        /// Pull layers last reported, so a plain line is printed per finished layer only.
        layers_done: Mutex<usize>,
    },
    Silent,
}

impl StartDisplay {
    pub(crate) fn new(output: Output, timeout: Duration) -> Self {
        if output == Output::Json {
            return StartDisplay::Silent;
        }
        if !std::io::stderr().is_terminal() {
            return StartDisplay::Lines {
                layers_done: Mutex::new(0),
            };
        }
        let bar = ProgressBar::new_spinner();
        let template = format!(
            "{{spinner}} [{{elapsed}}/{}] {{msg}}",
            humantime::format_duration(timeout)
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        StartDisplay::Live {
            bar,
            step: Mutex::new(String::new()),
        }
    }

    /// Whether anything is shown at all (not with `--output json`).
    pub(crate) fn is_shown(&self) -> bool {
        !matches!(self, StartDisplay::Silent)
    }

    pub(crate) fn show(&self, event: StartEvent<'_>) {
        match (self, event) {
            (StartDisplay::Live { bar, step }, StartEvent::Step { phase, text }) => {
                let line = format!("{}: {}", phase.as_str(), cut(text));
                bar.set_message(line.clone());
                *step.lock().unwrap_or_else(|e| e.into_inner()) = line;
            }
            (StartDisplay::Live { bar, .. }, StartEvent::Pulling(tally)) => {
                bar.set_message(format!("pull: {} ({})", cut(&tally.image), tally.summary()));
            }
            (StartDisplay::Live { bar, step }, StartEvent::EngineLog(line)) => {
                let step = step.lock().unwrap_or_else(|e| e.into_inner());
                bar.set_message(format!("{step}\n  engine: {}", cut(line)));
            }
            (StartDisplay::Lines { .. }, StartEvent::Step { text, .. }) => {
                eprintln!("… {}", terminal::cell(text));
            }
            (StartDisplay::Lines { layers_done }, StartEvent::Pulling(tally)) => {
                let mut shown = layers_done.lock().unwrap_or_else(|e| e.into_inner());
                if tally.layers_done() > *shown {
                    *shown = tally.layers_done();
                    eprintln!("… pulled {}", tally.summary());
                }
            }
            _ => {}
        }
    }

    /// Clears the live line, so the result and any error print on a clean terminal.
    pub(crate) fn finish(&self) {
        if let StartDisplay::Live { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}
