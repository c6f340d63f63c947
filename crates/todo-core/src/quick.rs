//! Quick add: one line of text read with Todoist's grammar ("Call mom tomorrow 6pm every sunday
//! #Family @phone p1 remind me 30 min before") into a title, a due date or time, a priority,
//! tags, a project and section, reminders and a recurrence rule. Dates are relative to the
//! user's "now" in their time zone. Words that are none of those stay in the title, in their
//! order and spelling; a rule we cannot express exactly ("every 3rd weekday") stays there
//! whole rather than become a different rule. The grammar is listed in docs/api-design.md.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::recurrence::{DaySpec, Frequency, Recurrence, RecurrenceMode, Until};
use crate::reminders::{MAX_MINUTES_BEFORE, NewReminder};
use crate::tag::TagName;
use crate::task::{Due, Priority};
use words::{
    Unit, clock, compact_span, count, day_number, frequency, last_day_of_month, month,
    next_day_of_month, next_month_day, ordinal, twelve_hour, unit, upcoming, weekday, year,
};

/// What a line of text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickTask {
    pub title: String,
    pub due: Due,
    pub priority: Option<Priority>,
    /// `#tags` that name no project, then `@labels`, in order, each once regardless of case.
    pub tags: Vec<String>,
    pub recurrence: Option<Recurrence>,
    /// `Completion` when the rule was written `every!`.
    pub recurrence_mode: RecurrenceMode,
    /// The project `#Name` picked, spelled as in the list the parser was given.
    pub project: Option<String>,
    /// `/Name` as typed: the caller looks it up among the chosen project's sections.
    pub section: Option<String>,
    /// "remind me 30 min before" (relative, needs a due) or "remind me at 5pm" (absolute).
    pub reminders: Vec<NewReminder>,
}

/// Punctuation that may follow a word without changing what it means ("friday,").
const TRAILING: [char; 5] = [',', '.', ';', '!', '?'];

/// Reads `text` as of `now` (the user's local time); `projects` are the names of the user's
/// projects, which `#Name` may pick (see [`QuickTask::project`]).
pub fn parse(text: &str, now: DateTime<Tz>, projects: &[&str]) -> QuickTask {
    let words: Vec<&str> = text.split_whitespace().collect();
    let keys: Vec<String> = words
        .iter()
        .map(|w| w.trim_end_matches(TRAILING).to_lowercase())
        .collect();
    let project_keys: Vec<String> = projects.iter().map(|p| project_key(p)).collect();
    let mut reader = Reader {
        words: &words,
        keys: &keys,
        today: now.date_naive(),
        now,
        date: None,
        time: None,
        moment: None,
        tonight: false,
        day_of_month: None,
        weekday: None,
        recurrence: None,
        mode: RecurrenceMode::Due,
        start: None,
        until: None,
    };
    // Indexes of the words that stay in the title.
    let mut title: Vec<usize> = Vec::new();
    let mut priority = None;
    let mut tags: Vec<String> = Vec::new();
    let mut project = None;
    let mut section = None;
    let mut reminders: Vec<(std::ops::Range<usize>, ReminderPhrase)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if let Some(name) = word.strip_prefix('#') {
            if project.is_none()
                && let Some((at, used)) = find_project(&words[i..], &project_keys)
            {
                project = projects.get(at).map(|p| (*p).to_owned());
                i += used;
                continue;
            }
            if add_tag(&mut tags, name) {
                i += 1;
                continue;
            }
        }
        if let Some(label) = word.strip_prefix('@')
            && add_tag(&mut tags, label)
        {
            i += 1;
            continue;
        }
        if section.is_none()
            && let Some(name) = section_name(word)
        {
            section = Some(name);
            i += 1;
            continue;
        }
        if let Some(p) = parse_priority(&keys[i]) {
            priority = Some(p);
            i += 1;
            continue;
        }
        if let Some((phrase, used)) = reader.read_reminder(i) {
            reminders.push((i..i + used, phrase));
            i += used;
            continue;
        }
        match reader.read_at(i) {
            Some(Reading::Used(used)) => i += used,
            Some(Reading::Verbatim(used)) => {
                title.extend(i..(i + used).min(words.len()));
                i += used;
            }
            None => {
                title.push(i);
                i += 1;
            }
        }
    }
    let due = reader.due();
    let mut kept_reminders: Vec<NewReminder> = Vec::new();
    for (span, phrase) in reminders {
        match phrase.resolve(&due, now) {
            Some(reminder) if !kept_reminders.contains(&reminder) => kept_reminders.push(reminder),
            Some(_) => {}
            // Nothing to count back from: the words stay where the user sees them.
            None => title.extend(span),
        }
    }
    title.sort_unstable();
    QuickTask {
        title: title
            .iter()
            .map(|&i| words[i])
            .collect::<Vec<_>>()
            .join(" "),
        due,
        priority,
        tags,
        recurrence: reader.recurrence,
        recurrence_mode: reader.mode,
        project,
        section,
        reminders: kept_reminders,
    }
}

/// Adds a tag unless one of that name (regardless of case) is there; false when `name` is not
/// a valid tag name.
fn add_tag(tags: &mut Vec<String>, name: &str) -> bool {
    let Ok(tag) = TagName::parse(name) else {
        return false;
    };
    if !tags.iter().any(|t| t.to_lowercase() == tag.key) {
        tags.push(tag.name);
    }
    true
}

/// A project name as `#` compares it: lowercase, words separated by one space.
fn project_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The project that `#word …` at the start of `words` names, and how many words it takes: the
/// longest run of words that is a project's name ("#Home Improvement" when that project
/// exists, else "#Home" when that one does).
fn find_project(words: &[&str], project_keys: &[String]) -> Option<(usize, usize)> {
    let first = words.first()?.strip_prefix('#')?;
    let longest = project_keys
        .iter()
        .map(|k| k.split(' ').count())
        .max()
        .unwrap_or(0);
    let mut typed = String::new();
    let mut found = None;
    for (n, word) in std::iter::once(first)
        .chain(words.iter().skip(1).copied())
        .take(longest)
        .enumerate()
    {
        if n > 0 {
            typed.push(' ');
        }
        typed.push_str(&word.to_lowercase());
        let bare = typed.trim_end_matches(TRAILING);
        if let Some(at) = project_keys
            .iter()
            .position(|k| !k.is_empty() && (*k == typed || k == bare))
        {
            found = Some((at, n + 1));
        }
    }
    found
}

/// `/Name`: one word, without a further `/` (so that a path such as `/etc/hosts` stays text).
fn section_name(word: &str) -> Option<String> {
    let name = word.strip_prefix('/')?.trim_end_matches(TRAILING);
    let starts_well = name.chars().next()?.is_alphanumeric();
    (starts_well && !name.contains('/')).then(|| name.to_owned())
}

/// `p1`…`p4` as Todoist means them (p4 is no priority); `!urgent`…`!none` and `!1`…`!4`
/// (`!4` is low) as todo always read them.
fn parse_priority(key: &str) -> Option<Priority> {
    if let Some(level) = key.strip_prefix('p') {
        return match level {
            "1" => Some(Priority::Urgent),
            "2" => Some(Priority::High),
            "3" => Some(Priority::Medium),
            "4" => Some(Priority::None),
            _ => None,
        };
    }
    match key.strip_prefix('!')? {
        "1" | "urgent" => Some(Priority::Urgent),
        "2" | "high" => Some(Priority::High),
        "3" | "medium" | "med" => Some(Priority::Medium),
        "4" | "low" => Some(Priority::Low),
        "none" => Some(Priority::None),
        _ => None,
    }
}

/// A reminder as written, before the due it may count back from is known.
#[derive(Debug, Clone, Copy)]
enum ReminderPhrase {
    Before(i64),
    At(NaiveTime),
}

impl ReminderPhrase {
    /// A relative reminder needs a due (`None` without one); "at 5pm" is on the due's day, or
    /// the next 5pm when the task has no due.
    fn resolve(self, due: &Due, now: DateTime<Tz>) -> Option<NewReminder> {
        match self {
            ReminderPhrase::Before(minutes) => {
                (*due != Due::None).then_some(NewReminder::Before(minutes))
            }
            ReminderPhrase::At(time) => {
                let tz = now.timezone();
                let date = match due {
                    Due::Date(date) => *date,
                    Due::At(at) => at.with_timezone(&tz).date_naive(),
                    Due::None => next_date_at(now, time),
                };
                Some(NewReminder::At(local(tz, date, time)))
            }
        }
    }
}

/// What a phrase at some word did.
enum Reading {
    /// It was read, using this many words.
    Used(usize),
    /// It is a rule we cannot express exactly: these words stay in the title as they are.
    Verbatim(usize),
}

/// What followed "every".
enum Every {
    Rule(Recurrence, usize),
    Inexpressible(usize),
}

struct Reader<'a> {
    /// The words as typed (`every!` is told from `every` by its `!`).
    words: &'a [&'a str],
    /// The words lowercased, without trailing punctuation.
    keys: &'a [String],
    now: DateTime<Tz>,
    today: NaiveDate,
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    /// An exact moment ("in 2 hours").
    moment: Option<DateTime<Utc>>,
    /// "tonight" was the date: the time is settled once the whole line is read.
    tonight: bool,
    /// The day of month a date was given by ("the 1st", "the last day": -1), to complete
    /// "every month".
    day_of_month: Option<i8>,
    /// The weekday a date was given by ("friday"), to complete "every week".
    weekday: Option<Weekday>,
    recurrence: Option<Recurrence>,
    mode: RecurrenceMode,
    /// "starting jan 5": the first due is the rule's first day on or after it.
    start: Option<NaiveDate>,
    /// "until dec 31": the rule's last day.
    until: Option<NaiveDate>,
}

const PREPOSITIONS: [&str; 5] = ["on", "at", "due", "by", "before"];

/// Words after an ordinal or a count that make a rule our RRULE subset cannot say ("every 3rd
/// weekday", "every 2 business days").
const INEXPRESSIBLE_UNITS: [&str; 9] = [
    "weekday", "weekdays", "workday", "workdays", "business", "working", "work", "weekend",
    "weekends",
];

impl Reader<'_> {
    fn key(&self, i: usize) -> &str {
        self.keys.get(i).map_or("", String::as_str)
    }

    /// "remind me 30 min before", "remind me 1 hour before", "remind me at 5pm".
    fn read_reminder(&self, i: usize) -> Option<(ReminderPhrase, usize)> {
        if self.key(i) != "remind" || self.key(i + 1) != "me" {
            return None;
        }
        let after = i + 2;
        let (at, time_at) = if self.key(after) == "at" {
            (1, after + 1)
        } else {
            (0, after)
        };
        if let Some((time, used)) = self.read_time(time_at) {
            return Some((ReminderPhrase::At(time), 2 + at + used));
        }
        if at == 1 {
            return None;
        }
        let (minutes, used) = self.read_span(after)?;
        if self.key(after + used) != "before" {
            return None;
        }
        Some((ReminderPhrase::Before(minutes), 2 + used + 1))
    }

    /// A span in minutes: "30 min", "30min", "an hour", "2 days", "1w" (at most four weeks).
    fn read_span(&self, i: usize) -> Option<(i64, usize)> {
        let (n, unit, used) = match compact_span(self.key(i)) {
            Some((n, unit)) => (n, unit, 1),
            None => (count(self.key(i))?, unit(self.key(i + 1))?, 2),
        };
        let per = match unit {
            Unit::Minute => 1,
            Unit::Hour => 60,
            Unit::Day => 24 * 60,
            Unit::Week => 7 * 24 * 60,
            Unit::Month | Unit::Year => return None,
        };
        let minutes = i64::from(n) * per;
        (minutes <= MAX_MINUTES_BEFORE).then_some((minutes, used))
    }

    /// Reads a date, time or recurrence starting at word `i`.
    fn read_at(&mut self, i: usize) -> Option<Reading> {
        if PREPOSITIONS.contains(&self.key(i)) {
            return match self.read_phrase(i + 1)? {
                Reading::Used(used) => Some(Reading::Used(used + 1)),
                Reading::Verbatim(used) => Some(Reading::Verbatim(used + 1)),
            };
        }
        self.read_phrase(i)
    }

    fn read_phrase(&mut self, i: usize) -> Option<Reading> {
        if let Some(reading) = self.read_recurrence(i) {
            return Some(reading);
        }
        if self.recurrence.is_some()
            && let Some(used) = self.read_bounds(i)
        {
            return Some(Reading::Used(used));
        }
        if self.date.is_none()
            && let Some((date, used)) = self.read_date(i)
        {
            self.date = Some(date);
            return Some(Reading::Used(used));
        }
        if self.time.is_none()
            && let Some((time, used)) = self.read_time(i)
        {
            self.time = Some(time);
            return Some(Reading::Used(used));
        }
        if self.moment.is_none() && self.key(i) == "in" {
            return self
                .read_in_hours(i + 1)
                .map(|used| Reading::Used(used + 1));
        }
        None
    }

    /// "starting (on) jan 5" and "until dec 31", read only after a rule: elsewhere they are
    /// ordinary words ("Diet starting monday" is due on Monday).
    fn read_bounds(&mut self, i: usize) -> Option<usize> {
        match self.key(i) {
            "starting" if self.start.is_none() => {
                let on = usize::from(self.key(i + 1) == "on");
                let (date, used) = self.read_bare_date(i + 1 + on)?;
                self.start = Some(date);
                Some(1 + on + used)
            }
            "until" if self.until.is_none() => {
                let (date, used) = self.read_bare_date(i + 1)?;
                self.until = Some(date);
                Some(1 + used)
            }
            _ => None,
        }
    }

    /// A date that completes nothing else ("until friday" must not make a weekly rule
    /// Friday's).
    fn read_bare_date(&mut self, i: usize) -> Option<(NaiveDate, usize)> {
        let kept = (self.tonight, self.day_of_month, self.weekday);
        let read = self.read_date(i);
        (self.tonight, self.day_of_month, self.weekday) = kept;
        read
    }

    fn read_date(&mut self, i: usize) -> Option<(NaiveDate, usize)> {
        let today = self.today;
        let key = self.key(i);
        match key {
            "today" | "tod" => return Some((today, 1)),
            "tonight" => {
                self.tonight = true;
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
            "the" if self.key(i + 1) == "last" && self.key(i + 2) == "day" => {
                // "on the last day", "the last day of the month"; alone, "the last day" is
                // too common in titles to be a date.
                let of_month = self.month_suffix(i + 3)?;
                if of_month == 0 && !(i > 0 && self.key(i - 1) == "on") {
                    return None;
                }
                self.day_of_month = Some(-1);
                return Some((last_day_of_month(today)?, 3 + of_month));
            }
            "the" => {
                let day = ordinal(self.key(i + 1))?;
                self.day_of_month = i8::try_from(day).ok();
                return Some((next_day_of_month(today, day)?, 2));
            }
            "end" if self.key(i + 1) == "of" => {
                // "end of month", "end of the month"
                let the = usize::from(self.key(i + 2) == "the");
                if self.key(i + 2 + the) != "month" {
                    return None;
                }
                self.day_of_month = Some(-1);
                return Some((last_day_of_month(today)?, 3 + the));
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
            // "dec 5", "december 5th", "dec 24 2026"
            let day = day_number(self.key(i + 1))?;
            if let Some(year) = year(self.key(i + 2)) {
                return Some((NaiveDate::from_ymd_opt(year, month, day)?, 3));
            }
            return Some((next_month_day(today, month, day)?, 2));
        }
        if let Some(day) = day_number(key) {
            // "5 dec", "5th of december", "24 dec 2026", or a lone ordinal "1st"
            let (of, month_at) = if self.key(i + 1) == "of" {
                (1, i + 2)
            } else {
                (0, i + 1)
            };
            if let Some(month) = month(self.key(month_at)) {
                if let Some(year) = year(self.key(month_at + 1)) {
                    return Some((NaiveDate::from_ymd_opt(year, month, day)?, 3 + of));
                }
                return Some((next_month_day(today, month, day)?, 2 + of));
            }
            if ordinal(key).is_some() {
                self.day_of_month = i8::try_from(day).ok();
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

    fn read_recurrence(&mut self, i: usize) -> Option<Reading> {
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
            return Some(Reading::Used(1));
        }
        if self.key(i) != "every" {
            return None;
        }
        match self.read_every(i + 1)? {
            // A second rule is left to the title word by word, as before.
            Every::Rule(..) if self.recurrence.is_some() => None,
            Every::Rule(rule, used) => {
                self.recurrence = Some(rule);
                let typed = self.words.get(i).copied().unwrap_or_default();
                if typed.trim_end_matches([',', '.', ';', '?']).ends_with('!') {
                    self.mode = RecurrenceMode::Completion;
                }
                Some(Reading::Used(used + 1))
            }
            Every::Inexpressible(used) => Some(Reading::Verbatim(used + 1)),
        }
    }

    /// After "every".
    fn read_every(&self, i: usize) -> Option<Every> {
        let key = self.key(i);
        let next = self.key(i + 1);
        match key {
            "weekday" | "weekdays" | "workday" | "workdays" => {
                return Some(Every::Rule(
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
            "weekend" | "weekends" => {
                return Some(Every::Rule(weekly_on(&[Weekday::Sat, Weekday::Sun]), 1));
            }
            "other" => {
                // "every other monday (and thursday)", "every other week"
                if let Some((days, used)) = self.weekday_list(i + 1) {
                    let rule = Recurrence {
                        interval: 2,
                        ..weekly_on(&days)
                    };
                    return Some(Every::Rule(rule, used + 1));
                }
                return match frequency(unit(next)?) {
                    Some(frequency) => Some(Every::Rule(
                        Recurrence {
                            interval: 2,
                            ..Recurrence::new(frequency)
                        },
                        2,
                    )),
                    None => Some(Every::Inexpressible(2)),
                };
            }
            "last" => {
                // "every last day (of the month)", "every last friday"
                let rule = if next == "day" {
                    Recurrence {
                        by_month_day: vec![-1],
                        ..Recurrence::new(Frequency::Monthly)
                    }
                } else if let Some(day) = weekday(next) {
                    monthly_on(-1, day)
                } else if INEXPRESSIBLE_UNITS.contains(&next) {
                    return Some(Every::Inexpressible(2));
                } else {
                    return None;
                };
                return Some(self.in_month(rule, i + 2, 2));
            }
            _ => {}
        }
        if let Some((days, used)) = self.weekday_list(i) {
            return Some(Every::Rule(weekly_on(&days), used));
        }
        if let Some(nth) = ordinal(key) {
            if let Some(day) = weekday(next) {
                // "every 2nd tuesday (of the month)"
                let Some(nth) = i8::try_from(nth).ok().filter(|n| *n <= 5) else {
                    return Some(Every::Inexpressible(2));
                };
                return Some(self.in_month(monthly_on(nth, day), i + 2, 2));
            }
            if INEXPRESSIBLE_UNITS.contains(&next) {
                return Some(Every::Inexpressible(2));
            }
            if let Some(unit) = unit(next) {
                // "every 3rd day" is every 3 days; "every 2nd week of the month" is not.
                return match frequency(unit) {
                    Some(frequency) if self.key(i + 2) != "of" => Some(Every::Rule(
                        Recurrence {
                            interval: nth,
                            ..Recurrence::new(frequency)
                        },
                        2,
                    )),
                    _ => Some(Every::Inexpressible(2)),
                };
            }
            // "every 15th (of the month)"
            let rule = Recurrence {
                by_month_day: vec![i8::try_from(nth).ok()?],
                ..Recurrence::new(Frequency::Monthly)
            };
            return Some(self.in_month(rule, i + 1, 1));
        }
        if let Some(unit) = unit(key) {
            // "every day", "every week"; "every hour" we cannot say
            return Some(match frequency(unit) {
                Some(frequency) => Every::Rule(Recurrence::new(frequency), 1),
                None => Every::Inexpressible(1),
            });
        }
        // "every 3 days"
        let n = count(key).filter(|n| *n >= 1)?;
        if INEXPRESSIBLE_UNITS.contains(&next) {
            return Some(Every::Inexpressible(2));
        }
        Some(match frequency(unit(next)?) {
            Some(frequency) => Every::Rule(
                Recurrence {
                    interval: n,
                    ..Recurrence::new(frequency)
                },
                2,
            ),
            None => Every::Inexpressible(2),
        })
    }

    /// A monthly rule read in `used` words, followed at `i` by an optional "of the month"; an
    /// "of" anything else ("every last friday of march") is a rule we cannot say.
    fn in_month(&self, rule: Recurrence, i: usize, used: usize) -> Every {
        match self.month_suffix(i) {
            Some(suffix) => Every::Rule(rule, used + suffix),
            None => Every::Inexpressible(used + 2),
        }
    }

    /// How many words "of the month", "of each month", "of every month" or "of month" take at
    /// `i`: 0 without "of"; `None` when "of" is followed by something else.
    fn month_suffix(&self, i: usize) -> Option<usize> {
        if self.key(i) != "of" {
            return Some(0);
        }
        match (self.key(i + 1), self.key(i + 2)) {
            ("month", _) => Some(2),
            ("the" | "each" | "every", "month") => Some(3),
            _ => None,
        }
    }

    /// "mon", "mon wed fri", "mon, wed and fri": the days, and how many words they take.
    fn weekday_list(&self, i: usize) -> Option<(Vec<Weekday>, usize)> {
        let mut days = vec![weekday(self.key(i))?];
        let mut used = 1;
        loop {
            let (gap, next) = if self.key(i + used) == "and" {
                (1, self.key(i + used + 1))
            } else {
                (0, self.key(i + used))
            };
            let Some(day) = weekday(next) else { break };
            if !days.contains(&day) {
                days.push(day);
            }
            used += 1 + gap;
        }
        Some((days, used))
    }

    /// Completes the rule from the date words ("on the 1st every month"), places the first
    /// occurrence when no date was given, and settles "tonight".
    fn due(&mut self) -> Due {
        if let Some(rule) = &mut self.recurrence {
            if rule.frequency == Frequency::Monthly
                && rule.by_day.is_empty()
                && rule.by_month_day.is_empty()
                && let Some(day) = self.day_of_month
            {
                rule.by_month_day = vec![day];
            }
            if rule.frequency == Frequency::Weekly
                && rule.by_day.is_empty()
                && let Some(day) = self.weekday
            {
                rule.by_day = vec![DaySpec { nth: None, day }];
            }
            if let Some(until) = self.until {
                rule.until = Some(Until::Date(until));
            }
            if self.date.is_none() && self.moment.is_none() {
                let from = self.start.filter(|start| *start > self.today);
                self.date = first_occurrence(rule, from, self.today, self.time, self.now);
            }
        }
        if let Some(moment) = self.moment {
            return Due::At(moment);
        }
        let tz = self.now.timezone();
        match (self.date, self.time) {
            (Some(date), None) if self.tonight && date == self.today => {
                tonight(self.now).map_or(Due::Date(date), Due::At)
            }
            (Some(date), None) => Due::Date(date),
            (Some(date), Some(time)) => Due::At(local(tz, date, time)),
            // A time alone is the next such time: today, or tomorrow if it has passed.
            (None, Some(time)) => Due::At(local(tz, next_date_at(self.now, time), time)),
            (None, None) => Due::None,
        }
    }
}

/// Today if `time` is still ahead, else tomorrow.
fn next_date_at(now: DateTime<Tz>, time: NaiveTime) -> NaiveDate {
    let today = now.date_naive();
    if time > now.time() {
        today
    } else {
        today + Duration::days(1)
    }
}

/// "tonight": 20:00, or once that has passed the next whole hour (21:00 … midnight), so that
/// it is never in the past.
fn tonight(now: DateTime<Tz>) -> Option<DateTime<Utc>> {
    let evening = NaiveTime::from_hms_opt(20, 0, 0)?;
    let local_now = now.naive_local();
    let at = if local_now.time() < evening {
        local_now.date().and_time(evening)
    } else {
        local_now.date().and_hms_opt(local_now.hour(), 0, 0)? + Duration::hours(1)
    };
    Some(crate::time::local_to_utc(at, now.timezone()))
}

fn local(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    crate::time::local_to_utc(date.and_time(time), tz)
}

fn weekly_on(days: &[Weekday]) -> Recurrence {
    Recurrence {
        by_day: days.iter().map(|&day| DaySpec { nth: None, day }).collect(),
        ..Recurrence::new(Frequency::Weekly)
    }
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

/// The first day the rule falls on, from `from` (a later "starting" day) or else from today
/// (tomorrow when its time has passed).
fn first_occurrence(
    rule: &Recurrence,
    from: Option<NaiveDate>,
    today: NaiveDate,
    time: Option<NaiveTime>,
    now: DateTime<Tz>,
) -> Option<NaiveDate> {
    let start = match (from, time) {
        (Some(from), _) => from,
        (None, Some(time)) if time <= now.time() => today + Duration::days(1),
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

mod words;

#[cfg(test)]
mod tests;
