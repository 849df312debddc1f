//! The calendar and contact rules of DESIGN §4–§6, end to end against both fake servers.
