//! One page of a list answer.

/// One page of a list: the rows plus what is needed to fetch the next one.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Number of records matching the filter over all pages (`totalCount`).
    pub total_count: Option<u64>,
    /// Offset this page was requested with.
    pub offset: u64,
    /// Limit this page was requested with.
    pub limit: u32,
    /// The server's clock when it answered (the HTTP `Date` header, whole
    /// seconds), when it sent one: a watermark for incremental reads that
    /// does not depend on the local clock.
    pub server_time: Option<chrono::DateTime<chrono::Utc>>,
}

impl<T> Page<T> {
    /// Offset of the next page, or `None` when this was the last one.
    pub fn next_offset(&self) -> Option<u64> {
        let next = self.offset + self.items.len() as u64;
        if self.items.is_empty() || self.items.len() < self.limit as usize {
            return None;
        }
        match self.total_count {
            Some(total) if next >= total => None,
            _ => Some(next),
        }
    }

    /// True when no further page exists.
    pub fn is_last(&self) -> bool {
        self.next_offset().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, offset: u64, limit: u32, total: Option<u64>) -> Page<u8> {
        Page {
            items: vec![0; n],
            total_count: total,
            offset,
            limit,
            server_time: None,
        }
    }

    #[test]
    fn next_offset_rules() {
        assert_eq!(page(10, 0, 10, Some(25)).next_offset(), Some(10));
        assert_eq!(page(5, 20, 10, Some(25)).next_offset(), None);
        assert_eq!(page(10, 10, 10, Some(20)).next_offset(), None);
        assert_eq!(page(10, 10, 10, None).next_offset(), Some(20));
        assert_eq!(page(0, 0, 10, None).next_offset(), None);
    }
}
