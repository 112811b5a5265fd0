//! Diffs of an observed list, and the one function that computes them for every service.

use std::collections::{HashMap, HashSet};
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

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Gives every item a small id: equal keys get equal ids in both lists (the n-th item with a
/// key in `old` matches the n-th item with that key in `new`, so duplicate keys work too).
fn ids<T, K: Eq + Hash>(
    items: &[T],
    key: &impl Fn(&T) -> K,
    table: &mut HashMap<(K, usize), usize>,
) -> Vec<usize> {
    let mut seen: HashMap<K, usize> = HashMap::new();
    items
        .iter()
        .map(|item| {
            let n = seen.entry(key(item)).or_insert(0);
            let occurrence = *n;
            *n += 1;
            let next = table.len();
            *table.entry((key(item), occurrence)).or_insert(next)
        })
        .collect()
}

/// The diffs that turn `old` into `new`, matching items by `key`. Empty when they are equal.
///
/// First `Remove`s of the items whose key is gone (from the back, so each index is valid as
/// applied), then a walk over `new`: `Set` where the same key sits at the same position with a
/// changed value, `Move` (then `Set` if it changed) where the key sits further down, `Insert`
/// for a new key.
pub fn diff_by_key<T, K>(old: &[T], new: &[T], key: impl Fn(&T) -> K) -> Vec<VecDiff<T>>
where
    T: Clone + PartialEq,
    K: Eq + Hash,
{
    let mut table = HashMap::new();
    let old_ids = ids(old, &key, &mut table);
    let new_ids = ids(new, &key, &mut table);
    let wanted: HashSet<usize> = new_ids.iter().copied().collect();

    let mut diffs = Vec::new();
    let mut cur: Vec<T> = old.to_vec();
    let mut cur_ids = old_ids;
    for i in (0..cur_ids.len()).rev() {
        if cur_ids.get(i).is_some_and(|id| !wanted.contains(id)) {
            cur_ids.remove(i);
            cur.remove(i);
            diffs.push(VecDiff::Remove { index: index(i) });
        }
    }
    for (j, (id, value)) in new_ids.iter().zip(new).enumerate() {
        if cur_ids.get(j) != Some(id) {
            match cur_ids.iter().skip(j).position(|c| c == id) {
                Some(offset) => {
                    let from = j + offset;
                    let moved_id = cur_ids.remove(from);
                    let moved = cur.remove(from);
                    cur_ids.insert(j, moved_id);
                    cur.insert(j, moved);
                    diffs.push(VecDiff::Move {
                        from: index(from),
                        to: index(j),
                    });
                }
                None => {
                    cur_ids.insert(j, *id);
                    cur.insert(j, value.clone());
                    diffs.push(VecDiff::Insert {
                        index: index(j),
                        value: value.clone(),
                    });
                    continue;
                }
            }
        }
        if let Some(slot) = cur.get_mut(j)
            && slot != value
        {
            *slot = value.clone();
            diffs.push(VecDiff::Set {
                index: index(j),
                value: value.clone(),
            });
        }
    }
    diffs
}

/// Applies diffs to a list, as a UI would (used by tests and by the bindings' examples).
/// Out-of-range indexes are clamped or ignored rather than panicking.
pub fn apply<T: Clone>(list: &mut Vec<T>, diffs: &[VecDiff<T>]) {
    for diff in diffs {
        match diff {
            VecDiff::Reset { values } => *list = values.clone(),
            VecDiff::Insert { index, value } => {
                let at = (*index as usize).min(list.len());
                list.insert(at, value.clone());
            }
            VecDiff::Set { index, value } => {
                if let Some(slot) = list.get_mut(*index as usize) {
                    *slot = value.clone();
                }
            }
            VecDiff::Remove { index } => {
                if (*index as usize) < list.len() {
                    list.remove(*index as usize);
                }
            }
            VecDiff::Move { from, to } => {
                if (*from as usize) < list.len() {
                    let item = list.remove(*from as usize);
                    let at = (*to as usize).min(list.len());
                    list.insert(at, item);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    /// xorshift64*: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    type Item = (u32, u32); // (key, value)

    fn random_list(rng: &mut Rng, unique: bool) -> Vec<Item> {
        let len = rng.below(12) as usize;
        let mut keys: Vec<u32> = (0..16).collect();
        let mut out = Vec::new();
        for _ in 0..len {
            let key = if unique {
                let i = rng.below(keys.len() as u64) as usize;
                keys.swap_remove(i)
            } else {
                rng.below(6) as u32
            };
            out.push((key, rng.below(3) as u32));
            if keys.is_empty() {
                break;
            }
        }
        out
    }

    fn check(old: &[Item], new: &[Item]) -> Vec<VecDiff<Item>> {
        let diffs = diff_by_key(old, new, |x| x.0);
        let mut list = old.to_vec();
        apply(&mut list, &diffs);
        assert_eq!(list, new, "old {old:?} diffs {diffs:?}");
        diffs
    }

    #[test]
    fn applying_the_diff_of_random_lists_gives_the_new_list() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..5000 {
            let unique = round % 4 != 0;
            let old = random_list(&mut rng, unique);
            let new = random_list(&mut rng, unique);
            check(&old, &new);
            // Small edits of the same list, as live updates are.
            let mut edited = old.clone();
            if !edited.is_empty() {
                let i = rng.below(edited.len() as u64) as usize;
                let item = edited.remove(i);
                let j = rng.below(edited.len() as u64 + 1) as usize;
                edited.insert(j, (item.0, item.1 + rng.below(2) as u32));
            }
            check(&old, &edited);
        }
    }

    #[test]
    fn equal_lists_give_no_diffs() {
        let list = vec![(1, 1), (2, 2), (3, 3)];
        assert!(check(&list, &list).is_empty());
        assert!(check(&[], &[]).is_empty());
    }

    #[test]
    fn a_changed_item_gives_one_set() {
        let old = vec![(1, 1), (2, 2), (3, 3)];
        let new = vec![(1, 1), (2, 9), (3, 3)];
        assert_eq!(
            check(&old, &new),
            vec![VecDiff::Set {
                index: 1,
                value: (2, 9)
            }]
        );
    }

    #[test]
    fn a_bumped_chat_gives_one_move_and_a_set() {
        let old = vec![(1, 1), (2, 2), (3, 3)];
        let new = vec![(3, 4), (1, 1), (2, 2)];
        assert_eq!(
            check(&old, &new),
            vec![
                VecDiff::Move { from: 2, to: 0 },
                VecDiff::Set {
                    index: 0,
                    value: (3, 4)
                }
            ]
        );
        let unchanged = vec![(3, 3), (1, 1), (2, 2)];
        assert_eq!(
            check(&old, &unchanged),
            vec![VecDiff::Move { from: 2, to: 0 }]
        );
    }

    #[test]
    fn removals_come_first_from_the_back_then_inserts() {
        let old = vec![(1, 1), (2, 2), (3, 3)];
        let new = vec![(2, 2), (4, 4)];
        assert_eq!(
            check(&old, &new),
            vec![
                VecDiff::Remove { index: 2 },
                VecDiff::Remove { index: 0 },
                VecDiff::Insert {
                    index: 1,
                    value: (4, 4)
                }
            ]
        );
    }

    #[test]
    fn apply_ignores_out_of_range_indexes() {
        let mut list = vec![1, 2];
        apply(
            &mut list,
            &[
                VecDiff::Remove { index: 7 },
                VecDiff::Set { index: 9, value: 0 },
                VecDiff::Move { from: 5, to: 0 },
                VecDiff::Insert {
                    index: 10,
                    value: 3,
                },
            ],
        );
        assert_eq!(list, vec![1, 2, 3]);
        apply(&mut list, &[VecDiff::Reset { values: vec![7] }]);
        assert_eq!(list, vec![7]);
    }
}
