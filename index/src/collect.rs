//! Top-k retrieval with a known lower bound on the k-th score.
//!
//! tantivy's `TopDocs` starts every segment with no threshold, so block-max WAND prunes
//! nothing until k documents are in hand, and for common names those first k are weak and
//! scattered across the whole doc-id space. When a cheaper query has already shown that k
//! documents score at least `floor`, the union can start pruning at `floor` from its first
//! block.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use tantivy::query::{EnableScoring, Query};
use tantivy::{DocAddress, Score, Searcher};

#[derive(Clone, Copy, PartialEq)]
struct Entry(Score, DocAddress);

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    // Higher score first; among equal scores the lower address, as `TopDocs` does.
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// The `k` best documents of `query` scoring above `floor`, best first. `floor` must not
/// exceed the k-th best score of `query` (pass 0 when nothing is known), or better documents
/// may be missed.
pub(crate) fn top_k(
    searcher: &Searcher,
    query: &dyn Query,
    k: usize,
    floor: Score,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    if k == 0 {
        return Ok(Vec::new());
    }
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::with_capacity(k + 1);
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let threshold = |heap: &BinaryHeap<Reverse<Entry>>| match heap.peek() {
            Some(Reverse(worst)) if heap.len() >= k => worst.0.max(floor),
            _ => floor,
        };
        let start = threshold(&heap);
        // Replaced and deleted persons stay in their segment until a merge; skip them.
        let alive = segment.alive_bitset();
        weight.for_each_pruning(start, segment, &mut |doc, score| {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                return threshold(&heap);
            }
            heap.push(Reverse(Entry(score, DocAddress::new(ord as u32, doc))));
            if heap.len() > k {
                heap.pop();
            }
            threshold(&heap)
        })?;
    }
    let mut out: Vec<Entry> = heap.into_iter().map(|Reverse(e)| e).collect();
    out.sort_by(|a, b| b.cmp(a));
    Ok(out.into_iter().map(|Entry(s, a)| (s, a)).collect())
}
