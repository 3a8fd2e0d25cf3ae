//! `tpa`: the "30 seconds total power average" of the key table, a plain
//! moving average over the last 30 once-a-second samples of the total power
//! (fewer right after boot: the average of the samples taken so far).

/// The number of one-second samples `tpa` averages.
pub const TPA_SECONDS: usize = 30;

/// The last [`TPA_SECONDS`] samples, as a ring buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerWindow {
    samples: [f64; TPA_SECONDS],
    len: usize,
    next: usize,
}

impl Default for PowerWindow {
    fn default() -> Self {
        PowerWindow {
            samples: [0.0; TPA_SECONDS],
            len: 0,
            next: 0,
        }
    }
}

impl PowerWindow {
    /// Adds this second's power (W) and returns the average of the window.
    pub fn push(&mut self, watts: f64) -> f64 {
        self.samples[self.next] = watts;
        self.next = (self.next + 1) % TPA_SECONDS;
        self.len = (self.len + 1).min(TPA_SECONDS);
        self.samples[..self.len].iter().sum::<f64>() / self.len as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_exactly_the_last_30_seconds() {
        let mut w = PowerWindow::default();
        assert_eq!(w.push(300.0), 300.0);
        for _ in 0..29 {
            w.push(0.0);
        }
        assert_eq!(w.push(0.0), 0.0, "the 300 W sample left after 30 s");
        for _ in 0..29 {
            w.push(3000.0);
        }
        assert_eq!(w.push(3000.0), 3000.0);
    }
}
