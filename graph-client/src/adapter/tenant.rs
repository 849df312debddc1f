//! Microsoft 365's part of a tenant round ([`sync_core::tenant::OutlookService`]): the group
//! and its members, the first page of every member's delta reads fetched together in `$batch`
//! ([`DeltaPrefetch`]), every member's batched writes packed into full `$batch` requests
//! ([`BatchPacker`]), and each member's sides.

use std::sync::Arc;

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
use crate::client::Client;
use crate::client::models::DirectoryObject;

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
    async fn group(&self) -> Result<Group, TenantError> {
        let groups = self.client.groups();
        let lookup = format!("look up the group {:?}", self.group);
        let group = groups
            .find(&self.group)
            .await
            .map_err(|e| TenantError::directory(lookup, provider_error("graph", e)))?
            .ok_or_else(|| TenantError::GroupNotFound {
                group: self.group.clone(),
            })?;
        let members = groups
            .all_transitive_members(&group.id)
            .await
            .map_err(|e| {
                TenantError::directory("list the group's members", provider_error("graph", e))
            })?;
        let owners = groups.all_owners(&group.id).await.map_err(|e| {
            TenantError::directory("list the group's owners", provider_error("graph", e))
        })?;
        Ok(Group {
            id: group.id,
            members: members.into_iter().filter_map(group_user).collect(),
            owners: owners.into_iter().filter_map(group_user).collect(),
        })
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
