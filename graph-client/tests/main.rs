//! The integration tests of `graph-client` (one binary; needs the `fake` feature).

// Shared helpers: a fake with seeded users, clients with fast retries, time helpers.
mod util;

// Token endpoint, token cache, refresh on expiry and on 401, secret never printed.
mod auth;
// Certificates (PEM, PKCS#12) and federated token files: tokens, refusals with the documented
// error body, typed load errors, no key or assertion in logs, errors or `Debug`.
mod credentials;
// Wire format of every client method, pinned with wiremock against the documented examples.
mod wire;
// Subscription endpoints on the wire, and the documented notification payloads.
mod subscription_wire;
// Groups, transitive members and owners with paging; users without mailbox / outside policy.
mod directory;
// Calendar-view delta: pages, rounds, @removed, expiry, all-day, recurring series.
mod delta;
// Event and contact writes: ETags, transactionId, extended properties, invitations, caps.
mod writes;
// Throttling, concurrency per mailbox, $batch with a throttled sub-request, injected faults.
mod resilience;
// The engine's sides: GraphCalendar and GraphContacts against the fake.
mod providers;
// sync-core's random histories through GraphCalendar over the fake (PROPTEST_CASES, 32 default).
mod histories;
// $batch writes through GraphContacts and GraphCalendar (create_many, update_many).
mod batching;
// DeltaPrefetch: stored delta links' first pages in $batch, used by the sides' reads.
mod prefetch;
// BatchPacker: the batched writes of many sides packed into full $batch requests of 20.
mod packing;
// Change notifications from the fake: handshake, deliveries, retries, expiry, lifecycle.
mod push;
// Invitation delivery as Exchange does it: attendees' copies, kept in step, cancelled.
mod invitations;
// The fake's fidelity: paged lists ($top, nextLink), documented properties, delta contexts,
// URL-safe ids.
mod fidelity;
// SubscriptionKeeper against the fake, and the echo of the sides' own writes in notifications.
mod subscription_keeper;
// Every parser of remote data fuzzed from documented and fake payloads (PROPTEST_CASES each).
mod fuzz;
