//! The run's outcome for the exit status: did the input hold a failure?

use crate::Analysis;
use crate::rules::Severity;

/// What makes a run fail (exit status 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Any failing exchange not recovered by a retry, explained or not, and
    /// any error-level diagnosis.
    #[default]
    Error,
    /// As `error`, and any warning-level diagnosis too.
    Warning,
    /// Never: report only (usage and input errors still give 2).
    Never,
}

impl Analysis {
    /// Whether the run found what `on` counts as a failure.
    pub fn fails(&self, on: FailOn) -> bool {
        let worst = |s: Severity| self.diagnoses.iter().any(|d| d.severity <= s);
        let failing_exchange = self.incidents.iter().any(|i| i.recovered.is_none());
        match on {
            FailOn::Never => false,
            FailOn::Error => failing_exchange || worst(Severity::Error),
            FailOn::Warning => failing_exchange || worst(Severity::Warning),
        }
    }
}
