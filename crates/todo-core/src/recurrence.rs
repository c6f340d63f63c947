//! Recurrence rules: the RFC 5545 RRULE subset todo understands, parsed and written back in
//! one canonical form (`FREQ=MONTHLY;BYMONTHDAY=1`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::task::Due;
use crate::time::local_to_utc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A weekday, optionally with its ordinal in the month or year (`2TU`, `-1FR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpec {
    pub nth: Option<i8>,
    pub day: Weekday,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    Date(NaiveDate),
    At(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pub frequency: Frequency,
    pub interval: u32,
    pub by_day: Vec<DaySpec>,
    pub by_month_day: Vec<i8>,
    pub count: Option<u32>,
    pub until: Option<Until>,
}

impl Recurrence {
    pub fn new(frequency: Frequency) -> Self {
        Self {
            frequency,
            interval: 1,
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            count: None,
            until: None,
        }
    }
}

const SUPPORTED: &str = "FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT and UNTIL";

fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn parse_day_spec(raw: &str) -> Result<DaySpec, String> {
    let bad = || format!("BYDAY value {raw:?} is not a weekday such as MO, 2TU or -1FR");
    if raw.len() < 2 || !raw.is_char_boundary(raw.len() - 2) {
        return Err(bad());
    }
    let (nth, code) = raw.split_at(raw.len() - 2);
    let day = match code {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return Err(bad()),
    };
    let nth = match nth {
        "" => None,
        n => {
            let n: i8 = n.trim_start_matches('+').parse().map_err(|_| bad())?;
            if n == 0 || !(-5..=5).contains(&n) {
                return Err(bad());
            }
            Some(n)
        }
    };
    Ok(DaySpec { nth, day })
}

fn parse_until(raw: &str) -> Result<Until, String> {
    if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y%m%d") {
        return Ok(Until::Date(date));
    }
    NaiveDateTime::parse_from_str(raw, "%Y%m%dT%H%M%SZ")
        .map(|at| Until::At(at.and_utc()))
        .map_err(|_| format!("UNTIL {raw:?} must be YYYYMMDD or YYYYMMDDTHHMMSSZ"))
}

/// Longest rule text: enough for every day of the week and month listed, and a bound on the
/// work of expanding it.
const RULE_MAX_BYTES: usize = 300;

impl FromStr for Recurrence {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        if raw.len() > RULE_MAX_BYTES {
            return Err(format!("a rule is at most {RULE_MAX_BYTES} characters"));
        }
        let text = raw.trim();
        let text = text.strip_prefix("RRULE:").unwrap_or(text);
        let mut rule: Option<Recurrence> = None;
        let mut parts = Vec::new();
        for part in text.split(';').filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not KEY=VALUE"))?;
            parts.push((key.to_ascii_uppercase(), value.to_ascii_uppercase()));
        }
        for (key, value) in &parts {
            if key == "FREQ" {
                let frequency = match value.as_str() {
                    "DAILY" => Frequency::Daily,
                    "WEEKLY" => Frequency::Weekly,
                    "MONTHLY" => Frequency::Monthly,
                    "YEARLY" => Frequency::Yearly,
                    _ => {
                        return Err(format!(
                            "FREQ {value:?} is not DAILY, WEEKLY, MONTHLY or YEARLY"
                        ));
                    }
                };
                rule = Some(Recurrence::new(frequency));
            }
        }
        let mut rule = rule.ok_or("a rule needs FREQ, e.g. FREQ=WEEKLY")?;
        for (key, value) in parts {
            match key.as_str() {
                "FREQ" => {}
                "INTERVAL" => {
                    rule.interval = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or("INTERVAL must be a whole number from 1 to 1000")?;
                }
                "BYDAY" => {
                    rule.by_day = value
                        .split(',')
                        .map(parse_day_spec)
                        .collect::<Result<_, _>>()?;
                }
                "BYMONTHDAY" => {
                    rule.by_month_day = value
                        .split(',')
                        .map(|d| {
                            d.parse::<i8>()
                                .ok()
                                .filter(|d| *d != 0 && (-31..=31).contains(d))
                                .ok_or_else(|| {
                                    format!("BYMONTHDAY {d:?} must be 1 to 31 or -31 to -1")
                                })
                        })
                        .collect::<Result<_, _>>()?;
                }
                "COUNT" => {
                    rule.count = Some(
                        value
                            .parse()
                            .ok()
                            .filter(|n| *n >= 1)
                            .ok_or("COUNT must be a whole number of at least 1")?,
                    );
                }
                "UNTIL" => rule.until = Some(parse_until(&value)?),
                other => return Err(format!("{other} is not supported: use {SUPPORTED}")),
            }
        }
        if rule.count.is_some() && rule.until.is_some() {
            return Err("give COUNT or UNTIL, not both".into());
        }
        let ordinal = rule.by_day.iter().any(|d| d.nth.is_some());
        if ordinal && !matches!(rule.frequency, Frequency::Monthly | Frequency::Yearly) {
            return Err("BYDAY with an ordinal (2TU) needs FREQ=MONTHLY or YEARLY".into());
        }
        Ok(rule)
    }
}

impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let freq = match self.frequency {
            Frequency::Daily => "DAILY",
            Frequency::Weekly => "WEEKLY",
            Frequency::Monthly => "MONTHLY",
            Frequency::Yearly => "YEARLY",
        };
        write!(f, "FREQ={freq}")?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|d| {
                    format!(
                        "{}{}",
                        d.nth.map(|n| n.to_string()).unwrap_or_default(),
                        weekday_code(d.day)
                    )
                })
                .collect();
            write!(f, ";BYDAY={}", days.join(","))?;
        }
        if !self.by_month_day.is_empty() {
            let days: Vec<String> = self.by_month_day.iter().map(i8::to_string).collect();
            write!(f, ";BYMONTHDAY={}", days.join(","))?;
        }
        if let Some(count) = self.count {
            write!(f, ";COUNT={count}")?;
        }
        match self.until {
            Some(Until::Date(date)) => write!(f, ";UNTIL={}", date.format("%Y%m%d"))?,
            Some(Until::At(at)) => write!(f, ";UNTIL={}", at.format("%Y%m%dT%H%M%SZ"))?,
            None => {}
        }
        Ok(())
    }
}

/// What the next occurrence of a recurring task counts from.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RecurrenceMode {
    /// The next occurrence follows the rule from the current due date (a fixed schedule).
    #[default]
    Due,
    /// The next occurrence follows the rule from the day the task was completed
    /// ("water the plants 3 days after I last did").
    Completion,
}

impl RecurrenceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RecurrenceMode::Due => "due",
            RecurrenceMode::Completion => "completion",
        }
    }

    /// Reads the stored text; anything unknown is the default.
    pub fn from_text(text: &str) -> Self {
        match text {
            "completion" => RecurrenceMode::Completion,
            _ => RecurrenceMode::Due,
        }
    }
}

/// How many periods the search for a next date looks ahead before it gives up (a rule such as
/// `FREQ=YEARLY;BYMONTHDAY=30` in February-only periods never matches).
const MAX_PERIODS: u32 = 2000;

fn week_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

fn days_in_month(first: NaiveDate) -> u32 {
    let next = first + Months::new(1);
    u32::try_from((next - first).num_days()).unwrap_or(28)
}

/// Day `n` of the month starting at `first` (negative counts from the end), if it exists.
fn month_day(first: NaiveDate, n: i8) -> Option<NaiveDate> {
    let len = i64::from(days_in_month(first));
    let day = if n > 0 {
        i64::from(n)
    } else {
        len + 1 + i64::from(n)
    };
    if !(1..=len).contains(&day) {
        return None;
    }
    first.with_day(u32::try_from(day).ok()?)
}

/// The dates from `from` to `to` (inclusive) that fall on `spec` (`2TU`: the second Tuesday of
/// the span; `TU`: every Tuesday).
fn weekdays_in(from: NaiveDate, to: NaiveDate, spec: DaySpec) -> Vec<NaiveDate> {
    let all: Vec<NaiveDate> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| d.weekday() == spec.day)
        .collect();
    match spec.nth {
        None => all,
        Some(n) if n > 0 => all
            .get(usize::from(n.unsigned_abs()) - 1)
            .copied()
            .into_iter()
            .collect(),
        Some(n) => {
            let back = usize::from(n.unsigned_abs());
            all.len()
                .checked_sub(back)
                .and_then(|i| all.get(i).copied())
                .into_iter()
                .collect()
        }
    }
}

impl Recurrence {
    /// The candidate dates of one period of the rule started on `start`: period `k` is the
    /// `k * interval`-th day, week, month or year after the start's.
    fn period(&self, start: NaiveDate, k: u32) -> Option<Vec<NaiveDate>> {
        let step = k.checked_mul(self.interval)?;
        let mut dates = match self.frequency {
            Frequency::Daily => vec![start.checked_add_days(Days::new(u64::from(step)))?],
            Frequency::Weekly => {
                let monday = week_start(start).checked_add_days(Days::new(u64::from(step) * 7))?;
                let sunday = monday + Days::new(6);
                if self.by_day.is_empty() {
                    weekdays_in(
                        monday,
                        sunday,
                        DaySpec {
                            nth: None,
                            day: start.weekday(),
                        },
                    )
                } else {
                    self.by_day
                        .iter()
                        .flat_map(|spec| weekdays_in(monday, sunday, *spec))
                        .collect()
                }
            }
            Frequency::Monthly => {
                let first = first_of_month(start).checked_add_months(Months::new(step))?;
                self.month_candidates(first, start)
            }
            Frequency::Yearly => {
                let year = start.year().checked_add(i32::try_from(step).ok()?)?;
                let jan1 = NaiveDate::from_ymd_opt(year, 1, 1)?;
                if self.by_day.is_empty() && self.by_month_day.is_empty() {
                    // RFC 5545: the start's month and day; Feb 29 occurs in leap years only.
                    NaiveDate::from_ymd_opt(year, start.month(), start.day())
                        .into_iter()
                        .collect()
                } else if !self.by_month_day.is_empty() {
                    (0..12)
                        .filter_map(|m| jan1.checked_add_months(Months::new(m)))
                        .flat_map(|first| self.month_candidates(first, start))
                        .collect()
                } else {
                    let dec31 = NaiveDate::from_ymd_opt(year, 12, 31)?;
                    self.by_day
                        .iter()
                        .flat_map(|spec| weekdays_in(jan1, dec31, *spec))
                        .collect()
                }
            }
        };
        // BYDAY and BYMONTHDAY that did not expand the period limit it (RFC 5545 table).
        if matches!(self.frequency, Frequency::Daily) && !self.by_day.is_empty() {
            dates.retain(|d| self.by_day.iter().any(|s| s.day == d.weekday()));
        }
        if matches!(self.frequency, Frequency::Daily | Frequency::Weekly)
            && !self.by_month_day.is_empty()
        {
            dates.retain(|d| {
                self.by_month_day
                    .iter()
                    .any(|n| month_day(first_of_month(*d), *n) == Some(*d))
            });
        }
        dates.sort_unstable();
        dates.dedup();
        Some(dates)
    }

    fn month_candidates(&self, first: NaiveDate, start: NaiveDate) -> Vec<NaiveDate> {
        let last = first + Days::new(u64::from(days_in_month(first)) - 1);
        let by_days = || -> Vec<NaiveDate> {
            self.by_day
                .iter()
                .flat_map(|spec| weekdays_in(first, last, *spec))
                .collect()
        };
        match (self.by_month_day.is_empty(), self.by_day.is_empty()) {
            // RFC 5545: the start's day of the month; months without it are skipped.
            (true, true) => month_day(first, i8::try_from(start.day()).unwrap_or(1))
                .into_iter()
                .collect(),
            (true, false) => by_days(),
            (false, true) => self
                .by_month_day
                .iter()
                .filter_map(|n| month_day(first, *n))
                .collect(),
            (false, false) => {
                let days = by_days();
                self.by_month_day
                    .iter()
                    .filter_map(|n| month_day(first, *n))
                    .filter(|d| days.contains(d))
                    .collect()
            }
        }
    }

    /// How many whole periods lie between the start and `date` (to skip ahead quickly).
    fn periods_before(&self, start: NaiveDate, date: NaiveDate) -> u32 {
        if date <= start {
            return 0;
        }
        let units = match self.frequency {
            Frequency::Daily => (date - start).num_days(),
            Frequency::Weekly => (week_start(date) - week_start(start)).num_days() / 7,
            Frequency::Monthly => {
                i64::from(date.year() - start.year()) * 12 + i64::from(date.month())
                    - i64::from(start.month())
            }
            Frequency::Yearly => i64::from(date.year() - start.year()),
        };
        u32::try_from(units / i64::from(self.interval)).unwrap_or(0)
    }

    /// The first date of the rule started on `start` (RFC 5545 DTSTART: nothing before it
    /// occurs) that comes after `after`. `None` when none does within the search horizon.
    /// COUNT and UNTIL are not applied here (see [`next_occurrence`]).
    pub fn next_date(&self, start: NaiveDate, after: NaiveDate) -> Option<NaiveDate> {
        let first = self.periods_before(start, after);
        (first..first.saturating_add(MAX_PERIODS)).find_map(|k| {
            self.period(start, k)?
                .into_iter()
                .find(|d| *d >= start && *d > after)
        })
    }
}

/// The next occurrence of a recurring task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub due: Due,
    /// The rule for the next task: COUNT counts the occurrences left, so it goes down by one.
    pub rule: String,
}

/// The occurrence after a task with `rule` and `due`, completed at `completed_at`, read in the
/// owner's zone `tz`. A timed task keeps its wall-clock time across daylight-saving changes.
/// `None` when the series is over (COUNT used up, past UNTIL) or the rule does not parse.
pub fn next_occurrence(
    rule: &str,
    mode: RecurrenceMode,
    due: Due,
    completed_at: DateTime<Utc>,
    tz: Tz,
) -> Option<Occurrence> {
    let mut rule: Recurrence = rule.parse().ok()?;
    if rule.count == Some(1) {
        return None;
    }
    let done_on = completed_at.with_timezone(&tz).date_naive();
    let (anchor, time): (NaiveDate, Option<NaiveTime>) = match due {
        Due::At(at) => {
            let local = at.with_timezone(&tz);
            (local.date_naive(), Some(local.time()))
        }
        Due::Date(date) => (date, None),
        // Without a due date there is no schedule: the series counts from the completion.
        Due::None => (done_on, None),
    };
    let start = match mode {
        RecurrenceMode::Due => anchor,
        RecurrenceMode::Completion => done_on,
    };
    // A series ends with the last day both databases can store.
    let date = rule
        .next_date(start, start)
        .filter(|date| crate::validation::storable_date(*date).is_ok())?;
    let next = match time {
        Some(time) => Due::At(local_to_utc(date.and_time(time), tz)),
        None => Due::Date(date),
    };
    let moment = crate::reminders::anchor(&next, tz)?;
    crate::validation::storable_moment(moment).ok()?;
    match rule.until {
        Some(Until::Date(until)) if date > until => return None,
        Some(Until::At(until)) if moment > until => return None,
        _ => {}
    }
    rule.count = rule.count.map(|n| n - 1);
    Some(Occurrence {
        due: next,
        rule: rule.to_string(),
    })
}

/// Validates a rule and returns its canonical text.
pub fn parse_rule(raw: &str) -> Result<String, String> {
    raw.parse::<Recurrence>().map(|rule| rule.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_ends_with_the_last_storable_day() {
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).expect("date");
        let done = Utc::now();
        for due in [
            Due::Date(last),
            Due::At(last.and_hms_opt(9, 0, 0).expect("time").and_utc()),
        ] {
            assert_eq!(
                next_occurrence(
                    "FREQ=YEARLY",
                    RecurrenceMode::Due,
                    due,
                    done,
                    chrono_tz::UTC
                ),
                None
            );
        }
        // 9999-12-31 at 22:00 in New York is already year 10000 in UTC.
        let late = Due::At(
            NaiveDate::from_ymd_opt(9999, 12, 30)
                .and_then(|d| d.and_hms_opt(3, 0, 0))
                .expect("moment")
                .and_utc(),
        );
        let ny: Tz = "America/New_York".parse().expect("zone");
        assert!(
            next_occurrence("FREQ=DAILY", RecurrenceMode::Due, late, done, ny)
                .is_none_or(|next| next.due.at().is_some_and(|at| at.year() <= 9999))
        );
        assert_eq!(
            crate::task::end_of_day(last, ny),
            last.and_hms_micro_opt(23, 59, 59, 999_999)
                .expect("moment")
                .and_utc(),
            "the end of the last day is clamped to what can be stored"
        );
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn rule(text: &str) -> Recurrence {
        text.parse().expect("valid rule")
    }

    /// The dates a rule yields from `start`, `n` of them, each found from the previous one.
    fn series(text: &str, start: NaiveDate, n: usize) -> Vec<NaiveDate> {
        let rule = rule(text);
        let mut out = vec![start];
        while out.len() < n {
            let last = *out.last().expect("non-empty");
            out.push(rule.next_date(start, last).expect("a next date"));
        }
        out
    }

    /// Follows a task through `n` completions (each on its due day) and returns the due moments.
    fn completions(text: &str, mode: RecurrenceMode, first: Due, tz: Tz, n: usize) -> Vec<Due> {
        let mut out = vec![first];
        let mut rule = text.to_owned();
        while out.len() < n {
            let due = *out.last().expect("non-empty");
            let done = due.key(tz).expect("has a due");
            match next_occurrence(&rule, mode, due, done, tz) {
                Some(next) => {
                    rule = next.rule;
                    out.push(next.due);
                }
                None => break,
            }
        }
        out
    }

    fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        local_to_utc(date(y, m, d).and_hms_opt(h, min, 0).expect("time"), tz)
    }

    #[test]
    fn a_daily_task_at_nine_stays_at_nine_across_new_yorks_spring_and_fall_changes() {
        let tz = chrono_tz::America::New_York;
        let dues = completions(
            "FREQ=DAILY",
            RecurrenceMode::Due,
            Due::At(at(tz, 2026, 3, 7, 9, 0)),
            tz,
            3,
        );
        let hours: Vec<String> = dues
            .iter()
            .map(|d| {
                d.at()
                    .expect("timed")
                    .with_timezone(&tz)
                    .format("%F %R %Z")
                    .to_string()
            })
            .collect();
        assert_eq!(
            hours,
            [
                "2026-03-07 09:00 EST",
                "2026-03-08 09:00 EDT",
                "2026-03-09 09:00 EDT"
            ]
        );
        let fall = completions(
            "FREQ=DAILY",
            RecurrenceMode::Due,
            Due::At(at(tz, 2026, 10, 31, 9, 0)),
            tz,
            3,
        );
        let utc: Vec<u32> = fall
            .iter()
            .map(|d| {
                d.at()
                    .expect("timed")
                    .format("%H")
                    .to_string()
                    .parse()
                    .expect("hour")
            })
            .collect();
        assert_eq!(
            utc,
            [13, 14, 14],
            "09:00 EDT is 13:00 UTC, 09:00 EST is 14:00 UTC"
        );
    }

    #[test]
    fn a_time_that_does_not_exist_on_the_spring_forward_day_moves_forward_by_the_gap() {
        // The moved occurrence is what the next one counts from (documented in docs/events.md).
        let tz = chrono_tz::America::New_York;
        let dues = completions(
            "FREQ=DAILY",
            RecurrenceMode::Due,
            Due::At(at(tz, 2026, 3, 7, 2, 30)),
            tz,
            3,
        );
        let local: Vec<String> = dues
            .iter()
            .map(|d| {
                d.at()
                    .expect("timed")
                    .with_timezone(&tz)
                    .format("%F %R")
                    .to_string()
            })
            .collect();
        assert_eq!(
            local,
            ["2026-03-07 02:30", "2026-03-08 03:30", "2026-03-09 03:30"]
        );
    }

    #[test]
    fn an_ambiguous_time_on_the_fall_back_day_is_the_first_of_the_two() {
        let tz = chrono_tz::Europe::Berlin;
        // Berlin repeats 02:00–03:00 on 2026-10-25.
        let dues = completions(
            "FREQ=WEEKLY",
            RecurrenceMode::Due,
            Due::At(at(tz, 2026, 10, 18, 2, 30)),
            tz,
            2,
        );
        let next = dues[1].at().expect("timed");
        assert_eq!(
            next.to_rfc3339(),
            "2026-10-25T00:30:00+00:00",
            "02:30 CEST, not CET"
        );
    }

    #[test]
    fn monthly_from_january_31_skips_months_without_a_31st_as_rfc_5545_says() {
        let dates = series("FREQ=MONTHLY", date(2027, 1, 31), 4);
        assert_eq!(
            dates,
            [
                date(2027, 1, 31),
                date(2027, 3, 31),
                date(2027, 5, 31),
                date(2027, 7, 31)
            ]
        );
        let explicit = series("FREQ=MONTHLY;BYMONTHDAY=31", date(2027, 1, 31), 3);
        assert_eq!(
            explicit,
            [date(2027, 1, 31), date(2027, 3, 31), date(2027, 5, 31)]
        );
    }

    #[test]
    fn the_last_day_of_every_month_is_bymonthday_minus_one() {
        let dates = series("FREQ=MONTHLY;BYMONTHDAY=-1", date(2027, 1, 31), 4);
        assert_eq!(
            dates,
            [
                date(2027, 1, 31),
                date(2027, 2, 28),
                date(2027, 3, 31),
                date(2027, 4, 30)
            ]
        );
    }

    #[test]
    fn yearly_from_february_29_occurs_in_leap_years_only() {
        let dates = series("FREQ=YEARLY", date(2028, 2, 29), 3);
        assert_eq!(
            dates,
            [date(2028, 2, 29), date(2032, 2, 29), date(2036, 2, 29)]
        );
    }

    #[test]
    fn every_weekday_skips_the_weekend() {
        // 2026-11-27 is a Friday.
        let dates = series("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", date(2026, 11, 26), 4);
        assert_eq!(
            dates,
            [
                date(2026, 11, 26),
                date(2026, 11, 27),
                date(2026, 11, 30),
                date(2026, 12, 1)
            ]
        );
    }

    #[test]
    fn the_second_tuesday_and_the_last_friday_of_the_month() {
        let tuesdays = series("FREQ=MONTHLY;BYDAY=2TU", date(2026, 11, 10), 3);
        assert_eq!(
            tuesdays,
            [date(2026, 11, 10), date(2026, 12, 8), date(2027, 1, 12)]
        );
        let fridays = series("FREQ=MONTHLY;BYDAY=-1FR", date(2026, 11, 27), 3);
        assert_eq!(
            fridays,
            [date(2026, 11, 27), date(2026, 12, 25), date(2027, 1, 29)]
        );
    }

    #[test]
    fn every_other_week_on_monday_and_thursday() {
        // 2026-11-23 is a Monday.
        let dates = series("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", date(2026, 11, 23), 4);
        assert_eq!(
            dates,
            [
                date(2026, 11, 23),
                date(2026, 11, 26),
                date(2026, 12, 7),
                date(2026, 12, 10)
            ]
        );
    }

    #[test]
    fn count_ends_the_series_after_that_many_occurrences() {
        let dues = completions(
            "FREQ=DAILY;COUNT=3",
            RecurrenceMode::Due,
            Due::Date(date(2026, 1, 1)),
            Tz::UTC,
            10,
        );
        assert_eq!(
            dues,
            [
                Due::Date(date(2026, 1, 1)),
                Due::Date(date(2026, 1, 2)),
                Due::Date(date(2026, 1, 3))
            ]
        );
    }

    #[test]
    fn until_ends_the_series_on_its_day_or_moment() {
        let by_date = completions(
            "FREQ=WEEKLY;UNTIL=20260115",
            RecurrenceMode::Due,
            Due::Date(date(2026, 1, 1)),
            Tz::UTC,
            10,
        );
        assert_eq!(by_date.len(), 3, "Jan 1, 8 and 15");
        let tz = chrono_tz::Europe::Berlin;
        let by_moment = completions(
            "FREQ=DAILY;UNTIL=20260103T080000Z",
            RecurrenceMode::Due,
            Due::At(at(tz, 2026, 1, 1, 9, 0)),
            tz,
            10,
        );
        assert_eq!(
            by_moment.len(),
            3,
            "09:00 CET is 08:00 UTC: Jan 3 is the last"
        );
    }

    #[test]
    fn from_completion_counts_from_the_day_of_completion_and_keeps_the_time() {
        let tz = chrono_tz::Europe::Berlin;
        let due = Due::At(at(tz, 2026, 1, 1, 18, 0));
        let done = at(tz, 2026, 1, 10, 7, 0);
        let next = next_occurrence(
            "FREQ=DAILY;INTERVAL=3",
            RecurrenceMode::Completion,
            due,
            done,
            tz,
        )
        .expect("next");
        assert_eq!(next.due, Due::At(at(tz, 2026, 1, 13, 18, 0)));
        let by_due = next_occurrence("FREQ=DAILY;INTERVAL=3", RecurrenceMode::Due, due, done, tz)
            .expect("next");
        assert_eq!(by_due.due, Due::At(at(tz, 2026, 1, 4, 18, 0)));
    }

    #[test]
    fn a_rule_that_can_never_match_ends_the_series_instead_of_looping() {
        assert_eq!(
            rule("FREQ=YEARLY;BYMONTHDAY=30;BYDAY=2MO")
                .next_date(date(2026, 1, 1), date(2026, 1, 1)),
            None
        );
    }

    #[test]
    fn supported_rules_round_trip_in_canonical_form() {
        for (input, canonical) in [
            ("FREQ=DAILY", "FREQ=DAILY"),
            (
                "RRULE:freq=weekly;byday=mo,we,fr",
                "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            ),
            ("FREQ=MONTHLY;BYMONTHDAY=1", "FREQ=MONTHLY;BYMONTHDAY=1"),
            ("FREQ=MONTHLY;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=2TU"),
            (
                "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
                "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
            ),
            (
                "FREQ=WEEKLY;INTERVAL=2;UNTIL=20271231",
                "FREQ=WEEKLY;INTERVAL=2;UNTIL=20271231",
            ),
            (
                "FREQ=YEARLY;INTERVAL=1;UNTIL=20300101T000000Z",
                "FREQ=YEARLY;UNTIL=20300101T000000Z",
            ),
        ] {
            assert_eq!(parse_rule(input).as_deref(), Ok(canonical), "{input}");
        }
    }

    #[test]
    fn rules_outside_the_subset_are_refused_with_a_reason() {
        for bad in [
            "",
            "INTERVAL=2",
            "FREQ=HOURLY",
            "FREQ=DAILY;BYHOUR=9",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=WEEKLY;BYDAY=XX",
            "FREQ=WEEKLY;BYDAY=2TU",
            "FREQ=MONTHLY;BYDAY=6TU",
            "FREQ=MONTHLY;BYMONTHDAY=0",
            "FREQ=MONTHLY;BYMONTHDAY=32",
            "FREQ=DAILY;COUNT=2;UNTIL=20300101",
            "FREQ=DAILY;UNTIL=tomorrow",
            "FREQ=WEEKLY;BYDAY=é",
        ] {
            assert!(parse_rule(bad).is_err(), "{bad:?} should be refused");
        }
    }
}

/// Our expansion against the `rrule` crate's RFC 5545 one, over the subset we support: the
/// same dates, in order, for any start.
#[cfg(test)]
mod against_rrule {
    use chrono::{Datelike, NaiveDate};
    use proptest::prelude::*;
    use rrule::RRuleSet;

    use super::Recurrence;

    const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

    fn rule() -> impl Strategy<Value = String> {
        let interval = 1u32..4;
        let days = proptest::sample::subsequence(DAYS.to_vec(), 1..4);
        let month_days = proptest::collection::vec(prop_oneof![1i8..=31, -3i8..=-1], 1..3);
        let nth_day = (prop_oneof![1i8..=4, Just(-1i8)], 0usize..7);
        prop_oneof![
            interval
                .clone()
                .prop_map(|i| format!("FREQ=DAILY;INTERVAL={i}")),
            (interval.clone(), days.clone())
                .prop_map(|(i, d)| format!("FREQ=WEEKLY;INTERVAL={i};BYDAY={}", d.join(","))),
            interval
                .clone()
                .prop_map(|i| format!("FREQ=WEEKLY;INTERVAL={i}")),
            interval
                .clone()
                .prop_map(|i| format!("FREQ=MONTHLY;INTERVAL={i}")),
            (interval.clone(), month_days).prop_map(|(i, d)| {
                let d: Vec<String> = d.iter().map(i8::to_string).collect();
                format!("FREQ=MONTHLY;INTERVAL={i};BYMONTHDAY={}", d.join(","))
            }),
            (interval.clone(), nth_day)
                .prop_map(|(i, (n, d))| format!("FREQ=MONTHLY;INTERVAL={i};BYDAY={n}{}", DAYS[d])),
            interval.prop_map(|i| format!("FREQ=YEARLY;INTERVAL={i}")),
        ]
    }

    fn start() -> impl Strategy<Value = NaiveDate> {
        (2000i32..2040, 1u32..=12, 1u32..=31)
            .prop_filter_map("a real day", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn our_dates_are_rrules_dates(text in rule(), start in start()) {
            let ours: Recurrence = text.parse().expect("a supported rule");
            let set: RRuleSet = format!(
                "DTSTART:{:04}{:02}{:02}T000000Z\nRRULE:{text}",
                start.year(), start.month(), start.day()
            )
            .parse()
            .expect("rrule reads it");
            let theirs: Vec<NaiveDate> =
                set.all(12).dates.iter().map(|at| at.date_naive()).collect();
            prop_assert_eq!(theirs.len(), 12, "{} from {}", text, start);
            let mut mine = Vec::new();
            let mut after = start.pred_opt().expect("a day before");
            while mine.len() < theirs.len() {
                let Some(next) = ours.next_date(start, after) else { break };
                mine.push(next);
                after = next;
            }
            prop_assert_eq!(mine, theirs, "{} from {}", text, start);
        }
    }
}
