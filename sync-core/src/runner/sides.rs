//! The writable sides of a round.

use crate::ids::Side;
use crate::item::SyncItem;
use crate::provider::WriteSide;

/// The writable sides of a round (a one-way round has no writable Raynet side).
pub(super) struct Sides<'a, T: SyncItem> {
    /// Raynet, when the round writes there.
    pub(super) raynet: Option<&'a dyn WriteSide<T>>,
    /// Outlook.
    pub(super) outlook: &'a dyn WriteSide<T>,
}

impl<'a, T: SyncItem> Sides<'a, T> {
    /// The writable side `side`, if the round writes there.
    pub(super) fn get(&self, side: Side) -> Option<&'a dyn WriteSide<T>> {
        match side {
            Side::Raynet => self.raynet,
            Side::Outlook => Some(self.outlook),
        }
    }
}
