//! API tests: requests go through the whole router in-process, against the database chosen by
//! `TODO_TEST_DATABASE` (SQLite by default; the test command runs them on PostgreSQL too).

mod accounts;
mod api_keys;
mod calendar;
mod chat;
mod connections;
mod dav;
mod errors;
mod events;
mod external;
mod hardening;
mod helpers;
mod isolation;
mod isolation_roles;
mod listing;
mod logs;
mod mcp;
mod metrics;
mod notifications;
mod oauth;
mod operations;
mod password_reset;
mod probe;
mod projects;
mod push;
mod rate_limits;
mod scripted_llm;
mod sharing;
mod tags;
mod tasks;
mod transfer;
mod verification;
mod web;
