use chrono::{DateTime, TimeZone};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;

/// Monday 2026-11-23, 10:00 in Paris (UTC+1).
fn now() -> DateTime<Tz> {
    chrono_tz::Europe::Paris
        .with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
        .single()
        .expect("valid time")
}

fn describe(due: &Due) -> String {
    match due {
        Due::None => "none".into(),
        Due::Date(date) => format!("date {date}"),
        Due::At(at) => format!("at {}", at.format("%Y-%m-%dT%H:%MZ")),
    }
}

/// Text, then the title, due, priority, tags and rule it must give.
type Phrase = (
    &'static str,
    &'static str,
    &'static str,
    Option<Priority>,
    &'static [&'static str],
    &'static str,
);

const PHRASES: &[Phrase] = &[
    ("Buy milk", "Buy milk", "none", None, &[], ""),
    (
        "Pay rent on the 1st every month !high #home",
        "Pay rent",
        "date 2026-12-01",
        Some(Priority::High),
        &["home"],
        "FREQ=MONTHLY;BYMONTHDAY=1",
    ),
    (
        "Pay rent every month on the 1st",
        "Pay rent",
        "date 2026-12-01",
        None,
        &[],
        "FREQ=MONTHLY;BYMONTHDAY=1",
    ),
    (
        "call mom tomorrow 6pm",
        "call mom",
        "at 2026-11-24T17:00Z",
        None,
        &[],
        "",
    ),
    (
        "report due fri 17:00 #work !urgent",
        "report",
        "at 2026-11-27T16:00Z",
        Some(Priority::Urgent),
        &["work"],
        "",
    ),
    (
        "Call mom tomorrow 6pm every sunday #family !high",
        "Call mom",
        "at 2026-11-24T17:00Z",
        Some(Priority::High),
        &["family"],
        "FREQ=WEEKLY;BYDAY=SU",
    ),
    (
        "Water plants every day",
        "Water plants",
        "date 2026-11-23",
        None,
        &[],
        "FREQ=DAILY",
    ),
    (
        "Standup every weekday at 9:30",
        "Standup",
        "at 2026-11-24T08:30Z",
        None,
        &[],
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    ),
    (
        "Team sync every mon, wed and fri",
        "Team sync",
        "date 2026-11-23",
        None,
        &[],
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    ),
    (
        "Book club every 2nd tuesday",
        "Book club",
        "date 2026-12-08",
        None,
        &[],
        "FREQ=MONTHLY;BYDAY=2TU",
    ),
    (
        "Payday every last friday",
        "Payday",
        "date 2026-11-27",
        None,
        &[],
        "FREQ=MONTHLY;BYDAY=-1FR",
    ),
    (
        "Invoice every 15th",
        "Invoice",
        "date 2026-12-15",
        None,
        &[],
        "FREQ=MONTHLY;BYMONTHDAY=15",
    ),
    (
        "Gym every other day",
        "Gym",
        "date 2026-11-23",
        None,
        &[],
        "FREQ=DAILY;INTERVAL=2",
    ),
    (
        "Backup every 2 weeks",
        "Backup",
        "date 2026-11-23",
        None,
        &[],
        "FREQ=WEEKLY;INTERVAL=2",
    ),
    (
        "Renew domain yearly",
        "Renew domain",
        "date 2026-11-23",
        None,
        &[],
        "FREQ=YEARLY",
    ),
    (
        "Submit timesheet weekly on friday",
        "Submit timesheet",
        "date 2026-11-27",
        None,
        &[],
        "FREQ=WEEKLY;BYDAY=FR",
    ),
    (
        "Clean gutters every weekend",
        "Clean gutters",
        "date 2026-11-28",
        None,
        &[],
        "FREQ=WEEKLY;BYDAY=SA,SU",
    ),
    (
        "Anniversary every year on dec 12",
        "Anniversary",
        "date 2026-12-12",
        None,
        &[],
        "FREQ=YEARLY",
    ),
    (
        "Biweekly sync",
        "sync",
        "date 2026-11-23",
        None,
        &[],
        "FREQ=WEEKLY;INTERVAL=2",
    ),
    (
        "Monthly report",
        "report",
        "date 2026-11-23",
        None,
        &[],
        "FREQ=MONTHLY",
    ),
    (
        "Dentist dec 5 at 3pm",
        "Dentist",
        "at 2026-12-05T14:00Z",
        None,
        &[],
        "",
    ),
    (
        "Flight 2026-12-20",
        "Flight",
        "date 2026-12-20",
        None,
        &[],
        "",
    ),
    (
        "Christmas shopping by december 20th",
        "Christmas shopping",
        "date 2026-12-20",
        None,
        &[],
        "",
    ),
    (
        "Tax return 15th of april",
        "Tax return",
        "date 2027-04-15",
        None,
        &[],
        "",
    ),
    ("Party 5 jan", "Party", "date 2027-01-05", None, &[], ""),
    ("Vote on the 3rd", "Vote", "date 2026-12-03", None, &[], ""),
    (
        "Read book in 3 days",
        "Read book",
        "date 2026-11-26",
        None,
        &[],
        "",
    ),
    (
        "Follow up in a week",
        "Follow up",
        "date 2026-11-30",
        None,
        &[],
        "",
    ),
    (
        "Check oven in 30 minutes",
        "Check oven",
        "at 2026-11-23T09:30Z",
        None,
        &[],
        "",
    ),
    (
        "Call back in 2 hours",
        "Call back",
        "at 2026-11-23T11:00Z",
        None,
        &[],
        "",
    ),
    (
        "Plan trip next week",
        "Plan trip",
        "date 2026-11-30",
        None,
        &[],
        "",
    ),
    (
        "Review next friday",
        "Review",
        "date 2026-12-04",
        None,
        &[],
        "",
    ),
    (
        "Budget next month",
        "Budget",
        "date 2026-12-01",
        None,
        &[],
        "",
    ),
    (
        "Wednesday meeting notes",
        "meeting notes",
        "date 2026-11-25",
        None,
        &[],
        "",
    ),
    (
        "Lunch at noon",
        "Lunch",
        "at 2026-11-23T11:00Z",
        None,
        &[],
        "",
    ),
    (
        "Stretch at 9",
        "Stretch",
        "at 2026-11-24T08:00Z",
        None,
        &[],
        "",
    ),
    (
        "Meeting at 6 pm",
        "Meeting",
        "at 2026-11-23T17:00Z",
        None,
        &[],
        "",
    ),
    (
        "Movie tonight",
        "Movie",
        "at 2026-11-23T19:00Z",
        None,
        &[],
        "",
    ),
    (
        "Groceries today #errands",
        "Groceries",
        "date 2026-11-23",
        None,
        &["errands"],
        "",
    ),
    (
        "Ship v2.0 on 2026-12-01 at 14:30 #release",
        "Ship v2.0",
        "at 2026-12-01T13:30Z",
        None,
        &["release"],
        "",
    ),
    (
        "Fix bug p1",
        "Fix bug",
        "none",
        Some(Priority::Urgent),
        &[],
        "",
    ),
    (
        "Email Bob !2",
        "Email Bob",
        "none",
        Some(Priority::High),
        &[],
        "",
    ),
    (
        "Low thing !low",
        "Low thing",
        "none",
        Some(Priority::Low),
        &[],
        "",
    ),
    (
        "Tag dupes #a #A #b",
        "Tag dupes",
        "none",
        None,
        &["a", "b"],
        "",
    ),
    (
        "Meet at the cafe",
        "Meet at the cafe",
        "none",
        None,
        &[],
        "",
    ),
    (
        "Write on the whiteboard",
        "Write on the whiteboard",
        "none",
        None,
        &[],
        "",
    ),
    ("Due diligence", "Due diligence", "none", None, &[], ""),
    (
        "in the morning jog",
        "in the morning jog",
        "none",
        None,
        &[],
        "",
    ),
    (
        "Price is 5 dollars",
        "Price is 5 dollars",
        "none",
        None,
        &[],
        "",
    ),
    ("Buy 2 apples", "Buy 2 apples", "none", None, &[], ""),
    (
        "#home #work !high",
        "",
        "none",
        Some(Priority::High),
        &["home", "work"],
        "",
    ),
];

#[test]
fn the_phrase_table_reads_as_people_mean_it() {
    assert!(PHRASES.len() >= 40);
    for &(text, title, due, priority, tags, rule) in PHRASES {
        let task = parse(text, now(), &[]);
        assert_eq!(task.title, title, "title of {text:?}");
        assert_eq!(describe(&task.due), due, "due of {text:?}");
        assert_eq!(task.priority, priority, "priority of {text:?}");
        assert_eq!(task.tags, tags, "tags of {text:?}");
        let got = task.recurrence.map(|r| r.to_string()).unwrap_or_default();
        assert_eq!(got, rule, "recurrence of {text:?}");
    }
}

#[test]
fn times_are_read_in_the_users_zone_across_daylight_saving() {
    // New York springs forward on 2027-03-14: 2:30 does not exist that day.
    let tz = chrono_tz::America::New_York;
    let saturday = tz
        .with_ymd_and_hms(2027, 3, 13, 12, 0, 0)
        .single()
        .expect("valid");
    let task = parse("early call tomorrow 2:30am", saturday, &[]);
    assert_eq!(
        describe(&task.due),
        "at 2027-03-14T07:30Z",
        "moved to 3:30 EDT"
    );
    let task = parse("lunch tomorrow 12:00", saturday, &[]);
    assert_eq!(
        describe(&task.due),
        "at 2027-03-14T16:00Z",
        "noon EDT is 16:00 UTC"
    );
}

#[test]
fn every_rule_the_parser_writes_is_a_valid_rule() {
    for &(text, ..) in PHRASES {
        if let Some(rule) = parse(text, now(), &[]).recurrence {
            let text = rule.to_string();
            assert_eq!(
                crate::recurrence::parse_rule(&text).as_deref(),
                Ok(text.as_str())
            );
        }
    }
}

/// Words the parser reads as dates, times, rules or priorities.
const VOCABULARY: &[&str] = &[
    "today", "tod", "tonight", "tomorrow", "tmr", "tmrw", "tomorow", "next", "this", "in", "the",
    "on", "at", "due", "by", "before", "every", "daily", "weekly", "biweekly", "monthly", "yearly",
    "annually", "noon", "am", "pm", "of", "and", "remind", "me", "starting", "until", "other",
    "last", "end", "weekday",
];

fn is_plain_word(word: &str) -> bool {
    let key = word.trim_end_matches(TRAILING).to_lowercase();
    !key.starts_with(['#', '@', '/'])
        && !VOCABULARY.contains(&key.as_str())
        && unit(&key).is_none()
        && weekday(&key).is_none()
        && month(&key).is_none()
        && day_number(&key).is_none()
        && parse_priority(&key).is_none()
        && compact_span(&key).is_none()
        && clock(&key).is_none()
        && NaiveDate::parse_from_str(&key, "%Y-%m-%d").is_err()
}

proptest! {
    #[test]
    fn the_parser_never_panics(text in "\\PC{0,80}") {
        let task = parse(&text, now(), &[]);
        prop_assert!(task.title.len() <= text.len());
    }

    #[test]
    fn plain_words_all_stay_in_the_title_in_order(
        words in proptest::collection::vec("[A-Za-z][a-z]{0,8}", 1..8),
        extras in proptest::collection::vec(prop_oneof![
            Just("tomorrow"), Just("#home"), Just("!high"), Just("every monday"), Just("at 6pm"),
            Just("next week"), Just("in 3 days"), Just("on the 1st"), Just("dec 5"), Just("p2"),
        ], 0..4),
        seed in any::<u64>(),
    ) {
        let plain: Vec<&String> = words.iter().filter(|w| is_plain_word(w)).collect();
        // Interleave the extras between the plain words at positions picked from the seed.
        let mut parts: Vec<String> = plain.iter().map(|w| (*w).clone()).collect();
        for (n, extra) in extras.iter().enumerate() {
            let at = usize::try_from((seed >> (n * 8)) % (parts.len() as u64 + 1)).unwrap_or(0);
            parts.insert(at, (*extra).to_owned());
        }
        let task = parse(&parts.join(" "), now(), &[]);
        // Every plain word is kept, in order (a repeated date phrase may stay in the title too).
        let kept: Vec<&str> = task.title.split_whitespace().filter(|w| is_plain_word(w)).collect();
        let expected: Vec<&str> = plain.iter().map(|w| w.as_str()).collect();
        prop_assert_eq!(kept, expected);
    }
}

/// One phrase in Todoist's grammar and what it must give (`BLANK` is "nothing").
struct Todoist {
    text: &'static str,
    title: &'static str,
    due: &'static str,
    priority: Option<Priority>,
    tags: &'static [&'static str],
    rule: &'static str,
    from_completion: bool,
    project: Option<&'static str>,
    section: Option<&'static str>,
    /// `before <minutes>` or `at <UTC moment>`.
    reminders: &'static [&'static str],
}

const BLANK: Todoist = Todoist {
    text: "",
    title: "",
    due: "none",
    priority: None,
    tags: &[],
    rule: "",
    from_completion: false,
    project: None,
    section: None,
    reminders: &[],
};

/// The user's projects in the Todoist table.
const PROJECTS: &[&str] = &["Family", "Home Improvement", "Home", "Work"];

const TODOIST: &[Todoist] = &[
    Todoist {
        text: "Call mom tomorrow 6pm every sunday #Family @phone p1 remind me 30 min before",
        title: "Call mom",
        due: "at 2026-11-24T17:00Z",
        priority: Some(Priority::Urgent),
        tags: &["phone"],
        rule: "FREQ=WEEKLY;BYDAY=SU",
        project: Some("Family"),
        reminders: &["before 30"],
        ..BLANK
    },
    Todoist {
        text: "Call mom tomorrow 6pm every sunday #family @phone p1 remind me 30 min before",
        title: "Call mom",
        due: "at 2026-11-24T17:00Z",
        priority: Some(Priority::Urgent),
        tags: &["phone"],
        rule: "FREQ=WEEKLY;BYDAY=SU",
        project: Some("Family"),
        reminders: &["before 30"],
        ..BLANK
    },
    Todoist {
        text: "Fix sink #Home Improvement /Plumbing",
        title: "Fix sink",
        project: Some("Home Improvement"),
        section: Some("Plumbing"),
        ..BLANK
    },
    Todoist {
        text: "Fix sink #home",
        title: "Fix sink",
        project: Some("Home"),
        ..BLANK
    },
    Todoist {
        text: "Fix sink #Home improvements",
        title: "Fix sink improvements",
        project: Some("Home"),
        ..BLANK
    },
    Todoist {
        text: "Read #books",
        title: "Read",
        tags: &["books"],
        ..BLANK
    },
    Todoist {
        text: "Read #Family.",
        title: "Read",
        project: Some("Family"),
        ..BLANK
    },
    Todoist {
        text: "Plan #work #Family",
        title: "Plan",
        tags: &["Family"],
        project: Some("Work"),
        ..BLANK
    },
    Todoist {
        text: "Buy paint @hardware @Hardware",
        title: "Buy paint",
        tags: &["hardware"],
        ..BLANK
    },
    Todoist {
        text: "Email bob@example.com",
        title: "Email bob@example.com",
        ..BLANK
    },
    Todoist {
        text: "Taxes p2",
        title: "Taxes",
        priority: Some(Priority::High),
        ..BLANK
    },
    Todoist {
        text: "Taxes P3",
        title: "Taxes",
        priority: Some(Priority::Medium),
        ..BLANK
    },
    Todoist {
        text: "Taxes p4",
        title: "Taxes",
        priority: Some(Priority::None),
        ..BLANK
    },
    Todoist {
        text: "Taxes !4",
        title: "Taxes",
        priority: Some(Priority::Low),
        ..BLANK
    },
    Todoist {
        text: "Version p5",
        title: "Version p5",
        ..BLANK
    },
    Todoist {
        text: "Standup every weekday 9am remind me 10 min before",
        title: "Standup",
        due: "at 2026-11-24T08:00Z",
        rule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
        reminders: &["before 10"],
        ..BLANK
    },
    Todoist {
        text: "Pay bills every other monday",
        title: "Pay bills",
        due: "date 2026-11-23",
        rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        ..BLANK
    },
    Todoist {
        text: "Water plants every other monday and thursday",
        title: "Water plants",
        due: "date 2026-11-23",
        rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
        ..BLANK
    },
    Todoist {
        text: "Visit grandma every other week",
        title: "Visit grandma",
        due: "date 2026-11-23",
        rule: "FREQ=WEEKLY;INTERVAL=2",
        ..BLANK
    },
    Todoist {
        text: "Team lunch every other friday at noon",
        title: "Team lunch",
        due: "at 2026-11-27T11:00Z",
        rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
        ..BLANK
    },
    Todoist {
        text: "Rent every month on the last day",
        title: "Rent",
        due: "date 2026-11-30",
        rule: "FREQ=MONTHLY;BYMONTHDAY=-1",
        ..BLANK
    },
    Todoist {
        text: "Rent every last day of the month",
        title: "Rent",
        due: "date 2026-11-30",
        rule: "FREQ=MONTHLY;BYMONTHDAY=-1",
        ..BLANK
    },
    Todoist {
        text: "Gym every mon wed fri",
        title: "Gym",
        due: "date 2026-11-23",
        rule: "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        ..BLANK
    },
    Todoist {
        text: "Water plants every 3 days",
        title: "Water plants",
        due: "date 2026-11-23",
        rule: "FREQ=DAILY;INTERVAL=3",
        ..BLANK
    },
    Todoist {
        text: "Water plants every! 3 days",
        title: "Water plants",
        due: "date 2026-11-23",
        rule: "FREQ=DAILY;INTERVAL=3",
        from_completion: true,
        ..BLANK
    },
    Todoist {
        text: "Take out trash every! week",
        title: "Take out trash",
        due: "date 2026-11-23",
        rule: "FREQ=WEEKLY",
        from_completion: true,
        ..BLANK
    },
    Todoist {
        text: "Backup every 3rd day",
        title: "Backup",
        due: "date 2026-11-23",
        rule: "FREQ=DAILY;INTERVAL=3",
        ..BLANK
    },
    Todoist {
        text: "Review every monday starting jan 5",
        title: "Review",
        due: "date 2027-01-11",
        rule: "FREQ=WEEKLY;BYDAY=MO",
        ..BLANK
    },
    Todoist {
        text: "Advent every day starting on dec 1 until dec 24",
        title: "Advent",
        due: "date 2026-12-01",
        rule: "FREQ=DAILY;UNTIL=20261224",
        ..BLANK
    },
    Todoist {
        text: "Renew every year until 2030-01-01",
        title: "Renew",
        due: "date 2026-11-23",
        rule: "FREQ=YEARLY;UNTIL=20300101",
        ..BLANK
    },
    Todoist {
        text: "Invoice every 15th of the month",
        title: "Invoice",
        due: "date 2026-12-15",
        rule: "FREQ=MONTHLY;BYMONTHDAY=15",
        ..BLANK
    },
    Todoist {
        text: "Book club every 2nd tuesday of the month",
        title: "Book club",
        due: "date 2026-12-08",
        rule: "FREQ=MONTHLY;BYDAY=2TU",
        ..BLANK
    },
    Todoist {
        text: "Pay invoice every 1st p2 #Work",
        title: "Pay invoice",
        due: "date 2026-12-01",
        priority: Some(Priority::High),
        rule: "FREQ=MONTHLY;BYMONTHDAY=1",
        project: Some("Work"),
        ..BLANK
    },
    Todoist {
        text: "Stretch daily at 7am remind me 5 min before",
        title: "Stretch",
        due: "at 2026-11-24T06:00Z",
        rule: "FREQ=DAILY",
        reminders: &["before 5"],
        ..BLANK
    },
    // Rules our RRULE subset cannot say stay in the title whole.
    Todoist {
        text: "Clean every! 3rd weekday",
        title: "Clean every! 3rd weekday",
        ..BLANK
    },
    Todoist {
        text: "Sweep daily every 3rd weekday",
        title: "Sweep every 3rd weekday",
        due: "date 2026-11-23",
        rule: "FREQ=DAILY",
        ..BLANK
    },
    Todoist {
        text: "Report every 2 business days",
        title: "Report every 2 business days",
        ..BLANK
    },
    Todoist {
        text: "Sync every hour",
        title: "Sync every hour",
        ..BLANK
    },
    Todoist {
        text: "Payday every last friday of march",
        title: "Payday every last friday of march",
        ..BLANK
    },
    Todoist {
        text: "Meds every 6th tuesday",
        title: "Meds every 6th tuesday",
        ..BLANK
    },
    Todoist {
        text: "Movie tonight at 10pm",
        title: "Movie",
        due: "at 2026-11-23T21:00Z",
        ..BLANK
    },
    Todoist {
        text: "Budget end of month",
        title: "Budget",
        due: "date 2026-11-30",
        ..BLANK
    },
    Todoist {
        text: "Plan the last day of trip",
        title: "Plan the last day of trip",
        ..BLANK
    },
    Todoist {
        text: "Wait until friday",
        title: "Wait until",
        due: "date 2026-11-27",
        ..BLANK
    },
    Todoist {
        text: "Diet starting monday",
        title: "Diet starting",
        due: "date 2026-11-23",
        ..BLANK
    },
    Todoist {
        text: "Party in 3 days #Family",
        title: "Party",
        due: "date 2026-11-26",
        project: Some("Family"),
        ..BLANK
    },
    Todoist {
        text: "Groceries next week /Errands @shop",
        title: "Groceries",
        due: "date 2026-11-30",
        tags: &["shop"],
        section: Some("Errands"),
        ..BLANK
    },
    Todoist {
        text: "Check /etc/hosts",
        title: "Check /etc/hosts",
        ..BLANK
    },
    Todoist {
        text: "Call dad remind me 30 min before",
        title: "Call dad remind me 30 min before",
        ..BLANK
    },
    Todoist {
        text: "Call dad tomorrow remind me at 9am",
        title: "Call dad",
        due: "date 2026-11-24",
        reminders: &["at 2026-11-24T08:00Z"],
        ..BLANK
    },
    Todoist {
        text: "Call dad remind me at 5pm",
        title: "Call dad",
        reminders: &["at 2026-11-23T16:00Z"],
        ..BLANK
    },
    Todoist {
        text: "Dentist dec 5 3pm remind me 1 hour before remind me 1 day before",
        title: "Dentist",
        due: "at 2026-12-05T14:00Z",
        reminders: &["before 60", "before 1440"],
        ..BLANK
    },
    Todoist {
        text: "Dentist friday remind me 2h before",
        title: "Dentist",
        due: "date 2026-11-27",
        reminders: &["before 120"],
        ..BLANK
    },
    Todoist {
        text: "Remind me later remind me 30 min before tomorrow",
        title: "Remind me later",
        due: "date 2026-11-24",
        reminders: &["before 30"],
        ..BLANK
    },
    Todoist {
        text: "Flight dec 24 2027 at 10:00",
        title: "Flight",
        due: "at 2027-12-24T09:00Z",
        ..BLANK
    },
    Todoist {
        text: "Passport 24 Dec 2025",
        title: "Passport",
        due: "date 2025-12-24",
        ..BLANK
    },
    Todoist {
        text: "Remind me to call",
        title: "Remind me to call",
        ..BLANK
    },
];

fn describe_reminder(reminder: &NewReminder) -> String {
    match reminder {
        NewReminder::Before(minutes) => format!("before {minutes}"),
        NewReminder::At(at) => format!("at {}", at.format("%Y-%m-%dT%H:%MZ")),
    }
}

#[test]
fn todoists_grammar_reads_as_todoist_users_mean_it() {
    assert!(TODOIST.len() >= 40);
    for row in TODOIST {
        let text = row.text;
        let task = parse(text, now(), PROJECTS);
        assert_eq!(task.title, row.title, "title of {text:?}");
        assert_eq!(describe(&task.due), row.due, "due of {text:?}");
        assert_eq!(task.priority, row.priority, "priority of {text:?}");
        assert_eq!(task.tags, row.tags, "tags of {text:?}");
        let rule = task.recurrence.map(|r| r.to_string()).unwrap_or_default();
        assert_eq!(rule, row.rule, "recurrence of {text:?}");
        let mode = if row.from_completion {
            RecurrenceMode::Completion
        } else {
            RecurrenceMode::Due
        };
        assert_eq!(task.recurrence_mode, mode, "recurrence mode of {text:?}");
        assert_eq!(task.project.as_deref(), row.project, "project of {text:?}");
        assert_eq!(task.section.as_deref(), row.section, "section of {text:?}");
        let reminders: Vec<String> = task.reminders.iter().map(describe_reminder).collect();
        assert_eq!(reminders, row.reminders, "reminders of {text:?}");
    }
}

#[test]
fn tonight_is_never_in_the_past() {
    let paris = chrono_tz::Europe::Paris;
    let at = |h, m| {
        paris
            .with_ymd_and_hms(2026, 11, 23, h, m, 0)
            .single()
            .expect("valid")
    };
    let cases = [
        ((19, 59), "at 2026-11-23T19:00Z"),
        ((20, 0), "at 2026-11-23T20:00Z"),
        ((21, 30), "at 2026-11-23T21:00Z"),
        ((23, 30), "at 2026-11-23T23:00Z"),
    ];
    for ((h, m), expected) in cases {
        let now = at(h, m);
        let task = parse("Movie tonight", now, &[]);
        assert_eq!(describe(&task.due), expected, "tonight at {h}:{m:02}");
        if let Due::At(moment) = task.due {
            assert!(moment > now.with_timezone(&Utc), "tonight at {h}:{m:02}");
        }
    }
}

#[test]
fn without_projects_a_hash_word_is_a_tag_as_before() {
    let task = parse("Call mom #Family @phone", now(), &[]);
    assert_eq!(task.project, None);
    assert_eq!(task.tags, ["Family", "phone"]);
}

/// Phrases that may combine into rules, for the round-trip property.
const RULE_WORDS: &[&str] = &[
    "every",
    "every!",
    "other",
    "last",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "year",
    "mon",
    "tue",
    "fri",
    "sunday",
    "and",
    "2nd",
    "3rd",
    "15th",
    "31st",
    "first",
    "weekday",
    "of",
    "the",
    "each",
    "3",
    "2",
    "a",
    "starting",
    "until",
    "on",
    "jan",
    "5",
    "dec",
    "2027-02-29",
    "tomorrow",
    "daily",
    "biweekly",
    "hour",
    "business",
    "at",
    "9am",
    "end",
];

proptest! {
    #[test]
    fn the_parser_never_panics_with_projects(
        text in "\\PC{0,80}",
        projects in proptest::collection::vec("\\PC{0,12}", 0..4),
    ) {
        let names: Vec<&str> = projects.iter().map(String::as_str).collect();
        let task = parse(&text, now(), &names);
        prop_assert!(task.title.len() <= text.len());
        if let Some(project) = task.project {
            prop_assert!(projects.contains(&project));
        }
    }

    #[test]
    fn every_rule_read_round_trips_through_its_text(
        words in proptest::collection::vec(proptest::sample::select(RULE_WORDS), 1..8),
    ) {
        let text = format!("Task {}", words.join(" "));
        if let Some(rule) = parse(&text, now(), &[]).recurrence {
            let written = rule.to_string();
            let read: Result<Recurrence, String> = written.parse();
            prop_assert_eq!(read, Ok(rule), "{} from {:?}", written, text);
        }
    }

    #[test]
    fn a_hash_word_that_names_no_project_is_a_tag(
        word in "[a-z][a-z0-9]{0,11}",
        projects in proptest::collection::vec("[a-z]{1,8}( [a-z]{1,8})?", 0..5),
    ) {
        let names: Vec<&str> = projects.iter().map(String::as_str).filter(|p| *p != word).collect();
        let task = parse(&format!("Do it #{word}"), now(), &names);
        prop_assert_eq!(task.project, None);
        prop_assert_eq!(task.tags, vec![word]);
        prop_assert_eq!(task.title, "Do it");
    }

    #[test]
    fn a_project_is_picked_by_its_name_in_any_case(
        name in "[A-Za-z]{1,10}( [A-Za-z]{1,10}){0,2}",
        flips in any::<u32>(),
    ) {
        let typed: String = name
            .chars()
            .enumerate()
            .map(|(n, c)| if flips >> (n % 32) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let task = parse(&format!("Do it #{typed} tomorrow"), now(), &[name.as_str(), "Other"]);
        prop_assert_eq!(task.project.as_deref(), Some(name.as_str()));
        prop_assert_eq!(task.title, "Do it");
        prop_assert_eq!(describe(&task.due), "date 2026-11-24");
    }

    #[test]
    fn plain_words_stay_in_the_title_among_todoists_grammar(
        words in proptest::collection::vec("[A-Za-z][a-z]{0,8}", 1..8),
        extras in proptest::collection::vec(prop_oneof![
            Just("#Family"), Just("@phone"), Just("/Errands"), Just("p1"), Just("p4"),
            Just("remind me 30 min before"), Just("remind me at 5pm"), Just("every! 3 days"),
            Just("every other monday"), Just("every month on the last day"),
            Just("every! 3rd weekday"), Just("tonight"),
        ], 0..4),
        seed in any::<u64>(),
    ) {
        let plain: Vec<&String> = words.iter().filter(|w| is_plain_word(w)).collect();
        let mut parts: Vec<String> = plain.iter().map(|w| (*w).clone()).collect();
        for (n, extra) in extras.iter().enumerate() {
            let at = usize::try_from((seed >> (n * 8)) % (parts.len() as u64 + 1)).unwrap_or(0);
            parts.insert(at, (*extra).to_owned());
        }
        let task = parse(&parts.join(" "), now(), PROJECTS);
        let kept: Vec<&str> = task.title.split_whitespace().filter(|w| is_plain_word(w)).collect();
        let expected: Vec<&str> = plain.iter().map(|w| w.as_str()).collect();
        prop_assert_eq!(kept, expected);
    }
}
