//! The registry of named actors: a name is unique among live actors and freed when its
//! actor ends.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::exit::ActorId;
use crate::loom::always::Mutex;

struct Entry {
    id: ActorId,
    /// The `ActorRef<A>` (a strong reference: a named actor lives until it is stopped).
    actor: Box<dyn Any + Send + Sync>,
}

static REGISTRY: Mutex<BTreeMap<Arc<str>, Entry>> = Mutex::new(BTreeMap::new());

/// Registers `actor` under its name; false when the name is taken.
pub(crate) fn register<A: Actor>(name: &Arc<str>, actor: &ActorRef<A>) -> bool {
    let mut registry = REGISTRY.lock();
    if registry.contains_key(name) {
        return false;
    }
    let entry = Entry {
        id: actor.id(),
        actor: Box::new(actor.clone()),
    };
    registry.insert(name.clone(), entry);
    true
}

/// Frees `name` if `id` still holds it.
pub(crate) fn release(name: &str, id: ActorId) {
    let removed = {
        let mut registry = REGISTRY.lock();
        match registry.get(name) {
            Some(entry) if entry.id == id => registry.remove(name),
            _ => None,
        }
    };
    // Dropped outside the lock.
    drop(removed);
}

/// The live actor registered under `name`, if there is one and it is an `A`.
///
/// ```
/// # let rt = tokio::runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// use contexture_actor::{lookup, Actor, Builder};
///
/// struct Logger;
/// impl Actor for Logger {}
/// let logger = Builder::new().name("doc-logger").spawn(Logger).await.unwrap();
/// assert_eq!(lookup::<Logger>("doc-logger").unwrap().id(), logger.id());
/// logger.stop();
/// logger.join().await;
/// assert!(lookup::<Logger>("doc-logger").is_none());
/// # });
/// ```
pub fn lookup<A: Actor>(name: &str) -> Option<ActorRef<A>> {
    let registry = REGISTRY.lock();
    registry
        .get(name)?
        .actor
        .downcast_ref::<ActorRef<A>>()
        .cloned()
}
