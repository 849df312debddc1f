//! Groups and users.

use reqwest::Method;

use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::{DirectoryObject, Group, User};
use crate::client::page::Page;
use crate::client::transport::Request;
use crate::client::url::{encode_segment, odata_string, query};

const MEMBER_SELECT: &str = "id,displayName,mail,userPrincipalName";

impl Client {
    /// Group endpoints.
    #[must_use]
    pub fn groups(&self) -> Groups<'_> {
        Groups::new(self)
    }

    /// User endpoints.
    #[must_use]
    pub fn users(&self) -> Users<'_> {
        Users::new(self)
    }
}

/// Group endpoints (`/groups`).
#[derive(Debug, Clone, Copy)]
pub struct Groups<'a> {
    client: &'a Client,
}

impl<'a> Groups<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// `GET /groups/{id}`.
    pub async fn get(&self, group_id: &str) -> Result<Group> {
        let url = self
            .client
            .url(&format!("/groups/{}", encode_segment(group_id)));
        let req = Request::new(Method::GET, url, "GET /groups/{id}");
        self.client.send(&req).await
    }

    /// `GET /groups?$filter=displayName eq '{name}'`: every group with that display name
    /// (display names are not unique).
    pub async fn find_by_display_name(&self, name: &str) -> Result<Vec<Group>> {
        let filter = format!("displayName eq {}", odata_string(name));
        let url = self
            .client
            .url(&format!("/groups{}", query(&[("$filter", &filter)])));
        let req = Request::new(Method::GET, url, "GET /groups?$filter");
        let first = self.client.page(&req).await?;
        self.collect(first).await
    }

    /// `GET /groups?$filter=startswith(displayName,'{prefix}')&$top={top}`: the first `top`
    /// groups whose display name starts with `prefix` (case-insensitively, as Graph compares),
    /// one page, for a picker; an empty `prefix` lists the first `top` groups of the tenant.
    /// `startswith` on `displayName` is a default (not an advanced) query: no
    /// `ConsistencyLevel` header is needed.
    pub async fn search_by_display_name(&self, prefix: &str, top: u16) -> Result<Vec<Group>> {
        let top = top.clamp(1, 999).to_string();
        let filter = format!("startswith(displayName,{})", odata_string(prefix));
        let params: Vec<(&str, &str)> = if prefix.is_empty() {
            vec![("$top", &top)]
        } else {
            vec![("$filter", &filter), ("$top", &top)]
        };
        let url = self.client.url(&format!("/groups{}", query(&params)));
        let req = Request::new(Method::GET, url, "GET /groups?$filter=startswith");
        let page: Page<Group> = self.client.page(&req).await?;
        Ok(page.items)
    }

    /// Finds a group by id, or else by display name (first match). Only a value shaped like
    /// an object id (a GUID) is asked for by id: a display name goes straight to the `$filter`
    /// look-up (Graph answers `GET /groups/{display name}` with 400).
    pub async fn find(&self, id_or_name: &str) -> Result<Option<Group>> {
        if is_object_id(id_or_name) {
            match self.get(id_or_name).await {
                Ok(g) => return Ok(Some(g)),
                Err(e) if matches!(e.status(), Some(400 | 404)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self
            .find_by_display_name(id_or_name)
            .await?
            .into_iter()
            .next())
    }

    async fn first_page(&self, group_id: &str, relation: &str) -> Result<Page<DirectoryObject>> {
        let url = self.client.url(&format!(
            "/groups/{}/{relation}{}",
            encode_segment(group_id),
            query(&[("$select", MEMBER_SELECT)])
        ));
        let req = Request::new(Method::GET, url, format!("GET /groups/{{id}}/{relation}"));
        self.client.page(&req).await
    }

    /// `GET /groups/{id}/members` (direct members only), first page.
    pub async fn members(&self, group_id: &str) -> Result<Page<DirectoryObject>> {
        self.first_page(group_id, "members").await
    }

    /// `GET /groups/{id}/transitiveMembers` (nested groups flattened), first page.
    pub async fn transitive_members(&self, group_id: &str) -> Result<Page<DirectoryObject>> {
        self.first_page(group_id, "transitiveMembers").await
    }

    /// `GET /groups/{id}/owners`, first page.
    pub async fn owners(&self, group_id: &str) -> Result<Page<DirectoryObject>> {
        self.first_page(group_id, "owners").await
    }

    /// Follows an `@odata.nextLink` of any group collection.
    pub async fn next_page<T: serde::de::DeserializeOwned>(&self, link: &str) -> Result<Page<T>> {
        let url = self.client.check_link(link)?;
        let req = Request::new(Method::GET, url, "GET /groups nextLink");
        self.client.page(&req).await
    }

    /// Every page of `transitiveMembers`.
    pub async fn all_transitive_members(&self, group_id: &str) -> Result<Vec<DirectoryObject>> {
        let first = self.transitive_members(group_id).await?;
        self.collect(first).await
    }

    /// Every page of `owners`.
    pub async fn all_owners(&self, group_id: &str) -> Result<Vec<DirectoryObject>> {
        let first = self.owners(group_id).await?;
        self.collect(first).await
    }

    /// The items of `page` and of every page after it.
    async fn collect<T: serde::de::DeserializeOwned>(&self, page: Page<T>) -> Result<Vec<T>> {
        page.collect_all(|link| async move { self.next_page(&link).await })
            .await
    }
}

/// User endpoints (`/users`).
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    client: &'a Client,
}

impl<'a> Users<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self { client }
    }

    /// `GET /users/{id}` with the fields the sync needs.
    pub async fn get(&self, user_id: &str) -> Result<User> {
        let url = self.client.url(&format!(
            "/users/{}{}",
            encode_segment(user_id),
            query(&[(
                "$select",
                "id,displayName,mail,userPrincipalName,accountEnabled"
            )])
        ));
        let req = Request::new(Method::GET, url, "GET /users/{id}");
        self.client.send(&req).await
    }
}

/// Whether `value` has the shape of a directory object id: a GUID, 8-4-4-4-12 hex digits.
#[must_use]
pub fn is_object_id(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::is_object_id;

    #[test]
    fn only_guids_are_object_ids() {
        assert!(is_object_id("02bd9fd6-8f93-4758-87c3-1fb73740a315"));
        assert!(is_object_id("02BD9FD6-8F93-4758-87C3-1FB73740A315"));
        for name in [
            "Raynet sync",
            "02bd9fd6-8f93-4758-87c3",
            "02bd9fd6-8f93-4758-87c3-1fb73740a31g",
            "02bd9fd68f93475887c31fb73740a315",
            "",
        ] {
            assert!(!is_object_id(name), "{name}");
        }
    }
}
