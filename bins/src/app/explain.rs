//! `explain`: an item's history from the audit trail, in plain words — each write the sync made
//! to it, newest last, which field came from which side, and the rule that decided (a
//! one-sided change, a conflict and the policy that settled it, a deletion and what the sync
//! did about it). `--json` prints the entries for tools, each with its sentence.
//!
//! The item is looked up by its Raynet id (a meeting's `m-42` or just `42`, an event's `e-42`, a
//! person's `42`), then its Outlook id, and, when neither finds anything, by (part of) its
//! title, ignoring case.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use sync_core::{
    AuditConflict, AuditWrite, Collection, ConflictRule, FieldChange, Side, StepRule, WriteAction,
};

use crate::cli::{ExplainArgs, exit};
use crate::config::Config;
use crate::store::{AuditMatch, AuditRecord, ServiceStore, open_store};

/// At most this many entries are read per lookup (the newest).
const ENTRIES_SHOWN: usize = 500;

/// How the item was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MatchedBy {
    /// By its id on either side.
    Id,
    /// By its title.
    Title,
}

impl MatchedBy {
    fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Title => "title",
        }
    }
}

/// Prints the history of the item `args` names (`--json`: as one JSON object). Exits with
/// [`exit::FAILURE`] when the audit trail holds nothing about it.
pub(super) async fn explain(config: &Path, args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    let state = Config::state_of(config)?;
    if state.file().is_some_and(|p| !p.exists()) {
        eprintln!("raynet-sync: no state file yet: no round has run, nothing to explain");
        return Ok(ExitCode::from(exit::FAILURE));
    }
    let store = open_store(&state).await?;
    let (records, matched_by) = lookup(&*store, args).await?;
    if records.is_empty() {
        eprintln!(
            "raynet-sync: the audit trail of {} holds nothing about {:?}{} (no Raynet id, \
             Outlook id or title matches; entries older than admin.audit_days are pruned)",
            store.location(),
            args.item,
            args.tenant
                .as_ref()
                .map(|t| format!(" in tenant {t}"))
                .unwrap_or_default(),
        );
        return Ok(ExitCode::from(exit::FAILURE));
    }
    if args.json {
        let entries: Vec<serde_json::Value> = records
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["explanation"] = serde_json::Value::String(sentence(r));
                v
            })
            .collect();
        let out = serde_json::json!({
            "query": args.item,
            "matched_by": matched_by.as_str(),
            "entries": entries,
        });
        println!("{out}");
    } else {
        print!("{}", history_text(&records));
    }
    Ok(ExitCode::from(exit::SUCCESS))
}

/// The entries of the item: by its Raynet or Outlook id, else by its title; oldest first.
async fn lookup(
    store: &dyn ServiceStore,
    args: &ExplainArgs,
) -> anyhow::Result<(Vec<AuditRecord>, MatchedBy)> {
    let tenant = args.tenant.as_deref();
    let item = args.item.trim();
    let context = || format!("cannot read the audit trail of {}", store.location());
    let mut found: BTreeMap<i64, AuditRecord> = BTreeMap::new();
    // A bare number is a person's id, or a meeting's or an event's (the engine's `m-`/`e-`).
    let numbered: Vec<String> = if !item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()) {
        vec![format!("m-{item}"), format!("e-{item}")]
    } else {
        Vec::new()
    };
    let ids = std::iter::once(AuditMatch::RaynetId(item))
        .chain(numbered.iter().map(|n| AuditMatch::RaynetId(n)))
        .chain(std::iter::once(AuditMatch::OutlookId(item)));
    for by in ids {
        for r in store
            .find_audit(tenant, by, ENTRIES_SHOWN)
            .await
            .with_context(context)?
        {
            found.insert(r.id, r);
        }
    }
    if !found.is_empty() {
        return Ok((found.into_values().collect(), MatchedBy::Id));
    }
    let by_title = store
        .find_audit(tenant, AuditMatch::Title(item), ENTRIES_SHOWN)
        .await
        .with_context(context)?;
    Ok((by_title, MatchedBy::Title))
}

/// The history as text: one block per item (tenant, member, collection, pair), each entry on
/// its own line, newest last.
fn history_text(records: &[AuditRecord]) -> String {
    // Items in the order of their first entry.
    let mut order: Vec<(String, String, Collection, String)> = Vec::new();
    let mut items: BTreeMap<(String, String, Collection, String), Vec<&AuditRecord>> =
        BTreeMap::new();
    for r in records {
        let key = (
            r.tenant.clone(),
            r.member.clone(),
            r.collection,
            item_key(r),
        );
        if !items.contains_key(&key) {
            order.push(key.clone());
        }
        items.entry(key).or_default().push(r);
    }
    let mut out = String::new();
    for (i, key) in order.iter().enumerate() {
        let Some(entries) = items.get(key) else {
            continue;
        };
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", header(entries));
        for r in entries {
            let _ = writeln!(out, "  {}", sentence(r));
        }
    }
    out
}

/// What makes entries one item's: its pair, else its ids.
fn item_key(r: &AuditRecord) -> String {
    match r.entry.pair {
        Some(p) => p.to_string(),
        None => format!(
            "{}|{}",
            r.entry.raynet_id.as_ref().map_or("", |i| i.as_str()),
            r.entry.outlook_id.as_ref().map_or("", |i| i.as_str())
        ),
    }
}

/// An item's heading: its label (the latest), whose it is, its ids (the latest known).
fn header(entries: &[&AuditRecord]) -> String {
    let Some(last) = entries.last() else {
        return String::new();
    };
    let id = |side| entries.iter().rev().find_map(|r| r.entry.id_on(side));
    let (r_noun, o_noun) = nouns(last.collection);
    let raynet = id(Side::Raynet).map_or_else(
        || format!("Raynet {r_noun}: none"),
        |i| format!("Raynet {}", raynet_item(last.collection, i)),
    );
    let outlook = id(Side::Outlook).map_or_else(
        || format!("Outlook {o_noun}: none"),
        |i| format!("Outlook {o_noun} {i}"),
    );
    format!(
        "{:?} — {} of {} (tenant {}): {raynet}, {outlook}",
        last.entry.label, last.collection, last.member, last.tenant,
    )
}

/// What an item is called on each side in `collection`: (Raynet, Outlook).
fn nouns(collection: Collection) -> (&'static str, &'static str) {
    match collection {
        Collection::Calendar => ("record", "event"),
        Collection::Contacts => ("person", "contact"),
    }
}

/// A side's name, capitalised.
fn side_name(side: Side) -> &'static str {
    match side {
        Side::Raynet => "Raynet",
        Side::Outlook => "Outlook",
    }
}

/// A Raynet item of `collection` by its engine id: "meeting 42" (`m-42`), "event 7" (`e-7`),
/// "person 5".
fn raynet_item(collection: Collection, id: &sync_core::RemoteId) -> String {
    let id = id.as_str();
    match (collection, id.split_once('-')) {
        (Collection::Calendar, Some(("m", n))) => format!("meeting {n}"),
        (Collection::Calendar, Some(("e", n))) => format!("event {n}"),
        (Collection::Calendar, _) => format!("record {id}"),
        (Collection::Contacts, _) => format!("person {id}"),
    }
}

/// A side's item in `collection`, with its id when known: "the Raynet meeting 42".
fn the_item(collection: Collection, side: Side, id: Option<&sync_core::RemoteId>) -> String {
    let (r_noun, o_noun) = nouns(collection);
    match (side, id) {
        // Raynet ids are short numbers; Outlook ids are long and shown once in the heading.
        (Side::Raynet, Some(id)) => format!("the Raynet {}", raynet_item(collection, id)),
        (Side::Raynet, None) => format!("the Raynet {r_noun}"),
        (Side::Outlook, _) => format!("the Outlook {o_noun}"),
    }
}

/// One entry in plain words: when, whose, what happened and which rule decided.
fn sentence(r: &AuditRecord) -> String {
    let e = &r.entry;
    let c = r.collection;
    let mut s = format!("{}, {}: ", r.at.format("%Y-%m-%d %H:%M UTC"), r.member);
    let raynet = the_item(c, Side::Raynet, e.raynet_id.as_ref());
    let outlook = the_item(c, Side::Outlook, e.outlook_id.as_ref());
    let what = match e.rule {
        StepRule::NewInRaynet => format!("new in Raynet: {}", writes_text(r)),
        StepRule::NewInOutlook => format!("new in Outlook: {}", writes_text(r)),
        StepRule::NewInOutlookPrivate => format!(
            "new in Outlook, private: {} as a time blocker (private_events = \"time-blocker\")",
            writes_text(r)
        ),
        StepRule::NewInSource => format!("a new Raynet person: {}", writes_text(r)),
        StepRule::DeletedInRaynet => format!(
            "deleted in Raynet (by a Raynet user; who is not recorded): {}",
            writes_text(r)
        ),
        StepRule::DeletedInSource => {
            if e.writes.is_empty() {
                "the Raynet person was deleted (by a Raynet user; who is not recorded) and its \
                 Outlook copy was gone too: forgotten"
                    .to_owned()
            } else {
                format!(
                    "the Raynet person was deleted (by a Raynet user; who is not recorded): {}",
                    writes_text(r)
                )
            }
        }
        StepRule::DeletedInOutlookDelete => format!(
            "deleted in Outlook, in {}'s mailbox: {} (outlook_deletes = \"delete\")",
            r.member,
            writes_text(r)
        ),
        StepRule::DeletedInOutlookCancel => format!(
            "deleted in Outlook, in {}'s mailbox: {} and no longer linked to Outlook \
             (outlook_deletes = \"cancel\")",
            r.member,
            writes_text(r)
        ),
        StepRule::DeletedInOutlookKeptClosed => format!(
            "deleted in Outlook, in {}'s mailbox: {raynet} was already completed or cancelled, \
             so the sync kept it as it is and no longer links it to Outlook",
            r.member
        ),
        StepRule::DeletedInOutlookIgnored => format!(
            "deleted in Outlook, in {}'s mailbox: the sync kept {raynet} and no longer links it \
             to Outlook (outlook_deletes = \"ignore\")",
            r.member
        ),
        StepRule::DeletedInRaynetEditedInOutlook => format!(
            "deleted in Raynet (by a Raynet user; who is not recorded) while edited in Outlook: \
             the edit wins (delete_vs_edit = \"keep-edit\"): {}",
            writes_text(r)
        ),
        StepRule::DeletedInOutlookEditedInRaynet => format!(
            "deleted in Outlook, in {}'s mailbox, while edited in Raynet: the edit wins \
             (delete_vs_edit = \"keep-edit\"): {}",
            r.member,
            writes_text(r)
        ),
        StepRule::DeletedOnBothSides => {
            "deleted on both sides (or deleted on one and out of the sync window on the other): \
             the sync forgot the pair"
                .to_owned()
        }
        StepRule::DeletedInRaynetDetached => {
            format!("{raynet}, no longer linked to Outlook, was deleted in Raynet: forgotten")
        }
        StepRule::DeletedInOutlookDetached => format!(
            "{outlook}, no longer linked to Raynet, was deleted in {}'s mailbox: forgotten",
            r.member
        ),
        StepRule::CancelledInRaynet => format!(
            "cancelled in Raynet; Outlook cannot hold a cancelled event: {}; {raynet} is kept",
            writes_text(r)
        ),
        StepRule::ReopenedInRaynet => {
            format!("reopened in Raynet: {}", writes_text(r))
        }
        StepRule::MissingInTarget => format!(
            "the Outlook copy was missing (deleted in Outlook): restored from Raynet: {}",
            writes_text(r)
        ),
        StepRule::Relinked => format!(
            "found on both sides by the sync mark (the state was lost): linked again; {}",
            writes_text(r)
        ),
        StepRule::ChangedInRaynet
        | StepRule::ChangedInOutlook
        | StepRule::ChangedOnBothSides
        | StepRule::ChangedAfterCompletion
        | StepRule::FilledIn
        | StepRule::VersionsMoved
        | StepRule::ChangedInSource
        | StepRule::EditedInTarget
        | StepRule::Forgotten => writes_text(r),
    };
    s.push_str(&what);
    let _ = write!(s, " ({})", rule_words(e.rule));
    if let Some(error) = &e.error {
        let _ = write!(s, "; FAILED: {error} (retried next round)");
    }
    s
}

/// The rule behind an entry, in a few words.
fn rule_words(rule: StepRule) -> &'static str {
    match rule {
        StepRule::ChangedInRaynet | StepRule::ChangedInOutlook | StepRule::ChangedInSource => {
            "one-sided change"
        }
        StepRule::ChangedOnBothSides => "changed on both sides, merged field by field",
        StepRule::ChangedAfterCompletion => {
            "completed meeting: Raynet changes stay in Raynet (completed_events = \"stop\")"
        }
        StepRule::EditedInTarget => "contacts flow one way: Outlook edits are overwritten",
        StepRule::MissingInTarget => "contacts flow one way: Outlook deletions are restored",
        StepRule::NewInRaynet
        | StepRule::NewInOutlook
        | StepRule::NewInOutlookPrivate
        | StepRule::NewInSource => "new item",
        StepRule::FilledIn => "a field Raynet starts holding is filled in",
        StepRule::VersionsMoved => "versions moved, content agrees",
        StepRule::CancelledInRaynet => "cancellation",
        StepRule::ReopenedInRaynet => "reopened",
        StepRule::DeletedInRaynet
        | StepRule::DeletedInRaynetEditedInOutlook
        | StepRule::DeletedInOutlookEditedInRaynet
        | StepRule::DeletedInOutlookDelete
        | StepRule::DeletedInOutlookCancel
        | StepRule::DeletedInOutlookKeptClosed
        | StepRule::DeletedInOutlookIgnored
        | StepRule::DeletedOnBothSides
        | StepRule::DeletedInRaynetDetached
        | StepRule::DeletedInOutlookDetached
        | StepRule::DeletedInSource => "deletion rule",
        StepRule::Relinked => "re-linked by the sync mark",
        StepRule::Forgotten => "bookkeeping",
    }
}

/// What the entry's writes did, field by field; and the conflicts no write shows.
fn writes_text(r: &AuditRecord) -> String {
    let e = &r.entry;
    let mut parts: Vec<String> = Vec::new();
    let mut explained: Vec<&str> = Vec::new();
    for w in &e.writes {
        parts.push(write_text(r, w, &mut explained));
    }
    for c in &e.conflicts {
        if !explained.contains(&c.field.as_str()) {
            parts.push(format!(
                "{}: both sides changed it; {}'s value was kept ({})",
                c.field,
                side_name(c.winner),
                policy_words(c)
            ));
        }
    }
    if parts.is_empty() {
        return "nothing written".to_owned();
    }
    parts.join("; ")
}

/// One write in words, each field saying where its value came from (`explained` collects the
/// conflicting fields it covers).
fn write_text<'a>(r: &'a AuditRecord, w: &'a AuditWrite, explained: &mut Vec<&'a str>) -> String {
    let e = &r.entry;
    let target = the_item(
        r.collection,
        w.side,
        w.id.as_ref().or_else(|| e.id_on(w.side)),
    );
    let source = side_name(w.side.other());
    let not_done = if w.done { "" } else { " (not done)" };
    match w.action {
        WriteAction::Create => format!("created {target}{not_done}"),
        WriteAction::Delete => format!("the sync deleted {target}{not_done}"),
        WriteAction::Update if e.rule == StepRule::DeletedInOutlookCancel => {
            let status = w.changes.iter().find(|c| c.field == "status");
            match status {
                Some(c) => format!(
                    "the sync cancelled {target} (status {} → {}){not_done}",
                    quoted(&c.from),
                    quoted(&c.to)
                ),
                None => format!("the sync cancelled {target}{not_done}"),
            }
        }
        WriteAction::Update => {
            let mut plain: Vec<String> = Vec::new();
            let mut clauses: Vec<String> = Vec::new();
            for change in &w.changes {
                match e.conflicts.iter().find(|c| c.field == change.field) {
                    Some(c) => {
                        explained.push(&c.field);
                        clauses.push(conflict_text(c, change, w.side, &target, not_done));
                    }
                    None => plain.push(change_text(e.rule, change, source)),
                }
            }
            if !plain.is_empty() {
                clauses.insert(
                    0,
                    format!(
                        "{} and {} written to {target}{not_done}",
                        plain.join(", "),
                        if plain.len() == 1 { "was" } else { "were" }
                    ),
                );
            }
            if clauses.is_empty() {
                clauses.push(format!("updated {target}{not_done}"));
            }
            clauses.join("; ")
        }
    }
}

/// A field one side changed, in words: "the title changed in Outlook ('a' → 'b')".
fn change_text(rule: StepRule, change: &FieldChange, source: &str) -> String {
    let (from, to) = (quoted(&change.from), quoted(&change.to));
    match rule {
        StepRule::EditedInTarget => format!(
            "the {} edited in Outlook ({from}) was set back to Raynet's {to}",
            change.field
        ),
        StepRule::ChangedInSource => {
            format!("the {} changed in Raynet ({from} → {to})", change.field)
        }
        _ => format!("the {} changed in {source} ({from} → {to})", change.field),
    }
}

/// A field both sides changed, in words: "location: both changed; Raynet's 'Brno' kept over
/// Outlook's 'Praha' and written to the Outlook event (policy latest-wins: Raynet's change was
/// later)". `written` is the side the winning value was written to (its old value is the
/// loser's), `target` that side's item.
fn conflict_text(
    c: &AuditConflict,
    change: &FieldChange,
    written: Side,
    target: &str,
    not_done: &str,
) -> String {
    format!(
        "{}: both changed; {}'s {} kept over {}'s {} and written to {target}{not_done} ({})",
        c.field,
        side_name(c.winner),
        quoted(&change.to),
        side_name(written),
        quoted(&change.from),
        policy_words(c)
    )
}

/// The policy that settled a conflict, in words.
fn policy_words(c: &AuditConflict) -> String {
    let winner = side_name(c.winner);
    match c.rule {
        ConflictRule::Latest => format!("policy latest-wins: {winner}'s change was later"),
        ConflictRule::LatestTie => {
            "policy latest-wins: the changes' times tie (or are unknown), so Raynet's is kept"
                .to_owned()
        }
        ConflictRule::Raynet => "policy raynet: Raynet always wins".to_owned(),
        ConflictRule::Outlook => "policy outlook: Outlook always wins".to_owned(),
        ConflictRule::Completed => "the meeting is completed in Raynet and Outlook never \
                                    overwrites it (completed_events = \"stop\")"
            .to_owned(),
    }
}

/// A value in quotes.
fn quoted(value: &str) -> String {
    format!("'{value}'")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use sync_core::{AuditEntry, PairId, RemoteId};

    fn id(s: &str) -> RemoteId {
        RemoteId::new(s).unwrap()
    }

    fn record(entry: AuditEntry) -> AuditRecord {
        AuditRecord {
            id: 1,
            at: chrono::Utc.with_ymd_and_hms(2026, 12, 6, 14, 3, 0).unwrap(),
            tenant: "acme".into(),
            member: "jana@acme.cz".into(),
            collection: Collection::Calendar,
            entry,
        }
    }

    fn update(side: Side, wid: &str, field: &str, from: &str, to: &str) -> AuditWrite {
        AuditWrite {
            side,
            action: WriteAction::Update,
            id: Some(id(wid)),
            changes: vec![FieldChange {
                field: field.into(),
                from: from.into(),
                to: to.into(),
            }],
            done: true,
        }
    }

    fn entry(rule: StepRule, writes: Vec<AuditWrite>) -> AuditEntry {
        AuditEntry {
            rule,
            reason: rule.phrase().into(),
            pair: Some(PairId::from_store(3)),
            label: "Porada".into(),
            raynet_id: Some(id("m-42")),
            outlook_id: Some(id("AAMk=")),
            writes,
            conflicts: vec![],
            error: None,
        }
    }

    #[test]
    fn a_one_sided_change_says_where_the_value_came_from() {
        let r = record(entry(
            StepRule::ChangedInOutlook,
            vec![update(
                Side::Raynet,
                "m-42",
                "title",
                "Porada",
                "Porada s Acme",
            )],
        ));
        assert_eq!(
            sentence(&r),
            "2026-12-06 14:03 UTC, jana@acme.cz: the title changed in Outlook ('Porada' → \
             'Porada s Acme') and was written to the Raynet meeting 42 (one-sided change)"
        );
    }

    #[test]
    fn a_conflict_says_which_value_was_kept_and_by_which_policy() {
        let mut e = entry(
            StepRule::ChangedOnBothSides,
            vec![
                update(Side::Outlook, "AAMk=", "location", "Praha", "Brno"),
                update(Side::Raynet, "m-42", "title", "Porada", "Porada s Acme"),
            ],
        );
        e.conflicts.push(AuditConflict {
            field: "location".into(),
            winner: Side::Raynet,
            rule: ConflictRule::Latest,
        });
        let text = sentence(&record(e));
        assert!(
            text.contains(
                "location: both changed; Raynet's 'Brno' kept over Outlook's 'Praha' and written \
                 to the Outlook event (policy latest-wins: Raynet's change was later)"
            ),
            "{text}"
        );
        assert!(
            text.contains("the title changed in Outlook ('Porada' → 'Porada s Acme')"),
            "{text}"
        );
    }

    #[test]
    fn a_deletion_says_on_which_side_and_what_the_sync_did() {
        let r = record(entry(
            StepRule::DeletedInOutlookCancel,
            vec![update(
                Side::Raynet,
                "m-42",
                "status",
                "scheduled",
                "cancelled",
            )],
        ));
        let text = sentence(&r);
        assert!(
            text.contains("deleted in Outlook, in jana@acme.cz's mailbox: the sync cancelled the Raynet meeting 42 (status 'scheduled' → 'cancelled')"),
            "{text}"
        );
        let mut failed = entry(
            StepRule::DeletedInRaynet,
            vec![AuditWrite {
                side: Side::Outlook,
                action: WriteAction::Delete,
                id: Some(id("AAMk=")),
                changes: vec![],
                done: false,
            }],
        );
        failed.error = Some("outlook: unavailable".into());
        let text = sentence(&record(failed));
        assert!(
            text.contains("deleted in Raynet (by a Raynet user; who is not recorded): the sync deleted the Outlook event (not done)"),
            "{text}"
        );
        assert!(
            text.ends_with("FAILED: outlook: unavailable (retried next round)"),
            "{text}"
        );
    }

    #[test]
    fn entries_are_grouped_per_item_with_its_ids() {
        let mut second = record(entry(
            StepRule::ChangedInRaynet,
            vec![update(
                Side::Outlook,
                "AAMk=",
                "location",
                "(empty)",
                "Brno",
            )],
        ));
        second.id = 2;
        let mut other = record(entry(StepRule::NewInOutlook, vec![]));
        other.id = 3;
        other.entry.pair = Some(PairId::from_store(9));
        other.entry.raynet_id = Some(id("e-77"));
        let text = history_text(&[record(entry(StepRule::NewInRaynet, vec![])), second, other]);
        let blocks: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(blocks.len(), 2, "{text}");
        assert!(blocks[0].starts_with("\"Porada\" — calendar of jana@acme.cz (tenant acme): Raynet meeting 42, Outlook event AAMk="), "{text}");
        assert_eq!(blocks[0].lines().count(), 3, "{text}");
        assert!(blocks[1].contains("Raynet event 77"), "{text}");
    }
}
