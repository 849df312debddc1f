//! [`MemoryOrg`]: a whole organisation in memory — a Microsoft 365 group, the Raynet users,
//! each member's calendars and contact folder, and the Raynet persons — serving as both
//! services of a [`Tenant`](crate::tenant::Tenant).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;

use super::memory::MemorySide;
use crate::contact::{Contact, ContactProfile};
use crate::event::{Event, EventProfile};
use crate::provider::{ReadSide, WriteSide};
use crate::tenant::{
    Group, GroupUser, OutlookRound, OutlookService, RaynetRound, RaynetService, RaynetUser,
    RoundStart, ServedMember, ServiceRound, TenantError,
};

/// One member's sides in a [`MemoryOrg`].
#[derive(Clone, Debug)]
pub struct MemoryMember {
    /// The meetings and events they own in Raynet.
    pub raynet_calendar: Arc<MemorySide<Event>>,
    /// Their Outlook calendar.
    pub outlook_calendar: Arc<MemorySide<Event>>,
    /// Their Outlook contact folder.
    pub outlook_contacts: Arc<MemorySide<Contact>>,
}

#[derive(Debug, Default)]
struct Org {
    members: Vec<GroupUser>,
    owners: Vec<GroupUser>,
    accounts: Vec<RaynetUser>,
    /// Sides by the member's Graph user id.
    sides: BTreeMap<String, MemoryMember>,
}

/// An organisation in memory, both services of a tenant at once. Clones share everything.
///
/// ```
/// use std::sync::Arc;
/// use sync_core::testing::MemoryOrg;
/// let org = MemoryOrg::new();
/// let jana = org.add_member("jana@acme.cz");
/// assert!(jana.outlook_calendar.is_empty());
/// let (raynet, outlook) = (org.raynet(), org.outlook());
/// # let _ = (raynet, outlook);
/// ```
#[derive(Clone, Debug)]
pub struct MemoryOrg {
    org: Arc<Mutex<Org>>,
    persons: Arc<MemorySide<Contact>>,
}

impl Default for MemoryOrg {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryOrg {
    /// An organisation with no member and no person.
    #[must_use]
    pub fn new() -> Self {
        Self {
            org: Arc::default(),
            persons: Arc::new(MemorySide::new(ContactProfile::default())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Org> {
        self.org.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a group member with a Raynet user of the same address; returns their sides.
    pub fn add_member(&self, email: &str) -> MemoryMember {
        let mut org = self.lock();
        let n = org.members.len() as u64 + 1;
        let user = GroupUser {
            id: format!("user-{n}"),
            name: email.split('@').next().unwrap_or(email).to_owned(),
            mail: Some(email.to_owned()),
            upn: Some(email.to_owned()),
        };
        let sides = MemoryMember {
            raynet_calendar: Arc::new(
                MemorySide::new(EventProfile::raynet()).with_prefix(&format!("r{n}-")),
            ),
            outlook_calendar: Arc::new(
                MemorySide::new(EventProfile::outlook()).with_prefix(&format!("o{n}-")),
            ),
            outlook_contacts: Arc::new(
                MemorySide::new(ContactProfile::outlook()).with_prefix(&format!("c{n}-")),
            ),
        };
        org.accounts.push(RaynetUser {
            account_id: n,
            person_id: Some(1000 + n),
            login: email.to_owned(),
            email2: None,
        });
        org.sides.insert(user.id.clone(), sides.clone());
        org.members.push(user);
        sides
    }

    /// Adds an owner of the group who is not a member (owners are not served).
    pub fn add_owner(&self, email: &str) {
        let mut org = self.lock();
        let n = org.owners.len() + 1;
        org.owners.push(GroupUser {
            id: format!("owner-{n}"),
            name: email.to_owned(),
            mail: Some(email.to_owned()),
            upn: Some(email.to_owned()),
        });
    }

    /// The Raynet persons: every member's contacts come from them.
    #[must_use]
    pub fn persons(&self) -> &MemorySide<Contact> {
        &self.persons
    }

    /// The Raynet service of the tenant.
    #[must_use]
    pub fn raynet(&self) -> Arc<dyn RaynetService> {
        Arc::new(self.clone())
    }

    /// The Microsoft 365 service of the tenant.
    #[must_use]
    pub fn outlook(&self) -> Arc<dyn OutlookService> {
        Arc::new(self.clone())
    }

    fn sides_of(&self, member: &ServedMember) -> MemoryMember {
        self.lock()
            .sides
            .get(&member.user.id)
            .cloned()
            .unwrap_or_else(|| panic!("MemoryOrg: {} was never added", member.user.id))
    }
}

#[async_trait]
impl RaynetService for MemoryOrg {
    async fn accounts(&self) -> Result<Vec<RaynetUser>, TenantError> {
        Ok(self.lock().accounts.clone())
    }

    async fn begin_round(&self, _: &RoundStart<'_>) -> Box<RaynetRound> {
        Box::new(self.clone())
    }
}

impl ServiceRound<dyn ReadSide<Contact>> for MemoryOrg {
    fn calendar(&self, member: &ServedMember) -> Arc<dyn WriteSide<Event>> {
        self.sides_of(member).raynet_calendar
    }

    fn contacts(&self, _: &ServedMember) -> Arc<dyn ReadSide<Contact>> {
        self.persons.clone()
    }
}

#[async_trait]
impl OutlookService for MemoryOrg {
    async fn group(&self) -> Result<Group, TenantError> {
        let org = self.lock();
        Ok(Group {
            id: "group-1".to_owned(),
            members: org.members.clone(),
            owners: org.owners.clone(),
        })
    }

    async fn begin_round(&self, _: &RoundStart<'_>) -> Box<OutlookRound> {
        Box::new(self.clone())
    }
}

impl ServiceRound<dyn WriteSide<Contact>> for MemoryOrg {
    fn calendar(&self, member: &ServedMember) -> Arc<dyn WriteSide<Event>> {
        self.sides_of(member).outlook_calendar
    }

    fn contacts(&self, member: &ServedMember) -> Arc<dyn WriteSide<Contact>> {
        self.sides_of(member).outlook_contacts
    }
}
