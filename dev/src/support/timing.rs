//! Where the time goes: each stage of a command, for `--timings` and the benchmark.

use std::time::{Duration, Instant};

/// Wall time per stage, in the order the stages ran, and of the work done meanwhile on
/// another thread (which adds nothing to the total).
#[derive(Debug, Default, Clone)]
pub struct Timings {
    /// Each stage's name and wall time, in the order the stages ran.
    pub stages: Vec<(&'static str, Duration)>,
    /// Work done on another thread meanwhile, by name and wall time; not in `total`.
    pub parallel: Vec<(&'static str, Duration)>,
    /// Facts about the run worth reading beside the figures, e.g. what the cache saved.
    pub notes: Vec<String>,
}

impl Timings {
    /// Runs `work` as `stage` and records how long it took.
    pub fn time<T>(&mut self, stage: &'static str, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = work();
        self.stages.push((stage, start.elapsed()));
        result
    }

    /// Records work that ran on another thread while the stages went on.
    pub fn parallel(&mut self, stage: &'static str, duration: Duration) {
        self.parallel.push((stage, duration));
    }

    /// The stages' wall time added up; work on another thread is not counted.
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|(_, d)| *d).sum()
    }

    /// One `timing:` line per stage, then work done on another core meanwhile, the total,
    /// and the notes; times in milliseconds.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for (stage, duration) in &self.stages {
            out.push_str(&format!("timing: {stage:<15} {:>9.1} ms\n", ms(*duration)));
        }
        for (stage, duration) in &self.parallel {
            out.push_str(&format!(
                "timing: {stage:<15} {:>9.1} ms (on another core, during replay)\n",
                ms(*duration)
            ));
        }
        out.push_str(&format!(
            "timing: {:<15} {:>9.1} ms\n",
            "total",
            ms(self.total())
        ));
        for note in &self.notes {
            out.push_str(&format!("timing: {note}\n"));
        }
        out
    }
}

/// A duration in milliseconds, with fractions, as the reports print it.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
