//! A password or token that must never reach a log: its `Debug` prints a placeholder and it has no
//! `Display`. One type for the whole stack (defined with SASL, its first user).

pub use crate::sasl::Secret;

#[cfg(test)]
mod tests {
    #[test]
    fn debug_never_shows_the_value() {
        let s = super::Secret::from("hunter2-canary");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
