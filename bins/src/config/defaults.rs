//! The defaults of the optional keys, and the limits of the numeric ones.

/// The default Raynet API base URL.
pub const DEFAULT_RAYNET_BASE_URL: &str = "https://app.raynet.cz/api/v2/";
/// The default time zone of a Raynet instance.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Prague";
/// The default Microsoft Graph base URL.
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.microsoft.com/v1.0/";
/// The default Microsoft identity platform authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";
/// The default name of the Outlook contact folder the contacts go to.
pub const DEFAULT_CONTACTS_FOLDER: &str = "Raynet";
/// The default state file, relative to the config file's directory.
pub const DEFAULT_STATE_PATH: &str = "raynet-sync.db";
/// The default pause between two rounds of `run --watch`, in seconds.
pub const DEFAULT_INTERVAL_SECONDS: u64 = 900;
/// The default number of members synced at the same time.
pub const DEFAULT_MAX_PARALLEL_MEMBERS: usize = 4;

/// The default address `serve` listens on.
pub const DEFAULT_SERVE_BIND: &str = "127.0.0.1:8787";
/// The default safety-net poll of `serve` while push is healthy, in seconds (an hour).
pub const DEFAULT_POLL_INTERVAL_SECONDS: u64 = 3600;
/// The default quiet time that ends a burst of notifications, in milliseconds (longer than
/// the pause between two Raynet webhooks, 500 ms at the documented pace).
pub const DEFAULT_COALESCE_MS: u64 = 1000;
/// The default interval of `serve`'s subscription and webhook checks, in seconds.
pub const DEFAULT_MAINTENANCE_SECONDS: u64 = 900;
/// The default pause, in seconds, before `serve` carries on with the writes the invitation cap
/// deferred (a mass change reaches attendees in steps of the cap, this far apart).
pub const DEFAULT_INVITATION_PAUSE_SECONDS: u64 = 60;
/// The default address of the admin endpoint under `serve` (loopback only).
pub const DEFAULT_ADMIN_BIND: &str = "127.0.0.1:8788";
/// The default number of days the audit trail keeps a write.
pub const DEFAULT_AUDIT_DAYS: u64 = 90;
/// The default lease of a worker on a member's rounds, in seconds.
pub const DEFAULT_LEASE_SECONDS: u64 = 30;
/// The default name of the sync's Raynet API key.
pub const DEFAULT_API_KEY_NAME: &str = "raynet-sync";

/// Shortest allowed `sync.interval_seconds`.
pub(super) const MIN_INTERVAL_SECONDS: u64 = 10;
/// Longest allowed `sync.interval_seconds` (one week).
pub(super) const MAX_INTERVAL_SECONDS: u64 = 7 * 24 * 3600;
/// Default `sync.membership_refresh_seconds` (an hour).
pub const DEFAULT_MEMBERSHIP_REFRESH_SECONDS: u64 = 3600;
/// Largest allowed `sync.max_parallel_members`.
pub(super) const MAX_PARALLEL_MEMBERS: usize = 64;
/// The largest `max_invitations` accepted (writes that mail attendees per member and round).
pub(super) const MAX_INVITATIONS_PER_ROUND: usize = 100_000;
