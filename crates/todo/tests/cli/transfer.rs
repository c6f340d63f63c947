//! `todo export` and `todo import` on the real binary: a Todoist CSV in, todo's JSON out, and
//! that JSON into another account.

use serde_json::Value;

use super::{run, todo};

const TODOIST_CSV: &str =
    "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE
task,Pay rent @bills,by transfer,1,1,Ada (1),,every month on the 1st,en,UTC
task,Water plants,,4,1,Ada (1),,,en,UTC
task,Buy milk,,4,1,Ada (1),,,en,UTC
";

fn create_user(dir: &std::path::Path, url: &str, email: &str) {
    run(todo(dir, url)
        .args(["user", "create", "--email", email])
        .env("TODO_USER_PASSWORD", "a fine password"));
}

#[test]
fn a_todoist_file_imports_once_and_its_export_moves_to_another_account() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "sqlite://todo.db";
    run(todo(dir.path(), url).arg("migrate"));
    create_user(dir.path(), url, "ada@example.com");
    create_user(dir.path(), url, "bob@example.com");
    std::fs::write(dir.path().join("todoist.csv"), TODOIST_CSV).expect("write csv");

    let first =
        run(todo(dir.path(), url).args(["import", "--user", "ada@example.com", "todoist.csv"]));
    let said = String::from_utf8_lossy(&first.stderr);
    assert!(
        said.contains("imported 3 tasks; 0 were already there"),
        "{said}"
    );
    let again =
        run(todo(dir.path(), url).args(["import", "--user", "ada@example.com", "todoist.csv"]));
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        said.contains("imported 0 tasks; 3 were already there"),
        "{said}"
    );

    // To standard output by default, and to a file with --output.
    let printed = run(todo(dir.path(), url).args(["export", "--user", "ada@example.com"]));
    let printed: Value = serde_json::from_slice(&printed.stdout).expect("export is JSON");
    run(todo(dir.path(), url).args([
        "export",
        "--user",
        "ada@example.com",
        "--output",
        "ada.json",
    ]));
    let written: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ada.json")).expect("read export"))
            .expect("export file is JSON");
    assert_eq!(written["tasks"], printed["tasks"]);
    let mut titles: Vec<&str> = written["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["title"].as_str())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles, ["Buy milk", "Pay rent", "Water plants"]);
    let rent = written["tasks"]
        .as_array()
        .and_then(|tasks| tasks.iter().find(|t| t["title"] == "Pay rent"))
        .expect("rent");
    assert_eq!(rent["priority"], "urgent");
    assert_eq!(rent["tags"], serde_json::json!(["bills"]));

    let moved =
        run(todo(dir.path(), url).args(["import", "--user", "bob@example.com", "ada.json"]));
    let said = String::from_utf8_lossy(&moved.stderr);
    assert!(
        said.contains("imported 3 tasks; 0 were already there"),
        "{said}"
    );
    let bobs = run(todo(dir.path(), url).args(["export", "--user", "bob@example.com"]));
    let bobs: Value = serde_json::from_slice(&bobs.stdout).expect("export is JSON");
    assert_eq!(bobs["tasks"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_broken_import_says_what_is_wrong_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "sqlite://todo.db";
    run(todo(dir.path(), url).arg("migrate"));
    create_user(dir.path(), url, "ada@example.com");
    std::fs::write(
        dir.path().join("bad.json"),
        r#"{"tasks": [{"title": "fine"}, {"title": ""}]}"#,
    )
    .expect("write");
    std::fs::write(dir.path().join("garbage.json"), "not json").expect("write");

    for (file, expected) in [
        ("bad.json", "tasks[1].title"),
        ("garbage.json", "is not todo's JSON export"),
        ("missing.json", "reading missing.json"),
    ] {
        let output = todo(dir.path(), url)
            .args(["import", "--user", "ada@example.com", file])
            .output()
            .expect("run");
        assert!(!output.status.success(), "{file} should fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{file}: {stderr}");
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
    }
    let export = run(todo(dir.path(), url).args(["export", "--user", "ada@example.com"]));
    let export: Value = serde_json::from_slice(&export.stdout).expect("export is JSON");
    assert_eq!(export["tasks"], serde_json::json!([]), "nothing was stored");
}
