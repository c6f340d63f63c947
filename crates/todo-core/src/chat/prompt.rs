//! What the model is told: the system prompt (who the user is, what time it is where they
//! are, how to behave) and as much recent history as fits a token budget.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Message;
use super::Role;

/// Rough size of text in tokens: about four characters each for English.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// The system prompt for `name` at `now`, read in `timezone` (IANA; UTC when unknown).
pub fn system_prompt(name: Option<&str>, timezone: &str, now: DateTime<Utc>) -> String {
    let tz: Tz = timezone.parse().unwrap_or(Tz::UTC);
    let local = now.with_timezone(&tz);
    let who = name.map_or_else(|| "the user".to_owned(), |n| n.to_owned());
    format!(
        "You are the assistant in {who}'s todo list. You manage their tasks with the tools \
         given, and nothing else.\n\
         Now it is {weekday} {date} {time} in {tz} (UTC{offset}). Read relative dates such as \
         \"tomorrow at 5\" or \"next friday\" in that time zone, and give `due_at` with that \
         offset ({offset}).\n\
         Rules:\n\
         - Act with the tools; never say you did something that no tool call did.\n\
         - After a change, confirm in one short sentence what you did, naming the task.\n\
         - Find task ids with list_tasks, project ids with list_projects and section ids \
         with list_sections; never guess an id.\n\
         - Completing a repeating task moves it to its next due: say so, not that it is \
         gone.\n\
         - When a request could mean more than one task (two tasks match \"the meeting \
         task\"), change nothing: list the matching tasks with their ids and ask which one.\n\
         - When a tool returns an error, fix the call if you can, else tell the user plainly.\n\
         - Answer briefly, in the user's language.",
        weekday = local.format("%A"),
        date = local.format("%Y-%m-%d"),
        time = local.format("%H:%M"),
        offset = local.format("%:z"),
    )
}

fn message_tokens(message: &Message) -> usize {
    let calls: usize = message
        .tool_calls
        .iter()
        .map(|c| estimate_tokens(&c.tool) + estimate_tokens(&c.arguments.to_string()))
        .sum();
    // A few tokens of framing per message.
    4 + estimate_tokens(&message.content) + calls
}

/// The most recent part of `history` (oldest first) that fits `budget` tokens. The last
/// message (the user's new one) is always kept; an assistant message that called tools is
/// kept or dropped together with the tool results that answer it, and the kept part never
/// starts with a tool result whose call was dropped.
pub fn fit_history(history: &[Message], budget: usize) -> &[Message] {
    let Some(last) = history.len().checked_sub(1) else {
        return history;
    };
    let mut start = last;
    let mut used = message_tokens(&history[last]);
    // Walk back one group at a time: a user message, or an assistant message with the
    // tool results that follow it.
    let mut group_end = last;
    while group_end > 0 {
        let mut group_start = group_end - 1;
        while group_start > 0 && history[group_start].role == Role::Tool {
            group_start -= 1;
        }
        let cost: usize = history[group_start..group_end]
            .iter()
            .map(message_tokens)
            .sum();
        if used + cost > budget || history[group_start].role == Role::Tool {
            break;
        }
        used += cost;
        start = group_start;
        group_end = group_start;
    }
    &history[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::MessageToolCall;
    use chrono::TimeZone;
    use serde_json::json;

    fn message(id: i64, role: Role, content: &str) -> Message {
        Message {
            id,
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            created_at: Utc::now(),
        }
    }

    fn calling(id: i64) -> Message {
        Message {
            tool_calls: vec![MessageToolCall {
                id: format!("call_{id}"),
                tool: "list_tasks".into(),
                arguments: json!({}),
            }],
            ..message(id, Role::Assistant, "")
        }
    }

    #[test]
    fn the_prompt_gives_the_local_date_weekday_and_offset() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 24, 23, 30, 0)
            .single()
            .expect("time");
        let prompt = system_prompt(Some("Ada"), "Asia/Tokyo", now);
        assert!(prompt.contains("Ada's todo list"), "{prompt}");
        assert!(prompt.contains("Wednesday 2026-11-25 08:30"), "{prompt}");
        assert!(prompt.contains("UTC+09:00"), "{prompt}");
        let utc = system_prompt(None, "Not/AZone", now);
        assert!(utc.contains("Tuesday 2026-11-24 23:30 in UTC"), "{utc}");
    }

    #[test]
    fn the_newest_messages_that_fit_are_kept() {
        let long = "x".repeat(400); // about 100 tokens
        let history = vec![
            message(1, Role::User, &long),
            message(2, Role::Assistant, &long),
            message(3, Role::User, &long),
            message(4, Role::Assistant, &long),
            message(5, Role::User, "now"),
        ];
        let kept = fit_history(&history, 250);
        assert_eq!(kept.iter().map(|m| m.id).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(fit_history(&history, 10_000).len(), 5);
    }

    #[test]
    fn the_latest_user_message_is_kept_even_over_budget() {
        let history = vec![
            message(1, Role::User, "hi"),
            message(2, Role::User, &"y".repeat(10_000)),
        ];
        assert_eq!(fit_history(&history, 10).len(), 1);
    }

    #[test]
    fn tool_calls_stay_with_their_results() {
        let result = "r".repeat(200); // about 50 tokens each
        let history = vec![
            message(1, Role::User, "list"),
            calling(2),
            message(3, Role::Tool, &result),
            message(4, Role::Tool, &result),
            message(5, Role::Assistant, "here"),
            message(6, Role::User, "thanks"),
        ];
        // Room for 5, 6 and part of the tool group: the whole group goes.
        let kept = fit_history(&history, 40);
        assert_eq!(kept.iter().map(|m| m.id).collect::<Vec<_>>(), vec![5, 6]);
        let kept = fit_history(&history, 200);
        assert_eq!(kept.first().map(|m| m.id), Some(1));
        // A history that begins with orphaned tool results drops them.
        let orphaned = &history[2..];
        let kept = fit_history(orphaned, 10_000);
        assert_eq!(kept.first().map(|m| m.id), Some(5));
    }
}
