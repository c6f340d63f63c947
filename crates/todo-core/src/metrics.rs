//! Business counters, counted where the use case succeeds so that every interface (REST, MCP,
//! chat, CLI) is counted once. Through the `metrics` facade: without a recorder they cost
//! nothing; the server installs the Prometheus one.

pub const TASKS_CREATED: &str = "todo_tasks_created_total";
pub const TASKS_COMPLETED: &str = "todo_tasks_completed_total";

pub(crate) fn task_created() {
    tasks_created(1);
}

pub(crate) fn tasks_created(n: u64) {
    metrics::counter!(TASKS_CREATED).increment(n);
}

pub(crate) fn task_completed() {
    metrics::counter!(TASKS_COMPLETED).increment(1);
}
