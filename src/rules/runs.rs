//! Runs of items laid end to end in one list: a start builds thousands of
//! small lists (the input scan's literals and each literal's owners), and
//! one buffer with the ends takes two allocations instead of one per list.

/// Runs, by index: run `i` is `items[ends[i - 1]..ends[i]]`.
pub(crate) struct Runs<T> {
    items: Vec<T>,
    ends: Vec<u32>,
}

impl<T> Runs<T> {
    /// Runs of `items` with these ends (each at most the next).
    pub(crate) fn from_parts(items: Vec<T>, ends: Vec<u32>) -> Self {
        debug_assert!(ends.windows(2).all(|w| w[0] <= w[1]));
        debug_assert!(ends.last().is_none_or(|&e| e as usize == items.len()));
        Runs { items, ends }
    }

    /// Runs from (run, item) pairs, each run's items in the order given:
    /// each item is placed at its run's next free place (a counting sort;
    /// a stable comparison sort of the scanner's 3,000 pairs was 0.8 M
    /// instructions of a paste's start).
    pub(crate) fn grouped(runs: usize, pairs: Vec<(usize, T)>) -> Self
    where
        T: Copy + Default,
    {
        let mut ends = vec![0u32; runs];
        for &(run, _) in &pairs {
            ends[run] += 1;
        }
        let mut end = 0;
        for e in &mut ends {
            end += *e;
            *e = end;
        }
        let mut next: Vec<u32> = Vec::with_capacity(runs);
        next.push(0);
        next.extend(ends.iter().take(runs.saturating_sub(1)).copied());
        let mut items = vec![T::default(); pairs.len()];
        for (run, item) in pairs {
            items[next[run] as usize] = item;
            next[run] += 1;
        }
        Runs::from_parts(items, ends)
    }

    pub(crate) fn get(&self, i: usize) -> &[T] {
        let start = i
            .checked_sub(1)
            .map_or(0, |before| self.ends[before] as usize);
        &self.items[start..self.ends[i] as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[T]> {
        (0..self.len()).map(|i| self.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::Runs;

    #[test]
    fn runs_grouped_keep_each_runs_order_and_empty_runs() {
        let runs = Runs::grouped(4, vec![(2, 'a'), (0, 'b'), (2, 'c'), (0, 'd')]);
        assert_eq!(runs.len(), 4);
        assert_eq!(runs.get(0), &['b', 'd']);
        assert!(runs.get(1).is_empty());
        assert_eq!(runs.get(2), &['a', 'c']);
        assert!(runs.get(3).is_empty());
        let empty: Runs<u8> = Runs::grouped(0, Vec::new());
        assert!(empty.is_empty());
    }
}
