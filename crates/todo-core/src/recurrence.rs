//! Recurrence rules: the RFC 5545 RRULE subset todo understands, parsed and written back in
//! one canonical form (`FREQ=MONTHLY;BYMONTHDAY=1`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc, Weekday};

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

impl FromStr for Recurrence {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
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

/// Validates a rule and returns its canonical text.
pub fn parse_rule(raw: &str) -> Result<String, String> {
    raw.parse::<Recurrence>().map(|rule| rule.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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
