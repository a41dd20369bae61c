//! The harness of the test targets that need a real PostgreSQL server, named by `CAREPLAN_TEST_DATABASE_URL`
//! (`.ci/run` installs and starts one). Without the variable every check is reported as skipped, by name:
//! such a target has its own harness (`harness = false`) so that the report is always printed.

// The report goes to stdout, as libtest's does.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

/// The variable naming the test database.
pub const URL_VARIABLE: &str = "CAREPLAN_TEST_DATABASE_URL";

/// A named check, given the database URL; it fails by panicking, as a test does.
pub type Check = (&'static str, fn(&str));

/// A schema of its own for `name` in this run, so that runs (and checks) never see each other's rows; every
/// such schema is dropped when [`run`] ends.
pub fn schema(name: &str) -> String {
    format!("careplan_test_{name}_{}", std::process::id())
}

/// Runs `checks` against the database (or reports each skipped), drops this run's schemas and sums up as
/// `{suite}: N passed, M failed`.
pub fn run(suite: &str, checks: &[Check]) -> ExitCode {
    let Ok(url) = std::env::var(URL_VARIABLE) else {
        for (name, _) in checks {
            println!("test {name} ... skipped ({URL_VARIABLE} is not set)");
        }
        return ExitCode::SUCCESS;
    };
    let mut failed = 0;
    for (name, check) in checks {
        let outcome = std::panic::catch_unwind(|| check(&url));
        println!(
            "test {name} ... {}",
            if outcome.is_ok() { "ok" } else { "FAILED" }
        );
        failed += usize::from(outcome.is_err());
    }
    drop_schemas(&url);
    println!("{suite}: {} passed, {failed} failed", checks.len() - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Removes the schemas this run created.
fn drop_schemas(url: &str) {
    let Ok(mut client) = postgres::Client::connect(url, postgres::NoTls) else {
        return;
    };
    let pattern = schema("%");
    let schemas: Vec<String> = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
            &[&pattern],
        )
        .map(|rows| rows.iter().map(|row| row.get(0)).collect())
        .unwrap_or_default();
    for schema in schemas {
        // Best effort: a schema left behind only costs space in a test database.
        let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
    }
}
