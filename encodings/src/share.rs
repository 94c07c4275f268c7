//! Sharing sessions: serialising many values that share parts (`Arc`s)
//! writes each shared part once, and reading them back shares it again.
//!
//! States of an explicit-state search share most of their contents with each
//! other (a successor copies only what its step wrote), but serde writes
//! every value in full wherever it appears: a checkpoint of a BFS frontier of
//! eleven million `cluster` states came to over 50 GB that way. Inside a
//! session ([`writing`], [`reading`]), a part serialised through
//! [`serialize_shared`] is written in full the first time and as a number
//! afterwards, and [`deserialize_shared`] hands out clones of the value it
//! built the first time.
//!
//! # Format
//! Outside a session a shared part is its content, exactly as serde writes
//! it without this module. Inside one it is the pair `(tag, content)`: tag 0
//! and `Some(content)` for a part not written before in the session, tag
//! `n + 1` and `None` for the `n`-th part of its type written before (counted
//! from 0 in the order their writing ended: a part that contains parts
//! counts after them). A reader must therefore read a session's values in
//! the order they were written, in a session of its own, with the same types.
//!
//! # Where it is incomplete
//! A part is known by its type and the address of its allocation, which is
//! unique among values alive at once: the values written in one session must
//! all be alive (borrowed) until the session ends, or a new part at a freed
//! part's address would be written as a reference to the old one. A part
//! declared unique (see [`serialize_shared`]) that is met twice is written
//! twice and read back as two parts: larger, never wrong. Sessions are per
//! thread.

use std::any::{Any, TypeId};
use std::cell::RefCell;

use hashbrown::HashMap;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The parts written so far in a writing session, per type: a type with
/// few parts (interned names) keeps a small, cache-resident table of its
/// own. With unique parts left out of the tables, this took writing the
/// states of a checkpoint of about four million `cluster` states from 9.3 s
/// (one table for every part) to 5.9 s.
#[derive(Default)]
struct Writer {
    types: HashMap<TypeId, Parts>,
}

/// The parts of one type written so far.
#[derive(Default)]
struct Parts {
    /// Part number by allocation address (parts known to be unique are
    /// numbered but not entered).
    ids: HashMap<usize, u32>,
    /// Parts written so far.
    count: u32,
}

/// The parts read so far in a reading session, per type (each entry a `Vec<T>`).
#[derive(Default)]
struct Reader {
    parts: HashMap<TypeId, Box<dyn Any>>,
}

thread_local! {
    static WRITER: RefCell<Option<Writer>> = const { RefCell::new(None) };
    static READER: RefCell<Option<Reader>> = const { RefCell::new(None) };
    /// How many [`reached_again`] calls this thread is inside.
    static AGAIN: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs `f` (which serialises parts) treating every part as one the session
/// may meet again, whatever `unique` says: for parts held by a container
/// that several states share, such as a node of a persistent list, which a
/// count of 1 on the part itself does not make unique.
pub fn reached_again<R>(f: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            AGAIN.with(|a| a.set(a.get() - 1));
        }
    }
    AGAIN.with(|a| a.set(a.get() + 1));
    let _leave = Leave;
    f()
}

/// Ends a session when dropped (also when the closure panics), restoring the
/// session it was nested in.
struct Restore<T: 'static> {
    key: &'static std::thread::LocalKey<RefCell<Option<T>>>,
    outer: Option<T>,
}

impl<T: 'static> Drop for Restore<T> {
    fn drop(&mut self) {
        let outer = self.outer.take();
        self.key.with_borrow_mut(|s| *s = outer);
    }
}

/// Runs `f` in a writing session of this thread: shared parts that
/// [`serialize_shared`] meets more than once are written once. A session
/// nested in another is a session of its own.
pub fn writing<R>(f: impl FnOnce() -> R) -> R {
    let outer = WRITER.with_borrow_mut(|s| s.replace(Writer::default()));
    let _restore = Restore { key: &WRITER, outer };
    f()
}

/// Runs `f` in a reading session of this thread, to read what one writing
/// session wrote, in the same order.
pub fn reading<R>(f: impl FnOnce() -> R) -> R {
    let outer = READER.with_borrow_mut(|s| s.replace(Reader::default()));
    let _restore = Restore { key: &READER, outer };
    f()
}

/// Runs `f` on this thread's reading session's cache of type `K` (made by
/// `K::default()` the first time): for a type that rebuilds sharing its
/// serialised form does not spell out, such as the nodes of persistent
/// lists that several states share. `None` outside a reading session. The
/// cache ends with the session. `f` must not read shared parts itself.
pub fn reading_cache<K: Default + 'static, R>(f: impl FnOnce(&mut K) -> R) -> Option<R> {
    READER.with_borrow_mut(|r| {
        let cache = r.as_mut()?.parts.entry(TypeId::of::<K>()).or_insert_with(|| Box::new(K::default()));
        cache.downcast_mut::<K>().map(f)
    })
}

/// Serialises a shared part of type `T` whose allocation is at `address`,
/// with contents `content` (what [`deserialize_shared`] for `T` reads back).
/// `unique` says the caller holds the only reference to the part (an `Arc`
/// whose count is 1), so that the session cannot meet it again: it is
/// numbered but not remembered (on `cluster` checkpoints, about a third of
/// the parts). A part remembered when it was met shared is still written as
/// a reference when met again unique (its other holders were freed in
/// between: persistent history lists made a checkpoint 1.6 times larger
/// before this was so). Outside a writing session: `content` as it is.
pub fn serialize_shared<T: 'static, S: Serializer, C: Serialize + ?Sized>(
    s: S,
    address: *const (),
    unique: bool,
    content: &C,
) -> Result<S::Ok, S::Error> {
    let key = address as usize;
    let unique = unique && AGAIN.with(|a| a.get()) == 0;
    let seen = WRITER.with_borrow(|w| {
        let w = w.as_ref()?;
        Some(w.types.get(&TypeId::of::<T>()).and_then(|p| p.ids.get(&key).copied()))
    });
    match seen {
        None => content.serialize(s),
        Some(Some(id)) => (id + 1, None::<&C>).serialize(s),
        Some(None) => {
            // Contents first: the parts inside are numbered before this one,
            // as a reader numbers them.
            let done = (0u32, Some(content)).serialize(s)?;
            WRITER.with_borrow_mut(|w| {
                if let Some(w) = w {
                    let parts = w.types.entry(TypeId::of::<T>()).or_default();
                    if !unique {
                        parts.ids.insert(key, parts.count);
                    }
                    parts.count += 1;
                }
            });
            Ok(done)
        }
    }
}

/// Reads a shared part of type `T` written by [`serialize_shared`]: its
/// contents `C`, made into a `T` by `make` the first time, a clone of that
/// `T` afterwards. Outside a reading session: `make` of the contents.
pub fn deserialize_shared<'de, T, C, D>(d: D, make: impl FnOnce(C) -> T) -> Result<T, D::Error>
where
    T: Clone + 'static,
    C: Deserialize<'de>,
    D: Deserializer<'de>,
{
    if READER.with_borrow(Option::is_none) {
        return C::deserialize(d).map(make);
    }
    let (tag, content) = <(u32, Option<C>)>::deserialize(d)?;
    match (tag, content) {
        (0, Some(c)) => {
            let value = make(c);
            READER.with_borrow_mut(|r| {
                if let Some(r) = r {
                    let parts = r.parts.entry(TypeId::of::<T>()).or_insert_with(|| Box::new(Vec::<T>::new()));
                    if let Some(parts) = parts.downcast_mut::<Vec<T>>() {
                        parts.push(value.clone());
                    }
                }
            });
            Ok(value)
        }
        (n, None) if n > 0 => READER
            .with_borrow(|r| {
                let parts = r.as_ref()?.parts.get(&TypeId::of::<T>())?.downcast_ref::<Vec<T>>()?;
                parts.get(n as usize - 1).cloned()
            })
            .ok_or_else(|| D::Error::custom(format!("shared part {n} was not read before"))),
        _ => Err(D::Error::custom("a shared part is neither new nor a reference")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A shared string, as a model would wrap its `Arc`s.
    #[derive(Clone, Debug, PartialEq)]
    struct Part(Arc<String>);

    impl Serialize for Part {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_shared::<Part, _, _>(s, Arc::as_ptr(&self.0).cast(), false, &*self.0)
        }
    }

    impl<'de> Deserialize<'de> for Part {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize_shared(d, |s: String| Part(Arc::new(s)))
        }
    }

    /// A shared list of parts: shared parts inside a shared part.
    #[derive(Clone, Debug, PartialEq)]
    struct List(Arc<Vec<Part>>);

    impl Serialize for List {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_shared::<List, _, _>(s, Arc::as_ptr(&self.0).cast(), Arc::strong_count(&self.0) == 1, &*self.0)
        }
    }

    impl<'de> Deserialize<'de> for List {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize_shared(d, |v: Vec<Part>| List(Arc::new(v)))
        }
    }

    fn values() -> Vec<(List, Part)> {
        let a = Part(Arc::new("a".repeat(100)));
        let b = Part(Arc::new("b".repeat(100)));
        let ab = List(Arc::new(vec![a.clone(), b.clone()]));
        let ba = List(Arc::new(vec![b.clone(), a.clone()]));
        vec![(ab.clone(), a.clone()), (ba, b), (ab, Part(Arc::new("c".into()))), (List(Arc::new(vec![])), a)]
    }

    #[test]
    fn outside_a_session_parts_are_their_contents() {
        let vs = values();
        let plain: Vec<(Vec<String>, String)> =
            vs.iter().map(|(l, p)| (l.0.iter().map(|x| (*x.0).clone()).collect(), (*p.0).clone())).collect();
        let bytes = postcard::to_stdvec(&vs).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&plain).unwrap());
        assert_eq!(postcard::from_bytes::<Vec<(List, Part)>>(&bytes).unwrap(), vs);
    }

    #[test]
    fn a_session_writes_each_part_once_and_reads_them_back_shared() {
        let vs = values();
        let plain = postcard::to_stdvec(&vs).unwrap();
        // One value at a time, as checkpoints write states.
        let shared: Vec<Vec<u8>> = writing(|| vs.iter().map(|v| postcard::to_stdvec(v).unwrap()).collect());
        let total: usize = shared.iter().map(Vec::len).sum();
        // "a" and "b" (100 bytes each) written once, not five times.
        assert!(total < 250 && plain.len() > 500, "{total} bytes shared, {} plain", plain.len());
        let back: Vec<(List, Part)> = reading(|| shared.iter().map(|b| postcard::from_bytes(b).unwrap()).collect());
        assert_eq!(back, vs);
        // Parts shared when written are shared when read.
        assert!(Arc::ptr_eq(&back[0].0 .0, &back[2].0 .0));
        assert!(Arc::ptr_eq(&back[0].1 .0, &back[3].1 .0));
        assert!(Arc::ptr_eq(&back[0].0 .0[0].0, &back[1].0 .0[1].0));
        // Sessions end with their closure.
        assert_eq!(postcard::to_stdvec(&vs).unwrap(), plain);
    }

    #[test]
    fn a_reference_to_a_part_never_read_is_an_error() {
        let vs = values();
        let shared: Vec<Vec<u8>> = writing(|| vs.iter().map(|v| postcard::to_stdvec(v).unwrap()).collect());
        // The second value refers to parts of the first.
        let r = reading(|| postcard::from_bytes::<(List, Part)>(&shared[1]));
        assert!(r.is_err());
    }

    #[test]
    fn a_reading_cache_lives_as_long_as_its_session() {
        #[derive(Default)]
        struct Seen(Vec<u32>);
        assert_eq!(reading_cache(|c: &mut Seen| c.0.len()), None, "no session, no cache");
        reading(|| {
            assert_eq!(reading_cache(|c: &mut Seen| c.0.push(1)), Some(()));
            assert_eq!(reading_cache(|c: &mut Seen| c.0.clone()), Some(vec![1]));
            reading(|| assert_eq!(reading_cache(|c: &mut Seen| c.0.len()), Some(0), "a nested session is new"));
            assert_eq!(reading_cache(|c: &mut Seen| c.0.len()), Some(1), "the outer one is back");
        });
        reading(|| assert_eq!(reading_cache(|c: &mut Seen| c.0.len()), Some(0), "a later session starts empty"));
    }

    #[test]
    fn a_part_met_shared_then_unique_is_written_once() {
        let part = Arc::new("x".repeat(100));
        let bytes = writing(|| {
            let mut out = Vec::new();
            for unique in [false, true] {
                let mut s = serde_json::Serializer::new(&mut out);
                serialize_shared::<String, _, _>(&mut s, Arc::as_ptr(&part).cast(), unique, &*part).unwrap();
            }
            out
        });
        assert_eq!(String::from_utf8(bytes).unwrap().matches(part.as_str()).count(), 1, "the second time, a reference");
    }
}
