//! The calendar feed: a user's open tasks as iCalendar VTODOs (RFC 5545), for calendar apps
//! that subscribe to a URL (`GET /api/v1/calendar.ics`).

use chrono_tz::Tz;
use icalendar::{Calendar, Component, EventLike, TodoStatus};

use crate::Todo;
use crate::error::Result;
use crate::ids::UserId;
use crate::page::{Sort, SortField, Status, TaskFilter, TaskQuery};
use crate::task::{Priority, Task};
use crate::transfer::no_progress;

/// At most this many tasks, the soonest due first: calendar apps fetch the feed often, and a
/// feed of a hundred thousand tasks helps nobody.
pub const MAX_FEED_TASKS: usize = 5_000;

impl Todo {
    /// The user's open tasks as an iCalendar document.
    pub async fn calendar_feed(&self, user_id: &UserId) -> Result<String> {
        let tz = self.time_zone(user_id).await?;
        let query = TaskQuery {
            filter: TaskFilter {
                status: Status::Pending,
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
        Ok(render(&tasks, tz))
    }
}

fn render(tasks: &[Task], tz: Tz) -> String {
    let mut calendar = Calendar::new();
    calendar.name("todo").timezone(tz.name());
    for task in tasks {
        let mut item = icalendar::Todo::new();
        item.uid(&format!("task-{}@todo", task.id))
            .summary(&task.title)
            .timestamp(task.updated_at)
            .created(task.created_at)
            .last_modified(task.updated_at)
            .status(TodoStatus::NeedsAction);
        if let Some(description) = &task.description {
            item.description(description);
        }
        if let Some(priority) = ical_priority(task.priority) {
            item.priority(priority);
        }
        if !task.tags.is_empty() {
            item.categories(&task.tags);
        }
        match (task.due_at, task.due_date) {
            (Some(at), _) => {
                item.due(at);
                if let Some(rule) = &task.recurrence {
                    // RFC 5545 wants a DTSTART for an RRULE; the due moment is the series anchor.
                    item.starts(at).add_property("RRULE", rule.as_str());
                }
            }
            (None, Some(date)) => {
                item.due(date);
                if let Some(rule) = &task.recurrence {
                    item.starts(date).add_property("RRULE", rule.as_str());
                }
            }
            (None, None) => {}
        }
        calendar.push(item.done());
    }
    calendar.done().to_string()
}

/// RFC 5545 PRIORITY: 1 is the highest, 9 the lowest, none is left out.
fn ical_priority(priority: Priority) -> Option<u32> {
    match priority {
        Priority::None => None,
        Priority::Low => Some(9),
        Priority::Medium => Some(5),
        Priority::High => Some(3),
        Priority::Urgent => Some(1),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;

    fn task(id: i64, title: &str) -> Task {
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
        let ics = render(&[rent], Tz::Europe__Paris);
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
        let ics = render(&[call, task(2, "Someday")], Tz::UTC);
        let lines = lines(&ics);
        assert!(lines.iter().any(|l| l == "DUE:20260302T173000Z"), "{ics}");
        assert_eq!(lines.iter().filter(|l| l.starts_with("DUE")).count(), 1);
        assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VTODO").count(), 2);
        assert!(!lines.iter().any(|l| l.starts_with("PRIORITY")), "{ics}");
    }
}
