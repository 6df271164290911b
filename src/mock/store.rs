//! The chats, found by id and by client.
//!
//! Both maps are split into shards, each behind its own mutex, so requests
//! for different chats rarely meet on a lock and no lock is held for longer
//! than one map operation.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::chat::Chat;

/// Power of two well above the core count, so contention stays rare.
const SHARDS: usize = 64;

/// Who a chat belongs to: tenant, app entry and client installation (or
/// the cookie id of a `WebChat` client).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClientKey(Arc<(Box<str>, Box<str>, Box<str>)>);

impl ClientKey {
    /// The key of one client.
    pub fn new(tenant: &str, app_id: &str, client_id: &str) -> ClientKey {
        ClientKey(Arc::new((tenant.into(), app_id.into(), client_id.into())))
    }

    /// The client's `clientId` (`WebChat` clients carry their cookie's id).
    pub fn client_id(&self) -> &str {
        &self.0.2
    }
}

/// A map split into independently locked shards.
#[derive(Debug)]
struct Sharded<K, V> {
    shards: Vec<Mutex<HashMap<K, V>>>,
    hasher: RandomState,
}

impl<K: Hash + Eq, V> Sharded<K, V> {
    fn new() -> Self {
        let shards = (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect();
        Sharded {
            shards,
            hasher: RandomState::new(),
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, V>> {
        let index = self.hasher.hash_one(key) as usize % SHARDS;
        // A panic inside one map operation cannot leave the map half
        // changed, so a poisoned shard is still usable.
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// What Request Chat found or made.
pub(crate) enum Claim {
    /// The client's live chat.
    Existing(Arc<Chat>),
    /// A chat just made and registered.
    Created(Arc<Chat>),
}

/// Every chat the mock knows, live or recently ended.
#[derive(Debug)]
pub(crate) struct Store {
    by_id: Sharded<Arc<str>, Arc<Chat>>,
    by_client: Sharded<ClientKey, Arc<Chat>>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store {
            by_id: Sharded::new(),
            by_client: Sharded::new(),
        }
    }

    /// The chat with this id, ended ones included until they expire.
    pub fn chat(&self, id: &str) -> Option<Arc<Chat>> {
        self.by_id.shard(id).get(id).cloned()
    }

    /// The client's live chat.
    pub fn active_chat(&self, key: &ClientKey) -> Option<Arc<Chat>> {
        self.by_client.shard(key).get(key).cloned()
    }

    /// Returns the client's live chat, or registers the one `make` builds.
    ///
    /// The client's shard stays locked from the look-up to the insert, so
    /// two simultaneous Request Chats of one client cannot both create.
    /// `make` may refuse, which leaves the store unchanged.
    pub fn claim<E>(
        &self,
        key: &ClientKey,
        make: impl FnOnce() -> Result<Chat, E>,
    ) -> Result<Claim, E> {
        let mut clients = self.by_client.shard(key);
        if let Some(chat) = clients.get(key) {
            return Ok(Claim::Existing(chat.clone()));
        }

        let chat = Arc::new(make()?);
        clients.insert(key.clone(), chat.clone());
        drop(clients);

        self.by_id
            .shard(&chat.id)
            .insert(chat.id.clone(), chat.clone());
        Ok(Claim::Created(chat))
    }

    /// Unlinks an ended chat from its client, so the next Request Chat makes
    /// a new one. The chat stays findable by id until [`Store::forget`].
    pub fn release(&self, chat: &Arc<Chat>) {
        let mut clients = self.by_client.shard(&chat.owner);
        if clients
            .get(&chat.owner)
            .is_some_and(|c| Arc::ptr_eq(c, chat))
        {
            clients.remove(&chat.owner);
        }
    }

    /// Drops an ended chat for good.
    pub fn forget(&self, chat: &Chat) {
        self.by_id.shard(&chat.id).remove(&chat.id);
    }

    /// Every chat, for waking held polls at shutdown.
    pub fn all(&self) -> Vec<Arc<Chat>> {
        let mut all = Vec::new();
        for shard in &self.by_id.shards {
            let map = shard.lock().unwrap_or_else(PoisonError::into_inner);
            all.extend(map.values().cloned());
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiVersion;

    fn make(key: &ClientKey) -> Result<Chat, ()> {
        Ok(Chat::new(key.clone(), ApiVersion::V2, None))
    }

    #[test]
    fn a_client_gets_its_live_chat_back_until_it_is_released() {
        let store = Store::new();
        let key = ClientKey::new("t", "a", "c");
        let Ok(Claim::Created(first)) = store.claim(&key, || make(&key)) else {
            panic!("first claim did not create");
        };
        let Ok(Claim::Existing(again)) = store.claim(&key, || make(&key)) else {
            panic!("second claim created");
        };
        assert!(Arc::ptr_eq(&first, &again));

        store.release(&first);
        assert!(store.active_chat(&key).is_none());
        assert!(store.chat(&first.id).is_some());
        store.forget(&first);
        assert!(store.chat(&first.id).is_none());
    }

    #[test]
    fn a_refusal_leaves_the_store_unchanged() {
        let store = Store::new();
        let key = ClientKey::new("t", "a", "c");
        assert!(store.claim(&key, || Err::<Chat, _>("full")).is_err());
        assert!(store.active_chat(&key).is_none());
        assert!(store.all().is_empty());
    }
}
