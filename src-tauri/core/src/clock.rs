//! Time, injected: the scheduler and the alert logic ask a [`Clock`], so tests run days of
//! schedule in milliseconds with a [`ManualClock`].

use std::sync::Mutex;

use time::OffsetDateTime;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;

    /// How many clock seconds pass per real second (1 except for [`ScaledClock`]); a runner
    /// divides its sleeps by it.
    fn speed(&self) -> f64 {
        1.0
    }
}

/// Wall time running `speed` times faster from the moment it is made: demos and tests watch
/// hours of schedule in minutes against a simulator that lives in real time.
#[derive(Debug)]
pub struct ScaledClock {
    origin: OffsetDateTime,
    started: std::time::Instant,
    speed: f64,
}

impl ScaledClock {
    pub fn new(speed: f64) -> Self {
        Self {
            origin: OffsetDateTime::now_utc(),
            started: std::time::Instant::now(),
            speed: speed.max(1.0),
        }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> OffsetDateTime {
        self.origin + self.started.elapsed().mul_f64(self.speed)
    }

    fn speed(&self) -> f64 {
        self.speed
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: time::Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }

    pub fn set(&self, to: OffsetDateTime) {
        if let Ok(mut t) = self.0.lock() {
            *t = to;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}
