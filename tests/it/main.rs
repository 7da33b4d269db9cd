//! Integration tests: the real gateway on port 0, a private PostgreSQL per
//! test run (a fresh database per test), real mutual TLS as a copier.
//! One binary with a module per feature keeps link time down.

mod harness;

mod abuse;
mod audit;
mod authorisation;
mod catalogue;
mod certificate_events;
mod copier_flow;
mod demo_command;
mod eligibility;
mod embedded_postgres;
mod fuzz_smoke;
mod incidents;
mod kinds;
mod layout;
mod municipalities;
mod observability;
mod pki_verify;
mod refusals;
mod register_changes;
mod registers;
mod revocation;
mod smartphone;
mod verify;
