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
        let task = parse(text, now());
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
    let task = parse("early call tomorrow 2:30am", saturday);
    assert_eq!(
        describe(&task.due),
        "at 2027-03-14T07:30Z",
        "moved to 3:30 EDT"
    );
    let task = parse("lunch tomorrow 12:00", saturday);
    assert_eq!(
        describe(&task.due),
        "at 2027-03-14T16:00Z",
        "noon EDT is 16:00 UTC"
    );
}

#[test]
fn every_rule_the_parser_writes_is_a_valid_rule() {
    for &(text, ..) in PHRASES {
        if let Some(rule) = parse(text, now()).recurrence {
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
    "annually", "noon", "am", "pm", "of", "and",
];

fn is_plain_word(word: &str) -> bool {
    let key = word.to_lowercase();
    !VOCABULARY.contains(&key.as_str())
        && unit(&key).is_none()
        && weekday(&key).is_none()
        && month(&key).is_none()
        && day_number(&key).is_none()
        && parse_priority(&key).is_none()
        && clock(&key).is_none()
        && NaiveDate::parse_from_str(&key, "%Y-%m-%d").is_err()
}

proptest! {
    #[test]
    fn the_parser_never_panics(text in "\\PC{0,80}") {
        let task = parse(&text, now());
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
        let task = parse(&parts.join(" "), now());
        // Every plain word is kept, in order (a repeated date phrase may stay in the title too).
        let kept: Vec<&str> = task.title.split_whitespace().filter(|w| is_plain_word(w)).collect();
        let expected: Vec<&str> = plain.iter().map(|w| w.as_str()).collect();
        prop_assert_eq!(kept, expected);
    }
}
