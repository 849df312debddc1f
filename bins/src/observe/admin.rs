//! The admin endpoint. (Being built.)
