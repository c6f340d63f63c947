//! The rules of a task write, as data. A store locks and reads the task, asks here what a
//! change means ([`resolve`]: completing a recurring task moves it to its next occurrence
//! instead of closing it), applies it to the row and tags, asks again what else the write
//! means ([`changed`]), and writes that in the same transaction: the event it records, what
//! happens to the task's reminders and their jobs, and the completion it records or undoes.
//! Nothing here reads or writes a database, so every rule is tested below without one
//! (docs/architecture.md, "The write path").

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::events::Activity;
use crate::ids::ProjectId;
use crate::recurrence::next_occurrence;
use crate::reminders::{NewReminder, Reminder, ReminderId, anchor};
use crate::task::{DueChange, NewTask, Task, TaskChanges};

/// What a change of a task knows besides the change itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteContext {
    /// When the write happens: `updated_at`, `completed_at` and the event's time.
    pub now: DateTime<Utc>,
    /// The owner's time zone, which places a recurring task's next occurrence (unless the
    /// task is pinned to a zone of its own).
    pub tz: Tz,
}

/// A completion as recorded (`task_completions`): when, and the due and rule the task had,
/// so that undoing it puts them back. Every completion is one, a recurring task's included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub id: i64,
    pub completed_at: DateTime<Utc>,
    pub due: DueChange,
    pub recurrence: Option<String>,
}

/// What a write does to a task's completions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompletionWrite {
    /// Records a completion at the write's moment, with the due and rule the task had.
    Record {
        due: DueChange,
        recurrence: Option<String>,
    },
    /// Removes a completion that a reopen or an undo takes back.
    Remove(i64),
}

/// A change as it applies to the task: completion read the way the task means it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub changes: TaskChanges,
    pub completion: Option<CompletionWrite>,
    /// When the write happens (a reminder moved to a moment already past does not fire).
    pub now: DateTime<Utc>,
}

/// What a change of `before` means. Completing a recurring task that has a next occurrence
/// records a completion and moves the task there (due, rule, relative reminders): it stays
/// open, one row for the whole series. Asking a recurring task that is open to be not
/// completed right after such a completion (nothing changed it since) undoes it: the due
/// and rule go back, the completion goes. Reopening a completed task removes its
/// completion. `last` is the task's latest completion, which the store reads when the change
/// asks for `completed: false`. `None` when the change changes nothing.
pub fn resolve(
    before: &Task,
    changes: &TaskChanges,
    last: Option<&Completion>,
    context: &WriteContext,
) -> Option<Resolved> {
    let mut changes = changes.clone();
    let mut completion = None;
    match changes.completed {
        Some(true) if !before.completed => {
            let due = changes.due.unwrap_or_else(|| before.stored_due(context.tz));
            let rule = changes
                .recurrence
                .clone()
                .unwrap_or_else(|| before.recurrence.clone());
            let mode = changes.recurrence_mode.unwrap_or(before.recurrence_mode);
            let zone = due.zone.unwrap_or(context.tz);
            let next = rule
                .as_deref()
                .and_then(|rule| next_occurrence(rule, mode, due.due, context.now, zone));
            if let Some(next) = next {
                // A timed due keeps its wall-clock time: a 02:30 that fell in a
                // daylight-saving gap is 02:30 again on the next day that has one.
                let moved = match (due.local, next.due.at()) {
                    (Some(local), Some(at)) => {
                        let day = at.with_timezone(&zone).date_naive();
                        DueChange::local(day.and_time(local.time()), due.zone, context.tz)
                    }
                    _ => DueChange::new(next.due, due.zone, context.tz),
                };
                changes.completed = None;
                changes.due = Some(moved);
                changes.recurrence = Some(Some(next.rule));
                changes.reminder_anchor = Some(anchor(&moved.due, context.tz));
            }
            completion = Some(CompletionWrite::Record {
                due,
                recurrence: rule,
            });
        }
        Some(false) if before.completed => {
            completion = last
                .filter(|c| Some(c.completed_at) == before.completed_at)
                .map(|c| CompletionWrite::Remove(c.id));
        }
        Some(false) if before.recurrence.is_some() => {
            changes.completed = None;
            if let Some(last) = last.filter(|c| c.completed_at == before.updated_at) {
                let due = last.due.replaced_in(context.tz);
                changes.due = Some(due);
                changes.recurrence = Some(last.recurrence.clone());
                changes.reminder_anchor = Some(anchor(&due.due, context.tz));
                completion = Some(CompletionWrite::Remove(last.id));
            }
        }
        Some(completed) if completed == before.completed => changes.completed = None,
        _ => {}
    }
    (changes != TaskChanges::default() || completion.is_some()).then_some(Resolved {
        changes,
        completion,
        now: context.now,
    })
}

/// A task closed because its parent was completed: completed and recorded as any completion,
/// even a recurring one (it does not move on under a closed parent). `None` when it is
/// completed already.
pub fn close(before: &Task, context: &WriteContext) -> Option<Resolved> {
    (!before.completed).then(|| Resolved {
        changes: TaskChanges {
            completed: Some(true),
            ..TaskChanges::default()
        },
        completion: Some(CompletionWrite::Record {
            due: before.stored_due(context.tz),
            recurrence: before.recurrence.clone(),
        }),
        now: context.now,
    })
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
    pub event: Activity,
    /// A project besides the task's whose members the event reaches: the one a move took
    /// the task from, so their views drop it.
    pub also_reaches: Option<ProjectId>,
    pub reminders: ReminderWrites,
    pub completion: Option<CompletionWrite>,
}

/// What a write does to a task's reminder rows and their jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderWrites {
    /// Reminders that go, by id (their pending jobs find nothing to fire).
    pub delete: Vec<ReminderId>,
    /// Reminders that move to a new moment: they fire again (`sent_at` cleared) and get a
    /// job at the new moment.
    pub moved: Vec<(ReminderId, DateTime<Utc>)>,
    /// Reminders that move to a moment already past (an undo, a zone change, a due moved
    /// back): their moment changes, they do not fire for it (`sent_at` kept, no job).
    pub moved_past: Vec<(ReminderId, DateTime<Utc>)>,
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
        self.delete.is_empty()
            && self.moved.is_empty()
            && self.moved_past.is_empty()
            && self.insert.is_empty()
    }

    /// Whether the writes add a job (the job worker should look again).
    pub fn queues_jobs(&self) -> bool {
        !self.moved.is_empty() || self.insert.iter().any(|r| r.job_at().is_some())
    }
}

/// The change a completion request makes to `before`: completion as asked (`None`: the other
/// way round; an open recurring task is completed). `None` when there is nothing to ask
/// (completing a completed task); [`resolve`] then reads it.
pub fn completion(before: &Task, completed: Option<bool>) -> Option<TaskChanges> {
    let completed = completed.unwrap_or(!before.completed);
    let undo = !completed && !before.completed && before.recurrence.is_some();
    (completed != before.completed || undo).then(|| TaskChanges {
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
        event: Activity::Created,
        also_reaches: None,
        // Only a retime reads the moment; a new task's reminders are all new.
        reminders: reminder_writes(&[], intent, DateTime::<Utc>::MIN_UTC),
        completion: None,
    }
}

/// A change that took the task from `before` to `after` (its row and tags written, its
/// reminders not yet), as [`resolve`] read it. Its activity is `completed` when it completed
/// the task — the edge to completed, or a recurring task's move to its next occurrence —
/// `reopened` when it took a completion back, and `updated` otherwise.
pub fn changed(before: &Task, resolved: &Resolved) -> TaskWrite {
    let mut plan = write(
        before,
        ReminderIntent::of_changes(&resolved.changes),
        resolved.completion.clone(),
        resolved.now,
    );
    if plan.event == Activity::Updated
        && before.completed
        && resolved.changes.completed == Some(false)
    {
        plan.event = Activity::Reopened;
    }
    plan
}

fn write(
    before: &Task,
    reminders: ReminderIntent<'_>,
    completion: Option<CompletionWrite>,
    now: DateTime<Utc>,
) -> TaskWrite {
    let event = match completion {
        Some(CompletionWrite::Record { .. }) => Activity::Completed,
        Some(CompletionWrite::Remove(_)) => Activity::Reopened,
        None => Activity::Updated,
    };
    TaskWrite {
        event,
        also_reaches: None,
        reminders: reminder_writes(&before.reminders, reminders, now),
        completion,
    }
}

/// What a change by one member does to another member's reminders on the task (reminders are
/// personal): when it moves the due (an edit, or a recurring task's next occurrence), their
/// relative reminders count back from the new due as the writer's do; nothing else of theirs
/// changes, and a writer's new reminders never replace them.
pub fn others_reminders(reminders: &[Reminder], resolved: &Resolved) -> ReminderWrites {
    match (&resolved.changes.due, resolved.changes.reminder_anchor) {
        (Some(_), Some(anchor)) => {
            reminder_writes(reminders, ReminderIntent::Retime(anchor), resolved.now)
        }
        _ => ReminderWrites::default(),
    }
}

/// A move to another place or position from project `from`: `moved` (an `updated` event on
/// streams), which reaches the members of both projects.
pub fn moved(from: ProjectId) -> TaskWrite {
    TaskWrite {
        event: Activity::Moved,
        also_reaches: Some(from),
        reminders: ReminderWrites::default(),
        completion: None,
    }
}

/// A deletion: its `deleted` event; the reminders and their jobs go with the row.
pub fn deleted() -> TaskWrite {
    TaskWrite {
        event: Activity::Deleted,
        also_reaches: None,
        reminders: ReminderWrites::default(),
        completion: None,
    }
}

/// What `intent` does to the reminders `current`, at `now`.
fn reminder_writes(
    current: &[Reminder],
    intent: ReminderIntent<'_>,
    now: DateTime<Utc>,
) -> ReminderWrites {
    match intent {
        ReminderIntent::Keep => ReminderWrites::default(),
        ReminderIntent::Replace { reminders, anchor } => ReminderWrites {
            delete: current.iter().map(|r| r.id).collect(),
            moved: Vec::new(),
            moved_past: Vec::new(),
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
        ReminderIntent::Retime(Some(anchor)) => {
            // A reminder whose moment does not really change stays as it is (fired or not).
            let (moved, moved_past) = current
                .iter()
                .filter_map(|r| {
                    let at = NewReminder::Before(r.minutes_before?).moment(Some(anchor))?;
                    (at != r.remind_at).then_some((r.id, at))
                })
                .partition(|(_, at)| *at > now);
            ReminderWrites {
                moved,
                moved_past,
                ..ReminderWrites::default()
            }
        }
    }
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
            project_id: crate::project::ProjectId::new(1),
            section_id: None,
            parent_id: None,
            title: "Water the plants".into(),
            description: None,
            completed: false,
            completed_at: None,
            priority: Priority::None,
            due_at: Some(at(18)),
            due_local: Some(at(18).naive_utc()),
            due_timezone: None,
            due_date: None,
            recurrence: None,
            recurrence_mode: RecurrenceMode::Due,
            position: 1,
            assignee_id: None,
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
        assert_eq!(plan.event, Activity::Created);
        assert_eq!(plan.completion, None);
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
        let plan = write(&before, intent, None, at(0));
        assert_eq!(plan.event, Activity::Updated);
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
        let plan = write(&before, intent, None, at(0));
        assert_eq!(plan.reminders.insert[0].job_at(), Some(at(17)));
    }

    #[test]
    fn another_member_s_relative_reminders_follow_a_moved_due_and_are_never_replaced() {
        let theirs = [reminder(7, at(17), Some(60)), reminder(8, at(9), None)];
        let moved_due = Resolved {
            changes: TaskChanges {
                due: Some(DueChange::new(Due::At(at(20)), None, Tz::UTC)),
                reminder_anchor: Some(Some(at(20))),
                ..TaskChanges::default()
            },
            completion: None,
            now: at(0),
        };
        let writes = others_reminders(&theirs, &moved_due);
        assert_eq!(
            writes.moved,
            [(7, at(19))],
            "the relative one moves; the absolute stays"
        );
        assert!(writes.delete.is_empty() && writes.insert.is_empty());
        let new_reminders = [NewReminder::At(at(5))];
        let mine_replaced = Resolved {
            changes: TaskChanges {
                reminders: Some(new_reminders.to_vec()),
                reminder_anchor: Some(Some(at(18))),
                ..TaskChanges::default()
            },
            completion: None,
            now: at(0),
        };
        assert_eq!(
            others_reminders(&theirs, &mine_replaced),
            ReminderWrites::default(),
            "someone else's new reminders leave theirs alone"
        );
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
        let plan = write(&before, ReminderIntent::Retime(Some(at(20))), None, at(0));
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
        let plan = write(&before, ReminderIntent::Retime(Some(at(18))), None, at(0));
        assert!(plan.reminders.is_empty());
        assert!(!plan.reminders.queues_jobs());
    }

    #[test]
    fn a_due_that_goes_takes_the_relative_reminders_with_it() {
        let before = Task {
            reminders: vec![reminder(1, at(9), None), reminder(2, at(17), Some(60))],
            ..task()
        };
        let plan = write(&before, ReminderIntent::Retime(None), None, at(0));
        assert_eq!(plan.reminders.delete, [2]);
        assert!(plan.reminders.moved.is_empty() && plan.reminders.insert.is_empty());
    }

    fn complete(completed: bool) -> TaskChanges {
        TaskChanges {
            completed: Some(completed),
            ..TaskChanges::default()
        }
    }

    #[test]
    fn completing_a_recurring_task_records_a_completion_and_moves_it_to_the_next_occurrence() {
        let before = Task {
            reminders: vec![reminder(1, at(17), Some(60))],
            ..recurring()
        };
        let resolved = resolve(&before, &complete(true), None, &context()).expect("a change");
        let next = at(18) + Duration::days(1);
        assert_eq!(resolved.changes.completed, None, "it stays open: one row");
        assert_eq!(resolved.changes.due.map(|d| d.due), Some(Due::At(next)));
        assert_eq!(
            resolved.changes.due.and_then(|d| d.local),
            Some(next.naive_utc())
        );
        assert_eq!(
            resolved.completion,
            Some(CompletionWrite::Record {
                due: before.stored_due(Tz::UTC),
                recurrence: Some("FREQ=DAILY".into()),
            })
        );
        let plan = changed(&before, &resolved);
        assert_eq!(plan.event, Activity::Completed);
        assert_eq!(
            plan.reminders.moved,
            [(1, next - Duration::hours(1))],
            "its reminder fires again before the next occurrence"
        );
    }

    #[test]
    fn undoing_right_after_puts_the_occurrence_back_and_later_changes_nothing() {
        let next = at(18) + Duration::days(1);
        let moved = Task {
            due_at: Some(next),
            due_local: Some(next.naive_utc()),
            updated_at: at(12),
            ..recurring()
        };
        let last = Completion {
            id: 5,
            completed_at: at(12),
            due: recurring().stored_due(Tz::UTC),
            recurrence: Some("FREQ=DAILY".into()),
        };
        let ask = planning_completion(&moved, Some(false));
        let resolved = resolve(&moved, &ask, Some(&last), &context()).expect("an undo");
        assert_eq!(resolved.changes.due.map(|d| d.due), Some(Due::At(at(18))));
        assert_eq!(resolved.changes.completed, None);
        assert_eq!(resolved.completion, Some(CompletionWrite::Remove(5)));
        assert_eq!(changed(&moved, &resolved).event, Activity::Reopened);

        let edited_since = Task {
            updated_at: at(13),
            ..moved
        };
        assert_eq!(
            resolve(&edited_since, &ask, Some(&last), &context()),
            None,
            "only right after: a task changed since keeps its due"
        );
        assert_eq!(resolve(&recurring(), &ask, None, &context()), None);
    }

    fn planning_completion(task: &Task, completed: Option<bool>) -> TaskChanges {
        completion(task, completed).expect("a change to ask for")
    }

    #[test]
    fn a_task_that_does_not_recur_is_closed_and_reopening_removes_its_completion() {
        let open = task();
        let resolved = resolve(&open, &complete(true), None, &context()).expect("a change");
        assert_eq!(resolved.changes.completed, Some(true));
        assert!(matches!(
            resolved.completion,
            Some(CompletionWrite::Record { .. })
        ));
        let done = completed(&open);
        let last = Completion {
            id: 9,
            completed_at: at(12),
            due: open.stored_due(Tz::UTC),
            recurrence: None,
        };
        let reopened = resolve(&done, &complete(false), Some(&last), &context()).expect("reopen");
        assert_eq!(reopened.changes.completed, Some(false));
        assert_eq!(reopened.completion, Some(CompletionWrite::Remove(9)));
        assert_eq!(changed(&done, &reopened).event, Activity::Reopened);
        assert_eq!(
            resolve(&done, &complete(true), None, &context()),
            None,
            "completing a completed task changes nothing"
        );
    }

    #[test]
    fn the_last_occurrence_of_a_series_closes_the_task() {
        let before = Task {
            recurrence: Some("FREQ=DAILY;COUNT=1".into()),
            ..task()
        };
        let resolved = resolve(&before, &complete(true), None, &context()).expect("a change");
        assert_eq!(resolved.changes.completed, Some(true));
        assert_eq!(resolved.changes.due, None);
    }

    #[test]
    fn an_all_day_series_moves_in_the_owners_zone_and_a_pinned_one_in_its_own() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 2).expect("date");
        let before = Task {
            due_at: None,
            due_local: None,
            due_date: Some(date),
            ..recurring()
        };
        let berlin = WriteContext {
            tz: chrono_tz::Europe::Berlin,
            ..context()
        };
        let moved = resolve(&before, &complete(true), None, &berlin)
            .and_then(|r| r.changes.due)
            .expect("moved");
        let tomorrow = date.succ_opt().expect("date");
        assert_eq!(moved.due, Due::Date(tomorrow));
        assert_eq!(
            moved.key,
            Some(crate::task::end_of_day(tomorrow, chrono_tz::Europe::Berlin))
        );

        // 09:30 in New York, pinned, for an owner in Berlin: the next is 09:30 New York.
        let ny = chrono_tz::America::New_York;
        let local = NaiveDate::from_ymd_opt(2026, 3, 6)
            .and_then(|d| d.and_hms_opt(9, 30, 0))
            .expect("local");
        let pinned_due = DueChange::local(local, Some(ny), chrono_tz::Europe::Berlin);
        let pinned = Task {
            due_at: pinned_due.due.at(),
            due_local: Some(local),
            due_timezone: Some("America/New_York".into()),
            ..recurring()
        };
        let moved = resolve(&pinned, &complete(true), None, &berlin)
            .and_then(|r| r.changes.due)
            .expect("moved");
        let next_local = local + Duration::days(1);
        assert_eq!(moved.local, Some(next_local));
        assert_eq!(moved.zone, Some(ny));
        // New York moves its clocks on 2026-03-08; 09:30 stays 09:30 there.
        assert_eq!(
            moved.due.at(),
            Some(crate::time::local_to_utc(next_local, ny))
        );
    }

    #[test]
    fn a_reminder_moved_to_a_moment_already_past_does_not_fire_again() {
        let before = Task {
            reminders: vec![fired(reminder(1, at(17), Some(60)))],
            ..task()
        };
        // The due moves back to 10:00; it is noon: 09:00 has passed.
        let plan = write(&before, ReminderIntent::Retime(Some(at(10))), None, at(12));
        assert!(plan.reminders.moved.is_empty());
        assert_eq!(plan.reminders.moved_past, [(1, at(9))]);
        assert!(!plan.reminders.queues_jobs());
    }

    #[test]
    fn a_subtask_closed_with_its_parent_is_completed_even_when_it_recurs() {
        let resolved = close(&recurring(), &context()).expect("open");
        assert_eq!(resolved.changes.completed, Some(true));
        assert_eq!(resolved.changes.due, None, "it does not move on");
        assert!(matches!(
            resolved.completion,
            Some(CompletionWrite::Record { .. })
        ));
        assert_eq!(close(&completed(&task()), &context()), None);
    }

    #[test]
    fn a_wall_clock_time_in_a_daylight_saving_gap_stays_on_the_clock() {
        // 02:30 on 2026-03-29 does not exist in Berlin: it is stored as 03:30 that day; the
        // next occurrence is 02:30 on the 30th, not 03:30.
        let berlin = chrono_tz::Europe::Berlin;
        let local = NaiveDate::from_ymd_opt(2026, 3, 29)
            .and_then(|d| d.and_hms_opt(2, 30, 0))
            .expect("local");
        let due = DueChange::local(local, None, berlin);
        let before = Task {
            due_at: due.due.at(),
            due_local: Some(local),
            ..recurring()
        };
        let context = WriteContext {
            now: at(12),
            tz: berlin,
        };
        let moved = resolve(&before, &complete(true), None, &context)
            .and_then(|r| r.changes.due)
            .expect("moved");
        assert_eq!(moved.local, Some(local + Duration::days(1)));
    }

    #[test]
    fn a_deletion_records_deleted_and_nothing_else() {
        let plan = deleted();
        assert_eq!(plan.event, Activity::Deleted);
        assert!(plan.reminders.is_empty() && plan.completion.is_none());
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
