//! Tasks as the pages show them: dates in the user's time zone, rules in words.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use todo_core::ids::TaskId;
use todo_core::project::SectionId;
use todo_core::recurrence::{Frequency, Recurrence, Until};
use todo_core::task::Task;

pub struct TaskView {
    pub id: TaskId,
    pub title: String,
    pub description: String,
    pub completed: bool,
    pub priority: &'static str,
    /// "Today 18:00", "Tomorrow", "Mon 1 Dec", "1 Dec 2027".
    pub due_label: String,
    /// The due moment or day, machine-readable (`<time datetime>`).
    pub due_iso: String,
    pub overdue: bool,
    /// The due date's colour class ([`due_class`]), empty without a due.
    pub due_class: &'static str,
    /// For the date and time pickers, in the user's time zone.
    pub due_date: String,
    pub due_time: String,
    pub recurrence: String,
    pub recurrence_label: String,
    pub tags: Vec<String>,
    /// The colour class of each tag's chip (`tag-c-…`, empty for the default), by position.
    pub tag_classes: Vec<&'static str>,
    /// The first reminder at a fixed moment, in the one format ("Tomorrow 08:00"), for the
    /// edit page's "Remind me" (the script reads it rather than formatting a date itself).
    pub reminder_at: String,
    /// Where the row sits in a project's tree, when it is shown in one.
    pub spot: Option<Spot>,
    /// Who it is assigned to, in a shared project.
    pub assignee: Option<Person>,
    /// Whether the reader's role lets them change it (a viewer's rows are read-only).
    pub can_edit: bool,
    /// In Upcoming, the day heading shown above the first task of each day.
    pub heading: Option<String>,
}

/// A member as rows and lists show them: a name and its initials.
#[derive(Clone)]
pub struct Person {
    pub name: String,
    /// One or two letters, for the badge on an assigned task.
    pub initials: String,
}

impl Person {
    /// From a member's name, else their email.
    pub fn new(name: Option<&str>, email: Option<&str>) -> Self {
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .or(email)
            .unwrap_or("someone")
            .to_owned();
        Self {
            initials: initials(&name),
            name,
        }
    }
}

/// "Robin Smith" → "RS", "robin@example.com" → "R".
pub fn initials(name: &str) -> String {
    let local = name.split('@').next().unwrap_or(name);
    let words: Vec<&str> = local
        .split(|c: char| c.is_whitespace() || c == '.' || c == '_' || c == '-')
        .filter(|w| !w.is_empty())
        .collect();
    let first = |w: &str| w.chars().next().map(|c| c.to_uppercase().to_string());
    let mut out = String::new();
    match words.as_slice() {
        [] => out.push('?'),
        [only] => out.extend(first(only)),
        [head, .., last] if !name.contains('@') => {
            out.extend(first(head));
            out.extend(first(last));
        }
        [head, ..] => out.extend(first(head)),
    }
    out
}

/// A row's place in a project page's tree: what indenting, collapsing, dragging and the
/// move up/down buttons need.
pub struct Spot {
    /// 0 for a top-level task.
    pub depth: u32,
    pub parent: Option<TaskId>,
    pub section: Option<SectionId>,
    /// Index among all its siblings, completed ones too (as `move` counts them).
    pub index: usize,
    /// The `position` that moves it above the previous shown sibling, if any.
    pub up: Option<usize>,
    /// The `position` that moves it below the next shown sibling, if any.
    pub down: Option<usize>,
    pub has_children: bool,
}

impl TaskView {
    pub fn new(task: &Task, tz: Tz, now: DateTime<Utc>) -> Self {
        let today = now.with_timezone(&tz).date_naive();
        let (due_label, due_iso, due_date, due_time) = match (task.due_at, task.due_date) {
            (Some(at), _) => {
                let local = at.with_timezone(&tz);
                let time = local.format("%H:%M").to_string();
                (
                    format!("{} {time}", day_label(local.date_naive(), today)),
                    at.to_rfc3339(),
                    local.date_naive().format("%Y-%m-%d").to_string(),
                    time,
                )
            }
            (None, Some(date)) => (
                day_label(date, today),
                date.format("%Y-%m-%d").to_string(),
                date.format("%Y-%m-%d").to_string(),
                String::new(),
            ),
            (None, None) => Default::default(),
        };
        // The Overdue view's rule: a task due earlier today is today's, not overdue.
        let overdue = task.is_overdue(tz, now);
        let due_class = NaiveDate::parse_from_str(&due_date, "%Y-%m-%d")
            .map(|date| due_class(date, today, overdue))
            .unwrap_or("");
        let recurrence = task.recurrence.clone().unwrap_or_default();
        Self {
            id: task.id,
            title: task.title.clone(),
            description: task.description.clone().unwrap_or_default(),
            completed: task.completed,
            priority: task.priority.as_str(),
            due_label,
            due_iso,
            overdue,
            due_class,
            due_date,
            due_time,
            recurrence_label: describe_rule(&recurrence),
            recurrence,
            tags: task.tags.clone(),
            tag_classes: Vec::new(),
            reminder_at: task
                .reminders
                .iter()
                .find(|r| r.minutes_before.is_none())
                .map(|r| moment_label(r.remind_at, tz, now))
                .unwrap_or_default(),
            spot: None,
            assignee: None,
            can_edit: true,
            heading: None,
        }
    }

    /// Colours the tag chips from the user's tags (their colours from the fixed palette).
    pub fn color_tags(&mut self, colors: &TagColors) {
        self.tag_classes = self.tags.iter().map(|t| colors.class(t)).collect();
    }

    /// The colour class of the tag chip at `index`.
    pub fn tag_class(&self, index: &usize) -> &'static str {
        self.tag_classes.get(*index).copied().unwrap_or("")
    }

    pub fn tags_text(&self) -> String {
        self.tags.join(", ")
    }

    /// Whether the rule is one the edit form offers by name (otherwise it is listed as is).
    pub fn has_custom_rule(&self) -> bool {
        !self.recurrence.is_empty() && !RULE_PRESETS.iter().any(|(r, _)| *r == self.recurrence)
    }
}

/// The colours a tag may have: Todoist's palette, each with a name and a class whose
/// background and text keep AA contrast in both themes (app.css, `tag-c-…`).
pub const TAG_COLORS: &[(&str, &str, &str)] = &[
    ("#db4035", "Red", "tag-c-red"),
    ("#ff9933", "Orange", "tag-c-orange"),
    ("#fad000", "Yellow", "tag-c-yellow"),
    ("#299438", "Green", "tag-c-green"),
    ("#14aaf5", "Sky blue", "tag-c-sky"),
    ("#4073ff", "Blue", "tag-c-blue"),
    ("#884dff", "Violet", "tag-c-violet"),
    ("#e05194", "Magenta", "tag-c-magenta"),
    ("#808080", "Grey", "tag-c-grey"),
];

/// The class for a tag colour from [`TAG_COLORS`]; any other colour (one set through the
/// API) shows as the default chip.
pub fn tag_color_class(color: Option<&str>) -> &'static str {
    color
        .and_then(|c| {
            TAG_COLORS
                .iter()
                .find(|(hex, _, _)| hex.eq_ignore_ascii_case(c))
        })
        .map_or("", |(_, _, class)| class)
}

/// The user's tag colours by name (case-insensitive, as tags are unique).
#[derive(Default)]
pub struct TagColors(std::collections::HashMap<String, &'static str>);

impl TagColors {
    pub fn new(tags: &[todo_core::tag::Tag]) -> Self {
        Self(
            tags.iter()
                .map(|t| (t.name.to_lowercase(), tag_color_class(t.color.as_deref())))
                .filter(|(_, class)| !class.is_empty())
                .collect(),
        )
    }

    pub fn class(&self, tag: &str) -> &'static str {
        self.0.get(&tag.to_lowercase()).copied().unwrap_or("")
    }
}

/// The rules the edit form offers, canonical text first.
pub const RULE_PRESETS: &[(&str, &str)] = &[
    ("FREQ=DAILY", "Every day"),
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "Every weekday"),
    ("FREQ=WEEKLY", "Every week"),
    ("FREQ=WEEKLY;INTERVAL=2", "Every 2 weeks"),
    ("FREQ=MONTHLY", "Every month"),
    ("FREQ=YEARLY", "Every year"),
];

pub const PRIORITIES: &[&str] = &["none", "low", "medium", "high", "urgent"];

/// An earlier occurrence of a recurring task, for the Done view.
pub struct OccurrenceView {
    pub task_id: TaskId,
    pub title: String,
    /// When it was completed, as a day ("Yesterday", "Mon 7 Dec").
    pub done: String,
    /// The due it had, as a day, if it had one.
    pub was_due: String,
}

impl OccurrenceView {
    pub fn new(c: &todo_core::tasks::RecurringCompletion, tz: Tz, now: DateTime<Utc>) -> Self {
        let today = now.with_timezone(&tz).date_naive();
        let was_due = match c.due {
            todo_core::task::Due::At(at) => day_label(at.with_timezone(&tz).date_naive(), today),
            todo_core::task::Due::Date(date) => day_label(date, today),
            todo_core::task::Due::None => String::new(),
        };
        Self {
            task_id: c.task_id,
            title: c.title.clone(),
            done: day_label(c.completed_at.with_timezone(&tz).date_naive(), today),
            was_due,
        }
    }
}

/// The one date format of the web app (docs/web.md, "Dates and times"): "Today",
/// "Tomorrow", "Yesterday", the weekday for the next six days ("Friday"), "12 Dec" for other
/// days of this year, "12 Dec 2027" for other years. English day-month order, no commas, so
/// it reads the same to British, European and American readers.
pub fn day_label(date: NaiveDate, today: NaiveDate) -> String {
    match (date - today).num_days() {
        0 => "Today".into(),
        1 => "Tomorrow".into(),
        -1 => "Yesterday".into(),
        2..=6 => date.format("%A").to_string(),
        _ if date.year() == today.year() => date.format("%-d %b").to_string(),
        _ => date.format("%-d %b %Y").to_string(),
    }
}

/// A moment in the same format, with the clock time in 24 hours: "Today 14:30",
/// "Yesterday 09:05", "12 Dec 14:30", "12 Dec 2027 14:30".
pub fn moment_label(at: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&tz);
    let today = now.with_timezone(&tz).date_naive();
    format!(
        "{} {}",
        day_label(local.date_naive(), today),
        local.format("%H:%M")
    )
}

/// A day's heading in Upcoming: the day as [`day_label`] says it, with the weekday and date
/// when that was a relative word: "Tomorrow · Tue 8 Dec", "Wednesday 9 Dec", "Mon 4 Jan",
/// "Fri 1 Jan 2027".
pub fn day_heading(date: NaiveDate, today: NaiveDate) -> String {
    let label = day_label(date, today);
    match (date - today).num_days() {
        0 | 1 => format!("{label} · {}", date.format("%a %-d %b")),
        2..=6 => format!("{label} {}", date.format("%-d %b")),
        _ => format!("{} {label}", date.format("%a")),
    }
}

/// How a due date reads at a glance: overdue red, today green, tomorrow orange, later this
/// week purple, later grey (CSS classes `when-…`).
pub fn due_class(date: NaiveDate, today: NaiveDate, overdue: bool) -> &'static str {
    match (date - today).num_days() {
        _ if overdue => "when-overdue",
        ..=0 => "when-today",
        1 => "when-tomorrow",
        2..=6 => "when-week",
        _ => "when-later",
    }
}

fn ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Mon",
        Weekday::Tue => "Tue",
        Weekday::Wed => "Wed",
        Weekday::Thu => "Thu",
        Weekday::Fri => "Fri",
        Weekday::Sat => "Sat",
        Weekday::Sun => "Sun",
    }
}

/// "every month on the 1st", "every 2 weeks on Mon, Thu", "every weekday"; empty for no rule.
pub fn describe_rule(rule: &str) -> String {
    if rule.is_empty() {
        return String::new();
    }
    let Ok(rule) = rule.parse::<Recurrence>() else {
        return rule.to_owned();
    };
    let unit = match rule.frequency {
        Frequency::Daily => "day",
        Frequency::Weekly => "week",
        Frequency::Monthly => "month",
        Frequency::Yearly => "year",
    };
    let weekdays = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    let mut text = if rule.frequency == Frequency::Weekly
        && rule.interval == 1
        && rule.by_day.len() == 5
        && weekdays
            .iter()
            .all(|d| rule.by_day.iter().any(|s| s.day == *d && s.nth.is_none()))
    {
        "every weekday".to_owned()
    } else if rule.interval == 1 {
        format!("every {unit}")
    } else {
        format!("every {} {unit}s", rule.interval)
    };
    if text != "every weekday" && !rule.by_day.is_empty() {
        let days: Vec<String> = rule
            .by_day
            .iter()
            .map(|spec| match spec.nth {
                Some(-1) => format!("last {}", weekday_name(spec.day)),
                Some(n) => format!("{} {}", ordinal(n.into()), weekday_name(spec.day)),
                None => weekday_name(spec.day).to_owned(),
            })
            .collect();
        text.push_str(&format!(" on {}", days.join(", ")));
    }
    if !rule.by_month_day.is_empty() {
        let days: Vec<String> = rule
            .by_month_day
            .iter()
            .map(|d| match d {
                -1 => "last day".to_owned(),
                d => format!("the {}", ordinal((*d).into())),
            })
            .collect();
        text.push_str(&format!(" on {}", days.join(", ")));
    }
    if let Some(count) = rule.count {
        text.push_str(&format!(", {count} times"));
    }
    match rule.until {
        Some(Until::Date(date)) => text.push_str(&format!(", until {}", date.format("%-d %b %Y"))),
        Some(Until::At(at)) => text.push_str(&format!(", until {}", at.format("%-d %b %Y"))),
        None => {}
    }
    text
}

/// The first moment of the day after `now` in `tz`, as a date: the `today` view's bound.
pub fn tomorrow(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive() + Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_in_one_format() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a day"); // a Monday
        let day = |offset: i64| today + Duration::days(offset);
        assert_eq!(day_label(day(0), today), "Today");
        assert_eq!(day_label(day(1), today), "Tomorrow");
        assert_eq!(day_label(day(-1), today), "Yesterday");
        assert_eq!(day_label(day(4), today), "Friday");
        assert_eq!(day_label(day(-3), today), "4 Dec");
        assert_eq!(day_label(day(12), today), "19 Dec");
        assert_eq!(day_label(day(30), today), "6 Jan 2027");
        let tz: Tz = "Europe/Paris".parse().expect("a zone");
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .expect("a moment")
            .with_timezone(&Utc);
        let at = DateTime::parse_from_rfc3339("2026-12-07T13:30:00Z")
            .expect("a moment")
            .with_timezone(&Utc);
        assert_eq!(moment_label(at, tz, now), "Today 14:30");
        assert_eq!(
            moment_label(at - Duration::days(400), tz, now),
            "2 Nov 2025 14:30"
        );
        assert_eq!(day_heading(day(1), today), "Tomorrow · Tue 8 Dec");
        assert_eq!(day_heading(day(3), today), "Thursday 10 Dec");
        assert_eq!(day_heading(day(12), today), "Sat 19 Dec");
        assert_eq!(day_heading(day(25), today), "Fri 1 Jan 2027");
    }

    #[test]
    fn due_dates_are_coloured_by_how_near_they_are() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("a day");
        let day = |offset: i64| today + Duration::days(offset);
        assert_eq!(due_class(day(-1), today, true), "when-overdue");
        assert_eq!(due_class(day(0), today, true), "when-overdue");
        assert_eq!(due_class(day(0), today, false), "when-today");
        assert_eq!(due_class(day(1), today, false), "when-tomorrow");
        assert_eq!(due_class(day(6), today, false), "when-week");
        assert_eq!(due_class(day(7), today, false), "when-later");
    }

    #[test]
    fn only_palette_colours_colour_a_chip() {
        assert_eq!(tag_color_class(Some("#DB4035")), "tag-c-red");
        assert_eq!(tag_color_class(Some("#123456")), "");
        assert_eq!(tag_color_class(None), "");
    }

    #[test]
    fn rules_read_as_words() {
        assert_eq!(
            describe_rule("FREQ=MONTHLY;BYMONTHDAY=1"),
            "every month on the 1st"
        );
        assert_eq!(
            describe_rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
            "every weekday"
        );
        assert_eq!(
            describe_rule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"),
            "every 2 weeks on Mon, Thu"
        );
        assert_eq!(
            describe_rule("FREQ=MONTHLY;BYDAY=-1FR"),
            "every month on last Fri"
        );
        assert_eq!(describe_rule("FREQ=DAILY;COUNT=3"), "every day, 3 times");
        assert_eq!(describe_rule(""), "");
    }

    #[test]
    fn initials_come_from_the_name_else_the_email() {
        assert_eq!(initials("Robin Smith"), "RS");
        assert_eq!(initials("robin"), "R");
        assert_eq!(initials("Anne Marie de la Tour"), "AT");
        assert_eq!(initials("sam.jones@example.com"), "S");
        assert_eq!(initials("élodie"), "É");
        assert_eq!(initials("  "), "?");
        assert_eq!(
            Person::new(Some(" "), Some("kim@example.com")).initials,
            "K"
        );
    }

    #[test]
    fn ordinals_follow_english() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 31].map(ordinal).into();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "31st"
            ]
        );
    }
}
