//! Business counters, counted where the use case succeeds so that every interface (REST, MCP,
//! chat, CLI) is counted once. Through the `metrics` facade: without a recorder they cost
//! nothing; the server installs the Prometheus one.

pub const TASKS_CREATED: &str = "todo_tasks_created_total";
pub const TASKS_COMPLETED: &str = "todo_tasks_completed_total";
pub const CHAT_TURNS: &str = "todo_chat_turns_total";
pub const CHAT_TOOL_CALLS: &str = "todo_chat_tool_calls_total";

pub(crate) fn task_created() {
    tasks_created(1);
}

pub(crate) fn tasks_created(n: u64) {
    metrics::counter!(TASKS_CREATED).increment(n);
}

pub(crate) fn task_completed() {
    metrics::counter!(TASKS_COMPLETED).increment(1);
}

/// A chat turn that ended: `answered`, `stopped` (round limit), `model_timeout`, `model_failed`.
pub(crate) fn chat_turn(outcome: &'static str) {
    metrics::counter!(CHAT_TURNS, "outcome" => outcome).increment(1);
}

/// A tool the chat agent ran; `outcome` is `ok` or `error` (the model saw the error).
pub(crate) fn chat_tool_call(tool: &str, ok: bool) {
    // Label only known tool names: a model can invent any name.
    let tool = crate::tools::tool(tool).map_or("unknown", |t| t.name);
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(CHAT_TOOL_CALLS, "tool" => tool, "outcome" => outcome).increment(1);
}
