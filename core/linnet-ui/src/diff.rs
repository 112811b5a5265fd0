//! Diffs of an observed list, and the one function that computes them for every service.

use std::collections::HashMap;
use std::hash::Hash;

/// One change to an observed list. Apply a batch in order.
#[derive(Debug, Clone, PartialEq)]
pub enum VecDiff<T> {
    /// Replace everything (always the first batch of a subscription).
    Reset {
        values: Vec<T>,
    },
    Insert {
        index: u32,
        value: T,
    },
    Set {
        index: u32,
        value: T,
    },
    Remove {
        index: u32,
    },
    /// Take the item at `from` out, then insert it at `to` (an index in the list without it).
    Move {
        from: u32,
        to: u32,
    },
}

/// The diffs that turn `old` into `new`, matching items by `key`. Empty when they are equal.
pub fn diff_by_key<T, K>(_old: &[T], _new: &[T], _key: impl Fn(&T) -> K) -> Vec<VecDiff<T>>
where
    T: Clone + PartialEq,
    K: Eq + Hash,
{
    let _unused: HashMap<K, usize> = HashMap::new();
    unimplemented!("skeleton")
}

/// Applies diffs to a list, as a UI would (used by tests and by the bindings' examples).
pub fn apply<T: Clone>(_list: &mut Vec<T>, _diffs: &[VecDiff<T>]) {
    unimplemented!("skeleton")
}
