//! The PostgreSQL store keeps the relay's store contract against a real server, named by
//! `CAREPLAN_TEST_DATABASE_URL` (`.ci/run` installs and starts one). Without it, every check is reported as
//! skipped by name: this target has its own harness so that the report is always printed.

// Set-up helpers outside the checks expect too: a failing set-up is a failing test.
#![allow(clippy::expect_used)]
// This harness reports on stdout, as libtest does.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use careplan_relay::contract;
use careplan_store::PostgresStore;

mod shared;

/// The variable naming the test database.
const URL_VARIABLE: &str = "CAREPLAN_TEST_DATABASE_URL";

/// A schema of its own per store, so runs (and checks) never see each other's rows.
fn schema(name: &str) -> String {
    format!("careplan_test_{name}_{}", std::process::id())
}

fn keeps_the_contract(url: &str) {
    let mut n = 0;
    contract::check(&mut || {
        n += 1;
        PostgresStore::connect_in_schema(url, Some(&schema(&format!("contract_{n}")))).expect("connects")
    });
}

fn survives_reconnecting(url: &str) {
    let schema = schema("durable");
    contract::check_durable(
        &mut || PostgresStore::connect_in_schema(url, Some(&schema)).expect("connects"),
        &mut || PostgresStore::connect_in_schema(url, Some(&schema)).expect("reconnects"),
    );
}

/// Two relays on one database: what one accepts, the other lists and hands out; the statuses they write
/// are seen by both; racing sends of the same send unit store it once.
fn two_relays_share_mailboxes(url: &str) {
    let schema = schema("shared");
    let open = || PostgresStore::connect_in_schema(url, Some(&schema)).expect("connects");
    shared::two_relays_share_mailboxes(&mut || open());
}

fn refuses_a_bad_url(_: &str) {
    let error = PostgresStore::connect("postgres://nobody@127.0.0.1:1/none").expect_err("refused");
    assert!(
        error.to_string().contains("cannot connect to PostgreSQL"),
        "{error}"
    );
}

/// A named check against the database at a URL.
type Check = (&'static str, fn(&str));

fn main() -> ExitCode {
    let checks: [Check; 4] = [
        ("postgres_store_keeps_the_contract", keeps_the_contract),
        ("postgres_store_survives_reconnecting", survives_reconnecting),
        ("postgres_two_relays_share_mailboxes", two_relays_share_mailboxes),
        ("postgres_store_refuses_a_bad_url", refuses_a_bad_url),
    ];
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
    drop_test_schemas(&url);
    println!(
        "postgres store: {} passed, {failed} failed",
        checks.len() - failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Removes the schemas this run created.
fn drop_test_schemas(url: &str) {
    let Ok(mut client) = postgres::Client::connect(url, postgres::NoTls) else {
        return;
    };
    let pattern = format!("careplan_test_%_{}", std::process::id());
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
