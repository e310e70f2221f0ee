//! `verify --wait` on a terminal: one status line on stderr with the attempts so far, the
//! step the last attempt failed at, and the time left. Nothing at all when stderr is not a
//! terminal (a pipe, a CI log), so scripted output stays exactly what it was.

use std::time::Duration;

use crate::finding::Status;
use crate::report::VerifyReport;

/// The status line (hidden unless stderr is a terminal and `--wait` was given).
pub(crate) struct WaitProgress {
    bar: indicatif::ProgressBar,
}

impl WaitProgress {
    pub(crate) fn new(wait: Option<Duration>, console: crate::plan::Console) -> Self {
        let bar = match wait {
            Some(w) if console.progress => {
                let bar = indicatif::ProgressBar::with_draw_target(
                    None,
                    indicatif::ProgressDrawTarget::stderr(),
                );
                if let Ok(style) =
                    indicatif::ProgressStyle::with_template("{spinner} waiting: {msg}")
                {
                    bar.set_style(style);
                }
                bar.set_message(format!("attempt 1, {} left", secs(w)));
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            }
            _ => indicatif::ProgressBar::hidden(),
        };
        WaitProgress { bar }
    }

    /// After a failed attempt that will be retried.
    pub(crate) fn retry(&self, r: &VerifyReport, left: Duration) {
        if self.bar.is_hidden() {
            return;
        }
        let failed = r
            .checks
            .iter()
            .find(|c| c.status == Status::Fail)
            .map_or("fail", |c| c.check.as_str());
        self.bar.set_message(format!(
            "attempt {} failed at {failed}; {} left, attempt {} next",
            r.attempts,
            secs(left),
            r.attempts + 1
        ));
    }

    /// Clears the line before the report is printed.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}
