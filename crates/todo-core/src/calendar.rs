//! The calendar feed: a user's open tasks as iCalendar VTODOs (RFC 5545), for calendar apps
//! that subscribe to a URL (`GET /api/v1/calendar.ics`, or `?project=<id>` for one project).
//! A due pinned to a zone is written in that zone (`DUE;TZID=…`, with a VTIMEZONE for it), a
//! floating one as floating local time, an all-day one as a DATE; each reminder is a VALARM,
//! each subtask names its parent with RELATED-TO.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use icalendar::{Alarm, Calendar, Component, EventLike, Property, Related, TodoStatus, Trigger};

use crate::Todo;
use crate::error::Result;
use crate::ids::UserId;
use crate::page::{Sort, SortField, Status, TaskFilter, TaskQuery};
use crate::project::ProjectId;
use crate::task::{Priority, Task, TaskId};
use crate::transfer::no_progress;

/// At most this many tasks, the soonest due first: calendar apps fetch the feed often, and a
/// feed of a hundred thousand tasks helps nobody.
pub const MAX_FEED_TASKS: usize = 5_000;
/// A zone's VTIMEZONE describes at most this many years (those its dues fall in).
const MAX_ZONE_YEARS: usize = 10;

impl Todo {
    /// The user's open tasks as an iCalendar document: of every project that is not
    /// archived, or of `project` (404 when the user is not a member of it).
    pub async fn calendar_feed(
        &self,
        user_id: &UserId,
        project: Option<ProjectId>,
    ) -> Result<String> {
        let tz = self.time_zone(user_id).await?;
        let name = match project {
            Some(id) => format!("todo: {}", self.get_project(user_id, id).await?.name),
            None => "todo".to_owned(),
        };
        let query = TaskQuery {
            filter: TaskFilter {
                status: Status::Pending,
                project,
                ..TaskFilter::default()
            },
            sort: Sort {
                field: SortField::DueAt,
                descending: false,
            },
            ..TaskQuery::default()
        };
        let tasks = self
            .collect_tasks(user_id, query, tz, MAX_FEED_TASKS, &no_progress)
            .await?;
        Ok(render(&name, &tasks, tz, &feed_uid))
    }
}

/// How a task's due is written: in a zone, floating, or a day.
enum FeedDue {
    Zoned(NaiveDateTime, Tz),
    Floating(NaiveDateTime),
    Utc(DateTime<Utc>),
    Day(NaiveDate),
}

impl FeedDue {
    fn of(task: &Task) -> Option<Self> {
        match (task.due_at, task.due_date, task.due_local) {
            (Some(_), _, Some(local)) => Some(match task.due_zone() {
                Some(zone) => FeedDue::Zoned(local, zone),
                None => FeedDue::Floating(local),
            }),
            (Some(at), _, None) => Some(FeedDue::Utc(at)),
            (None, Some(date), _) => Some(FeedDue::Day(date)),
            (None, None, _) => None,
        }
    }

    /// The property `key` (DUE, DTSTART) with this value.
    fn property(&self, key: &str) -> Property {
        let mut property = match self {
            FeedDue::Zoned(local, _) | FeedDue::Floating(local) => {
                Property::new(key, local.format("%Y%m%dT%H%M%S").to_string())
            }
            FeedDue::Utc(at) => Property::new(key, at.format("%Y%m%dT%H%M%SZ").to_string()),
            FeedDue::Day(date) => Property::new(key, date.format("%Y%m%d").to_string()),
        };
        match self {
            FeedDue::Zoned(_, zone) => {
                property.add_parameter("TZID", zone.name());
            }
            FeedDue::Day(_) => {
                property.add_parameter("VALUE", "DATE");
            }
            FeedDue::Floating(_) | FeedDue::Utc(_) => {}
        }
        property
    }
}

/// The UID of a task nobody gave one (every task in the feed; in CalDAV, those not made there).
pub(crate) fn feed_uid(task: TaskId) -> String {
    format!("task-{task}@todo")
}

/// `tasks` as one VCALENDAR named `name`, each task's UID (and its parent's) from `uid_of`.
pub(crate) fn render(
    name: &str,
    tasks: &[Task],
    tz: Tz,
    uid_of: &dyn Fn(TaskId) -> String,
) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name).timezone(tz.name());
    // The years each pinned zone's dues fall in, for its VTIMEZONE.
    let mut zones: BTreeMap<&'static str, (Tz, BTreeSet<i32>)> = BTreeMap::new();
    for task in tasks {
        let mut item = icalendar::Todo::new();
        item.uid(&uid_of(task.id))
            .summary(&task.title)
            .timestamp(task.updated_at)
            .created(task.created_at)
            .last_modified(task.updated_at);
        match task.completed_at {
            Some(at) if task.completed => {
                item.status(TodoStatus::Completed)
                    .completed(at)
                    .percent_complete(100);
            }
            _ => {
                item.status(TodoStatus::NeedsAction);
            }
        }
        if let Some(description) = &task.description {
            item.description(description);
        }
        if let Some(priority) = ical_priority(task.priority) {
            item.priority(priority);
        }
        if !task.tags.is_empty() {
            item.categories(&task.tags);
        }
        if let Some(parent) = task.parent_id {
            let mut related = Property::new("RELATED-TO", uid_of(parent));
            related.add_parameter("RELTYPE", "PARENT");
            item.append_multi_property(related);
        }
        if let Some(due) = FeedDue::of(task) {
            if let FeedDue::Zoned(local, zone) = &due {
                let years = &mut zones
                    .entry(zone.name())
                    .or_insert((*zone, BTreeSet::new()))
                    .1;
                years.insert(local.year());
            }
            item.append_property(due.property("DUE"));
            if let Some(rule) = &task.recurrence {
                // RFC 5545 wants a DTSTART for an RRULE; the due is the series' anchor.
                item.append_property(due.property("DTSTART"))
                    .add_property("RRULE", rule.as_str());
            }
        }
        for reminder in &task.reminders {
            let trigger: Trigger = match reminder.minutes_before {
                // Relative to the due (a VTODO's END is its DUE), so it follows the due.
                Some(minutes) => (Duration::minutes(-minutes), Related::End).into(),
                None => reminder.remind_at.into(),
            };
            // Left to itself the library stamps alarms with the time and a random UID: the
            // feed gives the same text for the same tasks, so a client sees no change where
            // there is none.
            let mut alarm = Alarm::display(&task.title, trigger);
            alarm.timestamp(task.updated_at).add_property(
                "UID",
                format!("task-{}-reminder-{}@todo", task.id, reminder.id),
            );
            item.alarm(alarm);
        }
        calendar.push(item.done());
    }
    let ics = calendar.done().to_string();
    let timezones: String = zones
        .values()
        .map(|(zone, years)| vtimezone(*zone, years))
        .collect();
    // The VTIMEZONEs go before the first component, where every client looks for them.
    match ics
        .find("BEGIN:VTODO")
        .or_else(|| ics.find("END:VCALENDAR"))
    {
        Some(at) if !timezones.is_empty() => format!("{}{timezones}{}", &ics[..at], &ics[at..]),
        _ => ics,
    }
}

/// A VTIMEZONE for `zone` over `years`: each year opens with the offset in force at its
/// start, then each change of offset in it (read from the tz database), so a client places
/// every due of those years as the server does.
fn vtimezone(zone: Tz, years: &BTreeSet<i32>) -> String {
    let mut out = format!("BEGIN:VTIMEZONE\r\nTZID:{}\r\n", zone.name());
    for &year in years.iter().take(MAX_ZONE_YEARS) {
        let Some(start) = NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|n| n.and_utc())
        else {
            continue;
        };
        let first = offset_at(zone, start);
        let changes = offset_changes(zone, start, year);
        // Summer time is the higher of a year's offsets (DAYLIGHT or STANDARD is a label for
        // clients; the offsets are what places times).
        let lowest = changes
            .iter()
            .flat_map(|c| [c.1, c.2])
            .fold(first, i32::min);
        let daylight = |offset: i32| offset > lowest;
        out.push_str(&observance(
            daylight(first),
            (start + Duration::seconds(i64::from(first))).naive_utc(),
            first,
            first,
        ));
        for (at, from, to) in &changes {
            out.push_str(&observance(
                daylight(*to),
                (*at + Duration::seconds(i64::from(*from))).naive_utc(),
                *from,
                *to,
            ));
        }
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

fn observance(daylight: bool, start: NaiveDateTime, from: i32, to: i32) -> String {
    let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
    format!(
        "BEGIN:{kind}\r\nDTSTART:{}\r\nTZOFFSETFROM:{}\r\nTZOFFSETTO:{}\r\nEND:{kind}\r\n",
        start.format("%Y%m%dT%H%M%S"),
        utc_offset(from),
        utc_offset(to)
    )
}

/// `+0100`, `-0430`: an offset as RFC 5545's UTC-OFFSET (seconds when there are any).
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    match s % 60 {
        0 => format!("{sign}{:02}{:02}", s / 3600, s / 60 % 60),
        rest => format!("{sign}{:02}{:02}{rest:02}", s / 3600, s / 60 % 60),
    }
}

fn offset_at(zone: Tz, at: DateTime<Utc>) -> i32 {
    zone.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The changes of `zone`'s offset in `year` from `start` (its first moment): when (UTC), from
/// which offset, to which.
fn offset_changes(zone: Tz, start: DateTime<Utc>, year: i32) -> Vec<(DateTime<Utc>, i32, i32)> {
    let mut changes = Vec::new();
    let mut day = start;
    while day.year() == year {
        let next = day + Duration::days(1);
        let (before, after) = (offset_at(zone, day), offset_at(zone, next));
        if before != after {
            // The first second with the new offset, by halving the day.
            let (mut low, mut high) = (day, next);
            while high - low > Duration::seconds(1) {
                let middle = low + (high - low) / 2;
                if offset_at(zone, middle) == before {
                    low = middle;
                } else {
                    high = middle;
                }
            }
            changes.push((high, before, after));
        }
        day = next;
    }
    changes
}

/// RFC 5545 PRIORITY: 1 is the highest, 9 the lowest, none is left out.
pub(crate) fn ical_priority(priority: Priority) -> Option<u32> {
    match priority {
        Priority::None => None,
        Priority::Low => Some(9),
        Priority::Medium => Some(5),
        Priority::High => Some(3),
        Priority::Urgent => Some(1),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;

    pub(crate) fn task(id: i64, title: &str) -> Task {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
            .single()
            .expect("time");
        Task {
            id: crate::task::TaskId::new(id),
            user_id: "u".into(),
            project_id: crate::project::ProjectId::new(1),
            section_id: None,
            title: title.into(),
            description: None,
            completed: false,
            completed_at: None,
            priority: Priority::None,
            due_at: None,
            due_local: None,
            due_timezone: None,
            due_date: None,
            recurrence: None,
            recurrence_mode: crate::recurrence::RecurrenceMode::Due,
            parent_id: None,
            position: 0,
            assignee_id: None,
            tags: Vec::new(),
            reminders: Vec::new(),
            created_at: at,
            updated_at: at,
        }
    }

    /// Unfolds RFC 5545 content lines (a line starting with a space continues the last).
    fn lines(ics: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for line in ics.split("\r\n") {
            match (line.strip_prefix(' '), out.last_mut()) {
                (Some(rest), Some(last)) => last.push_str(rest),
                _ => out.push(line.to_owned()),
            }
        }
        out
    }

    #[test]
    fn a_recurring_all_day_task_becomes_a_vtodo_with_its_rule_and_tags() {
        let mut rent = task(7, "Pay rent; twice, if late");
        rent.due_date = NaiveDate::from_ymd_opt(2026, 4, 1);
        rent.recurrence = Some("FREQ=MONTHLY;BYMONTHDAY=1".into());
        rent.priority = Priority::High;
        rent.tags = vec!["home".into(), "bills".into()];
        let ics = render("todo", &[rent], Tz::Europe__Paris, &feed_uid);
        let lines = lines(&ics);
        for expected in [
            "BEGIN:VCALENDAR",
            "BEGIN:VTODO",
            "UID:task-7@todo",
            "SUMMARY:Pay rent\\; twice\\, if late",
            "DUE;VALUE=DATE:20260401",
            "DTSTART;VALUE=DATE:20260401",
            "RRULE:FREQ=MONTHLY;BYMONTHDAY=1",
            "PRIORITY:3",
            "CATEGORIES:home,bills",
            "STATUS:NEEDS-ACTION",
            "END:VTODO",
            "END:VCALENDAR",
        ] {
            assert!(lines.iter().any(|l| l == expected), "{expected} in\n{ics}");
        }
    }

    #[test]
    fn a_timed_task_is_due_in_utc_and_a_task_without_due_has_none() {
        let mut call = task(1, "Call");
        call.due_at = Utc.with_ymd_and_hms(2026, 3, 2, 17, 30, 0).single();
        let ics = render("todo", &[call, task(2, "Someday")], Tz::UTC, &feed_uid);
        let lines = lines(&ics);
        assert!(lines.iter().any(|l| l == "DUE:20260302T173000Z"), "{ics}");
        assert_eq!(lines.iter().filter(|l| l.starts_with("DUE")).count(), 1);
        assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VTODO").count(), 2);
        assert!(!lines.iter().any(|l| l.starts_with("PRIORITY")), "{ics}");
    }

    /// The feed read back by a real RFC 5545 parser (icalendar's): its components by name.
    fn parsed(ics: &str) -> Vec<String> {
        let unfolded = icalendar::parser::unfold(ics);
        let calendar = icalendar::parser::read_calendar(&unfolded).expect("a valid calendar");
        fn walk(component: &icalendar::parser::Component<'_>, out: &mut Vec<String>) {
            let mut line = format!("{}:", component.name.as_str());
            for p in &component.properties {
                let params: Vec<String> = p
                    .params
                    .iter()
                    .map(|x| {
                        format!(
                            "{}={}",
                            x.key.as_str(),
                            x.val.as_ref().map(|v| v.as_str()).unwrap_or_default()
                        )
                    })
                    .collect();
                line.push_str(&format!(
                    " {}[{}]={}",
                    p.name.as_str(),
                    params.join(","),
                    p.val.as_str()
                ));
            }
            out.push(line);
            for child in &component.components {
                walk(child, out);
            }
        }
        let mut out = Vec::new();
        for component in &calendar.components {
            walk(component, &mut out);
        }
        out
    }

    fn component<'a>(components: &'a [String], prefix: &str) -> &'a str {
        components
            .iter()
            .find(|c| c.starts_with(prefix))
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {prefix} in {components:#?}"))
    }

    #[test]
    fn dues_are_zoned_floating_or_days_and_reminders_are_alarms() {
        let mut pinned = task(1, "Standup");
        pinned.due_at = Utc.with_ymd_and_hms(2026, 7, 6, 13, 0, 0).single();
        pinned.due_local = NaiveDate::from_ymd_opt(2026, 7, 6).and_then(|d| d.and_hms_opt(9, 0, 0));
        pinned.due_timezone = Some("America/New_York".into());
        pinned.reminders = vec![crate::reminders::Reminder {
            id: 1,
            remind_at: Utc
                .with_ymd_and_hms(2026, 7, 6, 12, 30, 0)
                .single()
                .expect("time"),
            minutes_before: Some(30),
            sent_at: None,
        }];
        let mut floating = task(2, "Stretch");
        floating.due_at = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single();
        floating.due_local =
            NaiveDate::from_ymd_opt(2026, 3, 2).and_then(|d| d.and_hms_opt(9, 0, 0));
        floating.reminders = vec![crate::reminders::Reminder {
            id: 2,
            remind_at: Utc
                .with_ymd_and_hms(2026, 3, 1, 20, 0, 0)
                .single()
                .expect("time"),
            minutes_before: None,
            sent_at: None,
        }];
        let mut child = task(3, "Slides");
        child.parent_id = Some(crate::task::TaskId::new(1));
        child.due_date = NaiveDate::from_ymd_opt(2026, 7, 5);

        let ics = render(
            "todo: Work",
            &[pinned, floating, child],
            Tz::Europe__Paris,
            &feed_uid,
        );
        let components = parsed(&ics);

        let standup = components
            .iter()
            .find(|c| c.contains("UID[]=task-1@todo"))
            .expect("task 1");
        assert!(
            standup.contains("DUE[TZID=America/New_York]=20260706T090000"),
            "{standup}"
        );
        let alarms: Vec<_> = components
            .iter()
            .filter(|c| c.starts_with("VALARM:"))
            .collect();
        assert_eq!(alarms.len(), 2, "{components:#?}");
        assert!(
            alarms[0].contains("TRIGGER[RELATED=END]=-PT1800S"),
            "{}",
            alarms[0]
        );
        assert!(alarms[0].contains("ACTION[]=DISPLAY"), "{}", alarms[0]);
        assert!(
            alarms[0].contains("UID[]=task-1-reminder-1@todo"),
            "{}",
            alarms[0]
        );
        assert!(
            alarms[0].contains("DTSTAMP[]=20260301T090000Z"),
            "{}",
            alarms[0]
        );
        assert!(
            alarms[1].contains("TRIGGER[VALUE=DATE-TIME]=20260301T200000Z"),
            "{}",
            alarms[1]
        );
        let stretch = components
            .iter()
            .find(|c| c.contains("UID[]=task-2@todo"))
            .expect("task 2");
        assert!(
            stretch.contains("DUE[]=20260302T090000"),
            "floating: {stretch}"
        );
        let slides = components
            .iter()
            .find(|c| c.contains("UID[]=task-3@todo"))
            .expect("task 3");
        assert!(
            slides.contains("RELATED-TO[RELTYPE=PARENT]=task-1@todo"),
            "{slides}"
        );
        assert!(slides.contains("DUE[VALUE=DATE]=20260705"), "{slides}");

        let zone = component(&components, "VTIMEZONE:");
        assert!(zone.contains("TZID[]=America/New_York"), "{zone}");
        let observances: Vec<_> = components
            .iter()
            .filter(|c| c.starts_with("STANDARD:") || c.starts_with("DAYLIGHT:"))
            .collect();
        assert_eq!(
            observances.len(),
            3,
            "the year's start and its two changes: {observances:#?}"
        );
        assert!(
            observances.iter().any(|o| o.starts_with("DAYLIGHT:")
                && o.contains("DTSTART[]=20260308T020000")
                && o.contains("TZOFFSETFROM[]=-0500")
                && o.contains("TZOFFSETTO[]=-0400")),
            "{observances:#?}"
        );
        assert!(
            observances.iter().any(|o| o.starts_with("STANDARD:")
                && o.contains("DTSTART[]=20261101T020000")
                && o.contains("TZOFFSETTO[]=-0500")),
            "{observances:#?}"
        );
        let vtimezone_at = ics.find("BEGIN:VTIMEZONE").expect("vtimezone");
        assert!(vtimezone_at < ics.find("BEGIN:VTODO").expect("vtodo"));
    }

    #[test]
    fn a_zone_without_changes_is_one_observance_and_offsets_keep_their_seconds() {
        let zone = vtimezone(Tz::Asia__Kolkata, &BTreeSet::from([2026]));
        assert!(zone.contains("TZOFFSETTO:+0530"), "{zone}");
        assert_eq!(zone.matches("BEGIN:STANDARD").count(), 1, "{zone}");
        assert_eq!(utc_offset(-(3600 * 4 + 30 * 60)), "-0430");
        assert_eq!(utc_offset(561), "+000921");
    }
}
