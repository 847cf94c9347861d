//! The run's outcome for the exit status: did the input hold a failure?

use crate::Analysis;
use crate::rules::Severity;

/// What makes a run fail (exit status 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Any failing exchange not recovered by a retry nor expected, explained
    /// or not, and any error-level diagnosis.
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
        let expected = self.expected_incidents();
        let failing_exchange = self
            .incidents
            .iter()
            .zip(expected)
            .any(|(i, expected)| i.recovered.is_none() && !expected);
        match on {
            FailOn::Never => false,
            FailOn::Error => failing_exchange || worst(Severity::Error),
            FailOn::Warning => failing_exchange || worst(Severity::Warning),
        }
    }

    /// For each incident, whether it is the API working as designed: a rule
    /// marked `expected` explains it and no error or warning does (a
    /// device-code poll answered "pending" is how the flow waits for the
    /// user). One pass over the diagnoses.
    pub fn expected_incidents(&self) -> Vec<bool> {
        let mut expected = vec![false; self.incidents.len()];
        let mut loud = vec![false; self.incidents.len()];
        for d in &self.diagnoses {
            let Some(i) = d.incident.filter(|&i| i < expected.len()) else {
                continue;
            };
            loud[i] |= d.severity != Severity::Info;
            expected[i] |= d.expected;
        }
        for (e, l) in expected.iter_mut().zip(loud) {
            *e &= !l;
        }
        expected
    }
}
