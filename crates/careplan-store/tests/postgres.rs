//! The PostgreSQL store keeps the relay's store contract against a real server, named by
//! `CAREPLAN_TEST_DATABASE_URL` (`.ci/run` installs and starts one). Without it, every check is reported as
//! skipped by name: this target has its own harness so that the report is always printed.

// Set-up helpers outside the checks expect too: a failing set-up is a failing test.
#![allow(clippy::expect_used)]
use std::process::ExitCode;

use careplan_relay::contract;
use careplan_store::PostgresStore;
use careplan_store::postgres_checks::{self, Check, schema};

mod shared;

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

fn main() -> ExitCode {
    let checks: [Check; 4] = [
        ("postgres_store_keeps_the_contract", keeps_the_contract),
        ("postgres_store_survives_reconnecting", survives_reconnecting),
        ("postgres_two_relays_share_mailboxes", two_relays_share_mailboxes),
        ("postgres_store_refuses_a_bad_url", refuses_a_bad_url),
    ];
    postgres_checks::run("postgres store", &checks)
}
