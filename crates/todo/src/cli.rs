//! The command line: every setting is a flag and an environment variable.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use todo_core::api_key::Scope;
use todo_core::chat::ChatConfig;
use todo_core::chat::model::Secret;
use todo_server::auth::ExternalSettings;
use todo_server::client_ip::TrustedProxies;
use todo_server::hardening::HttpSettings;
use todo_server::llm::LlmSettings;
use todo_server::mcp::McpSettings;
use todo_server::rate_limit::RateLimitSettings;

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
    /// How long (milliseconds) a checked login token or API key is remembered, saving a
    /// database lookup per request. A logout or revoke takes effect at once on the replica
    /// that served it and within this time on the others; 0 looks up every request.
    #[arg(long, env = "AUTH_CACHE_TTL_MS", default_value_t = 1000, global = true)]
    pub auth_cache_ttl_ms: u64,
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
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at start; boxing would only complicate the clap derive"
)]
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
    /// Exit 0 when the server on this machine answers /health (for container health checks
    /// in images without curl or a shell).
    Healthcheck(HealthcheckArgs),
    /// Write all of a user's data (profile, tags, tasks) as todo's JSON export.
    Export(ExportArgs),
    /// Import todo's JSON export or Todoist's CSV into a user's account. Importing the same
    /// file again adds nothing.
    Import(ImportArgs),
    /// Serve the MCP tools on standard input and output, for an MCP client that starts
    /// `todo mcp` itself (Claude Desktop, Claude Code). Logs go to standard error.
    Mcp(McpArgs),
}

#[derive(Args, Clone)]
pub struct ExportArgs {
    /// The user's email or id.
    #[arg(long)]
    pub user: String,
    /// Where to write the JSON; standard output when absent or `-`.
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Args, Clone)]
pub struct ImportArgs {
    /// The user's email or id.
    #[arg(long)]
    pub user: String,
    /// The file to import.
    pub file: std::path::PathBuf,
    /// The file's format; guessed from its extension (`.csv` is Todoist) when absent.
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// todo's JSON export.
    Json,
    /// Todoist's CSV export.
    Todoist,
}

#[derive(Args, Clone)]
pub struct HealthcheckArgs {
    /// The server's listen address; 0.0.0.0 and :: are checked on loopback.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    #[arg(long, env = "PORT", default_value_t = 8000)]
    pub port: u16,
    /// How long to wait for the answer, in seconds.
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
}

#[derive(Args, Clone)]
pub struct McpArgs {
    /// Act with this API key (its user and scopes).
    #[arg(
        long,
        env = "TODO_API_KEY",
        hide_env_values = true,
        conflicts_with = "user"
    )]
    pub api_key: Option<String>,
    /// Act as this user (email or id) with full access, for whoever can open the database.
    #[arg(long)]
    pub user: Option<String>,
    /// The server's external URL (https://todo.example.com): the links `search` and `fetch`
    /// give point into its web app. None without it.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
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
    /// When set, outside tokens must carry this `iss`.
    #[arg(long, env = "AUTH_ISSUER")]
    pub auth_issuer: Option<String>,
    /// When set, outside tokens must carry this `aud`.
    #[arg(long, env = "AUTH_AUDIENCE")]
    pub auth_audience: Option<String>,
    /// Outside tokens valid for longer than this (from `iat`, else from now, to `exp`) are
    /// refused.
    #[arg(long, env = "AUTH_MAX_TOKEN_LIFETIME_SECS", default_value_t = 86_400)]
    pub auth_max_token_lifetime_secs: u64,
    /// Redis shared by all replicas (rate limits): redis://host:6379. In memory when unset.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    #[command(flatten)]
    pub rate_limit: RateLimitArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub mcp: McpHttpArgs,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub jobs: JobArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub push: PushArgs,
}

/// Web Push (reminders pushed to subscribed browsers): always on in `serve`.
#[derive(Args, Clone)]
#[command(next_help_heading = "Web Push")]
pub struct PushArgs {
    /// The VAPID private key: a P-256 private key of 32 bytes, base64url (as web-push
    /// libraries print it). When unset, one is generated on first start and kept in the
    /// database. Changing it invalidates every browser's subscription.
    #[arg(long, env = "VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<String>,
}

impl PushArgs {
    /// The configured key (a secret), if any.
    pub fn private_key(&self) -> Option<Secret> {
        set(&self.vapid_private_key).map(Secret::new)
    }
}

/// Outgoing email (password resets, invitations). Off without `SMTP_URL`.
#[derive(Args, Clone)]
#[command(next_help_heading = "Email")]
pub struct MailArgs {
    /// The SMTP server: smtp://user:pass@host:587 (STARTTLS when offered; add ?tls=required to
    /// insist) or smtps://user:pass@host:465 (implicit TLS). Needs PUBLIC_URL and MAIL_FROM.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every message: todo@example.com or "Todo <todo@example.com>".
    #[arg(long, env = "MAIL_FROM")]
    pub mail_from: Option<String>,
}

impl MailArgs {
    /// The SMTP URL (a secret: it may carry a password) and the sender, when mail is on.
    pub fn settings(&self) -> anyhow::Result<Option<(Secret, String)>> {
        let Some(url) = set(&self.smtp_url) else {
            return Ok(None);
        };
        let Some(from) = set(&self.mail_from) else {
            anyhow::bail!("SMTP_URL is set but MAIL_FROM is not: say who the messages are from");
        };
        Ok(Some((Secret::new(url), from)))
    }
}

/// A setting's value, trimmed; empty counts as unset.
fn set(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl ServeArgs {
    /// Which outside tokens are accepted; empty values count as unset.
    pub fn external_auth(&self) -> ExternalSettings {
        ExternalSettings {
            shared_secret: self.better_auth_secret.clone().map(Secret::new),
            jwks_url: set(&self.auth_jwks_url),
            issuer: set(&self.auth_issuer),
            audience: set(&self.auth_audience),
            max_lifetime: Duration::from_secs(self.auth_max_token_lifetime_secs),
        }
    }
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Chat agent (any OpenAI-compatible Chat Completions API)")]
pub struct LlmArgs {
    /// Base URL of the API, e.g. https://api.openai.com/v1,
    /// https://generativelanguage.googleapis.com/v1beta/openai, http://localhost:11434/v1.
    /// The chat answers 503 while it is unset.
    #[arg(long, env = "LLM_BASE_URL")]
    pub llm_base_url: Option<String>,
    /// The server's key for that API; users may store their own (PUT /api/v1/llm-credentials).
    #[arg(long, env = "LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<String>,
    /// The model, e.g. gpt-4.1-mini, gemini-2.5-flash, qwen3:8b.
    #[arg(long, env = "LLM_MODEL")]
    pub llm_model: Option<String>,
    /// Longest wait for one answer of the model (streaming: for each chunk), in seconds.
    #[arg(long, env = "LLM_TIMEOUT_SECS", default_value_t = 60)]
    pub llm_timeout_secs: u64,
    /// Model calls per chat turn before the agent stops and says so.
    #[arg(long, env = "LLM_MAX_ROUNDS", default_value_t = 8)]
    pub llm_max_rounds: usize,
    /// Conversation history sent with each turn, in (estimated) tokens.
    #[arg(long, env = "LLM_HISTORY_TOKENS", default_value_t = 12_000)]
    pub llm_history_tokens: usize,
    /// 32 random bytes (base64 or hex) that encrypt users' stored LLM keys; without it users
    /// cannot store keys. Make one with `openssl rand -base64 32`.
    #[arg(long, env = "TODO_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
}

impl LlmArgs {
    pub fn settings(&self) -> LlmSettings {
        LlmSettings {
            chat: ChatConfig {
                base_url: set(&self.llm_base_url),
                api_key: set(&self.llm_api_key).map(Secret::new),
                model: set(&self.llm_model),
                max_rounds: self.llm_max_rounds.max(1),
                history_tokens: self.llm_history_tokens,
            },
            timeout: Duration::from_secs(self.llm_timeout_secs.max(1)),
            encryption_key: set(&self.encryption_key).map(Secret::new),
        }
    }
}

/// Reminders, webhooks and the event log.
#[derive(Args, Clone)]
pub struct JobArgs {
    /// Let webhooks target loopback, private and link-local addresses (off: they are refused
    /// when created and when delivered).
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE_NETWORKS", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private_networks: bool,
    /// A webhook delivery that takes longer than this many seconds fails (and is retried, and
    /// counts towards disabling the webhook like any failure).
    #[arg(long, env = "WEBHOOK_TIMEOUT_SECS", default_value_t = 5)]
    pub webhook_timeout_secs: u64,
    /// Webhook deliveries in flight at once in this process.
    #[arg(long, env = "WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,
    /// Webhook deliveries of one user in flight at once in this process; more wait their turn.
    #[arg(long, env = "WEBHOOK_CONCURRENCY_PER_USER", default_value_t = 4)]
    pub webhook_concurrency_per_user: usize,
    /// Webhook deliveries to one host in flight at once in this process; more wait their turn.
    #[arg(long, env = "WEBHOOK_CONCURRENCY_PER_TARGET", default_value_t = 4)]
    pub webhook_concurrency_per_target: usize,
    /// A webhook is disabled after this many failed deliveries in a row.
    #[arg(long, env = "WEBHOOK_DISABLE_AFTER", default_value_t = 20)]
    pub webhook_disable_after: i32,
    /// Days events are kept for `Last-Event-ID` resumption (and webhook retries).
    #[arg(long, env = "EVENTS_RETENTION_DAYS", default_value_t = 7)]
    pub events_retention_days: u64,
    /// Seconds a replica holds a job it claimed; a job whose replica died runs again after.
    #[arg(long, env = "JOB_LEASE_SECS", default_value_t = 60)]
    pub job_lease_secs: u64,
}

impl JobArgs {
    pub fn settings(&self) -> todo_server::jobs::JobSettings {
        todo_server::jobs::JobSettings {
            lease: Duration::from_secs(self.job_lease_secs.max(1)),
            events_retention: Duration::from_secs(self.events_retention_days.max(1) * 24 * 3600),
            webhook_timeout: Duration::from_secs(self.webhook_timeout_secs.max(1)),
            webhook_disable_after: self.webhook_disable_after.max(1),
            webhook_concurrency: self.webhook_concurrency.max(1),
            webhook_per_user: self.webhook_concurrency_per_user.max(1),
            webhook_per_target: self.webhook_concurrency_per_target.max(1),
            ..todo_server::jobs::JobSettings::default()
        }
    }
}

#[derive(Args, Clone)]
#[command(next_help_heading = "MCP over HTTP (/mcp)")]
pub struct McpHttpArgs {
    /// Host names (or host:port) that /mcp answers to, comma-separated, or * for any; other
    /// Host headers are refused against DNS rebinding. Add your public host name.
    #[arg(
        long,
        env = "MCP_ALLOWED_HOSTS",
        value_delimiter = ',',
        default_value = "localhost,127.0.0.1,::1"
    )]
    pub mcp_allowed_hosts: Vec<String>,
    /// Browser origins allowed to call /mcp (comma-separated, with scheme; `:*` for any port);
    /// a request with any other Origin is refused. Loopback pages by default.
    #[arg(
        long,
        env = "MCP_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:*,http://127.0.0.1:*,http://[::1]:*"
    )]
    pub mcp_allowed_origins: Vec<String>,
    /// The server's external URL (https://todo.example.com): the OAuth issuer and resource
    /// that claude.ai, ChatGPT and other apps connect through, and its host is added to
    /// MCP_ALLOWED_HOSTS. OAuth is off while it is unset. http only on localhost.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl McpHttpArgs {
    pub fn settings(&self) -> McpSettings {
        let list = |values: &[String]| {
            values
                .iter()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect()
        };
        McpSettings {
            allowed_hosts: list(&self.mcp_allowed_hosts),
            allowed_origins: list(&self.mcp_allowed_origins),
            public_url: set(&self.public_url),
            allow_http_metadata_documents: false,
        }
    }
}

#[derive(Args, Clone)]
#[command(next_help_heading = "Rate limits (per user, or per client address when anonymous)")]
pub struct RateLimitArgs {
    /// Turn every rate limit on or off.
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub rate_limit_enabled: bool,
    /// Reads (GET) a minute; 0 for no limit.
    #[arg(long, env = "RATE_LIMIT_READS", default_value_t = 100)]
    pub rate_limit_reads: u32,
    /// Writes (POST, PUT, PATCH, DELETE) a minute; 0 for no limit.
    #[arg(long, env = "RATE_LIMIT_WRITES", default_value_t = 30)]
    pub rate_limit_writes: u32,
    /// Login and signup attempts a minute per client address; 0 for no limit.
    #[arg(long, env = "RATE_LIMIT_AUTH", default_value_t = 10)]
    pub rate_limit_auth: u32,
    /// When Redis is unreachable: true lets requests through (logged and counted), false
    /// answers 503 and makes /ready fail.
    #[arg(long, env = "RATE_LIMIT_FAIL_OPEN", default_value_t = true, action = clap::ArgAction::Set)]
    pub rate_limit_fail_open: bool,
    /// Prefix of every rate-limit key in Redis.
    #[arg(long, env = "RATE_LIMIT_KEY_PREFIX", default_value = "todo:rl:")]
    pub rate_limit_key_prefix: String,
    /// How long a rate-limit check may wait for Redis, in milliseconds.
    #[arg(long, env = "REDIS_TIMEOUT_MS", default_value_t = 250)]
    pub redis_timeout_ms: u64,
    /// Proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR networks.
    /// Empty (the default): the TCP peer is the client.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
}

impl RateLimitArgs {
    pub fn settings(&self) -> anyhow::Result<RateLimitSettings> {
        Ok(RateLimitSettings {
            enabled: self.rate_limit_enabled,
            reads_per_minute: self.rate_limit_reads,
            writes_per_minute: self.rate_limit_writes,
            auth_per_minute: self.rate_limit_auth,
            fail_open: self.rate_limit_fail_open,
            key_prefix: self.rate_limit_key_prefix.clone(),
            redis_timeout: Duration::from_millis(self.redis_timeout_ms),
            trusted_proxies: TrustedProxies::parse(&self.trusted_proxies)
                .map_err(|e| anyhow::anyhow!("TRUSTED_PROXIES: {e}"))?,
        })
    }
}

#[derive(Args, Clone)]
#[command(next_help_heading = "HTTP")]
pub struct HttpArgs {
    /// Browser origins allowed to call the API (comma-separated, or *); none by default.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BODY_LIMIT_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub body_limit_bytes: usize,
    /// Longest a request may take before it is answered 503, in seconds.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// On SIGTERM/SIGINT, how long requests in flight may take to finish, in seconds.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    /// Longest a client may take to send a request's headers, and to start its next request
    /// on a kept-alive connection, in seconds.
    #[arg(long, env = "HTTP_HEADER_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub http_header_timeout_secs: u64,
    /// A connection on which no byte moves either way for this long is closed, in seconds.
    /// Keep it above 15 (the event streams' keep-alive interval).
    #[arg(long, env = "HTTP_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub http_idle_timeout_secs: u64,
    /// Open connections at most; beyond, new ones wait until one closes. Keep it under the
    /// process's open-file limit (`ulimit -n`), which also counts database connections.
    #[arg(long, env = "HTTP_MAX_CONNECTIONS", default_value_t = 512,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub http_max_connections: u64,
}

impl HttpArgs {
    pub fn settings(&self) -> HttpSettings {
        HttpSettings {
            body_limit: self.body_limit_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            cors_origins: self
                .cors_origins
                .iter()
                .filter(|o| !o.is_empty())
                .cloned()
                .collect(),
            header_read_timeout: Duration::from_secs(self.http_header_timeout_secs),
            idle_timeout: Duration::from_secs(self.http_idle_timeout_secs),
            max_connections: usize::try_from(self.http_max_connections).unwrap_or(usize::MAX),
        }
    }
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a local account. The password is read from TODO_USER_PASSWORD or standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// An IANA zone such as Europe/Paris (default UTC): where the account's dates are read.
        #[arg(long)]
        timezone: Option<String>,
        #[arg(long, env = "TODO_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List accounts.
    List,
    /// Set an account's password (read from TODO_USER_PASSWORD or standard input); every
    /// session of the account ends.
    SetPassword {
        /// The user's email or id.
        #[arg(long)]
        user: String,
        #[arg(long, env = "TODO_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Delete an account and its data. Shared projects it owns go to their longest-standing
    /// editor, else are deleted with it.
    Delete {
        /// The user's email or id.
        #[arg(long)]
        user: String,
        /// Required: deleting cannot be undone.
        #[arg(long)]
        yes: bool,
    },
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
