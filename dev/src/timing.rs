//! Where the time goes: each stage of a command, for `--timings` and the benchmark.

use std::time::{Duration, Instant};

/// Wall time per stage, in the order the stages ran.
#[derive(Debug, Default, Clone)]
pub struct Timings {
    pub stages: Vec<(&'static str, Duration)>,
}

impl Timings {
    /// Runs `work` as `stage` and records how long it took.
    pub fn time<T>(&mut self, stage: &'static str, work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = work();
        self.stages.push((stage, start.elapsed()));
        result
    }

    pub fn total(&self) -> Duration {
        self.stages.iter().map(|(_, d)| *d).sum()
    }

    /// One `timing:` line per stage and one for the total, in milliseconds.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for (stage, duration) in &self.stages {
            out.push_str(&format!("timing: {stage:<15} {:>9.1} ms\n", ms(*duration)));
        }
        out.push_str(&format!(
            "timing: {:<15} {:>9.1} ms\n",
            "total",
            ms(self.total())
        ));
        out
    }
}

pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
