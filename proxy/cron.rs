//! Cron triggers in the dialect of Cloudflare Workers.
//!
//! Workers runs `scheduled()` handlers on five-field cron expressions
//! (`minute hour day-of-month month day-of-week`), always in UTC. Cloudflare
//! parses them with its own Quartz-like parser, `saffron` (later renamed
//! `cfron`). This module implements the same dialect itself and uses
//! `saffron` 0.1.0 (the last release on crates.io) only as a test oracle:
//! at run time that release over-includes wrapping ranges and panics on
//! `L-nW` in debug builds (see "Deliberate differences" below), and its parse
//! errors carry no detail.
//!
//! # The dialect
//!
//! | field        | values                       | special characters      |
//! | ------------ | ---------------------------- | ----------------------- |
//! | minute       | 0-59                         | `*` `,` `-` `/`         |
//! | hour         | 0-23                         | `*` `,` `-` `/`         |
//! | day-of-month | 1-31                         | `*` `,` `-` `/` `L` `W` |
//! | month        | 1-12, `JAN`-`DEC`            | `*` `,` `-` `/`         |
//! | day-of-week  | 1-7 = Sunday-Saturday, `SUN`-`SAT` | `*` `,` `-` `/` `L` `#` |
//!
//! * Names are three letters, any case (`mon`, `Aug`). `L`, `W` and `#` are
//!   upper-case only, as in `saffron`.
//! * **Day-of-week numbering is Quartz's, not Vixie cron's**: 1 = Sunday,
//!   2 = Monday ... 7 = Saturday, as in Cloudflare's documented examples
//!   (`0 17 * * sun` or `0 17 * * 1` is 5PM on Sunday; `mon-fri` is `2-6`).
//!   `0` is rejected (in Vixie cron it is Sunday; `saffron` rejects it too,
//!   so Cloudflare does not accept it either). So `2#1` is the first Monday
//!   and `6L` the last Friday.
//! * `a-b` is a range; when `a > b` it wraps around (`FRI-SUN` is Friday,
//!   Saturday, Sunday; `22-2` hours is 22, 23, 0, 1, 2). `a/n` steps from `a`
//!   to the field's maximum, `a-b/n` steps over the (possibly wrapping) range,
//!   `*/n` steps over the whole field. A step is 1 up to the field's span
//!   (59, 23, 30, 11, 6).
//! * Day-of-month, as the whole field only: `L` (last day of the month),
//!   `L-n` (n days before the last, 1 <= n <= 30), `LW` (last weekday,
//!   Monday-Friday, of the month), `L-nW` (weekday nearest to `L-n`), `nW`
//!   (weekday nearest to day n). "Nearest weekday" never leaves the month: a
//!   Saturday moves to the Friday before unless it is the 1st (then Monday
//!   the 3rd), a Sunday moves to the Monday after unless it is the last day
//!   (then the Friday before). `nW` does not fire in a month shorter than n
//!   days (`31W` skips April).
//! * Day-of-week, as the whole field only: `dL` (last weekday d of the
//!   month, `6L` = last Friday), `d#n` (n-th weekday d of the month, 1 <= n
//!   <= 5; `2#1` = first Monday; a month without a 5th one does not fire),
//!   and `L` alone, which is Saturday (7), as in Quartz and `saffron`.
//!
//! # Day-of-month and day-of-week together
//!
//! A field is *unrestricted* only when it is exactly `*`; anything else,
//! including `*/1`, `1-31` or `1-7`, restricts it. A day is a candidate when
//! its month matches and:
//!
//! * both day fields are `*`: every day;
//! * only one is restricted: that one matches;
//! * both are restricted: **either** matches (the OR rule).
//!
//! This is `saffron`'s rule and the one Cloudflare runs. It differs from
//! Vixie cron in one respect: Vixie treats a day field that *starts* with
//! `*` (such as `*/2`) as unrestricted, so `0 0 */2 * MON` is "odd days that
//! are Mondays" there, but "odd days, and every Monday" here.
//!
//! # Deliberate differences from `saffron` 0.1.0
//!
//! * Wrapping ranges: `saffron` 0.1.0 includes one value too many before the
//!   start (`59-0` also fires at minute 58, `FRI-SUN` also on Thursday); we
//!   implement the plain Quartz meaning (`59-0` is minutes 59 and 0).
//! * `*` inside a list (`5,*`) is rejected; `saffron` silently reads it as
//!   the field's minimum (`5,0`). `*/n` is accepted anywhere in a list.
//! * `nW` in a month shorter than n days does not fire; `saffron` can fire
//!   it on the 30th of a 30-day month when that is a Friday.
//! * Leading and trailing whitespace is ignored; fields may be separated by
//!   any run of spaces or tabs.
//! * An expression that can never fire (`0 0 30 2 *`) is rejected when parsed
//!   instead of yielding no fire time at all.
//!
//! Not supported, as in `saffron`: `?`, macros such as `@daily`, seconds or
//! year fields, full day or month names, and day 0.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike};

const MS_PER_MINUTE: i64 = 60_000;
const MINUTES_PER_DAY: i64 = 1_440;
/// Days in the 400-year Gregorian cycle; weekdays repeat with it too
/// (146 097 = 7 x 20 871), so a schedule that fires at all fires in any
/// window of this many days.
const GREGORIAN_CYCLE_DAYS: u32 = 146_097;

/// A cron expression that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron expression {expr:?}: {problem}")]
pub struct CronError {
    expr: String,
    problem: String,
}

/// A parsed cron trigger (Workers dialect, UTC); see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    expr: String,
    /// Bit m set: fires at minute m.
    minutes: u64,
    /// Bit h set: fires in hour h.
    hours: u32,
    days_of_month: DaysOfMonth,
    /// Bit m set: fires in month m (1 = January).
    months: u16,
    days_of_week: DaysOfWeek,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DaysOfMonth {
    /// `*`
    Any,
    /// Bit d set: fires on day d.
    Days(u32),
    /// `L` (offset 0) or `L-offset`.
    Last { offset: u32 },
    /// `LW` (offset 0) or `L-offsetW`.
    LastWeekday { offset: u32 },
    /// `nW`
    NearestWeekday(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DaysOfWeek {
    /// `*`
    Any,
    /// Bit w set: fires on weekday w (0 = Sunday ... 6 = Saturday).
    Days(u8),
    /// `dL`: the last weekday w (0 = Sunday) of the month.
    Last(u32),
    /// `d#n`: the n-th weekday w (0 = Sunday) of the month.
    Nth { weekday: u32, nth: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::DayOfMonth => "day-of-month",
            Field::Month => "month",
            Field::DayOfWeek => "day-of-week",
        }
    }

    fn min(self) -> u32 {
        match self {
            Field::Minute | Field::Hour => 0,
            Field::DayOfMonth | Field::Month | Field::DayOfWeek => 1,
        }
    }

    fn max(self) -> u32 {
        match self {
            Field::Minute => 59,
            Field::Hour => 23,
            Field::DayOfMonth => 31,
            Field::Month => 12,
            Field::DayOfWeek => 7,
        }
    }

    /// Names for the values min, min+1, ...
    fn names(self) -> &'static [&'static str] {
        match self {
            Field::Month => &MONTH_NAMES,
            Field::DayOfWeek => &DAY_NAMES,
            _ => &[],
        }
    }

    /// The mask of every value of the field.
    fn all(self) -> u64 {
        (self.min()..=self.max()).fold(0, |bits, v| bits | 1 << v)
    }
}

impl CronSchedule {
    /// Parses a Workers cron expression (five fields, see the module docs).
    pub fn parse(expr: &str) -> Result<CronSchedule, CronError> {
        let error = |problem: String| CronError {
            expr: expr.to_string(),
            problem,
        };
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.is_empty() {
            return Err(error("the expression is empty".into()));
        }
        if fields[0].starts_with('@') {
            return Err(error(format!(
                "macros such as {:?} are not supported; write the five fields",
                fields[0]
            )));
        }
        if fields.len() != 5 {
            let hint = if fields.len() > 5 {
                " (seconds and year fields are not supported)"
            } else {
                ""
            };
            return Err(error(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}{hint}",
                fields.len()
            )));
        }
        let minutes = parse_set(Field::Minute, fields[0]).map_err(&error)?;
        let hours = parse_set(Field::Hour, fields[1]).map_err(&error)?;
        let days_of_month = parse_days_of_month(fields[2]).map_err(&error)?;
        let months = parse_set(Field::Month, fields[3]).map_err(&error)?;
        let days_of_week = parse_days_of_week(fields[4]).map_err(&error)?;
        let schedule = CronSchedule {
            expr: expr.to_string(),
            minutes,
            hours: hours as u32,
            days_of_month,
            months: months as u16,
            days_of_week,
        };
        if !schedule.ever_fires() {
            return Err(error(
                "it never fires (no date matches its day-of-month, month and day-of-week)".into(),
            ));
        }
        Ok(schedule)
    }

    /// The expression as written.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The first fire time strictly after `after_ms` (UTC), in ms since the
    /// Unix epoch. Fire times are whole minutes. `None` only past the end of
    /// the representable calendar (year 262 143).
    pub fn next_after_ms(&self, after_ms: i64) -> Option<i64> {
        let first_minute = after_ms.div_euclid(MS_PER_MINUTE).checked_add(1)?;
        let mut minute_of_day = first_minute.rem_euclid(MINUTES_PER_DAY) as u32;
        let mut date = date_of_day(first_minute.div_euclid(MINUTES_PER_DAY))?;
        for _ in 0..=GREGORIAN_CYCLE_DAYS {
            if self.day_matches(date)
                && let Some(minute) = self.first_time_from(minute_of_day)
            {
                let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
                let fire = midnight + i64::from(minute) * MS_PER_MINUTE;
                debug_assert!(self.matches_ms(fire), "{}: {fire} does not match", self.expr);
                return Some(fire);
            }
            date = date.succ_opt()?;
            minute_of_day = 0;
        }
        None
    }

    /// Whether the minute containing `at_ms` (UTC, ms since the Unix epoch)
    /// is a fire time.
    pub fn matches_ms(&self, at_ms: i64) -> bool {
        let Some(at) = DateTime::from_timestamp_millis(at_ms) else {
            return false;
        };
        self.minutes & (1 << at.minute()) != 0
            && self.hours & (1 << at.hour()) != 0
            && self.day_matches(at.date_naive())
    }

    /// The first fire time of a matching day at or after `minute_of_day`.
    fn first_time_from(&self, minute_of_day: u32) -> Option<u32> {
        let (hour, minute) = (minute_of_day / 60, minute_of_day % 60);
        if self.hours & (1 << hour) != 0 {
            let later_minutes = self.minutes & (u64::MAX << minute);
            if later_minutes != 0 {
                return Some(hour * 60 + later_minutes.trailing_zeros());
            }
        }
        let later_hours = self.hours & (u32::MAX << (hour + 1));
        if later_hours == 0 {
            return None;
        }
        Some(later_hours.trailing_zeros() * 60 + self.minutes.trailing_zeros())
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        if self.months & (1 << date.month()) == 0 {
            return false;
        }
        match (self.days_of_month, self.days_of_week) {
            (DaysOfMonth::Any, DaysOfWeek::Any) => true,
            (DaysOfMonth::Any, dow) => dow_matches(dow, date),
            (dom, DaysOfWeek::Any) => dom_matches(dom, date),
            (dom, dow) => dom_matches(dom, date) || dow_matches(dow, date),
        }
    }

    fn ever_fires(&self) -> bool {
        let Some(start) = NaiveDate::from_ymd_opt(2000, 1, 1) else {
            return false;
        };
        start
            .iter_days()
            .take(GREGORIAN_CYCLE_DAYS as usize)
            .any(|date| self.day_matches(date))
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

fn date_of_day(days_since_epoch: i64) -> Option<NaiveDate> {
    Some(DateTime::from_timestamp(days_since_epoch.checked_mul(86_400)?, 0)?.date_naive())
}

fn days_in_month(date: NaiveDate) -> u32 {
    let (year, month) = (date.year(), date.month());
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Weekday 0 = Sunday ... 6 = Saturday.
fn weekday0(date: NaiveDate) -> u32 {
    date.weekday().num_days_from_sunday()
}

/// The weekday (Monday-Friday) nearest to day `target` of `date`'s month,
/// without leaving the month. `target` must be a day of that month.
fn nearest_weekday(date: NaiveDate, target: u32) -> u32 {
    let last = days_in_month(date);
    match date.with_day(target).map(weekday0) {
        Some(6) if target == 1 => 3,
        Some(6) => target - 1,
        Some(0) if target == last => target - 2,
        Some(0) => target + 1,
        _ => target,
    }
}

fn dom_matches(dom: DaysOfMonth, date: NaiveDate) -> bool {
    let day = date.day();
    let last = days_in_month(date);
    match dom {
        DaysOfMonth::Any => true,
        DaysOfMonth::Days(bits) => bits & (1 << day) != 0,
        DaysOfMonth::Last { offset } => offset < last && day == last - offset,
        DaysOfMonth::LastWeekday { offset } => offset < last && day == nearest_weekday(date, last - offset),
        DaysOfMonth::NearestWeekday(target) => target <= last && day == nearest_weekday(date, target),
    }
}

fn dow_matches(dow: DaysOfWeek, date: NaiveDate) -> bool {
    let weekday = weekday0(date);
    let day = date.day();
    match dow {
        DaysOfWeek::Any => true,
        DaysOfWeek::Days(bits) => bits & (1 << weekday) != 0,
        DaysOfWeek::Last(w) => weekday == w && day + 7 > days_in_month(date),
        DaysOfWeek::Nth { weekday: w, nth } => weekday == w && (day - 1) / 7 + 1 == nth,
    }
}

/// A comma-separated list of values, ranges and steps, as a bit mask (bit v
/// for value v).
fn parse_set(field: Field, text: &str) -> Result<u64, String> {
    if text == "*" {
        return Ok(field.all());
    }
    let mut bits = 0;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("{} field {text:?} has an empty list element", field.name()));
        }
        bits |= parse_item(field, item)?;
    }
    Ok(bits)
}

fn parse_item(field: Field, item: &str) -> Result<u64, String> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(parse_step(field, step)?)),
        None => (item, None),
    };
    let (start, end) = if range == "*" {
        if step.is_none() {
            return Err(format!(
                "{} field: '*' cannot be combined with other values in a list",
                field.name()
            ));
        }
        (field.min(), field.max())
    } else if let Some((start, end)) = range.split_once('-') {
        (parse_value(field, start)?, parse_value(field, end)?)
    } else {
        let start = parse_value(field, range)?;
        (start, if step.is_some() { field.max() } else { start })
    };
    // Walk start, start+1, ... end, wrapping from max to min when start > end,
    // and keep every step-th value.
    let step = step.unwrap_or(1);
    let mut bits = 0u64;
    let mut value = start;
    let mut index = 0;
    loop {
        if index % step == 0 {
            bits |= 1 << value;
        }
        if value == end {
            break;
        }
        value = if value == field.max() { field.min() } else { value + 1 };
        index += 1;
    }
    Ok(bits)
}

fn parse_step(field: Field, text: &str) -> Result<u32, String> {
    let span = field.max() - field.min();
    match parse_number(text) {
        Some(step) if (1..=span).contains(&step) => Ok(step),
        Some(_) => Err(format!("{} step {text} is out of range 1-{span}", field.name())),
        None => Err(format!("{} step {text:?} is not a number", field.name())),
    }
}

fn parse_number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Saturate absurdly long numbers so they report as out of range.
    Some(text.parse().unwrap_or(u32::MAX))
}

fn parse_value(field: Field, text: &str) -> Result<u32, String> {
    let name = field.name();
    if let Some(value) = parse_number(text) {
        if (field.min()..=field.max()).contains(&value) {
            return Ok(value);
        }
        let hint = if field == Field::DayOfWeek && value == 0 {
            " (Workers numbers days 1=SUN ... 7=SAT; use 1 or SUN for Sunday)"
        } else {
            ""
        };
        return Err(format!(
            "{name} value {text} is out of range {}-{}{hint}",
            field.min(),
            field.max()
        ));
    }
    if let Some(index) = field.names().iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(field.min() + index as u32);
    }
    if text.is_empty() {
        return Err(format!("{name} field has a missing value"));
    }
    if text.contains('?') {
        return Err(format!("{name} field: '?' is not supported; use '*'"));
    }
    if text.contains('*') {
        return Err(format!("{name} field: '*' cannot be part of a range ({text:?})"));
    }
    let special = match field {
        Field::DayOfMonth => "L or W",
        Field::DayOfWeek => "L or #",
        _ => "",
    };
    if !special.is_empty() && text.chars().any(|c| "LlWw#".contains(c)) {
        return Err(format!(
            "{name} field: {special} must be upper-case and can only be used alone in the field, \
             not in a list, range or step ({text:?})"
        ));
    }
    let expected = match field {
        Field::Month => "a number 1-12 or JAN-DEC",
        Field::DayOfWeek => "a number 1-7 (1=SUN) or SUN-SAT",
        _ => "a number",
    };
    Err(format!("{name} value {text:?} is not {expected}"))
}

fn parse_days_of_month(text: &str) -> Result<DaysOfMonth, String> {
    let offset = |digits: &str| match parse_number(digits) {
        Some(n) if (1..=30).contains(&n) => Ok(n),
        _ => Err(format!(
            "day-of-month offset in {text:?} must be a number 1-30 (L-1 ... L-30)"
        )),
    };
    if text == "*" {
        return Ok(DaysOfMonth::Any);
    }
    if text == "L" {
        return Ok(DaysOfMonth::Last { offset: 0 });
    }
    if text == "LW" {
        return Ok(DaysOfMonth::LastWeekday { offset: 0 });
    }
    if let Some(rest) = text.strip_prefix("L-") {
        return Ok(match rest.strip_suffix('W') {
            Some(digits) => DaysOfMonth::LastWeekday {
                offset: offset(digits)?,
            },
            None => DaysOfMonth::Last { offset: offset(rest)? },
        });
    }
    if let Some(digits) = text.strip_suffix('W')
        && !digits.contains([',', '-', '/'])
    {
        return Ok(DaysOfMonth::NearestWeekday(parse_value(Field::DayOfMonth, digits)?));
    }
    Ok(DaysOfMonth::Days(parse_set(Field::DayOfMonth, text)? as u32))
}

fn parse_days_of_week(text: &str) -> Result<DaysOfWeek, String> {
    let is_simple = |s: &str| !s.contains([',', '-', '/', '#']);
    if text == "*" {
        return Ok(DaysOfWeek::Any);
    }
    if text == "L" {
        // Quartz and saffron: a lone L is the last day of the week, Saturday.
        return Ok(DaysOfWeek::Days(1 << 6));
    }
    if let Some(day) = text.strip_suffix('L')
        && is_simple(day)
    {
        return Ok(DaysOfWeek::Last(parse_value(Field::DayOfWeek, day)? - 1));
    }
    if let Some((day, nth)) = text.split_once('#')
        && is_simple(day)
    {
        let weekday = parse_value(Field::DayOfWeek, day)? - 1;
        return match parse_number(nth) {
            Some(nth) if (1..=5).contains(&nth) => Ok(DaysOfWeek::Nth { weekday, nth }),
            _ => Err(format!("day-of-week {text:?}: the n in d#n must be a number 1-5")),
        };
    }
    let bits = parse_set(Field::DayOfWeek, text)?;
    // Values 1-7 (bits 1-7) to weekdays 0-6 (bits 0-6).
    Ok(DaysOfWeek::Days((bits >> 1) as u8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    /// "YYYY-MM-DD HH:MM[:SS]" (UTC) to ms since the epoch.
    fn ms(text: &str) -> i64 {
        let parsed = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
            .unwrap_or_else(|e| panic!("bad test time {text:?}: {e}"));
        parsed.and_utc().timestamp_millis()
    }

    /// ms since the epoch to "YYYY-MM-DD HH:MM ddd".
    fn show(ms: i64) -> String {
        DateTime::from_timestamp_millis(ms)
            .expect("in range")
            .format("%Y-%m-%d %H:%M %a")
            .to_string()
    }

    fn cron(expr: &str) -> CronSchedule {
        CronSchedule::parse(expr).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The first `n` fire times strictly after `from`.
    fn fires(expr: &str, from: &str, n: usize) -> Vec<String> {
        let schedule = cron(expr);
        let mut t = ms(from);
        let mut out = Vec::new();
        for _ in 0..n {
            t = schedule
                .next_after_ms(t)
                .unwrap_or_else(|| panic!("{expr}: no fire after {}", show(t)));
            out.push(show(t));
        }
        out
    }

    fn parse_error(expr: &str) -> String {
        match CronSchedule::parse(expr) {
            Ok(s) => panic!("{expr:?} should not parse, got {s:?}"),
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "multi-line message: {msg}");
                assert!(msg.contains(&format!("{expr:?}")), "{msg} does not name {expr:?}");
                msg
            }
        }
    }

    #[test]
    fn every_minute() {
        let s = cron("* * * * *");
        assert_eq!(s.expr(), "* * * * *");
        assert_eq!(s.next_after_ms(ms("2024-05-05 10:00:30")), Some(ms("2024-05-05 10:01")));
        // Strictly after: a fire time itself is not returned.
        assert_eq!(s.next_after_ms(ms("2024-05-05 10:00")), Some(ms("2024-05-05 10:01")));
        assert_eq!(
            s.next_after_ms(ms("2024-05-05 10:00") - 1),
            Some(ms("2024-05-05 10:00"))
        );
        assert!(s.matches_ms(ms("2024-05-05 10:00:59")));
    }

    #[test]
    fn every_five_minutes() {
        assert_eq!(
            fires("*/5 * * * *", "2024-01-01 00:03", 3),
            ["2024-01-01 00:05 Mon", "2024-01-01 00:10 Mon", "2024-01-01 00:15 Mon"]
        );
        assert_eq!(
            fires("*/5 * * * *", "2024-01-01 23:55", 2),
            ["2024-01-02 00:00 Tue", "2024-01-02 00:05 Tue"]
        );
        let s = cron("*/5 * * * *");
        assert!(s.matches_ms(ms("2024-01-01 00:55:10")));
        assert!(!s.matches_ms(ms("2024-01-01 00:56")));
    }

    #[test]
    fn ranges_lists_and_steps() {
        assert_eq!(
            fires("0,30 9-17/4 * * *", "2024-01-01 00:00", 7),
            [
                "2024-01-01 09:00 Mon",
                "2024-01-01 09:30 Mon",
                "2024-01-01 13:00 Mon",
                "2024-01-01 13:30 Mon",
                "2024-01-01 17:00 Mon",
                "2024-01-01 17:30 Mon",
                "2024-01-02 09:00 Tue",
            ]
        );
        // a/n steps from a to the maximum.
        assert_eq!(
            fires("45/5 3 * * *", "2024-01-01 00:00", 4),
            [
                "2024-01-01 03:45 Mon",
                "2024-01-01 03:50 Mon",
                "2024-01-01 03:55 Mon",
                "2024-01-02 03:45 Tue",
            ]
        );
        // Mixed list items; duplicates are harmless.
        assert_eq!(
            fires("1,10-12,*/30,11 0 1 1 *", "2024-01-01 00:00", 6),
            [
                "2024-01-01 00:01 Mon",
                "2024-01-01 00:10 Mon",
                "2024-01-01 00:11 Mon",
                "2024-01-01 00:12 Mon",
                "2024-01-01 00:30 Mon",
                "2025-01-01 00:00 Wed",
            ]
        );
        // Ranges wrap around when start > end.
        assert_eq!(
            fires("58-1 22-0 * * *", "2024-01-01 21:00", 6),
            [
                "2024-01-01 22:00 Mon",
                "2024-01-01 22:01 Mon",
                "2024-01-01 22:58 Mon",
                "2024-01-01 22:59 Mon",
                "2024-01-01 23:00 Mon",
                "2024-01-01 23:01 Mon",
            ]
        );
        let s = cron("58-1 22-0 * * *");
        assert!(s.matches_ms(ms("2024-01-02 00:59")));
        assert!(!s.matches_ms(ms("2024-01-01 22:57")), "57 is outside 58-1");
        assert!(!s.matches_ms(ms("2024-01-01 21:58")), "21 is outside 22-0");
        assert!(!s.matches_ms(ms("2024-01-02 01:00")));
        // A wrapping range with a step: 50, 55, 0, 5.
        assert_eq!(
            fires("50-5/5 0 * * *", "2024-01-01 00:00", 4),
            [
                "2024-01-01 00:05 Mon",
                "2024-01-01 00:50 Mon",
                "2024-01-01 00:55 Mon",
                "2024-01-02 00:00 Tue",
            ]
        );
        // 1-1 and 5/1 are plain values and ranges.
        assert_eq!(cron("5/1 1-1 * * *").minutes, (5..=59).fold(0, |b, m| b | 1 << m));
        // Leading zeros are numbers like any other.
        assert_eq!(cron("05 007 * * *").hours, 1 << 7);
    }

    #[test]
    fn month_and_day_names() {
        assert_eq!(
            fires("0 12 * jan,Jul mon-fri", "2024-06-28 13:00", 3),
            ["2024-07-01 12:00 Mon", "2024-07-02 12:00 Tue", "2024-07-03 12:00 Wed"]
        );
        assert_eq!(cron("0 0 * JAN-MAR *"), {
            let mut s = cron("0 0 * 1-3 *");
            s.expr = "0 0 * JAN-MAR *".into();
            s
        });
        // Month ranges wrap too: NOV-FEB is Nov, Dec, Jan, Feb.
        assert_eq!(cron("0 0 1 NOV-FEB *").months, 1 << 11 | 1 << 12 | 1 << 1 | 1 << 2);
        assert_eq!(cron("0 0 * * FRI-SUN").days_of_week, DaysOfWeek::Days(0b110_0001));
        parse_error("0 0 * MON *");
        parse_error("0 0 * * JAN");
        parse_error("JAN 0 * * *");
        parse_error("0 0 * * MONDAY");
    }

    #[test]
    fn day_of_week_is_one_for_sunday() {
        // Cloudflare's examples: "0 17 * * sun" or "0 17 * * 1" is 5PM on Sunday.
        let sunday = ["2024-01-07 17:00 Sun", "2024-01-14 17:00 Sun"];
        assert_eq!(fires("0 17 * * 1", "2024-01-01 00:00", 2), sunday);
        assert_eq!(fires("0 17 * * sun", "2024-01-01 00:00", 2), sunday);
        // "10 7 * * mon-fri" or "10 7 * * 2-6": weekdays.
        assert_eq!(cron("10 7 * * 2-6").days_of_week, cron("10 7 * * mon-fri").days_of_week);
        assert_eq!(
            fires("10 7 * * 2-6", "2024-01-05 08:00", 2),
            ["2024-01-08 07:10 Mon", "2024-01-09 07:10 Tue"]
        );
        assert_eq!(fires("0 0 * * 7", "2024-01-01 00:00", 1), ["2024-01-06 00:00 Sat"]);
        assert_eq!(cron("0 0 * * 7"), {
            let mut s = cron("0 0 * * SAT");
            s.expr = "0 0 * * 7".into();
            s
        });
        // */2 over 1-7: SUN, TUE, THU, SAT.
        assert_eq!(cron("0 0 * * */2").days_of_week, DaysOfWeek::Days(0b101_0101));
        // Vixie cron's 0 (= Sunday there) is out of range here, as in saffron.
        let msg = parse_error("0 0 * * 0");
        assert!(msg.contains("day-of-week value 0 is out of range 1-7"), "{msg}");
        assert!(msg.contains("1=SUN"), "{msg}");
        parse_error("0 0 * * 0-6");
        parse_error("0 0 * * 8");
        assert!("0 0 * * 0".parse::<saffron::Cron>().is_err());
        assert!("0 0 * * 8".parse::<saffron::Cron>().is_err());
    }

    #[test]
    fn last_day_of_month() {
        assert_eq!(
            fires("0 0 L * *", "2024-01-01 00:00", 4),
            [
                "2024-01-31 00:00 Wed",
                "2024-02-29 00:00 Thu",
                "2024-03-31 00:00 Sun",
                "2024-04-30 00:00 Tue",
            ]
        );
        assert_eq!(
            fires("0 0 L-1 * *", "2023-01-01 00:00", 3),
            ["2023-01-30 00:00 Mon", "2023-02-27 00:00 Mon", "2023-03-30 00:00 Thu"]
        );
        // L-30 is the 1st of 31-day months only.
        assert_eq!(
            fires("0 0 L-30 * *", "2024-01-02 00:00", 2),
            ["2024-03-01 00:00 Fri", "2024-05-01 00:00 Wed"]
        );
        parse_error("0 0 L-0 * *");
        parse_error("0 0 L-31 * *");
        parse_error("0 0 L,15 * *");
    }

    #[test]
    fn last_weekday_of_month() {
        // Cloudflare's example (fixed): 11:59PM on the last weekday of the month.
        assert_eq!(
            fires("59 23 LW * *", "2024-01-01 00:00", 8),
            [
                "2024-01-31 23:59 Wed",
                "2024-02-29 23:59 Thu",
                "2024-03-29 23:59 Fri", // the 31st is a Sunday
                "2024-04-30 23:59 Tue",
                "2024-05-31 23:59 Fri",
                "2024-06-28 23:59 Fri", // the 30th is a Sunday
                "2024-07-31 23:59 Wed",
                "2024-08-30 23:59 Fri", // the 31st is a Saturday
            ]
        );
        // L-nW: the weekday nearest to the n-th day before the last.
        // Nov 2024: L-1 = the 29th (Fri); Dec 2024: L-1 = the 30th (Mon);
        // Mar 2024: L-1 = the 30th (Sat) -> Fri 29th.
        assert_eq!(
            fires("0 0 L-1W * *", "2024-11-01 00:00", 2),
            ["2024-11-29 00:00 Fri", "2024-12-30 00:00 Mon"]
        );
        assert_eq!(fires("0 0 L-1W * *", "2024-03-01 00:00", 1), ["2024-03-29 00:00 Fri"]);
        // L-30W in a 31-day month whose 1st is a Saturday moves forward to Monday the 3rd.
        // (Mar 1 2025 is a Saturday.) It never fires in 30-day months or February.
        assert_eq!(fires("0 0 L-30W 3 *", "2024-04-01 00:00", 1), ["2025-03-03 00:00 Mon"]);
        assert_eq!(fires("0 0 L-30W * *", "2024-05-15 00:00", 1), ["2024-07-01 00:00 Mon"]);
        assert!(parse_error("0 0 L-30W 6 *").contains("never fires"));
    }

    #[test]
    fn last_weekday_of_week_in_month() {
        // Cloudflare's example: "0 18 * * 6L" or "0 18 * * friL", the last Friday.
        let expected = ["2024-01-26 18:00 Fri", "2024-02-23 18:00 Fri", "2024-03-29 18:00 Fri"];
        assert_eq!(fires("0 18 * * 6L", "2024-01-01 00:00", 3), expected);
        assert_eq!(fires("0 18 * * friL", "2024-01-01 00:00", 3), expected);
        // 5L: the last Thursday.
        assert_eq!(
            fires("0 0 * * 5L", "2024-01-01 00:00", 2),
            ["2024-01-25 00:00 Thu", "2024-02-29 00:00 Thu"]
        );
        // A lone L in day-of-week is Saturday, as in Quartz and saffron.
        assert_eq!(cron("0 0 * * L").days_of_week, DaysOfWeek::Days(1 << 6));
        parse_error("0 0 * * 5L,6");
        parse_error("0 0 * * 1-5L");
        parse_error("0 0 * * 5l");
    }

    #[test]
    fn nearest_weekday() {
        // 15W: Jun 15 2024 is a Saturday -> Fri 14th; Sep 15 2024 is a Sunday ->
        // Mon 16th; Jul 15 2024 is a Monday.
        assert_eq!(
            fires("0 0 15W * *", "2024-06-01 00:00", 4),
            [
                "2024-06-14 00:00 Fri",
                "2024-07-15 00:00 Mon",
                "2024-08-15 00:00 Thu",
                "2024-09-16 00:00 Mon",
            ]
        );
        // 1W never moves into the previous month: Sat Jun 1 2024 -> Mon 3rd.
        assert_eq!(fires("0 0 1W 6 *", "2024-01-01 00:00", 1), ["2024-06-03 00:00 Mon"]);
        // 31W never moves into the next month: Sun Mar 31 2024 -> Fri 29th.
        assert_eq!(fires("0 0 31W 3 *", "2024-01-01 00:00", 1), ["2024-03-29 00:00 Fri"]);
        // ... and does not fire in months without a 31st.
        assert_eq!(
            fires("0 0 31W * *", "2024-03-30 00:00", 2),
            ["2024-05-31 00:00 Fri", "2024-07-31 00:00 Wed"]
        );
        // 30W in February never fires at all.
        let msg = parse_error("0 0 30W 2 *");
        assert!(msg.contains("never fires"), "{msg}");
        parse_error("0 0 15W,20 * *");
        parse_error("0 0 1-5W * *");
        parse_error("0 0 32W * *");
        parse_error("0 0 15w * *");
    }

    #[test]
    fn nth_weekday_of_month() {
        // 2#1: the first Monday (2 = Monday in Workers numbering).
        assert_eq!(
            fires("0 9 * * 2#1", "2024-01-01 10:00", 3),
            ["2024-02-05 09:00 Mon", "2024-03-04 09:00 Mon", "2024-04-01 09:00 Mon"]
        );
        assert_eq!(cron("0 9 * * MON#1").days_of_week, cron("0 9 * * 2#1").days_of_week);
        // 6#5: a fifth Friday, skipping months without one.
        assert_eq!(
            fires("0 0 * * 6#5", "2024-01-01 00:00", 3),
            ["2024-03-29 00:00 Fri", "2024-05-31 00:00 Fri", "2024-08-30 00:00 Fri"]
        );
        parse_error("0 0 * * 2#0");
        parse_error("0 0 * * 2#6");
        parse_error("0 0 * * 2#1,3");
        parse_error("0 0 * * 2-3#1");
        parse_error("0 0 * * #1");
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // Both restricted: the 13th OR any Friday.
        assert_eq!(
            fires("0 0 13 * 6", "2024-09-01 00:00", 7),
            [
                "2024-09-06 00:00 Fri",
                "2024-09-13 00:00 Fri",
                "2024-09-20 00:00 Fri",
                "2024-09-27 00:00 Fri",
                "2024-10-04 00:00 Fri",
                "2024-10-11 00:00 Fri",
                "2024-10-13 00:00 Sun",
            ]
        );
        let s = cron("0 0 13 * 6");
        assert!(s.matches_ms(ms("2024-10-13 00:00")), "the 13th, not a Friday");
        assert!(s.matches_ms(ms("2024-10-18 00:00")), "a Friday, not the 13th");
        assert!(!s.matches_ms(ms("2024-10-14 00:00")));
        // */2 restricts day-of-month (unlike Vixie cron, where a leading '*'
        // makes the field count as unrestricted): odd days OR Mondays.
        assert_eq!(
            fires("0 0 */2 * MON", "2024-01-01 00:00", 5),
            [
                "2024-01-03 00:00 Wed",
                "2024-01-05 00:00 Fri",
                "2024-01-07 00:00 Sun",
                "2024-01-08 00:00 Mon",
                "2024-01-09 00:00 Tue",
            ]
        );
        // 1-7 restricts day-of-week, so with a restricted day-of-month every day fires.
        assert_eq!(
            fires("0 0 15 * 1-7", "2024-01-01 00:00", 2),
            ["2024-01-02 00:00 Tue", "2024-01-03 00:00 Wed"]
        );
        // Special forms OR too: the last day of the month OR the first Monday.
        assert_eq!(
            fires("0 0 L * 2#1", "2024-01-02 00:00", 3),
            ["2024-01-31 00:00 Wed", "2024-02-05 00:00 Mon", "2024-02-29 00:00 Thu"]
        );
        // Only one restricted: that one alone decides.
        assert_eq!(fires("0 0 13 * *", "2024-09-01 00:00", 1), ["2024-09-13 00:00 Fri"]);
        assert_eq!(fires("0 0 * * 6", "2024-09-07 00:00", 1), ["2024-09-13 00:00 Fri"]);
        // The month always restricts (AND): Fridays or 13ths, in February only.
        assert_eq!(
            fires("0 0 13 FEB 6", "2024-01-01 00:00", 3),
            ["2024-02-02 00:00 Fri", "2024-02-09 00:00 Fri", "2024-02-13 00:00 Tue"]
        );
    }

    #[test]
    fn month_boundaries() {
        // The 31st skips shorter months.
        assert_eq!(
            fires("0 0 31 * *", "2024-01-31 00:00", 3),
            ["2024-03-31 00:00 Sun", "2024-05-31 00:00 Fri", "2024-07-31 00:00 Wed"]
        );
        assert_eq!(fires("0 0 1 * *", "2024-01-31 23:59:59", 1), ["2024-02-01 00:00 Thu"]);
        assert_eq!(fires("30 23 * * *", "2024-04-30 23:30", 1), ["2024-05-01 23:30 Wed"]);
        // A day range across the end of the month wraps: 30, 31, 1, 2.
        assert_eq!(
            fires("0 0 30-2 * *", "2024-02-01 12:00", 4),
            [
                "2024-02-02 00:00 Fri",
                "2024-03-01 00:00 Fri",
                "2024-03-02 00:00 Sat",
                "2024-03-30 00:00 Sat",
            ]
        );
    }

    #[test]
    fn leap_years() {
        assert_eq!(
            fires("0 0 29 2 *", "2024-03-01 00:00", 2),
            ["2028-02-29 00:00 Tue", "2032-02-29 00:00 Sun"]
        );
        // 2100 is not a leap year; 2000 was.
        assert_eq!(fires("0 0 29 2 *", "2096-03-01 00:00", 1), ["2104-02-29 00:00 Fri"]);
        assert_eq!(fires("0 0 29 2 *", "1996-03-01 00:00", 1), ["2000-02-29 00:00 Tue"]);
        assert_eq!(
            fires("0 0 L 2 *", "2099-03-01 00:00", 2),
            ["2100-02-28 00:00 Sun", "2101-02-28 00:00 Mon"]
        );
        assert!(cron("0 0 L 2 *").matches_ms(ms("2024-02-29 00:00")));
        assert!(!cron("0 0 L 2 *").matches_ms(ms("2024-02-28 00:00")));
        // Impossible dates are rejected rather than never firing.
        for expr in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 FEB *"] {
            let msg = parse_error(expr);
            assert!(msg.contains("never fires"), "{msg}");
        }
        // ... but a restricted day-of-week can rescue them (OR rule).
        assert_eq!(fires("0 0 30 2 MON", "2024-02-01 00:00", 1), ["2024-02-05 00:00 Mon"]);
    }

    #[test]
    fn next_after_crosses_year_boundaries() {
        assert_eq!(
            fires("0 0 1 1 *", "2024-12-31 23:59:59", 2),
            ["2025-01-01 00:00 Wed", "2026-01-01 00:00 Thu"]
        );
        assert_eq!(fires("59 23 31 12 *", "2024-12-31 23:59", 1), ["2025-12-31 23:59 Wed"]);
        assert_eq!(
            fires("* * * * *", "2024-12-31 23:59:30", 2),
            ["2025-01-01 00:00 Wed", "2025-01-01 00:01 Wed"]
        );
        assert_eq!(
            fires("0 0 * DEC,JAN 2#1", "2024-12-03 00:00", 2),
            ["2025-01-06 00:00 Mon", "2025-12-01 00:00 Mon"]
        );
        // Before 1970 (negative timestamps) works the same.
        let s = cron("0 0 1 1 *");
        assert_eq!(s.next_after_ms(-1), Some(0));
        assert_eq!(s.next_after_ms(ms("1969-01-01 00:00")), Some(0));
        assert!(s.matches_ms(59_999));
        assert!(!s.matches_ms(60_000));
        // Past the end of the calendar there is nothing.
        assert_eq!(s.next_after_ms(i64::MAX), None);
        assert!(!s.matches_ms(i64::MIN));
    }

    #[test]
    fn invalid_expressions() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("   ", "empty"),
            ("* * * *", "expected 5 fields"),
            ("0 * * * * *", "seconds and year fields are not supported"),
            ("0 0 12 * * ? 2024", "found 7"),
            ("@daily", "macros"),
            ("60 * * * *", "minute value 60 is out of range 0-59"),
            ("* 24 * * *", "hour value 24 is out of range 0-23"),
            ("* * 0 * *", "day-of-month value 0 is out of range 1-31"),
            ("* * 32 * *", "day-of-month value 32 is out of range 1-31"),
            ("* * * 0 *", "month value 0 is out of range 1-12"),
            ("* * * 13 *", "month value 13 is out of range 1-12"),
            ("* * * * 8", "day-of-week value 8 is out of range 1-7"),
            ("99999999999 * * * *", "out of range"),
            ("*/0 * * * *", "minute step 0 is out of range 1-59"),
            ("*/60 * * * *", "minute step 60 is out of range 1-59"),
            ("* */24 * * *", "hour step 24 is out of range 1-23"),
            ("* * */31 * *", "day-of-month step 31 is out of range 1-30"),
            ("* * * */12 *", "month step 12 is out of range 1-11"),
            ("* * * * */7", "day-of-week step 7 is out of range 1-6"),
            ("*/x * * * *", "not a number"),
            ("foo * * * *", "minute value \"foo\" is not a number"),
            ("* * * FOO *", "month value \"FOO\" is not a number 1-12 or JAN-DEC"),
            ("* * * * FUNDAY", "not a number 1-7 (1=SUN) or SUN-SAT"),
            ("1-2-3 * * * *", "not a number"),
            ("5,* * * * *", "'*' cannot be combined"),
            ("*,5 * * * *", "'*' cannot be combined"),
            ("*-5 * * * *", "'*' cannot be part of a range"),
            ("1,,2 * * * *", "empty list element"),
            (", * * * *", "empty list element"),
            ("1- * * * *", "missing value"),
            ("* * ? * *", "'?' is not supported"),
            ("* * * * ?", "'?' is not supported"),
            ("* * l * *", "upper-case"),
            ("L * * * *", "minute value \"L\""),
            ("* * * * 1W", "L or #"),
            ("0 0 1,L * *", "alone"),
        ];
        for (expr, needle) in cases {
            let msg = parse_error(expr);
            assert!(msg.contains(needle), "{expr:?}: {msg:?} lacks {needle:?}");
        }
        assert_eq!(
            parse_error("0 0 * * 0"),
            "invalid cron expression \"0 0 * * 0\": day-of-week value 0 is out of range 1-7 \
             (Workers numbers days 1=SUN ... 7=SAT; use 1 or SUN for Sunday)"
        );
    }

    #[test]
    fn whitespace_is_flexible() {
        let s = cron("  0\t12  * *   MON ");
        assert_eq!(s.expr(), "  0\t12  * *   MON ");
        assert_eq!(s.next_after_ms(ms("2024-01-01 00:00")), Some(ms("2024-01-01 12:00")));
    }

    /// A minute-by-minute scan: the definition `next_after_ms` must agree with.
    fn scan_next(s: &CronSchedule, after: i64, limit_minutes: i64) -> Option<i64> {
        let first = (after.div_euclid(MS_PER_MINUTE) + 1) * MS_PER_MINUTE;
        (0..limit_minutes)
            .map(|i| first + i * MS_PER_MINUTE)
            .find(|&t| s.matches_ms(t))
    }

    #[test]
    fn next_after_agrees_with_a_minute_scan() {
        let exprs = [
            "* * * * *",
            "*/7 */5 * * *",
            "59 23 * * *",
            "0 0 1,15 * *",
            "0 0 L * *",
            "0 0 LW * *",
            "0 0 15W * *",
            "0 0 * * 6L",
            "0 0 * * 2#1",
            "0 0 13 * 6",
            "30 4 1-7 * MON",
            "0 22-2 * * *",
        ];
        let starts = [
            ms("2023-12-31 23:59:59"),
            ms("2024-02-28 12:34:56"),
            ms("2024-06-30 23:00"),
            ms("2025-03-31 00:00"),
        ];
        for expr in exprs {
            let s = cron(expr);
            for &start in &starts {
                let mut t = start;
                for _ in 0..20 {
                    let next = s.next_after_ms(t);
                    assert_eq!(next, scan_next(&s, t, 60 * 24 * 40), "{expr} after {}", show(t));
                    t = next.expect("fires within 40 days");
                }
            }
        }
    }

    /// Cloudflare's own parser, saffron 0.1.0, as an oracle: the same 40
    /// fire times from several starts, for expressions outside its known
    /// defects (wrapping ranges and `31W`-style overruns, tested below, and
    /// `L-nW`, whose `contains` panics with a subtraction overflow in debug
    /// builds).
    #[test]
    fn agrees_with_saffron() {
        let exprs = [
            "* * * * *",
            "*/5 * * * *",
            "0 */6 * * *",
            "0,30 9-17/4 * * *",
            "45/5 3 * * *",
            "10 7 * * mon-fri",
            "0 17 * * sun",
            "0 17 * * 1",
            "0 0 * * */2",
            "0 0 * JAN,jul *",
            "0 0 L * *",
            "0 0 L-1 * *",
            "0 0 L-30 * *",
            "59 23 LW * *",
            "0 0 15W * *",
            "0 0 1W * *",
            "0 0 31W 1,3,5,7,8,10,12 *",
            "0 18 * * 6L",
            "0 18 * * friL",
            "0 0 * * 7L",
            "0 9 * * 2#1",
            "0 0 * * SAT#5",
            "0 0 * * L",
            "0 0 13 * 6",
            "0 0 */2 * MON",
            "0 0 15 * 1-7",
            "0 0 L * 2#1",
            "0 0 1W * 6L",
            "0 0 29 2 *",
            "0 0 L 2 *",
            "0 0 31 * *",
            "0 0 1-7 * MON",
        ];
        let starts = ["2023-12-31 23:59:59", "2024-02-28 12:34", "2099-11-30 00:00"];
        for expr in exprs {
            let ours = cron(expr);
            let theirs: saffron::Cron = expr.parse().unwrap_or_else(|_| panic!("saffron: {expr}"));
            for start in starts {
                let start = DateTime::from_timestamp_millis(ms(start)).expect("in range");
                let expected: Vec<i64> = theirs
                    .clone()
                    .iter_after(start)
                    .take(40)
                    .map(|t| t.timestamp_millis())
                    .collect();
                let mut got = Vec::new();
                let mut t = start.timestamp_millis();
                for _ in 0..40 {
                    t = ours.next_after_ms(t).expect("fires");
                    got.push(t);
                }
                let show_all = |v: &[i64]| v.iter().map(|&t| show(t)).collect::<Vec<_>>();
                assert_eq!(show_all(&got), show_all(&expected), "{expr} after {start}");
            }
        }
    }

    /// Where saffron 0.1.0 is off, on purpose: wrapping ranges. "59-0" means
    /// minutes 59 and 0 (Quartz); saffron also includes 58.
    #[test]
    fn wrapping_ranges_differ_from_saffron_on_purpose() {
        let ours = cron("59-0 * * * *");
        let theirs: saffron::Cron = "59-0 * * * *".parse().expect("saffron parses it");
        let at = DateTime::from_timestamp_millis(ms("2024-01-01 00:58")).expect("in range");
        assert!(theirs.contains(at), "saffron 0.1.0 fixed? then drop this test");
        assert!(!ours.matches_ms(ms("2024-01-01 00:58")));
        assert!(ours.matches_ms(ms("2024-01-01 00:59")));
        assert!(ours.matches_ms(ms("2024-01-01 01:00")));
    }

    /// Where saffron 0.1.0 is odd, on purpose: `nW` beyond the month's end
    /// and `*` inside a list.
    #[test]
    fn other_saffron_quirks_we_do_not_copy() {
        // Jun 30 2023 is a Friday; June has no 31st, so 31W skips it here.
        let theirs: saffron::Cron = "0 0 31W * *".parse().expect("saffron parses it");
        let at = DateTime::from_timestamp_millis(ms("2023-06-30 00:00")).expect("in range");
        assert!(theirs.contains(at), "saffron 0.1.0 fixed? then update the docs");
        assert!(!cron("0 0 31W * *").matches_ms(ms("2023-06-30 00:00")));
        // saffron reads "5,*" as minutes 5 and 0; we reject it.
        let theirs: saffron::Cron = "5,* * * * *".parse().expect("saffron parses it");
        let at = DateTime::from_timestamp_millis(ms("2024-01-01 00:00")).expect("in range");
        assert!(theirs.contains(at));
        parse_error("5,* * * * *");
    }
}
