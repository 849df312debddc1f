//! Who is served: the group's members matched to Raynet users by e-mail (DESIGN §6).
//!
//! Pure: the caller reads the group and the Raynet users; [`match_members`] decides and says
//! why for everyone it leaves out. Nothing is guessed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::ids::Email;

/// A member (or owner) of the Microsoft 365 group, as Graph lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupUser {
    /// The user's Graph id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `mail`, when set.
    pub mail: Option<String>,
    /// `userPrincipalName`.
    pub upn: Option<String>,
}

impl GroupUser {
    /// The user's addresses: `mail` first, then the user principal name.
    #[must_use]
    pub fn emails(&self) -> Vec<Email> {
        let mut out: Vec<Email> = Vec::new();
        for e in [self.mail.as_deref(), self.upn.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Ok(e) = Email::new(e) {
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
        out
    }
}

/// A Raynet user account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RaynetUser {
    /// The user account id.
    pub account_id: u64,
    /// The person behind the account (owner of their meetings).
    pub person_id: Option<u64>,
    /// Login (an e-mail address).
    pub login: String,
    /// Another address, when the account has one.
    pub email2: Option<String>,
}

/// A member who will be synced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServedMember {
    /// The Graph user.
    pub user: GroupUser,
    /// Their Raynet account.
    pub raynet: RaynetUser,
    /// The Raynet person who owns their meetings.
    pub person_id: u64,
    /// The address the match was made on (the scope key in the state store).
    pub email: Email,
    /// Every address of the member.
    pub emails: BTreeSet<Email>,
}

/// The group's members matched to Raynet users, with everything worth reporting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Membership {
    /// The group's id.
    pub group_id: String,
    /// Who is served.
    pub served: Vec<ServedMember>,
    /// Who is not, and why; other things to look at.
    pub findings: Vec<Finding>,
}

/// Why someone is not served, or something the operator should look at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    /// A group member with no Raynet user of the same address.
    NoRaynetUser {
        /// Who.
        name: String,
        /// Their addresses.
        emails: Vec<String>,
    },
    /// A group member with no usable address at all.
    NoAddress {
        /// Who.
        name: String,
    },
    /// An owner of the group who is not a member (owners are not served).
    OwnerNotMember {
        /// Who.
        name: String,
    },
    /// A Raynet user with no member of the group of the same address.
    RaynetUserNotInGroup {
        /// Their login.
        login: String,
    },
    /// A Raynet account without a person (it cannot own meetings).
    RaynetUserWithoutPerson {
        /// Their login.
        login: String,
    },
    /// The integration user itself is a member: skipped.
    IntegrationUserSkipped {
        /// Its address.
        email: String,
    },
    /// The integration user looks like a real person's account (its changes will show in
    /// Raynet under that person's name: the seed recommends a dedicated virtual user).
    IntegrationUserLooksPersonal {
        /// Its address.
        email: String,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRaynetUser { name, emails } => write!(
                f,
                "member {name} ({}) has no Raynet user with the same e-mail: not synced",
                emails.join(", ")
            ),
            Self::NoAddress { name } => {
                write!(
                    f,
                    "member {name} has no mail or user principal name: not synced"
                )
            }
            Self::OwnerNotMember { name } => write!(
                f,
                "{name} owns the group but is not a member: not synced (add them as a member)"
            ),
            Self::RaynetUserNotInGroup { login } => {
                write!(
                    f,
                    "Raynet user {login} is not a member of the group: not synced"
                )
            }
            Self::RaynetUserWithoutPerson { login } => {
                write!(
                    f,
                    "Raynet user {login} has no person record: cannot own meetings"
                )
            }
            Self::IntegrationUserSkipped { email } => {
                write!(f, "the integration user {email} is a member: skipped")
            }
            Self::IntegrationUserLooksPersonal { email } => write!(
                f,
                "the integration user {email} looks like a real person's account: Raynet will \
                 show the sync's changes under their name (use a dedicated virtual user)"
            ),
        }
    }
}

/// Matches the group's members to Raynet users by e-mail (mail, then user principal name,
/// case-insensitive), skipping the integration user.
#[must_use]
pub fn match_members(
    members: &[GroupUser],
    owners: &[GroupUser],
    raynet_users: &[RaynetUser],
    integration_user: &Email,
) -> (Vec<ServedMember>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut by_email: BTreeMap<Email, &RaynetUser> = BTreeMap::new();
    for u in raynet_users {
        for e in [Some(u.login.as_str()), u.email2.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Ok(e) = Email::new(e) {
                by_email.entry(e).or_insert(u);
            }
        }
    }
    let member_ids: BTreeSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
    for o in owners {
        if !member_ids.contains(o.id.as_str()) {
            findings.push(Finding::OwnerNotMember {
                name: o.name.clone(),
            });
        }
    }
    let mut served = Vec::new();
    let mut matched_accounts = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for m in members {
        if !seen.insert(m.id.as_str()) {
            continue; // listed twice (transitive membership): once is enough
        }
        let emails = m.emails();
        if emails.is_empty() {
            findings.push(Finding::NoAddress {
                name: m.name.clone(),
            });
            continue;
        }
        if emails.contains(integration_user) {
            findings.push(Finding::IntegrationUserSkipped {
                email: integration_user.to_string(),
            });
            continue;
        }
        let Some((email, user)) = emails
            .iter()
            .find_map(|e| by_email.get(e).map(|u| (e.clone(), *u)))
        else {
            findings.push(Finding::NoRaynetUser {
                name: m.name.clone(),
                emails: emails.iter().map(ToString::to_string).collect(),
            });
            continue;
        };
        matched_accounts.insert(user.account_id);
        let Some(person_id) = user.person_id else {
            findings.push(Finding::RaynetUserWithoutPerson {
                login: user.login.clone(),
            });
            continue;
        };
        served.push(ServedMember {
            user: m.clone(),
            raynet: user.clone(),
            person_id,
            email,
            emails: emails.into_iter().collect(),
        });
    }
    for u in raynet_users {
        let is_integration = Email::new(&u.login).is_ok_and(|e| &e == integration_user);
        if !matched_accounts.contains(&u.account_id) && !is_integration {
            findings.push(Finding::RaynetUserNotInGroup {
                login: u.login.clone(),
            });
        }
    }
    if looks_personal(integration_user) {
        findings.push(Finding::IntegrationUserLooksPersonal {
            email: integration_user.to_string(),
        });
    }
    (served, findings)
}

/// Whether an address looks like a person's (`jana.novakova@…`) rather than a service
/// account's (`talxis@…`, `integration@…`, `raynet-sync@…`).
fn looks_personal(email: &Email) -> bool {
    const SERVICE: [&str; 10] = [
        "integra", "talxis", "sync", "api", "service", "svc", "bot", "system", "robot", "noreply",
    ];
    let local = email.as_str().split('@').next().unwrap_or_default();
    if SERVICE.iter().any(|s| local.contains(s)) {
        return false;
    }
    local.contains('.') || local.contains('_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gu(id: &str, name: &str, mail: Option<&str>, upn: &str) -> GroupUser {
        GroupUser {
            id: id.into(),
            name: name.into(),
            mail: mail.map(Into::into),
            upn: Some(upn.into()),
        }
    }

    fn ru(id: u64, login: &str) -> RaynetUser {
        RaynetUser {
            account_id: id,
            person_id: Some(id * 10),
            login: login.into(),
            email2: None,
        }
    }

    #[test]
    fn members_match_by_mail_then_upn_case_insensitively() {
        let members = vec![
            gu(
                "1",
                "Jana",
                Some("Jana.Novakova@Acme.cz"),
                "jn@acme.onmicrosoft.com",
            ),
            gu("2", "Petr", None, "PETR@acme.cz"),
            gu("3", "Eva", Some("eva@acme.cz"), "eva@acme.cz"),
            gu("4", "Integration", Some("talxis@acme.cz"), "talxis@acme.cz"),
        ];
        let owners = vec![
            gu("9", "Boss", Some("boss@acme.cz"), "boss@acme.cz"),
            members[0].clone(),
        ];
        let users = vec![
            ru(1, "jana.novakova@acme.cz"),
            ru(2, "petr@acme.cz"),
            ru(3, "talxis@acme.cz"),
            ru(4, "karel@acme.cz"),
        ];
        let integration = Email::new("talxis@acme.cz").unwrap();
        let (served, findings) = match_members(&members, &owners, &users, &integration);
        let names: Vec<_> = served.iter().map(|s| s.user.name.as_str()).collect();
        assert_eq!(names, vec!["Jana", "Petr"]);
        assert_eq!(served[0].person_id, 10);
        let text: Vec<String> = findings.iter().map(ToString::to_string).collect();
        let says = |needle: &str| text.iter().any(|t| t.contains(needle));
        assert!(says("Boss owns the group but is not a member"));
        assert!(says("member Eva (eva@acme.cz) has no Raynet user"));
        assert!(says("integration user talxis@acme.cz is a member"));
        assert!(says("Raynet user karel@acme.cz is not a member"));
        assert!(!says("looks like a real person"));
    }

    #[test]
    fn a_personal_integration_user_is_flagged() {
        let integration = Email::new("jana.novakova@acme.cz").unwrap();
        let (_, findings) = match_members(&[], &[], &[], &integration);
        assert!(matches!(
            findings[0],
            Finding::IntegrationUserLooksPersonal { .. }
        ));
    }
}
