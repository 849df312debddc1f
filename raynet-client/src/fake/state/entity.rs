//! [`Entity`]: the entities the fake serves, with what each accepts: its filter
//! columns and its required fields.

/// The entities the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Entity {
    Meeting,
    Event,
    Person,
    Company,
    UserAccount,
}

impl Entity {
    pub(crate) const ALL: [Entity; 5] = [
        Entity::Meeting,
        Entity::Event,
        Entity::Person,
        Entity::Company,
        Entity::UserAccount,
    ];

    pub(crate) fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.name() == s)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Entity::Meeting => "meeting",
            Entity::Event => "event",
            Entity::Person => "person",
            Entity::Company => "company",
            Entity::UserAccount => "userAccount",
        }
    }

    pub(crate) fn is_activity(self) -> bool {
        matches!(self, Entity::Meeting | Entity::Event)
    }

    /// The filter columns a list accepts (besides the `rowInfo.*` ones).
    pub(crate) fn filters(self) -> &'static [&'static str] {
        match self {
            Entity::Meeting | Entity::Event => &[
                "id",
                "title",
                "status",
                "scheduledFrom",
                "scheduledTill",
                "completed",
                "category-id",
                "owner-id",
                "businessCase",
                "priority",
            ],
            Entity::Person => &[
                "id",
                "firstName",
                "lastName",
                "owner",
                "primaryRelationship-company-name",
                "primaryRelationship-company-id",
                "userAccount-id",
                "contactInfo.email",
                "contactInfo.email2",
            ],
            Entity::Company => &[
                "id",
                "name",
                "owner",
                "regNumber",
                "state",
                "role",
                "rating",
            ],
            Entity::UserAccount => &["id", "username", "userRole"],
        }
    }

    /// The fields a create must carry.
    pub(crate) fn required(self) -> &'static [&'static str] {
        match self {
            Entity::Meeting | Entity::Event => &["title", "priority", "owner"],
            Entity::Person => &["lastName"],
            Entity::Company => &["name", "state", "role", "rating"],
            Entity::UserAccount => &["username", "person"],
        }
    }
}
