//! Uploaded files, kept in memory with a cap on their number and total
//! size; the oldest file goes first when either cap is reached.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

/// One uploaded file.
#[derive(Debug)]
pub(crate) struct StoredFile {
    /// The part's content type, or `application/octet-stream`.
    pub content_type: String,
    /// The bytes.
    pub data: Bytes,
}

/// The file store.
#[derive(Debug)]
pub(crate) struct Files {
    inner: Mutex<Shelf>,
    max_files: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Shelf {
    by_id: HashMap<String, Arc<StoredFile>>,
    order: VecDeque<String>,
    bytes: usize,
}

impl Files {
    /// A store holding at most `max_files` files and `max_bytes` bytes.
    pub fn new(max_files: usize, max_bytes: usize) -> Files {
        Files {
            inner: Mutex::new(Shelf::default()),
            max_files,
            max_bytes,
        }
    }

    fn shelf(&self) -> MutexGuard<'_, Shelf> {
        // Each update finishes its map and queue changes together, so a
        // poisoned lock still guards a usable shelf.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a file and returns its new id, evicting the oldest files as
    /// needed to stay within both caps.
    pub fn put(&self, file: StoredFile) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let size = file.data.len();
        let mut shelf = self.shelf();
        while !shelf.order.is_empty()
            && (shelf.order.len() >= self.max_files || shelf.bytes + size > self.max_bytes)
        {
            evict_oldest(&mut shelf);
        }

        shelf.bytes += size;
        shelf.order.push_back(id.clone());
        shelf.by_id.insert(id.clone(), Arc::new(file));
        id
    }

    /// The file with this id, if it is still kept.
    pub fn get(&self, id: &str) -> Option<Arc<StoredFile>> {
        self.shelf().by_id.get(id).cloned()
    }
}

fn evict_oldest(shelf: &mut Shelf) {
    if let Some(old) = shelf.order.pop_front()
        && let Some(file) = shelf.by_id.remove(&old)
    {
        shelf.bytes -= file.data.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: usize) -> StoredFile {
        StoredFile {
            content_type: "text/plain".into(),
            data: Bytes::from(vec![b'x'; size]),
        }
    }

    #[test]
    fn the_oldest_file_goes_when_the_count_is_reached() {
        let files = Files::new(2, 1000);
        let a = files.put(file(1));
        let b = files.put(file(1));
        let c = files.put(file(1));
        assert!(files.get(&a).is_none());
        assert!(files.get(&b).is_some() && files.get(&c).is_some());
    }

    #[test]
    fn the_oldest_files_go_when_the_bytes_are_reached() {
        let files = Files::new(10, 10);
        let a = files.put(file(4));
        let b = files.put(file(4));
        let c = files.put(file(7));
        assert!(files.get(&a).is_none() && files.get(&b).is_none());
        assert_eq!(files.get(&c).unwrap().data.len(), 7);
    }
}
