//! The synced pairs the edits pick from, found after the first round: the served members
//! (read once through the library, like `run` reads them), each Raynet meeting or event with
//! the Outlook event it became, and each own Outlook event with the Raynet record it became
//! (matched by owner and title, which the seeding makes unique). Then [`Catalog::pick`] deals
//! the edits out over the members.

use std::collections::HashMap;

use raynet_sync::demo::INSTANCE;
use raynet_sync::wiring::{TenantClients, discover_members};

use crate::edit::Fakes;

/// One synced pair: a Raynet record and its Outlook event in a member's mailbox.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    /// The member's Graph user id.
    pub(crate) user: String,
    /// `meeting` or `event`.
    pub(crate) entity: &'static str,
    /// The Raynet record.
    pub(crate) raynet: u64,
    /// The Outlook event.
    pub(crate) outlook: String,
    /// The title (subject) the pair had when found.
    pub(crate) title: String,
}

/// Where an edit starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Origin {
    /// A Raynet meeting or event (seeded in Raynet).
    Raynet,
    /// An own Outlook event (seeded in Outlook).
    Outlook,
}

/// The pairs by member and origin, and where each member's turn stands.
pub(crate) struct Catalog {
    /// Pairs by member (index) and origin.
    pairs: Vec<HashMap<Origin, Vec<Pair>>>,
    /// The next pair to take per member and origin (edits cycle; deletions remove).
    next: Vec<HashMap<Origin, usize>>,
    /// The member whose turn is next.
    turn: usize,
}

impl Catalog {
    /// Finds the pairs the first round made.
    pub(crate) async fn find(fakes: &Fakes<'_>, clients: &TenantClients) -> anyhow::Result<Self> {
        let membership = discover_members(clients).await?;
        let mut by_person = HashMap::new();
        for (i, m) in membership.served.iter().enumerate() {
            by_person.insert(m.person_id, i);
        }
        // Each member's Outlook events by subject.
        let subjects: Vec<HashMap<String, String>> = membership
            .served
            .iter()
            .map(|m| {
                fakes
                    .graph
                    .events(&m.user.id)
                    .iter()
                    .filter(|e| e["type"] != "seriesMaster")
                    .filter_map(|e| {
                        Some((
                            e["subject"].as_str()?.to_owned(),
                            e["id"].as_str()?.to_owned(),
                        ))
                    })
                    .collect()
            })
            .collect();
        let mut pairs: Vec<HashMap<Origin, Vec<Pair>>> =
            vec![HashMap::new(); membership.served.len()];
        let inst = fakes.raynet.instance(INSTANCE);
        for entity in ["meeting", "event"] {
            for id in inst.ids(entity) {
                let Some(rec) = inst.record(entity, id) else {
                    continue;
                };
                let owner = rec.pointer("/owner/id").and_then(serde_json::Value::as_u64);
                let Some(&member) = owner.and_then(|o| by_person.get(&o)) else {
                    continue;
                };
                let Some(title) = rec["title"].as_str() else {
                    continue;
                };
                let Some(outlook) = subjects[member].get(title) else {
                    continue;
                };
                let origin = if title.starts_with("Outlook ") {
                    Origin::Outlook
                } else {
                    Origin::Raynet
                };
                pairs[member].entry(origin).or_default().push(Pair {
                    user: membership.served[member].user.id.clone(),
                    entity,
                    raynet: id,
                    outlook: outlook.clone(),
                    title: title.to_owned(),
                });
            }
        }
        Ok(Self {
            next: vec![HashMap::new(); pairs.len()],
            pairs,
            turn: 0,
        })
    }

    /// Pairs found, by origin.
    pub(crate) fn count(&self, origin: Origin) -> usize {
        self.pairs
            .iter()
            .map(|m| m.get(&origin).map_or(0, Vec::len))
            .sum()
    }

    /// Members with pairs.
    pub(crate) fn members(&self) -> usize {
        self.pairs.len()
    }

    /// The next pair of `origin`, members taking turns (one with none of that origin is
    /// skipped); `remove` takes it out for good (a deletion).
    pub(crate) fn pick(&mut self, origin: Origin, remove: bool) -> Option<Pair> {
        for _ in 0..self.pairs.len() {
            let member = self.turn % self.pairs.len().max(1);
            self.turn += 1;
            if let Some(p) = self.take(member, origin, remove) {
                return Some(p);
            }
        }
        None
    }

    /// The member with the most pairs of `origin`.
    pub(crate) fn busiest(&self, origin: Origin) -> Option<usize> {
        (0..self.pairs.len()).max_by_key(|&m| self.pairs[m].get(&origin).map_or(0, Vec::len))
    }

    /// Up to `n` distinct pairs of one member (fewer when it has fewer).
    pub(crate) fn of_member(&self, member: usize, origin: Origin, n: usize) -> Vec<Pair> {
        self.pairs[member]
            .get(&origin)
            .map(|v| v.iter().take(n).cloned().collect())
            .unwrap_or_default()
    }

    fn take(&mut self, member: usize, origin: Origin, remove: bool) -> Option<Pair> {
        let list = self.pairs[member].get_mut(&origin)?;
        if list.is_empty() {
            return None;
        }
        let next = self.next[member].entry(origin).or_default();
        let i = *next % list.len();
        if remove {
            Some(list.swap_remove(i))
        } else {
            *next = i + 1;
            Some(list[i].clone())
        }
    }
}
