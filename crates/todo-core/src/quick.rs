//! Quick add: one line of text ("Pay rent on the 1st every month !high #home") read into a
//! title, a due date or time, a priority, tags and a recurrence rule. Dates are relative to
//! the user's "now" in their time zone. Words that are none of those stay in the title, in
//! their order and spelling.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use crate::recurrence::{DaySpec, Frequency, Recurrence};
use crate::tag::TagName;
use crate::task::{Due, Priority};

/// What a line of text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickTask {
    pub title: String,
    pub due: Due,
    pub priority: Option<Priority>,
    pub tags: Vec<String>,
    pub recurrence: Option<Recurrence>,
}

/// Reads `text` as of `now` (the user's local time).
pub fn parse(text: &str, now: DateTime<Tz>) -> QuickTask {
    let words: Vec<&str> = text.split_whitespace().collect();
    let keys: Vec<String> = words
        .iter()
        .map(|w| w.trim_end_matches([',', '.', ';', '!', '?']).to_lowercase())
        .collect();
    let mut reader = Reader {
        keys: &keys,
        today: now.date_naive(),
        now,
        date: None,
        time: None,
        moment: None,
        day_of_month: None,
        weekday: None,
        recurrence: None,
    };
    let mut title = Vec::new();
    let mut priority = None;
    let mut tags: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let Some(tag) = words[i]
            .strip_prefix('#')
            .and_then(|t| TagName::parse(t).ok())
        {
            if !tags.iter().any(|t| t.to_lowercase() == tag.key) {
                tags.push(tag.name);
            }
            i += 1;
            continue;
        }
        if let Some(p) = parse_priority(&keys[i]) {
            priority = Some(p);
            i += 1;
            continue;
        }
        match reader.read_at(i) {
            Some(used) => i += used,
            None => {
                title.push(words[i]);
                i += 1;
            }
        }
    }
    QuickTask {
        title: title.join(" "),
        due: reader.due(),
        priority,
        tags,
        recurrence: reader.recurrence,
    }
}

fn parse_priority(key: &str) -> Option<Priority> {
    let level = key
        .strip_prefix('!')
        .or_else(|| key.strip_prefix('p').filter(|l| l.len() == 1))?;
    match level {
        "1" | "urgent" => Some(Priority::Urgent),
        "2" | "high" => Some(Priority::High),
        "3" | "medium" | "med" => Some(Priority::Medium),
        "4" | "low" => Some(Priority::Low),
        "none" if key.starts_with('!') => Some(Priority::None),
        _ => None,
    }
}

struct Reader<'a> {
    keys: &'a [String],
    now: DateTime<Tz>,
    today: NaiveDate,
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    /// An exact moment ("in 2 hours").
    moment: Option<DateTime<Utc>>,
    /// The day of month a date was given by ("the 1st"), to complete "every month".
    day_of_month: Option<u32>,
    /// The weekday a date was given by ("friday"), to complete "every week".
    weekday: Option<Weekday>,
    recurrence: Option<Recurrence>,
}

const PREPOSITIONS: [&str; 5] = ["on", "at", "due", "by", "before"];

impl Reader<'_> {
    fn key(&self, i: usize) -> &str {
        self.keys.get(i).map_or("", String::as_str)
    }

    /// Reads a date, time or recurrence starting at word `i`; returns how many words it used.
    fn read_at(&mut self, i: usize) -> Option<usize> {
        if PREPOSITIONS.contains(&self.key(i)) {
            return self.read_phrase(i + 1).map(|used| used + 1);
        }
        self.read_phrase(i)
    }

    fn read_phrase(&mut self, i: usize) -> Option<usize> {
        if let Some(used) = self.read_recurrence(i) {
            return Some(used);
        }
        if self.date.is_none()
            && let Some((date, used)) = self.read_date(i)
        {
            self.date = Some(date);
            return Some(used);
        }
        if self.time.is_none()
            && let Some((time, used)) = self.read_time(i)
        {
            self.time = Some(time);
            return Some(used);
        }
        if self.moment.is_none() && self.key(i) == "in" {
            return self.read_in_hours(i + 1).map(|used| used + 1);
        }
        None
    }

    fn read_date(&mut self, i: usize) -> Option<(NaiveDate, usize)> {
        let today = self.today;
        let key = self.key(i);
        match key {
            "today" | "tod" => return Some((today, 1)),
            "tonight" => {
                self.time.get_or_insert(NaiveTime::from_hms_opt(20, 0, 0)?);
                return Some((today, 1));
            }
            "tomorrow" | "tmr" | "tmrw" | "tomorow" => return Some((today + Duration::days(1), 1)),
            "next" => return self.read_next(i + 1),
            "this" => {
                let day = weekday(self.key(i + 1))?;
                self.weekday = Some(day);
                return Some((upcoming(today, day), 2));
            }
            "in" => {
                return self
                    .read_in_days(i + 1)
                    .map(|(date, used)| (date, used + 1));
            }
            "the" => {
                let day = ordinal(self.key(i + 1))?;
                self.day_of_month = Some(day);
                return Some((next_day_of_month(today, day)?, 2));
            }
            _ => {}
        }
        if let Some(day) = weekday(key) {
            self.weekday = Some(day);
            return Some((upcoming(today, day), 1));
        }
        if let Ok(date) = NaiveDate::parse_from_str(key, "%Y-%m-%d") {
            return Some((date, 1));
        }
        if let Some(month) = month(key) {
            // "dec 5", "december 5th"
            let day = day_number(self.key(i + 1))?;
            return Some((next_month_day(today, month, day)?, 2));
        }
        if let Some(day) = day_number(key) {
            // "5 dec", "5th of december", or a lone ordinal "1st"
            let (of, month_at) = if self.key(i + 1) == "of" {
                (1, i + 2)
            } else {
                (0, i + 1)
            };
            if let Some(month) = month(self.key(month_at)) {
                return Some((next_month_day(today, month, day)?, 2 + of));
            }
            if ordinal(key).is_some() {
                self.day_of_month = Some(day);
                return Some((next_day_of_month(today, day)?, 1));
            }
        }
        None
    }

    /// After "next": a weekday of next week, "week", "month" or "year".
    fn read_next(&mut self, i: usize) -> Option<(NaiveDate, usize)> {
        let today = self.today;
        let monday_next_week =
            today + Duration::days(7 - i64::from(today.weekday().num_days_from_monday()));
        let date = match self.key(i) {
            "week" => monday_next_week,
            "month" => today.with_day(1)? + Months::new(1),
            "year" => NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)?,
            key => {
                let day = weekday(key)?;
                self.weekday = Some(day);
                monday_next_week + Duration::days(i64::from(day.num_days_from_monday()))
            }
        };
        Some((date, 2))
    }

    /// After "in": "3 days", "a week", "2 months", "one year".
    fn read_in_days(&self, i: usize) -> Option<(NaiveDate, usize)> {
        let n = count(self.key(i))?;
        let today = self.today;
        let date = match unit(self.key(i + 1))? {
            Unit::Day => today + Duration::days(i64::from(n)),
            Unit::Week => today + Duration::weeks(i64::from(n)),
            Unit::Month => today.checked_add_months(Months::new(n))?,
            Unit::Year => today.checked_add_months(Months::new(n.checked_mul(12)?))?,
            Unit::Hour | Unit::Minute => return None,
        };
        Some((date, 2))
    }

    /// After "in": "2 hours", "30 minutes", "an hour".
    fn read_in_hours(&mut self, i: usize) -> Option<usize> {
        let n = i64::from(count(self.key(i))?);
        let span = match unit(self.key(i + 1))? {
            Unit::Hour => Duration::hours(n),
            Unit::Minute => Duration::minutes(n),
            _ => return None,
        };
        self.moment = Some(self.now.with_timezone(&Utc) + span);
        Some(2)
    }

    fn read_time(&self, i: usize) -> Option<(NaiveTime, usize)> {
        let key = self.key(i);
        if key == "noon" {
            return Some((NaiveTime::from_hms_opt(12, 0, 0)?, 1));
        }
        if let Some(time) = clock(key) {
            return Some((time, 1));
        }
        // "6 pm"
        if let (Ok(hour), meridiem @ ("am" | "pm")) = (key.parse::<u32>(), self.key(i + 1)) {
            return Some((twelve_hour(hour, 0, meridiem)?, 2));
        }
        // "at 9": a bare hour only counts after "at".
        if i > 0 && self.key(i - 1) == "at" {
            let hour: u32 = key.parse().ok()?;
            return Some((NaiveTime::from_hms_opt(hour, 0, 0)?, 1));
        }
        None
    }

    fn read_recurrence(&mut self, i: usize) -> Option<usize> {
        let simple = match self.key(i) {
            "daily" => Some(Recurrence::new(Frequency::Daily)),
            "weekly" => Some(Recurrence::new(Frequency::Weekly)),
            "biweekly" => Some(Recurrence {
                interval: 2,
                ..Recurrence::new(Frequency::Weekly)
            }),
            "monthly" => Some(Recurrence::new(Frequency::Monthly)),
            "yearly" | "annually" => Some(Recurrence::new(Frequency::Yearly)),
            _ => None,
        };
        if let Some(rule) = simple {
            self.recurrence.get_or_insert(rule);
            return Some(1);
        }
        if self.key(i) != "every" || self.recurrence.is_some() {
            return None;
        }
        let (rule, used) = self.read_every(i + 1)?;
        self.recurrence = Some(rule);
        Some(used + 1)
    }

    /// After "every".
    fn read_every(&self, i: usize) -> Option<(Recurrence, usize)> {
        let key = self.key(i);
        let weekly_on = |days: &[Weekday]| Recurrence {
            by_day: days.iter().map(|&day| DaySpec { nth: None, day }).collect(),
            ..Recurrence::new(Frequency::Weekly)
        };
        match key {
            "weekday" | "workday" => {
                return Some((
                    weekly_on(&[
                        Weekday::Mon,
                        Weekday::Tue,
                        Weekday::Wed,
                        Weekday::Thu,
                        Weekday::Fri,
                    ]),
                    1,
                ));
            }
            "weekend" => return Some((weekly_on(&[Weekday::Sat, Weekday::Sun]), 1)),
            "other" => {
                let mut rule = Recurrence::new(frequency(unit(self.key(i + 1))?)?);
                rule.interval = 2;
                return Some((rule, 2));
            }
            "last" => {
                let day = weekday(self.key(i + 1))?;
                return Some((monthly_on(-1, day), 2));
            }
            _ => {}
        }
        if let Some(first) = weekday(key) {
            // "every mon, wed and fri"
            let mut days = vec![first];
            let mut used = 1;
            loop {
                let (gap, next) = if self.key(i + used) == "and" {
                    (1, self.key(i + used + 1))
                } else {
                    (0, self.key(i + used))
                };
                match weekday(next) {
                    Some(day) => {
                        if !days.contains(&day) {
                            days.push(day);
                        }
                        used += 1 + gap;
                    }
                    None => break,
                }
            }
            return Some((weekly_on(&days), used));
        }
        if let Some(nth) = ordinal(key) {
            // "every 2nd tuesday" or "every 15th"
            if let Some(day) = weekday(self.key(i + 1))
                && nth <= 5
            {
                return Some((monthly_on(i8::try_from(nth).ok()?, day), 2));
            }
            let mut rule = Recurrence::new(Frequency::Monthly);
            rule.by_month_day = vec![i8::try_from(nth).ok()?];
            return Some((rule, 1));
        }
        if let Some(unit) = unit(key) {
            // "every day", "every week"
            return Some((Recurrence::new(frequency(unit)?), 1));
        }
        // "every 3 days"
        let n = count(key).filter(|n| *n >= 1)?;
        let mut rule = Recurrence::new(frequency(unit(self.key(i + 1))?)?);
        rule.interval = n;
        Some((rule, 2))
    }

    /// Completes the rule from the date words ("on the 1st every month") and places the first
    /// occurrence when no date was given.
    fn due(&mut self) -> Due {
        if let Some(rule) = &mut self.recurrence {
            if rule.frequency == Frequency::Monthly
                && rule.by_day.is_empty()
                && rule.by_month_day.is_empty()
                && let Some(day) = self.day_of_month.and_then(|d| i8::try_from(d).ok())
            {
                rule.by_month_day = vec![day];
            }
            if rule.frequency == Frequency::Weekly
                && rule.by_day.is_empty()
                && let Some(day) = self.weekday
            {
                rule.by_day = vec![DaySpec { nth: None, day }];
            }
            if self.date.is_none() && self.moment.is_none() {
                self.date = first_occurrence(rule, self.today, self.time, self.now);
            }
        }
        if let Some(moment) = self.moment {
            return Due::At(moment);
        }
        match (self.date, self.time) {
            (Some(date), None) => Due::Date(date),
            (Some(date), Some(time)) => Due::At(local(self.now.timezone(), date, time)),
            (None, Some(time)) => {
                // A time alone is the next such time: today, or tomorrow if it has passed.
                let today = self.today;
                let date = if time > self.now.time() {
                    today
                } else {
                    today + Duration::days(1)
                };
                Due::At(local(self.now.timezone(), date, time))
            }
            (None, None) => Due::None,
        }
    }
}

fn local(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    crate::time::local_to_utc(date.and_time(time), tz)
}

fn monthly_on(nth: i8, day: Weekday) -> Recurrence {
    Recurrence {
        by_day: vec![DaySpec {
            nth: Some(nth),
            day,
        }],
        ..Recurrence::new(Frequency::Monthly)
    }
}

/// The first day on or after `today` that the rule falls on (today's when its time is still ahead).
fn first_occurrence(
    rule: &Recurrence,
    today: NaiveDate,
    time: Option<NaiveTime>,
    now: DateTime<Tz>,
) -> Option<NaiveDate> {
    let start = match time {
        Some(time) if time <= now.time() => today + Duration::days(1),
        _ => today,
    };
    (0..400)
        .map(|offset| start + Duration::days(offset))
        .find(|date| falls_on(rule, *date))
}

fn falls_on(rule: &Recurrence, date: NaiveDate) -> bool {
    let day_matches = |spec: &DaySpec| {
        spec.day == date.weekday()
            && match spec.nth {
                None => true,
                Some(n) if n > 0 => (date.day() - 1) / 7 + 1 == u32::from(n.unsigned_abs()),
                Some(n) => {
                    let days_left =
                        last_day_of_month(date).map_or(0, |last| last.day() - date.day());
                    days_left / 7 + 1 == u32::from(n.unsigned_abs())
                }
            }
    };
    let by_day = rule.by_day.is_empty() || rule.by_day.iter().any(day_matches);
    let by_month_day = rule.by_month_day.is_empty()
        || rule.by_month_day.iter().any(|&d| {
            let last = last_day_of_month(date).map_or(31, |l| l.day());
            let wanted = if d > 0 {
                u32::from(d.unsigned_abs())
            } else {
                last + 1 - u32::from(d.unsigned_abs())
            };
            wanted == date.day()
        });
    by_day && by_month_day
}

fn last_day_of_month(date: NaiveDate) -> Option<NaiveDate> {
    let first = date.with_day(1)?;
    Some(first.checked_add_months(Months::new(1))? - Duration::days(1))
}

enum Unit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

fn unit(key: &str) -> Option<Unit> {
    Some(match key {
        "minute" | "minutes" | "min" | "mins" => Unit::Minute,
        "hour" | "hours" | "hr" | "hrs" => Unit::Hour,
        "day" | "days" => Unit::Day,
        "week" | "weeks" => Unit::Week,
        "month" | "months" => Unit::Month,
        "year" | "years" => Unit::Year,
        _ => return None,
    })
}

fn frequency(unit: Unit) -> Option<Frequency> {
    match unit {
        Unit::Day => Some(Frequency::Daily),
        Unit::Week => Some(Frequency::Weekly),
        Unit::Month => Some(Frequency::Monthly),
        Unit::Year => Some(Frequency::Yearly),
        Unit::Hour | Unit::Minute => None,
    }
}

/// "3", "a", "an", "one" … "ten".
fn count(key: &str) -> Option<u32> {
    let words = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    match key {
        "a" | "an" => Some(1),
        _ => key.parse::<u32>().ok().filter(|n| *n <= 1000).or_else(|| {
            words
                .iter()
                .position(|w| *w == key)
                .and_then(|p| u32::try_from(p + 1).ok())
        }),
    }
}

fn weekday(key: &str) -> Option<Weekday> {
    Some(match key {
        "monday" | "mon" | "mondays" => Weekday::Mon,
        "tuesday" | "tue" | "tues" | "tuesdays" => Weekday::Tue,
        "wednesday" | "wed" | "wednesdays" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" | "thursdays" => Weekday::Thu,
        "friday" | "fri" | "fridays" => Weekday::Fri,
        "saturday" | "sat" | "saturdays" => Weekday::Sat,
        "sunday" | "sun" | "sundays" => Weekday::Sun,
        _ => return None,
    })
}

fn month(key: &str) -> Option<u32> {
    let names = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let position = names
        .iter()
        .position(|n| *n == key)
        .or_else(|| full.iter().position(|n| *n == key))
        .or_else(|| (key == "sept").then_some(8))?;
    u32::try_from(position + 1).ok()
}

/// "1st", "2nd", "3rd", "15th", "first" … "fifth".
fn ordinal(key: &str) -> Option<u32> {
    let words = ["first", "second", "third", "fourth", "fifth"];
    if let Some(p) = words.iter().position(|w| *w == key) {
        return u32::try_from(p + 1).ok();
    }
    let digits = key
        .strip_suffix("st")
        .or_else(|| key.strip_suffix("nd"))
        .or_else(|| key.strip_suffix("rd"))
        .or_else(|| key.strip_suffix("th"))?;
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// A day of month: "5" or "5th".
fn day_number(key: &str) -> Option<u32> {
    ordinal(key).or_else(|| key.parse().ok().filter(|d| (1..=31).contains(d)))
}

/// "6pm", "6:30pm", "18:00", "9:05".
fn clock(key: &str) -> Option<NaiveTime> {
    for meridiem in ["am", "pm"] {
        if let Some(rest) = key.strip_suffix(meridiem) {
            let (hour, minute) = match rest.split_once(':') {
                Some((h, m)) => (h.parse().ok()?, m.parse().ok()?),
                None => (rest.parse().ok()?, 0),
            };
            return twelve_hour(hour, minute, meridiem);
        }
    }
    let (hour, minute) = key.split_once(':')?;
    if minute.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(hour.parse().ok()?, minute.parse().ok()?, 0)
}

fn twelve_hour(hour: u32, minute: u32, meridiem: &str) -> Option<NaiveTime> {
    if !(1..=12).contains(&hour) {
        return None;
    }
    let hour = match (hour, meridiem) {
        (12, "am") => 0,
        (12, _) => 12,
        (h, "pm") => h + 12,
        (h, _) => h,
    };
    NaiveTime::from_hms_opt(hour, minute, 0)
}

/// Today if it is `day`, else the next `day`.
fn upcoming(today: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead = (7 + day.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    today + Duration::days(i64::from(ahead))
}

/// The next date (from today) whose day of month is `day`, skipping months without it.
fn next_day_of_month(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    (0..14).find_map(|ahead| {
        let month = today.with_day(1)?.checked_add_months(Months::new(ahead))?;
        month.with_day(day).filter(|date| *date >= today)
    })
}

/// The next `month`/`day` from today: this year's, or next year's when it has passed.
fn next_month_day(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    (0..8).find_map(|ahead| {
        NaiveDate::from_ymd_opt(today.year() + ahead, month, day).filter(|d| *d >= today)
    })
}

#[cfg(test)]
mod tests;
