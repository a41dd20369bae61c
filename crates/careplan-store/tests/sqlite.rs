//! The SQLite store keeps the relay's store contract, on disk and in memory, and what it acknowledged
//! survives reopening the file.

// Set-up helpers outside the checks expect too: a failing set-up is a failing test.
#![allow(clippy::expect_used)]

use careplan_relay::contract;
use careplan_store::SqliteStore;

mod shared;

#[test]
fn the_sqlite_store_keeps_the_contract() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut n = 0;
    contract::check(&mut || {
        n += 1;
        SqliteStore::open(&dir.path().join(format!("relay-{n}.sqlite3"))).expect("the store opens")
    });
}

#[test]
fn the_in_memory_sqlite_store_keeps_the_contract() {
    contract::check(&mut || SqliteStore::in_memory().expect("the store opens"));
}

#[test]
fn acknowledged_changes_survive_reopening_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("relay.sqlite3");
    contract::check_durable(
        &mut || SqliteStore::open(&path).expect("the store opens"),
        &mut || SqliteStore::open(&path).expect("the store reopens"),
    );
}

#[test]
fn a_file_that_is_not_a_database_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("not-a-database.sqlite3");
    std::fs::write(&path, b"plain text, not SQLite").expect("write");
    let error = SqliteStore::open(&path).expect_err("refused");
    assert!(error.to_string().contains("SQLite"), "{error}");
}

#[test]
fn two_relays_on_one_file_share_mailboxes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("shared.sqlite3");
    shared::two_relays_share_mailboxes(&mut || SqliteStore::open(&path).expect("the store opens"));
}
