use chrono::{NaiveDate, TimeZone};
use proptest::prelude::*;

use super::*;

/// Monday 2026-11-23, 10:00 in Paris (UTC+1).
fn now() -> DateTime<Tz> {
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("valid time")
}

const HEADER: &str = "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,\
                      TIMEZONE,DURATION,DURATION_UNIT,DEADLINE,DEADLINE_LANG\n";

/// A project as Todoist exports it: a task before any section, two sections, INDENT 1–3, notes
/// (one over two lines), labels, recurrence words (one we cannot express), deadline, duration.
const EXPORT: &str = "\
task,Inbox sweep @admin,,4,1,Ada (1),,every! 3rd weekday,en,Europe/Paris,,,,
,,,,,,,,,,,,,
section,Kitchen,,,,,,,,,,,,
task,Renovate kitchen,Budget in the sheet,1,1,Ada (1),,,en,Europe/Paris,,,2026-12-24,en
task,Pick tiles @shopping @weekend,,2,2,Ada (1),,every other monday,en,Europe/Paris,30,minute,,
note,Ask for samples,,,,,,,,,,,,
note,\"Two lines
of note\",,,,,,,,,,,,
task,Call the tiler,,3,3,Ada (1),,tomorrow 6pm,en,Europe/Paris,,,,
task,Order sink,,4,2,Ada (1),,dec 5 2026,en,Europe/Paris,2,day,,
section,Garden,,,,,,,,,,,,
task,Water plants,,4,1,Ada (1),,every! 3 days,en,Europe/Paris,,,,
task,Mow lawn,,,1,Ada (1),,every month on the last day,en,Europe/Paris,,,,
task,Prune roses,,4,2,Ada (1),,someday maybe,en,Europe/Paris,,,,
";

fn describe(due: &Due) -> String {
    match due {
        Due::None => "none".into(),
        Due::Date(date) => format!("date {date}"),
        Due::At(at) => format!("at {}", at.format("%Y-%m-%dT%H:%MZ")),
    }
}

/// Everything of a task but its fingerprint, in a form a table can spell.
type Shape = (
    u64,
    String,
    String,
    Priority,
    String,
    String,
    RecurrenceMode,
    Option<usize>,
    Option<usize>,
    Vec<String>,
);

fn shape(task: &TodoistTask) -> Shape {
    (
        task.line,
        task.title.clone(),
        task.description.clone(),
        task.priority,
        describe(&task.due),
        task.recurrence
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        task.recurrence_mode,
        task.section,
        task.parent,
        task.labels.clone(),
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "one argument per column of the expected table"
)]
fn expect(
    line: u64,
    title: &str,
    description: &str,
    priority: Priority,
    due: &str,
    rule: &str,
    mode: RecurrenceMode,
    section: Option<usize>,
    parent: Option<usize>,
    labels: &[&str],
) -> Shape {
    (
        line,
        title.into(),
        description.into(),
        priority,
        due.into(),
        rule.into(),
        mode,
        section,
        parent,
        labels.iter().map(|l| (*l).to_owned()).collect(),
    )
}

fn error_fields(result: Result<TodoistFile>) -> Vec<String> {
    match result {
        Err(Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn a_projects_export_reads_into_sections_subtasks_and_descriptions() {
    use Priority::{High, Medium, Urgent};
    use RecurrenceMode::{Completion, Due as FromDue};
    let file = parse(format!("{HEADER}{EXPORT}").as_bytes(), now()).expect("a valid export");

    assert_eq!(file.sections, ["Kitchen", "Garden"]);
    let got: Vec<Shape> = file.tasks.iter().map(shape).collect();
    let none = Priority::None;
    let expected = vec![
        expect(
            2,
            "Inbox sweep",
            "Repeats: every! 3rd weekday",
            none,
            "none",
            "",
            FromDue,
            None,
            None,
            &["admin"],
        ),
        expect(
            5,
            "Renovate kitchen",
            "Budget in the sheet\n\nDeadline: 2026-12-24",
            Urgent,
            "none",
            "",
            FromDue,
            Some(0),
            None,
            &[],
        ),
        expect(
            6,
            "Pick tiles",
            "Ask for samples\n\nTwo lines\nof note\n\nDuration: 30 minutes",
            High,
            "date 2026-11-23",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
            FromDue,
            Some(0),
            Some(1),
            &["shopping", "weekend"],
        ),
        expect(
            10,
            "Call the tiler",
            "",
            Medium,
            "at 2026-11-24T17:00Z",
            "",
            FromDue,
            Some(0),
            Some(2),
            &[],
        ),
        expect(
            11,
            "Order sink",
            "Duration: 2 days",
            none,
            "date 2026-12-05",
            "",
            FromDue,
            Some(0),
            Some(1),
            &[],
        ),
        expect(
            13,
            "Water plants",
            "",
            none,
            "date 2026-11-23",
            "FREQ=DAILY;INTERVAL=3",
            Completion,
            Some(1),
            None,
            &[],
        ),
        expect(
            14,
            "Mow lawn",
            "",
            none,
            "date 2026-11-30",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            FromDue,
            Some(1),
            None,
            &[],
        ),
        expect(
            15,
            "Prune roses",
            "Todoist date: someday maybe",
            none,
            "none",
            "",
            FromDue,
            Some(1),
            Some(6),
            &[],
        ),
    ];
    assert_eq!(got.len(), expected.len());
    for (got, expected) in got.iter().zip(&expected) {
        assert_eq!(got, expected);
    }
}

#[test]
fn identical_rows_share_a_fingerprint_and_different_ones_do_not() {
    let csv = format!("{HEADER}task,Same,,4,1\ntask,Same,,4,1\ntask,Same,,3,1\n");
    let file = parse(csv.as_bytes(), now()).expect("valid");
    let prints: Vec<&str> = file.tasks.iter().map(|t| t.fingerprint.as_str()).collect();
    assert_eq!(prints[0], prints[1]);
    assert_ne!(prints[0], prints[2]);
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_read_like_any_file() {
    let csv = format!("\u{feff}{HEADER}{EXPORT}").replace('\n', "\r\n");
    let file = parse(csv.as_bytes(), now()).expect("a valid export");
    let plain = parse(format!("{HEADER}{EXPORT}").as_bytes(), now()).expect("valid");
    assert_eq!(file.sections, plain.sections);
    let lines: Vec<u64> = file.tasks.iter().map(|t| t.line).collect();
    assert_eq!(lines, [2, 5, 6, 10, 11, 13, 14, 15]);
    assert_eq!(
        file.tasks, plain.tasks,
        "the same tasks, quoted line breaks as \\n"
    );
}

#[test]
fn an_indent_more_than_one_deeper_than_the_task_above_names_its_line() {
    let jumps = format!("{HEADER}task,Top,,4,1\ntask,Grandchild,,4,3\n");
    assert_eq!(
        error_fields(parse(jumps.as_bytes(), now())),
        ["line[3].indent"]
    );

    let first_is_a_child = format!("{HEADER}task,Orphan,,4,2\n");
    assert_eq!(
        error_fields(parse(first_is_a_child.as_bytes(), now())),
        ["line[2].indent"]
    );

    // A section starts again at the top: its first task cannot be a subtask.
    let across_a_section = format!("{HEADER}task,Top,,4,1\nsection,Next,,,\ntask,Child,,4,2\n");
    assert_eq!(
        error_fields(parse(across_a_section.as_bytes(), now())),
        ["line[4].indent"]
    );
}

#[test]
fn every_bad_row_is_reported_at_once() {
    let csv = format!(
        "{HEADER}task,A,,4,0\ntask,B,,9,1\ntask,C,,4,x\ntask,D,,4,99999999999999999999999\n\
         task,E,,urgent,1\n"
    );
    assert_eq!(
        error_fields(parse(csv.as_bytes(), now())),
        [
            "line[2].indent",
            "line[3].priority",
            "line[4].indent",
            "line[5].indent",
            "line[6].priority"
        ]
    );
}

#[test]
fn a_file_without_todoists_columns_is_refused() {
    assert_eq!(error_fields(parse(b"name,when\nx,y\n", now())), ["csv"]);
    assert_eq!(error_fields(parse(b"", now())), ["csv"]);
    assert_eq!(error_fields(parse(b"\xEF\xBB\xBF", now())), ["csv"]);
}

#[test]
fn text_that_is_not_utf8_names_its_line() {
    let mut csv = format!("{HEADER}task,Fine,,4,1\n").into_bytes();
    csv.extend_from_slice(b"task,\xff\xfe,,4,1\n");
    assert_eq!(error_fields(parse(&csv, now())), ["line[3]"]);
}

#[test]
fn quoted_newlines_keep_line_numbers_right() {
    let csv =
        format!("{HEADER}task,\"Two\nline title\",\"and a\n\ndescription\",4,1\ntask,Next,,4,2\n");
    let file = parse(csv.as_bytes(), now()).expect("valid");
    assert_eq!(file.tasks[0].title, "Two line title");
    assert_eq!(file.tasks[0].description, "and a\n\ndescription");
    assert_eq!((file.tasks[1].line, file.tasks[1].parent), (6, Some(0)));
}

#[test]
fn a_huge_title_is_shortened_and_kept_whole_in_the_description() {
    let huge = "x".repeat(1_000_000);
    let csv = format!("{HEADER}task,{huge},notes,4,1\n");
    let file = parse(csv.as_bytes(), now()).expect("valid");
    let task = &file.tasks[0];
    assert_eq!(task.title.chars().count(), TITLE_MAX_CHARS);
    assert!(task.title.ends_with('…'));
    assert_eq!(task.description, format!("{huge}\n\nnotes"));
}

#[test]
fn more_tasks_than_an_import_takes_are_refused() {
    let mut csv = HEADER.to_owned();
    csv.push_str(&"task,x,,4,1\n".repeat(super::super::MAX_IMPORT_TASKS + 1));
    assert_eq!(error_fields(parse(csv.as_bytes(), now())), ["tasks"]);
}

#[test]
fn a_note_before_any_task_and_unknown_rows_are_left_out() {
    let csv = format!("{HEADER}note,Lost,,,\nproject,Whatever,,,\ntask,Only,,4,1\n");
    let file = parse(csv.as_bytes(), now()).expect("valid");
    assert_eq!(file.tasks.len(), 1);
    assert_eq!(file.tasks[0].description, "");
}

#[test]
fn durations_read_in_minutes_or_days() {
    assert_eq!(duration("30", "minute"), "30 minutes");
    assert_eq!(duration("1", "minute"), "1 minute");
    assert_eq!(duration("2", "day"), "2 days");
    assert_eq!(duration("45", ""), "45 minutes");
}

#[test]
fn only_recurring_dates_we_cannot_read_are_called_repeats() {
    assert!(is_recurring("every! 3rd weekday"));
    assert!(is_recurring("Every workday"));
    assert!(!is_recurring("someday maybe"));
    assert!(!is_recurring("everything at once"));
    let due = NaiveDate::from_ymd_opt(2026, 12, 5).map(Due::Date);
    let csv = format!("{HEADER}task,Sink,,4,1,,,dec 5 2026\n");
    let file = parse(csv.as_bytes(), now()).expect("valid");
    assert_eq!(Some(file.tasks[0].due), due);
}

/// Rows of random kinds and indents.
fn rows() -> impl Strategy<Value = Vec<(usize, u8)>> {
    proptest::collection::vec((0usize..4, 0u8..6), 0..40)
}

proptest! {
    #[test]
    fn any_bytes_give_a_file_or_an_error_never_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut csv = HEADER.as_bytes().to_vec();
        csv.extend(bytes);
        let _ = parse(&csv, now());
    }

    #[test]
    fn parents_come_first_and_share_their_childs_section(rows in rows()) {
        let kinds = ["task", "section", "note", ""];
        let mut csv = HEADER.to_owned();
        for (n, (kind, indent)) in rows.iter().enumerate() {
            csv.push_str(&format!("{},row {n},,4,{indent}\n", kinds[*kind]));
        }
        match parse(csv.as_bytes(), now()) {
            Ok(file) => {
                for (at, task) in file.tasks.iter().enumerate() {
                    if let Some(parent) = task.parent {
                        prop_assert!(parent < at);
                        prop_assert_eq!(file.tasks[parent].section, task.section);
                    }
                    if let Some(section) = task.section {
                        prop_assert!(section < file.sections.len());
                    }
                }
            }
            Err(Error::Validation(errors)) => {
                for error in errors {
                    prop_assert!(error.field.starts_with("line["), "{}", error.field);
                }
            }
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}
