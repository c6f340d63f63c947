//! The words quick add knows: units, counts, weekdays, months, ordinals and clock times,
//! and the calendar steps its dates take.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveTime, Weekday};

use crate::recurrence::Frequency;

pub(super) fn last_day_of_month(date: NaiveDate) -> Option<NaiveDate> {
    let first = date.with_day(1)?;
    Some(first.checked_add_months(Months::new(1))? - Duration::days(1))
}

pub(super) enum Unit {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

pub(super) fn unit(key: &str) -> Option<Unit> {
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

pub(super) fn frequency(unit: Unit) -> Option<Frequency> {
    match unit {
        Unit::Day => Some(Frequency::Daily),
        Unit::Week => Some(Frequency::Weekly),
        Unit::Month => Some(Frequency::Monthly),
        Unit::Year => Some(Frequency::Yearly),
        Unit::Hour | Unit::Minute => None,
    }
}

/// "30min", "30m", "1h", "2hrs", "1d", "1w": a count and a unit in one word.
pub(super) fn compact_span(key: &str) -> Option<(u32, Unit)> {
    let digits = key.find(|c: char| !c.is_ascii_digit())?;
    let (n, suffix) = key.split_at(digits);
    let unit = match suffix {
        "m" => Unit::Minute,
        "h" => Unit::Hour,
        "d" => Unit::Day,
        "w" => Unit::Week,
        other => unit(other)?,
    };
    Some((n.parse().ok().filter(|n| *n <= 1000)?, unit))
}

/// "3", "a", "an", "one" … "ten".
pub(super) fn count(key: &str) -> Option<u32> {
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

pub(super) fn weekday(key: &str) -> Option<Weekday> {
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

pub(super) fn month(key: &str) -> Option<u32> {
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
pub(super) fn ordinal(key: &str) -> Option<u32> {
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

/// A year written in full after a date: "2026".
pub(super) fn year(key: &str) -> Option<i32> {
    let year: i32 = key.parse().ok().filter(|_| key.len() == 4)?;
    (1900..=9999).contains(&year).then_some(year)
}

/// A day of month: "5" or "5th".
pub(super) fn day_number(key: &str) -> Option<u32> {
    ordinal(key).or_else(|| key.parse().ok().filter(|d| (1..=31).contains(d)))
}

/// "6pm", "6:30pm", "18:00", "9:05".
pub(super) fn clock(key: &str) -> Option<NaiveTime> {
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

pub(super) fn twelve_hour(hour: u32, minute: u32, meridiem: &str) -> Option<NaiveTime> {
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
pub(super) fn upcoming(today: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead = (7 + day.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    today + Duration::days(i64::from(ahead))
}

/// The next date (from today) whose day of month is `day`, skipping months without it.
pub(super) fn next_day_of_month(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    (0..14).find_map(|ahead| {
        let month = today.with_day(1)?.checked_add_months(Months::new(ahead))?;
        month.with_day(day).filter(|date| *date >= today)
    })
}

/// The next `month`/`day` from today: this year's, or next year's when it has passed.
pub(super) fn next_month_day(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    (0..8).find_map(|ahead| {
        NaiveDate::from_ymd_opt(today.year() + ahead, month, day).filter(|d| *d >= today)
    })
}
