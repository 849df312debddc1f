//! One edit as a person makes it, through the fakes' in-process helpers (which the fakes do
//! not count as API requests), and the check that it is visible on the other side.

use std::time::Instant;

use graph_client::fake::FakeGraph;
use raynet_client::fake::FakeRaynet;
use raynet_sync::demo::INSTANCE;
use serde_json::json;

use crate::catalog::{Catalog, Origin, Pair};

/// Both fakes.
#[derive(Clone, Copy)]
pub(crate) struct Fakes<'a> {
    pub(crate) raynet: &'a FakeRaynet,
    pub(crate) graph: &'a FakeGraph,
}

/// What an edit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    /// A Raynet meeting or event retitled in Raynet's UI; seen when Outlook has the subject.
    RaynetEdit,
    /// An Outlook event's subject changed in Outlook; seen when Raynet has the title.
    OutlookEdit,
    /// A Raynet meeting or event deleted in Raynet's UI; seen when the Outlook event is gone
    /// (or cancelled).
    RaynetDelete,
}

impl Kind {
    /// Every kind, in the report's order.
    pub(crate) const ALL: [Kind; 3] = [Kind::RaynetEdit, Kind::OutlookEdit, Kind::RaynetDelete];

    /// The report's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::RaynetEdit => "Raynet -> Outlook edit",
            Kind::OutlookEdit => "Outlook -> Raynet edit",
            Kind::RaynetDelete => "Raynet deletion -> Outlook",
        }
    }

    /// The kind of the `n`-th single edit: 2 Raynet edits, 2 Outlook edits, 1 Raynet
    /// deletion in every 5.
    pub(crate) fn mix(n: usize) -> Kind {
        match n % 5 {
            0 | 2 => Kind::RaynetEdit,
            1 | 3 => Kind::OutlookEdit,
            _ => Kind::RaynetDelete,
        }
    }
}

/// An edit made, waiting to be seen on the other side.
#[derive(Debug, Clone)]
pub(crate) struct Edit {
    pub(crate) kind: Kind,
    pub(crate) pair: Pair,
    /// The text the edit put in the title (unique per edit).
    marker: String,
    pub(crate) at: Instant,
}

/// Makes the `n`-th edit, of `kind`, on the next pair the catalog deals; `None` when it has
/// no pair left for it.
pub(crate) fn make(
    fakes: Fakes<'_>,
    catalog: &mut Catalog,
    kind: Kind,
    n: usize,
) -> anyhow::Result<Option<Edit>> {
    let pair = match kind {
        Kind::RaynetEdit => catalog.pick(Origin::Raynet, false),
        Kind::OutlookEdit => catalog.pick(Origin::Outlook, false),
        Kind::RaynetDelete => catalog.pick(Origin::Raynet, true),
    };
    pair.map(|p| make_on(fakes, kind, p, n)).transpose()
}

/// Makes edit `n` of `kind` on `pair`.
pub(crate) fn make_on(fakes: Fakes<'_>, kind: Kind, pair: Pair, n: usize) -> anyhow::Result<Edit> {
    let marker = format!("[lat{n}]");
    let title = format!("{} {marker}", pair.title);
    let inst = fakes.raynet.instance(INSTANCE);
    let fake =
        |e: raynet_client::fake::FakeError| anyhow::anyhow!("editing the fake Raynet: {e:?}");
    let at = Instant::now();
    match kind {
        Kind::RaynetEdit => inst
            .edit(pair.entity, pair.raynet, &json!({ "title": title }))
            .map_err(fake)?,
        Kind::OutlookEdit => {
            if !fakes
                .graph
                .edit_event(&pair.user, &pair.outlook, &json!({ "subject": title }))
            {
                anyhow::bail!(
                    "the fake Graph has no event {} of {}",
                    pair.outlook,
                    pair.user
                );
            }
        }
        Kind::RaynetDelete => inst.remove(pair.entity, pair.raynet).map_err(fake)?,
    }
    Ok(Edit {
        kind,
        pair,
        marker,
        at,
    })
}

impl Edit {
    /// Whether the other side shows the edit (read in-process, not an API request).
    pub(crate) fn visible(&self, fakes: Fakes<'_>) -> bool {
        let has_marker = |v: Option<&serde_json::Value>| {
            v.and_then(serde_json::Value::as_str)
                .is_some_and(|s| s.contains(&self.marker))
        };
        match self.kind {
            Kind::RaynetEdit => {
                let ev = fakes.graph.event(&self.pair.user, &self.pair.outlook);
                has_marker(ev.as_ref().and_then(|e| e.get("subject")))
            }
            Kind::OutlookEdit => {
                let rec = fakes
                    .raynet
                    .instance(INSTANCE)
                    .record(self.pair.entity, self.pair.raynet);
                has_marker(rec.as_ref().and_then(|r| r.get("title")))
            }
            Kind::RaynetDelete => fakes
                .graph
                .event(&self.pair.user, &self.pair.outlook)
                .is_none_or(|e| e["isCancelled"] == true),
        }
    }
}
