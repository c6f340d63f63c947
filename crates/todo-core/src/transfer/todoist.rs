//! Todoist's CSV export of one project (`TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,
//! RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,DURATION,DURATION_UNIT,DEADLINE,DEADLINE_LANG`) read
//! into its structure: sections in order, tasks with their section and parent, notes joined to
//! their task. Plain types, no storage ids: the import maps them to rows.
//!
//! The format, as Todoist's help describes it ("Format a CSV file to import into Todoist",
//! todoist.com/help/articles/format-a-csv-file-to-import-into-todoist-UVUXTmm6): TYPE is
//! `task`, `section` or `note` (a comment on the task in the row above); `@label`s are written
//! in CONTENT; PRIORITY 1 is p1, the highest, and 4 is p4, the lowest — the numbering of
//! Todoist's app, not of its REST API (where 4 is p1); converters agree (maxxkrakoa/
//! toodledo2todoist README: "Todoist priorities go from 4 (which is the default) to 1 (which is
//! the top priority)"). INDENT 1 is a top-level task, 2 its subtask, and so on. The help says an
//! empty PRIORITY gives p1; Todoist's own exports always write the number, and we read an empty
//! one as no priority rather than make every hand-written row urgent.

use chrono::DateTime;
use chrono_tz::Tz;

use crate::error::{Error, FieldError, Result};
use crate::quick;
use crate::recurrence::{Recurrence, RecurrenceMode};
use crate::task::{Due, Priority, TITLE_MAX_CHARS};

/// One project's file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TodoistFile {
    /// Section names in file order; tasks refer to them by index.
    pub sections: Vec<String>,
    /// Tasks in file order; a parent always comes before its subtasks.
    pub tasks: Vec<TodoistTask>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoistTask {
    /// The line of the file the row starts on (the header is line 1), for error messages.
    pub line: u64,
    /// CONTENT without its `@labels`; shortened with "…" when over 200 characters (the whole
    /// text is then the first paragraph of the description).
    pub title: String,
    /// Paragraphs joined by a blank line: DESCRIPTION, then each note row, then what has no
    /// field of its own ("Deadline: 2026-12-24", "Duration: 30 minutes", "Repeats: every!
    /// 3rd weekday" or "Todoist date: …" for a DATE we cannot read exactly). Empty for none.
    pub description: String,
    pub priority: Priority,
    /// DATE read like quick add, in the user's time zone; `Due::None` when absent or not read.
    pub due: Due,
    pub recurrence: Option<Recurrence>,
    /// `Completion` for Todoist's `every!`.
    pub recurrence_mode: RecurrenceMode,
    /// Index into [`TodoistFile::sections`]: the last section row above the task.
    pub section: Option<usize>,
    /// Index into [`TodoistFile::tasks`] of the task it is a subtask of (from INDENT).
    pub parent: Option<usize>,
    /// `@labels` of CONTENT, without the `@`, in order.
    pub labels: Vec<String>,
    /// A stable fingerprint of the row (CONTENT, DESCRIPTION, DATE, PRIORITY as written), for
    /// telling a re-imported row from a new one.
    pub fingerprint: String,
}

/// Column positions of the header.
struct Columns {
    kind: usize,
    content: usize,
    description: Option<usize>,
    priority: Option<usize>,
    indent: Option<usize>,
    date: Option<usize>,
    deadline: Option<usize>,
    duration: Option<usize>,
    duration_unit: Option<usize>,
}

/// Reads one project's file as of `now` (the user's local time, which dates are read in).
/// A file that is not CSV, lacks Todoist's TYPE and CONTENT columns or holds more than
/// [`super::MAX_IMPORT_TASKS`] tasks is refused; otherwise every bad row is reported at once,
/// each named `line[n]` or `line[n].column`.
pub fn parse(csv: &[u8], now: DateTime<Tz>) -> Result<TodoistFile> {
    // Spreadsheet programs save CSV with a byte-order mark, which would hide the TYPE column.
    let csv = csv.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv);
    let unreadable = |e: csv::Error| match e.position() {
        Some(at) => Error::invalid(
            format!("line[{}]", Lines::new(csv).at(at.byte())),
            format!("is not readable CSV: {e}"),
        ),
        None => Error::invalid("csv", format!("not a readable CSV file: {e}")),
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(csv);
    let headers: Vec<String> = reader
        .headers()
        .map_err(unreadable)?
        .iter()
        .map(|h| h.trim().to_ascii_uppercase())
        .collect();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(kind), Some(content)) = (column("TYPE"), column("CONTENT")) else {
        return Err(Error::invalid(
            "csv",
            "expected Todoist's columns TYPE and CONTENT in the first line",
        ));
    };
    let columns = Columns {
        kind,
        content,
        description: column("DESCRIPTION"),
        priority: column("PRIORITY"),
        indent: column("INDENT"),
        date: column("DATE"),
        deadline: column("DEADLINE"),
        duration: column("DURATION"),
        duration_unit: column("DURATION_UNIT"),
    };

    let mut lines = Lines::new(csv);
    let mut file = TodoistFile::default();
    // Per task, the paragraphs that follow its notes (deadline, duration, an unread date).
    let mut trailers: Vec<Vec<String>> = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut section: Option<usize> = None;
    // The open ancestors: `ancestors[d]` is the last task at INDENT d + 1.
    let mut ancestors: Vec<usize> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(unreadable)?;
        let line = record.position().map_or(0, |at| lines.at(at.byte()));
        // Quoted line breaks are kept as `\n` whatever the file's line ends.
        let field = |at: Option<usize>| {
            at.and_then(|i| record.get(i))
                .unwrap_or_default()
                .trim()
                .replace("\r\n", "\n")
        };
        let text = field(Some(columns.content));
        match field(Some(columns.kind)).to_ascii_lowercase().as_str() {
            "section" => {
                // A section starts a new outline: its first task is a top-level one.
                ancestors.clear();
                section = (!text.is_empty()).then(|| {
                    file.sections.push(text);
                    file.sections.len() - 1
                });
            }
            // A note is a comment on the task above it: kept in that task's description.
            "note" => {
                if let Some(task) = file.tasks.last_mut()
                    && !text.is_empty()
                {
                    push_paragraph(&mut task.description, &text);
                }
            }
            "task" => {
                if file.tasks.len() == super::MAX_IMPORT_TASKS {
                    return Err(super::too_many());
                }
                let at = file.tasks.len();
                let depth = match indent(&field(columns.indent)) {
                    Ok(depth) if depth <= ancestors.len() + 1 => depth,
                    Ok(depth) => {
                        errors.push(FieldError::new(
                            format!("line[{line}].indent"),
                            format!(
                                "INDENT {depth} is more than one deeper than the task above \
                                 (a subtask is one level below its parent)"
                            ),
                        ));
                        ancestors.len() + 1
                    }
                    Err(message) => {
                        errors.push(FieldError::new(format!("line[{line}].indent"), message));
                        ancestors.len() + 1
                    }
                };
                ancestors.truncate(depth - 1);
                let parent = ancestors.last().copied();
                ancestors.push(at);
                let priority_text = field(columns.priority);
                let priority = priority(&priority_text).unwrap_or_else(|message| {
                    errors.push(FieldError::new(format!("line[{line}].priority"), message));
                    Priority::None
                });
                let description = field(columns.description);
                let date = field(columns.date);
                let fingerprint = super::fingerprint(&[&text, &description, &date, &priority_text]);
                let (read, trailer) = task(Row {
                    line,
                    content: &text,
                    description,
                    date: &date,
                    deadline: &field(columns.deadline),
                    duration: &field(columns.duration),
                    duration_unit: &field(columns.duration_unit),
                    now,
                });
                file.tasks.push(TodoistTask {
                    priority,
                    section,
                    parent,
                    fingerprint,
                    ..read
                });
                trailers.push(trailer);
            }
            // Empty rows (Todoist separates tasks with them) and unknown kinds.
            _ => {}
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    for (task, trailer) in file.tasks.iter_mut().zip(trailers) {
        for paragraph in trailer {
            push_paragraph(&mut task.description, &paragraph);
        }
    }
    Ok(file)
}

/// Line numbers from the reader's byte offsets, counted once through the file. (The reader's
/// own line numbers run one short on CRLF files, whose records it starts at the `\n`.)
struct Lines<'a> {
    csv: &'a [u8],
    counted_to: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(csv: &'a [u8]) -> Self {
        Self {
            csv,
            counted_to: 0,
            line: 1,
        }
    }

    /// The line of the first character at or after `byte` that ends no line (a record read
    /// from `byte` may start with the end of the line before, or with empty lines).
    fn at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte).map_or(self.csv.len(), |b| b.min(self.csv.len()));
        while matches!(self.csv.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.counted_to {
            *self = Self::new(self.csv);
        }
        let newlines = self.csv[self.counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.line += newlines as u64;
        self.counted_to = start;
        self.line
    }
}

fn push_paragraph(description: &mut String, paragraph: &str) {
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(paragraph);
}

/// INDENT: 1 for a top-level task (also when empty), 2 for its subtask, and so on.
fn indent(raw: &str) -> std::result::Result<usize, String> {
    if raw.is_empty() {
        return Ok(1);
    }
    raw.parse::<usize>()
        .ok()
        .filter(|depth| *depth >= 1)
        .ok_or_else(|| format!("INDENT {raw:?} must be a whole number from 1 (top level)"))
}

/// PRIORITY 1 is p1 (urgent) … 4 is p4 (no priority); empty is no priority.
fn priority(raw: &str) -> std::result::Result<Priority, String> {
    match raw {
        "1" => Ok(Priority::Urgent),
        "2" => Ok(Priority::High),
        "3" => Ok(Priority::Medium),
        "4" | "" => Ok(Priority::None),
        other => Err(format!(
            "PRIORITY {other:?} must be 1 (p1, highest) to 4 (p4)"
        )),
    }
}

/// The fields of a task row that make its content.
struct Row<'a> {
    line: u64,
    content: &'a str,
    description: String,
    date: &'a str,
    deadline: &'a str,
    duration: &'a str,
    duration_unit: &'a str,
    now: DateTime<Tz>,
}

/// One task row, and the paragraphs that go after its notes. Nothing is dropped: an over-long
/// title is kept whole in the description, and so is what has no field (deadline, duration, a
/// DATE we cannot read exactly).
fn task(row: Row<'_>) -> (TodoistTask, Vec<String>) {
    let mut labels = Vec::new();
    let mut words = Vec::new();
    for word in row.content.split_whitespace() {
        match word.strip_prefix('@').filter(|label| !label.is_empty()) {
            Some(label) => labels.push(label.to_owned()),
            None => words.push(word),
        }
    }
    let mut title = words.join(" ");
    let mut description = String::new();
    if title.chars().count() > TITLE_MAX_CHARS {
        push_paragraph(&mut description, &title);
        title = title.chars().take(TITLE_MAX_CHARS - 1).collect::<String>() + "…";
    }
    if !row.description.is_empty() {
        push_paragraph(&mut description, &row.description);
    }

    let mut trailer = Vec::new();
    if !row.deadline.is_empty() {
        trailer.push(format!("Deadline: {}", row.deadline));
    }
    if !row.duration.is_empty() {
        trailer.push(format!(
            "Duration: {}",
            duration(row.duration, row.duration_unit)
        ));
    }
    let mut due = Due::None;
    let mut recurrence = None;
    let mut recurrence_mode = RecurrenceMode::Due;
    if !row.date.is_empty() {
        // Only a DATE read whole counts: a phrase partly read ("every! 3rd weekday") could
        // give a wrong rule or day, so it is kept as written instead.
        let read = quick::parse(row.date, row.now, &[]);
        if read.title.is_empty() {
            due = read.due;
            recurrence = read.recurrence;
            recurrence_mode = read.recurrence_mode;
        } else if is_recurring(row.date) {
            trailer.push(format!("Repeats: {}", row.date));
        } else {
            trailer.push(format!("Todoist date: {}", row.date));
        }
    }
    let task = TodoistTask {
        line: row.line,
        title,
        description,
        priority: Priority::None,
        due,
        recurrence,
        recurrence_mode,
        section: None,
        parent: None,
        labels,
        fingerprint: String::new(),
    };
    (task, trailer)
}

/// Whether a DATE Todoist wrote is a recurring one ("every …", "every! …", "daily").
fn is_recurring(date: &str) -> bool {
    const RECURRING: [&str; 9] = [
        "every", "every!", "everyday", "daily", "weekly", "biweekly", "monthly", "yearly",
        "annually",
    ];
    date.split_whitespace().any(|word| {
        let word = word.trim_end_matches([',', '.', ';']).to_lowercase();
        RECURRING.contains(&word.as_str())
    })
}

/// "30 minutes", "1 minute", "2 days" from DURATION and DURATION_UNIT (`minute` or `day`).
fn duration(amount: &str, unit: &str) -> String {
    let unit = if unit.is_empty() { "minute" } else { unit };
    let unit = unit.trim_end_matches('s');
    if amount == "1" {
        format!("{amount} {unit}")
    } else {
        format!("{amount} {unit}s")
    }
}

#[cfg(test)]
mod tests;
