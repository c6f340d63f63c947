//! The `todo` binary: parse the command line, open the store, dispatch.

mod backend;
mod cli;
mod healthcheck;
mod transfer;

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::Parser;
use todo_core::Todo;
use todo_core::accounts::{ApiKeyInput, Principal, SignupInput};
use todo_core::chat::model::Secret;
use todo_server::mcp::McpSettings;
use todo_server::{AppState, AuthSettings, Settings};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::backend::Backend;
use crate::cli::{
    ApiKeyCommand, Cli, Command, GlobalArgs, LogFormat, McpArgs, ServeArgs, UserCommand,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.global.log_format);
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    match command {
        Command::Serve(args) => serve(&cli.global, args).await,
        Command::Migrate => {
            let backend = Backend::open(
                &cli.global.database_url,
                cli.global.database_max_connections,
            )
            .await?;
            backend.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::User(command) => user(&cli.global, command).await,
        Command::ApiKey(command) => api_key(&cli.global, command).await,
        Command::Healthcheck(args) => healthcheck::check(&args).await,
        Command::Export(args) => transfer::export(open(&cli.global).await?, args).await,
        Command::Import(args) => transfer::import(open(&cli.global).await?, args).await,
        Command::Mcp(args) => mcp(&cli.global, args).await,
    }
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

async fn open(global: &GlobalArgs) -> anyhow::Result<Todo> {
    let backend = Backend::open(&global.database_url, global.database_max_connections).await?;
    if global.run_migrations {
        backend.migrate().await?;
    }
    Ok(Todo::with_credential_ttl(
        backend.store(),
        Duration::from_millis(global.auth_cache_ttl_ms),
    ))
}

async fn serve(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let todo = open(global)
        .await?
        .with_private_webhooks(args.jobs.webhook_allow_private_networks);
    let mailer = match args.mail.settings()? {
        Some((url, from)) => {
            if args
                .mcp
                .public_url
                .as_deref()
                .is_none_or(|u| u.trim().is_empty())
            {
                bail!("SMTP_URL is set but PUBLIC_URL is not: the links in emails need it");
            }
            let mailer =
                todo_server::mail::SmtpMailer::new(url.expose(), &from).map_err(|e| anyhow!(e))?;
            Some(Arc::new(mailer) as Arc<dyn todo_core::mail::Mailer>)
        }
        None => None,
    };
    let pusher = pusher(&todo, &args).await?;
    let todo = todo.with_mailer(mailer).with_pusher(Some(pusher));
    let settings = Settings {
        auth: AuthSettings {
            jwt_secret: todo_server::resolve_jwt_secret(&todo, args.jwt_secret.clone()).await?,
            external: args.external_auth(),
        },
        redis_url: args
            .redis_url
            .filter(|url| !url.is_empty())
            .map(Secret::new),
        rate_limit: args.rate_limit.settings()?,
        http: args.http.settings(),
        mcp: McpSettings {
            // An operator who lets webhooks reach loopback (a development machine) may also
            // point OAuth at metadata documents served there over plain http.
            allow_http_metadata_documents: args.jobs.webhook_allow_private_networks,
            ..args.mcp.settings()
        },
        llm: args.llm.settings(),
    };
    let state = AppState::new(todo, &settings).map_err(|e| anyhow!(e))?;
    // The worker's `Todo` is the app's: with its public URL, so it sends what needs links
    // (reminder emails, digests).
    let worker_todo = state.todo.clone();
    let shutdown = state.shutdown.clone();
    let app = todo_server::app(state).map_err(|e| anyhow!(e))?;
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("binding {}:{}", args.host, args.port))?;
    // A target of its own, so that `RUST_LOG=…,todo::listening=info` shows this line alone
    // (the tests start servers on port 0 and read the port from it).
    tracing::info!(target: "todo::listening", address = %listener.local_addr()?, "listening");
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.cancel();
        }
    });
    let worker =
        todo_server::jobs::spawn(worker_todo, args.jobs.settings(), shutdown.child_token())
            .map_err(|e| anyhow!(e))?;
    let grace = Duration::from_secs(args.http.shutdown_grace_secs);
    todo_server::serve(listener, app, &settings.http, shutdown, grace).await?;
    // A job cut short by exit is retried by another replica (or on restart) when its lease ends.
    let _ = tokio::time::timeout(Duration::from_secs(5), worker).await;
    tracing::info!("stopped");
    Ok(())
}

/// The Web Push sender: the VAPID key (`VAPID_PRIVATE_KEY`, else the one kept in the
/// database), its subject, and the webhook delivery client (the same address rules).
async fn pusher(todo: &Todo, args: &ServeArgs) -> anyhow::Result<Arc<dyn todo_core::push::Pusher>> {
    use todo_server::push::{WebPusher, resolve_vapid_key, vapid_subject};
    let key = resolve_vapid_key(todo, args.push.private_key().as_ref())
        .await
        .map_err(|e| anyhow!(e))?;
    let subject = vapid_subject(
        args.mail.mail_from.as_deref(),
        args.mcp.public_url.as_deref(),
    )
    .unwrap_or_else(|| {
        tracing::warn!(
            "neither MAIL_FROM nor PUBLIC_URL is set: Web Push names no contact (VAPID \
                 subject mailto:postmaster@localhost), which some push services refuse"
        );
        "mailto:postmaster@localhost".to_owned()
    });
    let allow_private = args.jobs.webhook_allow_private_networks;
    let client =
        todo_server::jobs::delivery_client(&args.jobs.settings(), allow_private, "todo-push")
            .map_err(|e| anyhow!(e))?;
    Ok(Arc::new(WebPusher::new(
        key,
        subject,
        client,
        allow_private,
    )))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn user(global: &GlobalArgs, command: UserCommand) -> anyhow::Result<()> {
    let todo = open(global).await?;
    match command {
        UserCommand::Create {
            email,
            name,
            timezone,
            password,
        } => {
            let password = match password {
                Some(p) => p,
                None => read_password()?,
            };
            let user = todo
                .create_user(SignupInput {
                    email,
                    password,
                    name,
                    timezone,
                })
                .await
                .map_err(describe)?;
            println!("{}", serde_json::to_string_pretty(&user)?);
        }
        UserCommand::List => {
            for user in todo.list_users().await? {
                println!(
                    "{}\t{}\t{}",
                    user.id,
                    user.email.unwrap_or_default(),
                    user.name.unwrap_or_default()
                );
            }
        }
        UserCommand::SetPassword { user, password } => {
            let user_id = find_user(&todo, &user).await?;
            let password = match password {
                Some(p) => p,
                None => read_password()?,
            };
            todo.set_password(&user_id, password)
                .await
                .map_err(describe)?;
            eprintln!("password set; every session of {user} ended");
        }
        UserCommand::Delete { user, yes } => {
            if !yes {
                bail!("deleting an account cannot be undone: add --yes to confirm");
            }
            let user_id = find_user(&todo, &user).await?;
            todo.delete_user(&user_id).await.map_err(describe)?;
            eprintln!("deleted {user} and its data");
        }
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password given: set TODO_USER_PASSWORD or pipe it on standard input");
    }
    Ok(password)
}

async fn api_key(global: &GlobalArgs, command: ApiKeyCommand) -> anyhow::Result<()> {
    let todo = open(global).await?;
    let ApiKeyCommand::Create {
        user,
        name,
        scopes,
        expires_at,
    } = command;
    let owner = find_user(&todo, &user).await?;
    let input = ApiKeyInput {
        name,
        scopes: (!scopes.is_empty()).then_some(scopes),
        expires_at,
    };
    let created = todo
        .create_api_key(&Principal::local(owner), input)
        .await
        .map_err(describe)?;
    println!("{}", created.secret);
    eprintln!(
        "API key {:?} created for {}; the secret above is shown only once.",
        created.key.name, user
    );
    Ok(())
}

/// `todo mcp`: the MCP tools on stdio, as the API key's user or as `--user`. Standard output
/// carries the protocol alone; logs already go to standard error.
async fn mcp(global: &GlobalArgs, args: McpArgs) -> anyhow::Result<()> {
    let todo = open(global)
        .await?
        .with_public_url(args.public_url.as_deref());
    let principal = match (args.api_key, args.user) {
        (Some(key), _) => todo
            .api_key_principal(key.trim())
            .await
            .map_err(|e| anyhow!("TODO_API_KEY: {e}"))?,
        (None, Some(user)) => {
            let owner = find_user(&todo, &user).await?;
            Principal::local(owner)
        }
        (None, None) => bail!("say who the tools act for: set TODO_API_KEY or pass --user"),
    };
    tracing::info!(user_id = %principal.user_id, "serving MCP on stdio");
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.cancel();
        }
    });
    todo_server::mcp::serve_stdio(todo, principal, shutdown).await
}

/// The id of the user with this id or email.
pub(crate) async fn find_user(todo: &Todo, user: &str) -> anyhow::Result<todo_core::user::UserId> {
    match todo.find_user(user).await {
        Ok(found) => Ok(found.id),
        Err(todo_core::Error::NotFound(_)) => Err(anyhow!("no user with id or email {user:?}")),
        Err(e) => Err(e.into()),
    }
}

/// Spells out validation errors field by field for people at a terminal.
pub(crate) fn describe(err: todo_core::Error) -> anyhow::Error {
    match err {
        todo_core::Error::Validation(errors) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => other.into(),
    }
}
