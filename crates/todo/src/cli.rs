//! The command line: every setting is a flag and an environment variable.

use clap::{Args, Parser, Subcommand, ValueEnum};
use todo_core::api_key::Scope;

#[derive(Parser)]
#[command(
    name = "todo",
    version,
    about = "A whole task-management system in one binary: REST API, accounts and API keys.",
    long_about = "A whole task-management system in one binary.\n\nWith no command, `todo` runs the \
                  server (`todo serve`). It stores data in SQLite by default; set DATABASE_URL to a \
                  postgres:// URL for PostgreSQL."
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// `todo` alone is `todo serve`, and takes the same flags.
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Clone)]
pub struct GlobalArgs {
    /// Where data lives: sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/todo.db",
        global = true
    )]
    pub database_url: String,
    /// Connections to PostgreSQL per process.
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub database_max_connections: u32,
    /// Apply pending migrations when the database is opened.
    #[arg(long, env = "RUN_MIGRATIONS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub run_migrations: bool,
    /// Log lines as JSON (for collectors) or as readable text.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default command).
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Create and list accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Create API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on; use 0.0.0.0 to accept connections from other machines.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, env = "PORT", default_value_t = 8000)]
    pub port: u16,
    /// Signs login tokens. When unset, one is generated on first start and kept in the database.
    #[arg(long, env = "TODO_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Accept HS256 tokens from Better Auth signed with this secret.
    #[arg(long, env = "BETTER_AUTH_SECRET", hide_env_values = true)]
    pub better_auth_secret: Option<String>,
    /// Accept EdDSA/RS256/ES256 tokens signed by keys published at this JWKS URL.
    #[arg(long, env = "AUTH_JWKS_URL")]
    pub auth_jwks_url: Option<String>,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a local account. The password is read from TODO_USER_PASSWORD or standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, env = "TODO_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List accounts.
    List,
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key for a user and print its secret (shown this once).
    Create {
        /// The user's email or id.
        #[arg(long)]
        user: String,
        /// What the key is for.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Repeat for several; both read and write when absent.
        #[arg(long = "scope", value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// Expiry as an RFC 3339 timestamp; never when absent.
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

fn parse_scope(raw: &str) -> Result<Scope, String> {
    Scope::parse(raw).ok_or_else(|| format!("unknown scope {raw:?}: use read or write"))
}
