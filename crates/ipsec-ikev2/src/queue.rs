//! A first-in first-out queue with a limit, for what an endpoint hands its caller:
//! a caller that does not drain it (or a flood that fills it faster than it is drained)
//! costs drops, counted, never memory without bound.

use std::collections::VecDeque;

/// Items below which an emptied queue keeps its capacity.
const KEEP: usize = 64;

/// A FIFO that holds at most `limit` items: one pushed beyond that is dropped and
/// counted. An emptied queue gives back the memory a burst made it take.
#[derive(Debug, Clone)]
pub struct BoundedQueue<T> {
    items: VecDeque<T>,
    limit: usize,
    dropped: u64,
}

impl<T> BoundedQueue<T> {
    /// An empty queue that holds at most `limit` items (at least one).
    pub fn new(limit: usize) -> Self {
        Self {
            items: VecDeque::new(),
            limit: limit.max(1),
            dropped: 0,
        }
    }

    /// Appends `item`, or drops it and counts the drop if the queue is full.
    pub fn push_back(&mut self, item: T) {
        if self.items.len() >= self.limit {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.items.push_back(item);
    }

    /// The oldest item.
    pub fn pop_front(&mut self) -> Option<T> {
        let item = self.items.pop_front();
        if self.items.is_empty() && self.items.capacity() > KEEP {
            self.items.shrink_to(KEEP);
        }
        item
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items dropped because the queue was full, since it was made.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The most items it holds.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The items waiting, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts() {
        let mut queue = BoundedQueue::new(3);
        for i in 0..10 {
            queue.push_back(i);
        }
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.dropped(), 7);
        assert_eq!(queue.pop_front(), Some(0));
        queue.push_back(10);
        assert_eq!(queue.iter().copied().collect::<Vec<_>>(), [1, 2, 10]);
    }

    #[test]
    fn an_emptied_queue_gives_its_memory_back() {
        let mut queue = BoundedQueue::new(100_000);
        for i in 0..100_000u32 {
            queue.push_back(i);
        }
        while queue.pop_front().is_some() {}
        assert!(queue.items.capacity() <= KEEP);
    }
}
