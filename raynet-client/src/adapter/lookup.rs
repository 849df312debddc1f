//! The look-ups the mappings need: participants' e-mail addresses and the
//! names of companies that person rows name by id only, each fetched once per
//! read for all rows (one `id[IN]` listing per 1000 ids). The providers and the
//! feed share them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sync_core::Email;

use super::rows::person_email;
use crate::client::Client;
use crate::client::error::Error;
use crate::client::models::{CalendarActivity, Person};
use crate::client::query::{FilterValue, ListQuery, Op};

/// E-mail addresses of persons, by person id: participants are persons, and the
/// engine knows attendees by address.
pub type EmailsByPerson = BTreeMap<u64, Email>;

/// Company names by company id, for persons whose rows name their company by
/// id only.
pub type CompanyNames = BTreeMap<u64, String>;

/// E-mail addresses of the non-owner participants of `rows`: one `id[IN]`
/// person listing per 1000 persons.
pub(super) async fn emails_for(
    client: &Client,
    rows: &[&CalendarActivity],
) -> Result<EmailsByPerson, Error> {
    emails_of(client, participant_ids(rows)).await
}

fn participant_ids(rows: &[&CalendarActivity]) -> BTreeSet<u64> {
    rows.iter()
        .flat_map(|a| a.participants.iter())
        .filter(|p| p.owner != Some(true))
        .filter_map(|p| p.person.as_ref().map(|r| r.id))
        .collect()
}

/// A person's address (`None`: the person has none) and when it was read.
type KeptEmails = HashMap<u64, (Option<Email>, Instant)>;

/// Participants' addresses kept between rounds, for `max_age` each (default
/// [`PersonEmails::DEFAULT_MAX_AGE`]): a round that reads one changed meeting
/// then needs no person listing for people it met recently. Clones share the
/// cache. An address is refreshed sooner when the person is seen to change:
/// [`PersonEmails::forget`] (a webhook said the person changed) and
/// [`PersonEmails::note`] (a round read the person's row, changed or not), so
/// the age bounds only changes nobody reported.
///
/// ```
/// use raynet_client::adapter::PersonEmails;
/// let cache = PersonEmails::default();
/// assert_eq!(cache.len(), 0);
/// cache.forget(7); // nothing kept: nothing to do
/// ```
#[derive(Clone, Debug)]
pub struct PersonEmails {
    max_age: std::time::Duration,
    kept: Arc<Mutex<KeptEmails>>,
    /// When the cache was last warmed from the addresses a store keeps.
    warmed: Arc<Mutex<Option<Instant>>>,
}

impl Default for PersonEmails {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_AGE)
    }
}

impl PersonEmails {
    /// How long an address is kept unless the person is seen to change: an
    /// hour, the safety-net poll of `serve`, within which a Person webhook or
    /// the persons a round reads refresh it.
    pub const DEFAULT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

    /// A cache whose entries live `max_age` (zero: nothing is kept).
    #[must_use]
    pub fn new(max_age: std::time::Duration) -> Self {
        Self {
            max_age,
            kept: Arc::default(),
            warmed: Arc::default(),
        }
    }

    /// Whether the cache should be warmed again ([`PersonEmails::warm`]): never warmed, or
    /// warmed longer than an entry lives ago (zero age: never).
    #[must_use]
    pub fn warm_due(&self) -> bool {
        !self.max_age.is_zero()
            && self
                .warmed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_none_or(|at| at.elapsed() >= self.max_age)
    }

    /// Keeps the addresses of persons already known elsewhere (the contacts a state store
    /// keeps, as last synced), so that participants need no person listing; an address kept
    /// from a fresher read is left as it is.
    pub fn warm(&self, persons: impl IntoIterator<Item = (u64, Option<Email>)>) {
        if self.max_age.is_zero() {
            return;
        }
        let now = Instant::now();
        {
            let mut kept = self.kept();
            for (id, email) in persons {
                kept.entry(id).or_insert((email, now));
            }
        }
        *self.warmed.lock().unwrap_or_else(PoisonError::into_inner) = Some(now);
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, KeptEmails> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets the address of person `id` (read anew when next needed).
    pub fn forget(&self, id: u64) {
        self.kept().remove(&id);
    }

    /// Keeps the addresses of `persons`, rows a round just read (a person whose
    /// address changed or went is refreshed; the others are warmed for later
    /// meetings).
    pub fn note(&self, persons: &[Person]) {
        if self.max_age.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut kept = self.kept();
        for p in persons {
            kept.insert(p.id, (person_email(p), now));
        }
    }

    /// How many persons' addresses are kept (expired ones included until the
    /// next look-up drops them).
    #[must_use]
    pub fn len(&self) -> usize {
        self.kept().len()
    }

    /// Whether nothing is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The addresses of the non-owner participants of `rows`: the ones kept,
    /// the others listed (and kept).
    pub(super) async fn emails_for(
        &self,
        client: &Client,
        rows: &[&CalendarActivity],
    ) -> Result<EmailsByPerson, Error> {
        let wanted = participant_ids(rows);
        let mut out = EmailsByPerson::new();
        let mut missing = BTreeSet::new();
        {
            let mut kept = self.kept();
            kept.retain(|_, (_, at)| at.elapsed() < self.max_age);
            for id in wanted {
                match kept.get(&id) {
                    Some((Some(email), _)) => {
                        out.insert(id, email.clone());
                    }
                    Some((None, _)) => {}
                    None => {
                        missing.insert(id);
                    }
                }
            }
        }
        let found = emails_of(client, missing.clone()).await?;
        if !self.max_age.is_zero() {
            let now = Instant::now();
            let mut kept = self.kept();
            for id in missing {
                kept.insert(id, (found.get(&id).cloned(), now));
            }
        }
        out.extend(found);
        Ok(out)
    }
}

async fn emails_of(client: &Client, ids: BTreeSet<u64>) -> Result<EmailsByPerson, Error> {
    let mut out = EmailsByPerson::new();
    for q in id_queries(ids) {
        for p in client.persons().list_all(&q).await? {
            if let Some(email) = person_email(&p) {
                out.insert(p.id, email);
            }
        }
    }
    Ok(out)
}

/// Names of the companies `persons` name by id only: one `id[IN]` listing per
/// 1000 companies, each company once.
pub(super) async fn company_names(
    client: &Client,
    persons: &[Person],
) -> Result<CompanyNames, Error> {
    let ids: BTreeSet<u64> = persons
        .iter()
        .filter_map(|p| p.primary_relationship.as_ref()?.company.as_ref())
        .filter(|c| c.label().is_none_or(|l| l.trim().is_empty()))
        .map(|c| c.id)
        .collect();
    let mut names = CompanyNames::new();
    for q in id_queries(ids) {
        for c in client.companies().list_all(&q).await? {
            if let Some(name) = c.name.filter(|n| !n.trim().is_empty()) {
                names.insert(c.id, name);
            }
        }
    }
    Ok(names)
}

/// The `id[IN]` listings of `ids`, 1000 ids per listing.
fn id_queries(ids: BTreeSet<u64>) -> Vec<ListQuery> {
    let ids: Vec<u64> = ids.into_iter().collect();
    ids.chunks(1000)
        .map(|chunk| {
            ListQuery::new().filter("id", Op::In, FilterValue::list(chunk.iter().copied()))
        })
        .collect()
}
