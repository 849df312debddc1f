//! Integration tests of `raynet-client` (one binary, see STYLE habit 12).
#![allow(missing_docs, clippy::unwrap_used)]

// Shared helpers: fixtures, wiremock server with a loud catch-all, clients.
mod util;

// Documented example payloads (tests/fixtures/*.json) decode into the models.
mod fixtures;
// Wire format of every client method, pinned with wiremock.
mod wire;
// Every activity body the adapter can send has the documented DTO's shape (no null strings).
mod body_schema;
// The client against the fake: paging, incremental reads, create → read back.
mod fake_api;
// Resilience: 429s, 5xx retries, quota, auth breaker, in-flight cap, bad bodies.
mod resilience;
// The API key never appears in Debug/Display of errors, client or credentials.
mod secrets;
// The fake itself: filters, sorting, errors, documented request shapes, DST.
mod fake_server;
// The sync engine's provider traits on RAYNET (adapter), against the fake.
mod adapter;
// Incremental reads: watermark cursors, deltas, the deletion scan and its cost.
mod incremental;
// sync-core's random histories through the adapter against the fake.
mod histories;
// The instance feed: one read per resource for every member, routed by owner.
mod feed;
// Webhooks on the wire (`client.webhooks()`) and the delivered event's model.
mod webhook_wire;
// The fake pushes: deliveries, retries, removal after 7 days, loopback only.
mod webhook_push;
// adapter::push: keeping our webhook registered, classifying deliveries, routing by owner.
mod webhook_adapter;
// Every parser of remote data fuzzed from documented and fake payloads (PROPTEST_CASES each).
mod fuzz;
