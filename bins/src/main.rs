//! The `raynet-sync` binary.
fn main() {}
