//! TEMPORARY placeholder until the Workers-dialect cron module lands:
//! standard five-field expressions only (no L, W or #).

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    expr: String,
    fields: [Vec<bool>; 5],
}

/// A cron expression that does not parse.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid cron expression \"{expr}\": {reason}")]
pub struct CronError {
    expr: String,
    reason: String,
}

const RANGES: [(u32, u32); 5] = [(0, 59), (0, 23), (1, 31), (1, 12), (1, 7)];

impl CronSchedule {
    /// Parses five fields.
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        let err = |reason: &str| CronError {
            expr: expr.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = expr.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(err("expected five fields"));
        }
        let mut fields: [Vec<bool>; 5] = Default::default();
        for (i, part) in parts.iter().enumerate() {
            let (lo, hi) = RANGES[i];
            let mut set = vec![false; hi as usize + 1];
            for item in part.split(',') {
                let (range, step) = match item.split_once('/') {
                    Some((r, s)) => (r, s.parse::<u32>().map_err(|_| err("bad step"))?),
                    None => (item, 1),
                };
                let (a, b) = if range == "*" {
                    (lo, hi)
                } else if let Some((a, b)) = range.split_once('-') {
                    (
                        a.parse().map_err(|_| err("bad range"))?,
                        b.parse().map_err(|_| err("bad range"))?,
                    )
                } else {
                    let v: u32 = range.parse().map_err(|_| err("bad value"))?;
                    (v, if step > 1 { hi } else { v })
                };
                if a < lo || b > hi || a > b || step == 0 {
                    return Err(err("value out of range"));
                }
                let mut v = a;
                while v <= b {
                    set[v as usize] = true;
                    v += step;
                }
            }
            fields[i] = set;
        }
        Ok(CronSchedule {
            expr: expr.to_string(),
            fields,
        })
    }

    /// The expression as written.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// Whether the minute containing `at_ms` fires.
    pub fn matches_ms(&self, at_ms: i64) -> bool {
        let mins = at_ms.div_euclid(60_000);
        let days = mins.div_euclid(1440);
        let minute = mins.rem_euclid(60) as usize;
        let hour = mins.div_euclid(60).rem_euclid(24) as usize;
        let (_, month, day) = civil(days);
        let weekday = ((days + 4).rem_euclid(7) + 1) as usize; // 1 = Sunday
        self.fields[0][minute]
            && self.fields[1][hour]
            && self.fields[2][day]
            && self.fields[3][month]
            && self.fields[4][weekday]
    }

    /// The first firing strictly after `after_ms`.
    pub fn next_after_ms(&self, after_ms: i64) -> Option<i64> {
        let mut t = (after_ms.div_euclid(60_000) + 1) * 60_000;
        for _ in 0..(366 * 1440 * 5) {
            if self.matches_ms(t) {
                return Some(t);
            }
            t += 60_000;
        }
        None
    }
}

fn civil(days: i64) -> (i64, usize, usize) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as usize, d as usize)
}
