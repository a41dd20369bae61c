//! The PostgreSQL store keeps the relay's store contract against a real server, named by
//! `CAREPLAN_TEST_DATABASE_URL` (`.ci/run` installs and starts one). Without it, every check is reported as
//! skipped by name: this target has its own harness so that the report is always printed.

// Set-up helpers outside the checks expect too: a failing set-up is a failing test.
#![allow(clippy::expect_used)]
use std::process::ExitCode;

use careplan_relay::{Inserted, Store, contract};
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

/// The server closes the store's connection (a restart, a network cut): the operation that meets the
/// closed connection is refused as a store failure, and the next one connects again and finds everything.
fn reconnects_after_the_server_closed_its_connection(url: &str) {
    let schema = schema("reconnect");
    let name = format!("careplan_reconnect_{}", std::process::id());
    let separator = if url.contains('?') { '&' } else { '?' };
    let tagged = format!("{url}{separator}application_name={name}");
    let mut store = PostgresStore::connect_in_schema(&tagged, Some(&schema)).expect("connects");
    let Inserted::Created(stored) = store
        .insert(contract::new_send_unit(1, 2, 0, 3, 0))
        .expect("inserts")
    else {
        panic!("a first insert creates");
    };
    let mut admin = postgres::Client::connect(url, postgres::NoTls).expect("an admin connection");
    let closed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&name],
        )
        .expect("terminates");
    assert_eq!(closed.len(), 1, "the store had one connection");
    let first = store.send_unit(stored.id);
    let read = match first {
        Ok(read) => read,
        Err(refused) => {
            assert!(refused.to_string().contains("PostgreSQL"), "{refused}");
            store
                .send_unit(stored.id)
                .expect("the next operation connects again")
        }
    };
    assert_eq!(read, Some(stored));
    let Inserted::Created(next) = store
        .insert(contract::new_send_unit(1, 2, 1, 3, 1))
        .expect("inserts again")
    else {
        panic!("a new serial creates");
    };
    assert_eq!(store.send_unit(next.id).expect("reads"), Some(next));
}

fn refuses_a_bad_url(_: &str) {
    let error = PostgresStore::connect("postgres://nobody@127.0.0.1:1/none").expect_err("refused");
    assert!(
        error.to_string().contains("cannot connect to PostgreSQL"),
        "{error}"
    );
}

fn main() -> ExitCode {
    let checks: [Check; 5] = [
        (
            "postgres_store_reconnects_after_the_server_closed_its_connection",
            reconnects_after_the_server_closed_its_connection,
        ),
        ("postgres_store_keeps_the_contract", keeps_the_contract),
        ("postgres_store_survives_reconnecting", survives_reconnecting),
        ("postgres_two_relays_share_mailboxes", two_relays_share_mailboxes),
        ("postgres_store_refuses_a_bad_url", refuses_a_bad_url),
    ];
    postgres_checks::run("postgres store", &checks)
}
