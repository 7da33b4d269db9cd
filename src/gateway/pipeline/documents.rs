//! Rendered PDFs held in memory from render to delivery.
//!
//! Rule: the database binds a document by its SHA-256 (with order, session,
//! copier and resident); the bytes themselves are not stored. The process
//! that rendered an order keeps the PDF here and hands it over at delivery;
//! any other process — or this one after eviction or a restart — renders it
//! again from the order's snapshot. Either way delivery hashes the exact
//! bytes it is about to send and compares them with the bound hash, so this
//! cache is only a shortcut: it can lose entries, never change an answer.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use uuid::Uuid;

use crate::gateway::render::RenderedDocument;

/// Memory the held PDFs may take (about 2,000 documents of ~32 KiB: several
/// seconds of issuance at full load, far more than render-to-fetch needs).
pub const BUDGET_BYTES: usize = 64 * 1024 * 1024;

pub(super) struct DocumentCache {
    inner: Mutex<Inner>,
    budget: usize,
}

#[derive(Default)]
struct Inner {
    documents: HashMap<Uuid, RenderedDocument>,
    /// Insertion order, for eviction; may hold ids already taken.
    order: VecDeque<Uuid>,
    bytes: usize,
}

impl DocumentCache {
    pub(super) fn new(budget: usize) -> Self {
        DocumentCache {
            inner: Mutex::new(Inner::default()),
            budget,
        }
    }

    /// Holds `document` for `order_id`, evicting the oldest beyond the budget.
    pub(super) fn put(&self, order_id: Uuid, document: RenderedDocument) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.bytes += document.pdf.len();
        if let Some(old) = inner.documents.insert(order_id, document) {
            inner.bytes -= old.pdf.len();
        } else {
            inner.order.push_back(order_id);
        }
        while inner.bytes > self.budget {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(evicted) = inner.documents.remove(&oldest) {
                inner.bytes -= evicted.pdf.len();
                metrics::counter!(crate::gateway::series::DOCUMENT_CACHE_EVICTIONS).increment(1);
            }
        }
        // Ids of documents already taken pile up in `order`; drop them now
        // and then so it stays proportional to what is held.
        if inner.order.len() > 2 * inner.documents.len() + 1024 {
            let Inner {
                documents, order, ..
            } = &mut *inner;
            order.retain(|id| documents.contains_key(id));
        }
    }

    /// Removes and returns the document held for `order_id`, if any.
    pub(super) fn take(&self, order_id: Uuid) -> Option<RenderedDocument> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let document = inner.documents.remove(&order_id)?;
        inner.bytes -= document.pdf.len();
        Some(document)
    }

    /// Drops the document held for `order_id` (its order will not be delivered).
    pub(super) fn discard(&self, order_id: Uuid) {
        let _ = self.take(order_id);
    }

    #[cfg(test)]
    fn held(&self) -> (usize, usize, usize) {
        let inner = self.inner.lock().unwrap();
        (inner.documents.len(), inner.order.len(), inner.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(len: usize, tag: u8) -> RenderedDocument {
        RenderedDocument {
            pdf: vec![tag; len],
            page_count: 1,
            sha256: [tag; 32],
            digest: [tag; 32],
            text: Vec::new(),
        }
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn take_returns_the_document_once() {
        let cache = DocumentCache::new(1000);
        cache.put(id(1), doc(10, 1));
        assert_eq!(cache.take(id(1)).unwrap().pdf, vec![1; 10]);
        assert!(cache.take(id(1)).is_none());
        assert!(cache.take(id(2)).is_none());
        assert_eq!(cache.held().2, 0);
    }

    #[test]
    fn the_oldest_are_evicted_beyond_the_budget() {
        let cache = DocumentCache::new(100);
        for n in 0..5 {
            cache.put(id(n), doc(30, n as u8));
        }
        // 150 bytes put, 100 allowed: the two oldest went.
        assert!(cache.take(id(0)).is_none());
        assert!(cache.take(id(1)).is_none());
        for n in 2..5 {
            assert_eq!(cache.take(id(n)).unwrap().pdf[0], n as u8);
        }
        assert_eq!(cache.held(), (0, 3, 0));
    }

    #[test]
    fn putting_the_same_order_again_replaces_without_double_counting() {
        let cache = DocumentCache::new(100);
        cache.put(id(1), doc(40, 1));
        cache.put(id(1), doc(50, 2));
        assert_eq!(cache.held(), (1, 1, 50));
        assert_eq!(cache.take(id(1)).unwrap().pdf[0], 2);
    }

    #[test]
    fn taken_ids_do_not_pile_up_in_the_eviction_queue() {
        let cache = DocumentCache::new(1 << 20);
        for n in 0..10_000 {
            cache.put(id(n), doc(1, 0));
            cache.take(id(n));
        }
        let (held, queued, bytes) = cache.held();
        assert_eq!((held, bytes), (0, 0));
        assert!(queued <= 1025, "{queued} ids queued");
    }
}
