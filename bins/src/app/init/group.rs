//! Step 2: the group whose members are synced. Interactive: picked from the tenant's groups
//! by typing part of its display name, each shown with how many members and owners it has
//! (and how many owners are not members); or typed (its name, the start of it, or its object
//! id). Unattended: `--group`. Then its members and owners counted, owners who are not
//! members named (the seed's pitfall), and one member's mailbox read.

use futures::{StreamExt as _, TryStreamExt as _};
use graph_client::client::models::{DirectoryObject, Group};

use super::ask::{Problem, Question, Session};
use super::graph_errors::graph_problem;
use super::microsoft::{Microsoft, consent_of};
use crate::cli::InitArgs;

const GROUP: Question = Question {
    label: "Microsoft 365 group (its name, the start of it, or its object id)",
    key: "tenant[0].microsoft.group",
    flag: Some("--group"),
    env: "RAYNET_SYNC_GROUP",
};

/// How many groups a typed name's search shows.
const SEARCH_TOP: u16 = 25;
/// How many groups the picker lists (one page of `/groups`, Graph's largest).
const LIST_TOP: u16 = 999;
/// The picker counts the members and owners of at most this many groups (two listings each).
const COUNT_AT_MOST: usize = 200;
/// Groups counted at once.
const COUNT_AT_ONCE: usize = 4;
/// The picker's last entry: type the group instead.
const TYPE_ENTRY: &str = "(another group: type its name or object id)";

/// The group picked, with its users.
pub(super) struct PickedGroup {
    pub(super) group: Group,
    pub(super) members: Vec<DirectoryObject>,
}

/// A group's users: its members (users, nested groups flattened) and its owners.
struct GroupUsers {
    members: Vec<DirectoryObject>,
    owners: Vec<DirectoryObject>,
}

impl GroupUsers {
    fn owners_not_members(&self) -> impl Iterator<Item = &DirectoryObject> {
        self.owners
            .iter()
            .filter(|o| !self.members.iter().any(|m| m.id == o.id))
    }
}

fn name_of(g: &Group) -> String {
    g.display_name.clone().unwrap_or_else(|| g.id.clone())
}

/// A picker entry: the name, the counts, the address.
fn entry(g: &Group, users: Option<&GroupUsers>) -> String {
    let counts = users.map_or_else(String::new, |u| {
        let strays = u.owners_not_members().count();
        let strays = if strays > 0 {
            format!(", {strays} not a member")
        } else {
            String::new()
        };
        format!(
            " — {} member(s), {} owner(s){strays}",
            u.members.len(),
            u.owners.len()
        )
    });
    format!(
        "{}{counts} · {}",
        name_of(g),
        g.mail.as_deref().unwrap_or(&g.id)
    )
}

/// Step 2: the group, until it is found and its users can be read.
pub(super) async fn group(
    s: &mut Session<'_>,
    args: &InitArgs,
    ms: &Microsoft,
) -> anyhow::Result<PickedGroup> {
    s.say("\n2. The Microsoft 365 group whose members are synced");
    let mut typed = args.group.clone();
    loop {
        let given = typed.is_some() && !s.retrying();
        let attempt = if s.unattended || given {
            typed_group(s, ms, &mut typed).await
        } else {
            picked_group(s, ms, &mut typed).await
        };
        match attempt {
            Ok(g) => {
                s.step_done();
                return Ok(g);
            }
            Err(p) => s.retry_or_fail(p)?,
        }
    }
}

/// The group picked from the tenant's groups (or typed, from the picker's last entry).
async fn picked_group(
    s: &mut Session<'_>,
    ms: &Microsoft,
    typed: &mut Option<String>,
) -> Result<PickedGroup, Problem> {
    let consent = consent_of(ms);
    let groups = ms
        .client
        .groups()
        .search_by_display_name("", LIST_TOP)
        .await
        .map_err(|e| graph_problem(&e, "list the groups", "GroupMember.Read.All", &consent))?;
    if groups.is_empty() {
        return Err(Problem::answer(
            GROUP.key,
            "the tenant has no group yet: create the Microsoft 365 group of the users to sync \
             (README, \"Setting up Microsoft 365\")",
        ));
    }
    let mut users: Vec<Option<GroupUsers>> = if groups.len() <= COUNT_AT_MOST {
        s.say(format!(
            "  counting the members and owners of the tenant's {} group(s)...",
            groups.len()
        ));
        futures::stream::iter(&groups)
            .map(|g| users_of(ms, &g.id, &consent))
            .buffered(COUNT_AT_ONCE)
            .map_ok(Some)
            .try_collect()
            .await?
    } else {
        groups.iter().map(|_| None).collect()
    };
    let mut items: Vec<String> = groups
        .iter()
        .zip(&users)
        .map(|(g, u)| entry(g, u.as_ref()))
        .collect();
    items.push(TYPE_ENTRY.to_owned());
    let i = s.search(
        "Microsoft 365 group (type part of its name; arrows and Enter pick)",
        &items,
    )?;
    let Some(group) = groups.get(i) else {
        return typed_group(s, ms, typed).await;
    };
    let known = users.get_mut(i).and_then(Option::take);
    let users = match known {
        Some(u) => u,
        None => users_of(ms, &group.id, &consent).await?,
    };
    picked(s, ms, group.clone(), users).await
}

/// The group typed (or given): its object id, its name, or the start of its name.
async fn typed_group(
    s: &mut Session<'_>,
    ms: &Microsoft,
    typed: &mut Option<String>,
) -> Result<PickedGroup, Problem> {
    let consent = consent_of(ms);
    let text = s.text(&GROUP, typed.as_deref(), None)?;
    *typed = Some(text.clone());
    let groups = ms.client.groups();
    let found = if graph_client::client::is_object_id(&text) {
        match groups.get(&text).await {
            Ok(g) => vec![g],
            Err(e) if e.status() == Some(404) => Vec::new(),
            Err(e) => {
                return Err(graph_problem(
                    &e,
                    "read the group",
                    "GroupMember.Read.All",
                    &consent,
                ));
            }
        }
    } else {
        groups
            .search_by_display_name(&text, SEARCH_TOP)
            .await
            .map_err(|e| graph_problem(&e, "list the groups", "GroupMember.Read.All", &consent))?
    };
    let exact: Vec<&Group> = found
        .iter()
        .filter(|g| name_of(g).eq_ignore_ascii_case(&text) || g.id == text)
        .collect();
    let group = match (found.len(), exact.as_slice()) {
        (0, _) => {
            return Err(Problem::answer(
                GROUP.key,
                format!("no group of the tenant has a name starting with {text:?}"),
            ));
        }
        (_, [one]) => (*one).clone(),
        (1, _) => found[0].clone(),
        _ if s.unattended => {
            let names: Vec<String> = found.iter().map(name_of).collect();
            return Err(Problem::answer(
                GROUP.key,
                format!(
                    "{text:?} matches {} groups ({}): give the full name or the object id",
                    found.len(),
                    names.join(", ")
                ),
            ));
        }
        _ => {
            let items: Vec<String> = found.iter().map(|g| entry(g, None)).collect();
            let i = s.pick("Which group?", &items)?;
            found.get(i).cloned().unwrap_or_else(|| found[0].clone())
        }
    };
    let users = users_of(ms, &group.id, &consent).await?;
    picked(s, ms, group, users).await
}

/// The members (users only) and owners of the group `id`.
async fn users_of(ms: &Microsoft, id: &str, consent: &str) -> Result<GroupUsers, Problem> {
    let groups = ms.client.groups();
    let members = groups.all_transitive_members(id).await.map_err(|e| {
        graph_problem(
            &e,
            "read the group's members",
            "GroupMember.Read.All",
            consent,
        )
    })?;
    let owners = groups.all_owners(id).await.map_err(|e| {
        graph_problem(
            &e,
            "read the group's owners",
            "GroupMember.Read.All",
            consent,
        )
    })?;
    Ok(GroupUsers {
        members: members
            .into_iter()
            .filter(DirectoryObject::is_user)
            .collect(),
        owners,
    })
}

/// The group chosen: its counts and warnings said, one member's mailbox read.
async fn picked(
    s: &mut Session<'_>,
    ms: &Microsoft,
    group: Group,
    users: GroupUsers,
) -> Result<PickedGroup, Problem> {
    s.say(format!(
        "  group {:?} ({}): {} member(s), {} owner(s)",
        name_of(&group),
        group.id,
        users.members.len(),
        users.owners.len()
    ));
    for o in users.owners_not_members() {
        let finding = sync_core::tenant::Finding::OwnerNotMember {
            name: o.display_name.clone().unwrap_or_else(|| o.id.clone()),
        };
        s.say(format!("  warning: {finding}"));
    }
    if users.members.is_empty() {
        s.say(
            "  warning: the group has no members yet: nobody would be synced (add them as members)",
        );
    }
    if let Some(first) = users.members.first() {
        probe_mailbox(s, ms, first).await?;
    }
    Ok(PickedGroup {
        group,
        members: users.members,
    })
}

/// Reads one member (User.Read.All) and their calendar (Calendars.ReadWrite).
async fn probe_mailbox(
    s: &mut Session<'_>,
    ms: &Microsoft,
    member: &DirectoryObject,
) -> Result<(), Problem> {
    let consent = consent_of(ms);
    let who = member
        .display_name
        .clone()
        .unwrap_or_else(|| member.id.clone());
    ms.client
        .users()
        .get(&member.id)
        .await
        .map_err(|e| graph_problem(&e, "read the users", "User.Read.All", &consent))?;
    let now = chrono::Utc::now();
    match ms
        .client
        .events(&member.id)
        .delta_start(now, now + chrono::Duration::days(1))
        .await
    {
        Ok(_) => s.say(format!("  ok: the app may read {who}'s calendar")),
        Err(e) if e.is_access_denied() || e.is_mailbox_not_enabled() => s.say(format!(
            "  warning: {who}'s mailbox cannot be read ({}): an application access policy leaves \
             it out, or the user has no Exchange Online mailbox; they will not be synced",
            e.code().unwrap_or("denied")
        )),
        Err(e) => {
            return Err(graph_problem(
                &e,
                "read the calendars",
                "Calendars.ReadWrite",
                &consent,
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> DirectoryObject {
        serde_json::from_value(serde_json::json!({"id": id})).unwrap()
    }

    #[test]
    fn an_entry_shows_the_counts_and_the_owners_who_are_not_members() {
        let g: Group = serde_json::from_value(serde_json::json!({
            "id": "g1", "displayName": "Sales", "mail": "sales@contoso.test"
        }))
        .unwrap();
        let u = GroupUsers {
            members: vec![user("a"), user("b")],
            owners: vec![user("a"), user("c")],
        };
        assert_eq!(
            entry(&g, Some(&u)),
            "Sales — 2 member(s), 2 owner(s), 1 not a member · sales@contoso.test"
        );
        assert_eq!(entry(&g, None), "Sales · sales@contoso.test");
    }
}
