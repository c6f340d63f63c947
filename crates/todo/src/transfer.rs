//! `todo export` and `todo import`: the same use cases as `GET /export` and `POST /import`,
//! with a progress bar on standard error when it is a terminal.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use todo_core::Todo;
use todo_core::transfer::{DEFAULT_TODOIST_PROJECT, ImportDocument, project_name_from_file};

use crate::cli::{ExportArgs, ImportArgs, ImportFormat};
use crate::{describe, find_user};

/// A bar that draws only on a terminal (indicatif hides itself otherwise), so scripts and
/// logs see the summary line alone.
fn progress_bar(verb: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(&format!(
        "{verb} {{bar:40}} {{pos}}/{{len}} tasks ({{eta}} left)"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

pub async fn export(todo: Todo, args: ExportArgs) -> anyhow::Result<()> {
    let user = find_user(&todo, &args.user).await?;
    let bar = progress_bar("exporting");
    let export = todo
        .export(&user, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    let json = serde_json::to_vec_pretty(&export)?;
    match args.output.as_deref().filter(|p| *p != Path::new("-")) {
        Some(path) => {
            std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&json)?;
            out.write_all(b"\n")?;
        }
    }
    eprintln!(
        "exported {} tasks and {} tags",
        export.tasks.len(),
        export.tags.len()
    );
    Ok(())
}

pub async fn import(todo: Todo, args: ImportArgs) -> anyhow::Result<()> {
    let user = find_user(&todo, &args.user).await?;
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let format = args.format.unwrap_or_else(|| guess_format(&args.file));
    // The tasks are checked first (the bar counts them), then stored in one transaction: all
    // of the file or none of it (the bar says so while it runs).
    let bar = progress_bar("checking");
    let progress = |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done == total {
            bar.set_style(
                ProgressStyle::with_template("{spinner} storing {len} tasks in one transaction")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
    };
    let report = match format {
        ImportFormat::Json => {
            let document: ImportDocument = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not todo's JSON export", args.file.display()))?;
            todo.import_json(&user, document, &progress).await
        }
        ImportFormat::Todoist => {
            // One project per file, named after it (`Home.csv` → "Home").
            let project = args
                .file
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(project_name_from_file)
                .unwrap_or_else(|| DEFAULT_TODOIST_PROJECT.to_owned());
            todo.import_todoist_csv(&user, &bytes, &project, &progress)
                .await
        }
    }
    .map_err(describe)?;
    bar.finish_and_clear();
    eprintln!(
        "imported {} tasks; {} were already there",
        report.created, report.skipped
    );
    Ok(())
}

fn guess_format(path: &Path) -> ImportFormat {
    let csv = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    if csv {
        ImportFormat::Todoist
    } else {
        ImportFormat::Json
    }
}
