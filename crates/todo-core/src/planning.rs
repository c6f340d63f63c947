//! The rules of a task write, as data. A store locks and reads the task, applies the change
//! to its row and tags, asks here what else the write means, and writes that in the same
//! transaction: the event it records, what happens to the task's reminders and their jobs,
//! and the next occurrence of a recurring task. Nothing here reads or writes a database, so
//! every rule is tested below without one (docs/architecture.md, "The write path").

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::events::EventType;
use crate::recurrence::next_occurrence;
use crate::reminders::{NewReminder, Reminder, ReminderId, anchor, shifted};
use crate::tag::TagName;
use crate::task::{NewTask, Task, TaskChanges};

/// What a change of a task knows besides the change itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteContext {
    /// When the write happens: `updated_at`, `completed_at` and the event's time.
    pub now: DateTime<Utc>,
    /// The owner's time zone, which places a recurring task's next occurrence.
    pub tz: Tz,
}

/// What a change asks of the task's reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReminderIntent<'a> {
    /// They stay as they are.
    #[default]
    Keep,
    /// They are replaced by `reminders`; relative ones count back from `anchor`.
    Replace {
        reminders: &'a [NewReminder],
        anchor: Option<DateTime<Utc>>,
    },
    /// The due moved: relative reminders count back from the new anchor, or go with the due
    /// (`None`); absolute ones stay.
    Retime(Option<DateTime<Utc>>),
}

impl<'a> ReminderIntent<'a> {
    /// What a validated change asks (see [`TaskChanges::reminder_anchor`]).
    pub fn of_changes(changes: &'a TaskChanges) -> Self {
        match (&changes.reminders, changes.reminder_anchor) {
            (Some(reminders), anchor) => ReminderIntent::Replace {
                reminders,
                anchor: anchor.flatten(),
            },
            (None, Some(anchor)) => ReminderIntent::Retime(anchor),
            (None, None) => ReminderIntent::Keep,
        }
    }
}

/// Everything a task write does besides the change of the task's row and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskWrite {
    /// The event the write records, carrying the task as the write leaves it (as it was, for
    /// `deleted`). The store queues a delivery of every event to each of the user's webhooks
    /// that is not disabled, in the same statement as the event.
    pub event: EventType,
    pub reminders: ReminderWrites,
    /// The next occurrence of a recurring task that this write completed, inserted in the
    /// same transaction (with its own `created` event).
    pub successor: Option<NewTask>,
}

/// What a write does to a task's reminder rows and their jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderWrites {
    /// Reminders that go, by id (their pending jobs find nothing to fire).
    pub delete: Vec<ReminderId>,
    /// Reminders that move to a new moment: they fire again (`sent_at` cleared) and get a
    /// job at the new moment.
    pub moved: Vec<(ReminderId, DateTime<Utc>)>,
    /// New reminder rows, in this order.
    pub insert: Vec<ReminderRow>,
}

/// A reminder row to insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderRow {
    pub remind_at: DateTime<Utc>,
    pub minutes_before: Option<i64>,
    /// Kept from the reminder it replaces when that one had fired at the same moment: editing
    /// the list must not fire it again.
    pub sent_at: Option<DateTime<Utc>>,
}

impl ReminderRow {
    /// When its job runs: at its moment, unless it has fired.
    pub fn job_at(&self) -> Option<DateTime<Utc>> {
        self.sent_at.is_none().then_some(self.remind_at)
    }
}

impl ReminderWrites {
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.moved.is_empty() && self.insert.is_empty()
    }

    /// Whether the writes add a job (the job worker should look again).
    pub fn queues_jobs(&self) -> bool {
        !self.moved.is_empty() || self.insert.iter().any(|r| r.job_at().is_some())
    }
}

/// The change a completion request makes to `before`: completion as asked (`None`: the other
/// way round). `None` when the task is so already: then nothing is written and no event is
/// recorded (of two requests completing a task at once, the second changes nothing).
pub fn completion(before: &Task, completed: Option<bool>) -> Option<TaskChanges> {
    let completed = completed.unwrap_or(!before.completed);
    (completed != before.completed).then(|| TaskChanges {
        completed: Some(completed),
        ..TaskChanges::default()
    })
}

/// A new task: its `created` event, and its reminders, each with a job.
pub fn created(task: &NewTask) -> TaskWrite {
    let intent = ReminderIntent::Replace {
        reminders: &task.reminders,
        anchor: task.reminder_anchor,
    };
    TaskWrite {
        event: EventType::Created,
        reminders: reminder_writes(&[], intent),
        successor: None,
    }
}

/// A change that took the task from `before` to `after` (its row and tags written, its
/// reminders not yet). It records `completed` when it completed the task — only on that
/// edge: completing a completed task is an update — and then, for a recurring task, the
/// next occurrence follows, with the reminders as this write leaves them. Any other change
/// records `updated`.
pub fn changed(
    before: &Task,
    after: &Task,
    reminders: ReminderIntent<'_>,
    context: &WriteContext,
) -> TaskWrite {
    let reminders = reminder_writes(&before.reminders, reminders);
    let just_completed = after.completed && !before.completed;
    let successor = if just_completed {
        let completed = Task {
            reminders: reminders_after(&before.reminders, &reminders),
            ..after.clone()
        };
        next_task(&completed, context.tz)
    } else {
        None
    };
    TaskWrite {
        event: if just_completed {
            EventType::Completed
        } else {
            EventType::Updated
        },
        reminders,
        successor,
    }
}

/// A deletion: its `deleted` event; the reminders and their jobs go with the row.
pub fn deleted() -> TaskWrite {
    TaskWrite {
        event: EventType::Deleted,
        reminders: ReminderWrites::default(),
        successor: None,
    }
}

/// The task that follows a completed occurrence of a recurring task: same title, description,
/// priority, tags and mode; the next due by the rule; reminders carried over; the same series.
fn next_task(task: &Task, tz: Tz) -> Option<NewTask> {
    let rule = task.recurrence.as_deref()?;
    let completed_at = task.completed_at?;
    let occurrence = next_occurrence(rule, task.recurrence_mode, task.due(), completed_at, tz)?;
    let new_anchor = anchor(&occurrence.due, tz);
    Some(NewTask {
        title: task.title.clone(),
        description: task.description.clone(),
        priority: task.priority,
        due_key: occurrence.due.key(tz),
        due: occurrence.due,
        tags: task
            .tags
            .iter()
            .filter_map(|t| TagName::parse(t).ok())
            .collect(),
        recurrence: Some(occurrence.rule),
        recurrence_mode: task.recurrence_mode,
        completed: false,
        import_key: None,
        reminders: shifted(&task.reminders, anchor(&task.due(), tz), new_anchor),
        reminder_anchor: new_anchor,
        parent_id: Some(task.parent_id.unwrap_or(task.id)),
    })
}

/// What `intent` does to the reminders `current`.
fn reminder_writes(current: &[Reminder], intent: ReminderIntent<'_>) -> ReminderWrites {
    match intent {
        ReminderIntent::Keep => ReminderWrites::default(),
        ReminderIntent::Replace { reminders, anchor } => ReminderWrites {
            delete: current.iter().map(|r| r.id).collect(),
            moved: Vec::new(),
            // A reminder without a moment (relative, on a task without a due) is dropped.
            insert: reminders
                .iter()
                .filter_map(|reminder| {
                    let remind_at = reminder.moment(anchor)?;
                    let minutes_before = reminder.minutes_before();
                    let sent_at = current
                        .iter()
                        .filter(|r| r.sent_at.is_some())
                        .find(|r| r.remind_at == remind_at && r.minutes_before == minutes_before)
                        .and_then(|r| r.sent_at);
                    Some(ReminderRow {
                        remind_at,
                        minutes_before,
                        sent_at,
                    })
                })
                .collect(),
        },
        ReminderIntent::Retime(None) => ReminderWrites {
            delete: current
                .iter()
                .filter(|r| r.minutes_before.is_some())
                .map(|r| r.id)
                .collect(),
            ..ReminderWrites::default()
        },
        ReminderIntent::Retime(Some(anchor)) => ReminderWrites {
            // A reminder whose moment does not really change stays as it is (fired or not).
            moved: current
                .iter()
                .filter_map(|r| {
                    let at = NewReminder::Before(r.minutes_before?).moment(Some(anchor))?;
                    (at != r.remind_at).then_some((r.id, at))
                })
                .collect(),
            ..ReminderWrites::default()
        },
    }
}

/// The reminders `current` once `writes` are written, in the order a task lists them (by
/// moment, then by id; new rows get ids above the others', in their order). New ones have
/// id 0: only their moments matter here.
fn reminders_after(current: &[Reminder], writes: &ReminderWrites) -> Vec<Reminder> {
    let kept = current
        .iter()
        .filter(|r| !writes.delete.contains(&r.id))
        .map(|r| {
            let mut r = r.clone();
            if let Some((_, at)) = writes.moved.iter().find(|(id, _)| *id == r.id) {
                r.remind_at = *at;
                r.sent_at = None;
            }
            ((false, r.id), r)
        });
    let new = writes.insert.iter().zip(0..).map(|(row, n)| {
        let r = Reminder {
            id: 0,
            remind_at: row.remind_at,
            minutes_before: row.minutes_before,
            sent_at: row.sent_at,
        };
        ((true, n), r)
    });
    let mut all: Vec<_> = kept.chain(new).collect();
    all.sort_by_key(|(rank, r)| (r.remind_at, *rank));
    all.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate, TimeZone};

    use super::*;
    use crate::ids::TaskId;
    use crate::recurrence::RecurrenceMode;
    use crate::task::{Due, Priority};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0)
            .single()
            .expect("a moment")
    }

    fn context() -> WriteContext {
        WriteContext {
            now: at(12),
            tz: Tz::UTC,
        }
    }

    fn task() -> Task {
        Task {
            id: TaskId::new(7),
            user_id: "ada".into(),
            title: "Water the plants".into(),
            description: None,
            completed: false,
            completed_at: None,
            priority: Priority::None,
            due_at: Some(at(18)),
            due_date: None,
            recurrence: None,
            recurrence_mode: RecurrenceMode::Due,
            parent_id: None,
            position: 1,
            tags: vec!["home".into()],
            reminders: Vec::new(),
            created_at: at(8),
            updated_at: at(8),
        }
    }

    fn recurring() -> Task {
        Task {
            recurrence: Some("FREQ=DAILY".into()),
            ..task()
        }
    }

    fn completed(task: &Task) -> Task {
        Task {
            completed: true,
            completed_at: Some(at(12)),
            ..task.clone()
        }
    }

    fn reminder(id: ReminderId, remind_at: DateTime<Utc>, minutes_before: Option<i64>) -> Reminder {
        Reminder {
            id,
            remind_at,
            minutes_before,
            sent_at: None,
        }
    }

    fn fired(reminder: Reminder) -> Reminder {
        Reminder {
            sent_at: Some(reminder.remind_at),
            ..reminder
        }
    }

    #[test]
    fn a_new_task_records_created_and_queues_a_job_per_reminder_that_has_a_moment() {
        let new = NewTask {
            reminders: vec![NewReminder::At(at(9)), NewReminder::Before(30)],
            reminder_anchor: Some(at(18)),
            ..NewTask::default()
        };
        let plan = created(&new);
        assert_eq!(plan.event, EventType::Created);
        assert_eq!(plan.successor, None);
        let jobs: Vec<_> = plan
            .reminders
            .insert
            .iter()
            .map(ReminderRow::job_at)
            .collect();
        assert_eq!(jobs, [Some(at(9)), Some(at(18) - Duration::minutes(30))]);
        assert!(plan.reminders.delete.is_empty() && plan.reminders.queues_jobs());

        let undated = NewTask {
            reminders: vec![NewReminder::Before(30)],
            ..NewTask::default()
        };
        assert!(
            created(&undated).reminders.is_empty(),
            "nothing to count back from"
        );
    }

    #[test]
    fn completing_asks_for_a_change_only_when_the_task_is_not_so_already() {
        let open = task();
        let done = completed(&open);
        let complete = |t: &Task, asked| completion(t, asked).and_then(|c| c.completed);
        assert_eq!(complete(&open, Some(true)), Some(true));
        assert_eq!(complete(&open, None), Some(true), "a toggle");
        assert_eq!(complete(&done, None), Some(false), "a toggle");
        assert_eq!(complete(&done, Some(false)), Some(false));
        assert_eq!(completion(&done, Some(true)), None, "no write, no event");
        assert_eq!(completion(&open, Some(false)), None, "no write, no event");
    }

    #[test]
    fn completing_a_recurring_task_records_completed_and_plans_its_next_occurrence() {
        let before = recurring();
        let plan = changed(
            &before,
            &completed(&before),
            ReminderIntent::Keep,
            &context(),
        );
        assert_eq!(plan.event, EventType::Completed);
        let next = plan.successor.expect("the next occurrence");
        assert_eq!(next.due, Due::At(at(18) + Duration::days(1)));
        assert_eq!(next.parent_id, Some(before.id));
        assert_eq!(next.recurrence.as_deref(), Some("FREQ=DAILY"));
        assert_eq!(next.tags.len(), 1);
        assert!(!next.completed);
    }

    #[test]
    fn a_later_occurrence_stays_in_the_series_of_the_first() {
        let before = Task {
            parent_id: Some(TaskId::new(3)),
            ..recurring()
        };
        let plan = changed(
            &before,
            &completed(&before),
            ReminderIntent::Keep,
            &context(),
        );
        assert_eq!(
            plan.successor.expect("next").parent_id,
            Some(TaskId::new(3))
        );
    }

    #[test]
    fn only_the_edge_to_completed_plans_a_next_occurrence() {
        let open = recurring();
        let done = completed(&open);
        let renamed = Task {
            title: "Water the garden".into(),
            ..done.clone()
        };
        let plan = changed(&done, &renamed, ReminderIntent::Keep, &context());
        assert_eq!(
            (plan.event, plan.successor),
            (EventType::Updated, None),
            "changing a completed task"
        );
        let plan = changed(&done, &open, ReminderIntent::Keep, &context());
        assert_eq!(
            (plan.event, plan.successor),
            (EventType::Updated, None),
            "reopening"
        );
        let plan = changed(&open, &open, ReminderIntent::Keep, &context());
        assert_eq!((plan.event, plan.successor), (EventType::Updated, None));
    }

    #[test]
    fn completing_a_task_that_does_not_recur_records_completed_alone() {
        let before = task();
        let plan = changed(
            &before,
            &completed(&before),
            ReminderIntent::Keep,
            &context(),
        );
        assert_eq!((plan.event, plan.successor), (EventType::Completed, None));
        assert!(plan.reminders.is_empty());
    }

    #[test]
    fn replacing_reminders_keeps_sent_at_of_those_that_stay_as_they_were() {
        let before = Task {
            reminders: vec![
                fired(reminder(1, at(9), None)),
                fired(reminder(2, at(17), Some(60))),
                reminder(3, at(10), None),
            ],
            ..task()
        };
        let list = [
            NewReminder::At(at(9)),
            NewReminder::Before(60),
            NewReminder::At(at(10)),
            NewReminder::Before(120),
        ];
        let intent = ReminderIntent::Replace {
            reminders: &list,
            anchor: Some(at(18)),
        };
        let plan = changed(&before, &before, intent, &context());
        assert_eq!(plan.event, EventType::Updated);
        assert_eq!(plan.reminders.delete, [1, 2, 3]);
        let rows: Vec<_> = plan
            .reminders
            .insert
            .iter()
            .map(|r| (r.remind_at, r.sent_at, r.job_at()))
            .collect();
        assert_eq!(
            rows,
            [
                (at(9), Some(at(9)), None),
                (at(17), Some(at(17)), None),
                (at(10), None, Some(at(10))),
                (at(16), None, Some(at(16))),
            ],
            "fired and unchanged: kept and not queued; unfired or new: queued"
        );
    }

    #[test]
    fn a_fired_reminder_that_changes_kind_fires_again() {
        // 17:00 absolute is not "60 minutes before" 18:00, though the moment is the same.
        let before = Task {
            reminders: vec![fired(reminder(1, at(17), Some(60)))],
            ..task()
        };
        let list = [NewReminder::At(at(17))];
        let intent = ReminderIntent::Replace {
            reminders: &list,
            anchor: Some(at(18)),
        };
        let plan = changed(&before, &before, intent, &context());
        assert_eq!(plan.reminders.insert[0].job_at(), Some(at(17)));
    }

    #[test]
    fn a_due_that_moves_moves_relative_reminders_and_they_fire_again() {
        let before = Task {
            reminders: vec![
                fired(reminder(1, at(9), None)),
                fired(reminder(2, at(17), Some(60))),
                reminder(3, at(16), Some(120)),
            ],
            ..task()
        };
        let plan = changed(
            &before,
            &before,
            ReminderIntent::Retime(Some(at(20))),
            &context(),
        );
        assert_eq!(plan.reminders.moved, [(2, at(19)), (3, at(18))]);
        assert!(plan.reminders.delete.is_empty() && plan.reminders.insert.is_empty());
        assert!(plan.reminders.queues_jobs());
    }

    #[test]
    fn a_due_that_stays_leaves_fired_reminders_fired() {
        let before = Task {
            reminders: vec![fired(reminder(2, at(17), Some(60)))],
            ..task()
        };
        let plan = changed(
            &before,
            &before,
            ReminderIntent::Retime(Some(at(18))),
            &context(),
        );
        assert!(plan.reminders.is_empty());
        assert!(!plan.reminders.queues_jobs());
    }

    #[test]
    fn a_due_that_goes_takes_the_relative_reminders_with_it() {
        let before = Task {
            reminders: vec![reminder(1, at(9), None), reminder(2, at(17), Some(60))],
            ..task()
        };
        let plan = changed(&before, &before, ReminderIntent::Retime(None), &context());
        assert_eq!(plan.reminders.delete, [2]);
        assert!(plan.reminders.moved.is_empty() && plan.reminders.insert.is_empty());
    }

    #[test]
    fn the_next_occurrence_carries_the_reminders_as_the_completing_write_leaves_them() {
        let before = Task {
            reminders: vec![reminder(1, at(9), None)],
            ..recurring()
        };
        // One replace that completes the task and sets new reminders.
        let list = [NewReminder::Before(30), NewReminder::At(at(10))];
        let intent = ReminderIntent::Replace {
            reminders: &list,
            anchor: Some(at(18)),
        };
        let plan = changed(&before, &completed(&before), intent, &context());
        let next = plan.successor.expect("next");
        assert_eq!(
            next.reminders,
            [
                NewReminder::At(at(10) + Duration::days(1)),
                NewReminder::Before(30)
            ],
            "in the order the task lists them, absolute ones moved with the due"
        );
        assert_eq!(next.reminder_anchor, Some(at(18) + Duration::days(1)));
    }

    #[test]
    fn an_all_day_series_is_placed_in_the_owners_zone() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
        let before = Task {
            due_at: None,
            due_date: Some(date),
            ..recurring()
        };
        let berlin = WriteContext {
            tz: chrono_tz::Europe::Berlin,
            ..context()
        };
        let next = changed(&before, &completed(&before), ReminderIntent::Keep, &berlin)
            .successor
            .expect("next");
        let tomorrow = date.succ_opt().expect("date");
        assert_eq!(next.due, Due::Date(tomorrow));
        assert_eq!(
            next.due_key,
            Some(crate::task::end_of_day(tomorrow, chrono_tz::Europe::Berlin))
        );
    }

    #[test]
    fn a_deletion_records_deleted_and_nothing_else() {
        let plan = deleted();
        assert_eq!(plan.event, EventType::Deleted);
        assert!(plan.reminders.is_empty() && plan.successor.is_none());
    }

    #[test]
    fn a_change_reads_its_reminder_intent_from_the_validated_changes() {
        let list = vec![NewReminder::Before(5)];
        let replace = TaskChanges {
            reminders: Some(list.clone()),
            reminder_anchor: Some(Some(at(18))),
            ..TaskChanges::default()
        };
        assert_eq!(
            ReminderIntent::of_changes(&replace),
            ReminderIntent::Replace {
                reminders: &list,
                anchor: Some(at(18))
            }
        );
        let moved = TaskChanges {
            reminder_anchor: Some(None),
            ..TaskChanges::default()
        };
        assert_eq!(
            ReminderIntent::of_changes(&moved),
            ReminderIntent::Retime(None)
        );
        assert_eq!(
            ReminderIntent::of_changes(&TaskChanges::default()),
            ReminderIntent::Keep
        );
    }
}
