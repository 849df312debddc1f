//! What the tenant round asks of each service: the traits the two API adapters implement.
//!
//! A tenant round calls each service once before its members' rounds
//! ([`RaynetService::begin_round`], [`OutlookService::begin_round`]): that is where a service
//! does the reads its members share (Raynet's instance feed and deletion scan, Graph's batched
//! delta prefetch) and sets up what their writes share (Graph's batch packer). The
//! [`ServiceRound`] it returns ([`RaynetRound`] / [`OutlookRound`]) hands each member their
//! sides; its `finish` is called once after every member's round.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::TenantError;
use super::hint::Hints;
use super::members::{GroupUser, RaynetUser, ServedMember};
use super::store::TenantStore;
use crate::contact::Contact;
use crate::event::Event;
use crate::ids::{Collection, Cursor, Scope, Side};
use crate::policy::Policy;
use crate::provider::{ReadSide, WriteSide};

/// Which collections a tenant syncs (the config's `sync.mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Collections {
    /// Meetings and events, two-way.
    pub calendar: bool,
    /// Persons → contacts, one-way.
    pub contacts: bool,
}

impl Collections {
    /// Both collections.
    pub const BOTH: Self = Self {
        calendar: true,
        contacts: true,
    };

    /// Neither collection.
    pub const NONE: Self = Self {
        calendar: false,
        contacts: false,
    };

    /// Only `collection`.
    #[must_use]
    pub fn only(collection: Collection) -> Self {
        Self::NONE.union_with(collection)
    }

    /// These and `collection`.
    #[must_use]
    pub fn union_with(self, collection: Collection) -> Self {
        match collection {
            Collection::Calendar => Self {
                calendar: true,
                ..self
            },
            Collection::Contacts => Self {
                contacts: true,
                ..self
            },
        }
    }

    /// The collections in either.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self {
            calendar: self.calendar || other.calendar,
            contacts: self.contacts || other.contacts,
        }
    }

    /// Whether `collection` is synced.
    #[must_use]
    pub fn has(self, collection: Collection) -> bool {
        match collection {
            Collection::Calendar => self.calendar,
            Collection::Contacts => self.contacts,
        }
    }
}

impl Default for Collections {
    fn default() -> Self {
        Self::BOTH
    }
}

/// The Microsoft 365 group whose members are served.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// The group's object id.
    pub id: String,
    /// Its members, transitively (users only).
    pub members: Vec<GroupUser>,
    /// Its owners (users only): owners who are not members are not served.
    pub owners: Vec<GroupUser>,
}

/// What a service learns before its members' rounds start.
#[derive(Clone, Copy)]
pub struct RoundStart<'a> {
    /// The tenant's name (the first part of every [`Scope`]).
    pub tenant: &'a str,
    /// Who is served this round.
    pub served: &'a [ServedMember],
    /// Every cursor the state store holds for the tenant's scopes (served or not: filter by
    /// [`RoundStart::is_served`]); empty when the store could not say.
    pub cursors: &'a [(Scope, Side, Cursor)],
    /// The state store, for what a service needs only now and then (the pair counts, say).
    pub store: &'a dyn TenantStore,
    /// Which collections are synced.
    pub collections: Collections,
    /// The round's policy (its calendar window, say).
    pub policy: &'a Policy,
    /// The round's clock.
    pub now: DateTime<Utc>,
    /// What change notifications said: a side they leave unread is not read this round (see
    /// [`Hints`]); [`RoundStart::served_cursors`] leaves those sides out, so no shared read is
    /// planned for them.
    pub hints: &'a Hints,
}

impl RoundStart<'_> {
    /// Whether `scope` belongs to a member served this round.
    #[must_use]
    pub fn is_served(&self, scope: &Scope) -> bool {
        self.served.iter().any(|m| m.email.as_str() == scope.member)
    }

    /// The stored cursors of `side` for the served members whose `side` this round reads,
    /// with their scopes.
    pub fn served_cursors(&self, side: Side) -> impl Iterator<Item = (&Scope, &Cursor)> {
        let served: BTreeSet<&str> = self.served.iter().map(|m| m.email.as_str()).collect();
        let hints = self.hints;
        self.cursors
            .iter()
            .filter(move |(scope, s, _)| {
                *s == side
                    && served.contains(scope.member.as_str())
                    && !hints.skips(&scope.member, scope.collection, side)
            })
            .map(|(scope, _, cursor)| (scope, cursor))
    }
}

/// What a service's shared work cost in one tenant round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SharedCosts {
    /// Requests Raynet's deletion scan took (0: no scan was due).
    pub deletion_scan_requests: u64,
}

/// Raynet's part of a tenant: its user accounts (to match members) and each round's sides.
///
/// Note for implementors: `begin_round` never fails. A shared read that cannot be done is left
/// to the members' own reads (dearer, never wrong).
#[async_trait]
pub trait RaynetService: Send + Sync {
    /// The instance's user accounts.
    ///
    /// # Errors
    /// [`TenantError::Directory`] when they cannot be listed.
    async fn accounts(&self) -> Result<Vec<RaynetUser>, TenantError>;

    /// Starts one tenant round: plans (or does) the reads the members share.
    async fn begin_round(&self, start: &RoundStart<'_>) -> Box<RaynetRound>;
}

/// One round of a service's part of a tenant: each member's sides, and what the work the
/// members shared cost. `Contacts` is the member's contacts side: read-only on Raynet (the
/// persons, the source), writable on Outlook (the dedicated folder, the target).
pub trait ServiceRound<Contacts: ?Sized>: Send + Sync {
    /// The member's calendar: the meetings and events owned by `member.person_id` (Raynet), or
    /// the member's default calendar (Outlook).
    fn calendar(&self, member: &ServedMember) -> Arc<dyn WriteSide<Event>>;

    /// The member's contacts: the persons that become them (Raynet), or the folder they go to
    /// (Outlook).
    fn contacts(&self, member: &ServedMember) -> Arc<Contacts>;

    /// Called once after every member's round: what the shared work cost. The service may keep
    /// what it learned for its next round.
    fn finish(&self) -> SharedCosts {
        SharedCosts::default()
    }
}

/// One round of Raynet's part of a tenant.
pub type RaynetRound = dyn ServiceRound<dyn ReadSide<Contact>>;

/// One round of Microsoft 365's part of a tenant.
pub type OutlookRound = dyn ServiceRound<dyn WriteSide<Contact>>;

/// Microsoft 365's part of a tenant: the group and each round's sides.
///
/// Note for implementors: as for [`RaynetService`], `begin_round` never fails.
#[async_trait]
pub trait OutlookService: Send + Sync {
    /// The group whose members are served, with its members and owners.
    ///
    /// # Errors
    /// [`TenantError::GroupNotFound`] when there is no such group, [`TenantError::Directory`]
    /// when a read fails.
    async fn group(&self) -> Result<Group, TenantError>;

    /// Starts one tenant round: does the reads the members share.
    async fn begin_round(&self, start: &RoundStart<'_>) -> Box<OutlookRound>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    fn object_safe(
        _: &dyn RaynetService,
        _: &dyn OutlookService,
        _: &RaynetRound,
        _: &OutlookRound,
    ) {
    }

    #[test]
    fn collections_say_what_is_synced() {
        let only = Collections {
            calendar: true,
            contacts: false,
        };
        assert!(only.has(Collection::Calendar));
        assert!(!only.has(Collection::Contacts));
        assert!(Collections::default().has(Collection::Contacts));
    }
}
