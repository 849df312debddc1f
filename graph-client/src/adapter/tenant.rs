//! Microsoft 365's part of a tenant round ([`sync_core::tenant::OutlookService`]): the group
//! and its members, the first page of every member's delta reads fetched together in `$batch`
//! ([`DeltaPrefetch`]), every member's batched writes packed into full `$batch` requests
//! ([`BatchPacker`]), and each member's sides.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use sync_core::tenant::{
    Group, GroupUser, OutlookRound, OutlookService, RoundStart, ServedMember, ServiceRound,
    TenantError,
};
use sync_core::{Collection, Contact, Event, Side, WriteSide};

use super::calendar::GraphCalendar;
use super::contacts::GraphContacts;
use super::error::provider_error;
use super::packer::BatchPacker;
use super::prefetch::DeltaPrefetch;
use crate::client::models::DirectoryObject;
use crate::client::{Client, is_object_id};

/// Microsoft 365's part of one tenant: the app-only client, the group whose members are served
/// and the contact folder's name. Keep one per tenant for the life of the process: clones share
/// the batch packer.
#[derive(Clone, Debug)]
pub struct GraphTenant {
    client: Client,
    group: String,
    contacts_folder: String,
    packer: BatchPacker,
    masters: super::calendar::SeriesMasters,
    /// The group's object id once a look-up by display name found it: later rounds of the
    /// process ask for its members directly.
    group_id: Arc<Mutex<Option<String>>>,
}

impl GraphTenant {
    /// Serves the members of `group` (a display name or an object id) through `client`, their
    /// contacts in the folder named `contacts_folder`.
    #[must_use]
    pub fn new(
        client: Client,
        group: impl Into<String>,
        contacts_folder: impl Into<String>,
    ) -> Self {
        Self {
            packer: BatchPacker::new(client.clone()),
            masters: super::calendar::SeriesMasters::default(),
            group_id: Arc::new(Mutex::new(None)),
            client,
            group: group.into(),
            contacts_folder: contacts_folder.into(),
        }
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Why the group's members and owners could not be read.
enum GroupRead {
    /// The id answered 404.
    Gone,
    /// Any other failure: what was being read, and the error.
    Failed(&'static str, crate::client::Error),
}

impl GroupRead {
    fn into_tenant_error(self) -> TenantError {
        match self {
            Self::Gone => TenantError::directory(
                "list the group's members",
                sync_core::ProviderError::new(sync_core::ErrorKind::NotFound, "graph: group gone"),
            ),
            Self::Failed(what, e) => TenantError::directory(what, provider_error("graph", e)),
        }
    }
}

impl GraphTenant {
    /// The members and owners of the group with object id `id`.
    async fn group_of(&self, id: String) -> Result<Group, GroupRead> {
        let groups = self.client.groups();
        let read = |what: &'static str| {
            move |e: crate::client::Error| {
                if e.is_not_found() {
                    GroupRead::Gone
                } else {
                    GroupRead::Failed(what, e)
                }
            }
        };
        let members = groups
            .all_transitive_members(&id)
            .await
            .map_err(read("list the group's members"))?;
        let owners = groups
            .all_owners(&id)
            .await
            .map_err(read("list the group's owners"))?;
        Ok(Group {
            id,
            members: members.into_iter().filter_map(group_user).collect(),
            owners: owners.into_iter().filter_map(group_user).collect(),
        })
    }
}

/// A user of the group's listing; other directory objects (nested groups, devices) are not.
fn group_user(o: DirectoryObject) -> Option<GroupUser> {
    let is_user = o
        .odata_type
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.user"));
    is_user.then(|| GroupUser {
        name: o.display_name.clone().unwrap_or_else(|| o.id.clone()),
        id: o.id,
        mail: o.mail,
        upn: o.user_principal_name,
    })
}

#[async_trait]
impl OutlookService for GraphTenant {
    /// The group, its members and owners. A display name is looked up once (`$filter`) and
    /// its id remembered; an id (configured or remembered) is used as it is. A remembered id
    /// that is gone (404: the group was deleted, or re-created under the same name) is
    /// forgotten and the name looked up again.
    async fn group(&self) -> Result<Group, TenantError> {
        let remembered = self
            .group_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(id) = remembered {
            match self.group_of(id).await {
                Err(GroupRead::Gone) => {
                    tracing::info!(group = %self.group, "the group's remembered id is gone; looking it up again");
                    *self.group_id.lock().unwrap_or_else(PoisonError::into_inner) = None;
                }
                other => return other.map_err(GroupRead::into_tenant_error),
            }
        }
        let id = if is_object_id(&self.group) {
            self.group.clone()
        } else {
            let lookup = format!("look up the group {:?}", self.group);
            let found = self
                .client
                .groups()
                .find(&self.group)
                .await
                .map_err(|e| TenantError::directory(lookup, provider_error("graph", e)))?
                .ok_or_else(|| TenantError::GroupNotFound {
                    group: self.group.clone(),
                })?;
            found.id
        };
        let group = self.group_of(id.clone()).await.map_err(|e| match e {
            GroupRead::Gone => TenantError::GroupNotFound {
                group: self.group.clone(),
            },
            other @ GroupRead::Failed(..) => other.into_tenant_error(),
        })?;
        if !is_object_id(&self.group) {
            *self.group_id.lock().unwrap_or_else(PoisonError::into_inner) = Some(id);
        }
        Ok(group)
    }

    /// Fetches the first page of every served member's delta reads, calendar and contacts, 20
    /// to a `$batch` request; a link whose sub-request fails is read by the member itself.
    async fn begin_round(&self, start: &RoundStart<'_>) -> Box<OutlookRound> {
        let window = start.policy.window(start.now);
        let links: Vec<String> = start
            .served_cursors(Side::Outlook)
            .filter_map(|(scope, cursor)| match scope.collection {
                Collection::Calendar if start.collections.calendar => {
                    GraphCalendar::resume_link(cursor, &window)
                }
                Collection::Contacts if start.collections.contacts => {
                    GraphContacts::resume_link(cursor)
                }
                _ => None,
            })
            .collect();
        let prefetch = DeltaPrefetch::new();
        let stats = prefetch.load(&self.client, links).await;
        tracing::debug!(tenant = %start.tenant, ?stats, "Graph's shared reads of this round");
        Box::new(GraphTenantRound {
            tenant: self.clone(),
            prefetch,
        })
    }
}

/// One round of a [`GraphTenant`]: the delta pages its members share.
#[derive(Debug)]
struct GraphTenantRound {
    tenant: GraphTenant,
    prefetch: DeltaPrefetch,
}

impl ServiceRound<dyn WriteSide<Contact>> for GraphTenantRound {
    fn calendar(&self, member: &ServedMember) -> Arc<dyn WriteSide<Event>> {
        Arc::new(
            GraphCalendar::new(self.tenant.client.clone(), member.user.id.clone())
                .with_series_masters(self.tenant.masters.clone())
                .with_prefetch(self.prefetch.clone())
                .with_packer(self.tenant.packer.clone()),
        )
    }

    fn contacts(&self, member: &ServedMember) -> Arc<dyn WriteSide<Contact>> {
        Arc::new(
            GraphContacts::new(
                self.tenant.client.clone(),
                member.user.id.clone(),
                self.tenant.contacts_folder.clone(),
            )
            .with_prefetch(self.prefetch.clone())
            .with_packer(self.tenant.packer.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_users_of_a_group_listing_are_members() {
        let obj = |t: Option<&str>| DirectoryObject {
            odata_type: t.map(Into::into),
            id: "1".into(),
            display_name: None,
            mail: Some("jana@acme.cz".into()),
            user_principal_name: None,
        };
        assert!(group_user(obj(Some("#microsoft.graph.user"))).is_some());
        assert!(group_user(obj(None)).is_some());
        assert!(group_user(obj(Some("#microsoft.graph.group"))).is_none());
        assert_eq!(group_user(obj(None)).unwrap().name, "1");
    }
}
