//! DataLoaders for every relation, so a page of N orders costs a constant number of statements.
//! One loader per request (created by the HTTP handler); person, order and court rows by id also
//! go through the cross-request cache (`crate::cache`), raw, so field rules apply per caller.
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use entities::{
    agency, court, image_blob, order, order_event, order_image, order_party, person, person_alias,
    person_link, person_link_event, service_record,
};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};

use crate::audit::AccessLog;
use crate::cache::{CacheKind, DEFAULT_TTL, RequestCache, ttl_for_orders};
use crate::domain::ids::{self, Kind};

/// Loads by primary key or foreign key from the database, recording every person and order it
/// hands out in the request's access log (what the audit row lists).
pub struct DbLoader {
    pub db: DatabaseConnection,
    pub log: Arc<AccessLog>,
    /// The request's view of the cross-request cache; `None`: straight to the database.
    pub cache: Option<Arc<RequestCache>>,
    /// Rows a service read of this request already brought along (`prefetch`).
    pub prefetched: std::sync::Mutex<Prefetched>,
}

/// Rows fetched together with a service read, handed out by the loaders (and recorded for the
/// audit row) only when a resolver asks for them, like rows they load themselves.
#[derive(Default)]
pub struct Prefetched {
    persons: HashMap<i32, person::Model>,
    courts: HashMap<i32, court::Model>,
    /// Every party of the order.
    parties: HashMap<i32, Vec<order_party::Model>>,
    events: HashMap<i32, Vec<order_event::Model>>,
    service: HashMap<i32, Vec<service_record::Model>>,
    /// Every link touching the person.
    links: HashMap<i32, Vec<person_link::Model>>,
}

impl DbLoader {
    /// Keeps what a service read (a history, a case lookup) brought along for this request's
    /// resolvers.
    pub fn prefetch(&self, related: crate::service::history::Related) {
        let Ok(mut p) = self.prefetched.lock() else {
            return;
        };
        p.links.extend(related.links.into_iter().flatten());
        p.persons
            .extend(related.persons.into_iter().map(|r| (r.id, r)));
        p.courts
            .extend(related.courts.into_iter().map(|r| (r.id, r)));
        p.parties.extend(related.parties.into_iter().flatten());
        p.events.extend(related.events.into_iter().flatten());
        p.service.extend(related.service.into_iter().flatten());
    }

    /// Splits `keys` into the values already prefetched and the keys still to load.
    fn take_prefetched<V: Clone>(
        &self,
        keys: impl IntoIterator<Item = i32>,
        pick: impl Fn(&Prefetched) -> Option<&HashMap<i32, V>>,
    ) -> (Vec<(i32, V)>, Vec<i32>) {
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        let guard = self.prefetched.lock().ok();
        for k in keys {
            match guard.as_deref().and_then(&pick).and_then(|m| m.get(&k)) {
                Some(v) => found.push((k, v.clone())),
                None => missing.push(k),
            }
        }
        (found, missing)
    }
}

/// Rows kept in the cross-request cache by id, and for how long.
trait Cached: serde::Serialize + serde::de::DeserializeOwned + Clone {
    const KIND: Option<CacheKind>;
    fn id(&self) -> i32;
    /// Where `Prefetched` keeps rows of this type, if it does.
    fn prefetched(_p: &Prefetched) -> Option<&HashMap<i32, Self>> {
        None
    }
    fn ttl(&self) -> std::time::Duration {
        DEFAULT_TTL
    }
}

impl Cached for court::Model {
    const KIND: Option<CacheKind> = Some(CacheKind::Court);
    fn id(&self) -> i32 {
        self.id
    }
    fn prefetched(p: &Prefetched) -> Option<&HashMap<i32, Self>> {
        Some(&p.courts)
    }
}
impl Cached for person::Model {
    const KIND: Option<CacheKind> = Some(CacheKind::Person);
    fn id(&self) -> i32 {
        self.id
    }
    fn prefetched(p: &Prefetched) -> Option<&HashMap<i32, Self>> {
        Some(&p.persons)
    }
}
impl Cached for order::Model {
    const KIND: Option<CacheKind> = Some(CacheKind::Order);
    fn id(&self) -> i32 {
        self.id
    }
    fn ttl(&self) -> std::time::Duration {
        ttl_for_orders([self], chrono::Utc::now())
    }
}

/// Types whose rows are person or order data and so are audited when read.
trait Audited {
    fn audit_id(&self) -> Option<String>;
    /// The first instant after `now` at which the row reads differently without a write.
    fn changes_at(
        &self,
        _now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }
}

macro_rules! audited {
    ($entity:ident, $kind:expr) => {
        impl Audited for $entity::Model {
            fn audit_id(&self) -> Option<String> {
                $kind.map(|k| ids::encode(k, self.id))
            }
        }
    };
}

audited!(court, None::<Kind>);
audited!(agency, None::<Kind>);
audited!(person, Some(Kind::Person));

impl Audited for order::Model {
    fn audit_id(&self) -> Option<String> {
        Some(ids::encode(Kind::Order, self.id))
    }
    fn changes_at(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        crate::cache::next_change(self, now)
    }
}

impl DbLoader {
    fn record<'a, T: Audited + 'a>(&self, rows: impl IntoIterator<Item = &'a T>) {
        let now = chrono::Utc::now();
        let mut ids = Vec::new();
        for row in rows {
            ids.extend(row.audit_id());
            if let Some(at) = row.changes_at(now) {
                self.log.changes_at(at);
            }
        }
        self.log.objects(ids);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CourtId(pub i32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AgencyId(pub i32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PersonId(pub i32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderId(pub i32);
/// Parties of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartiesOf(pub i32);
/// Events of an order, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventsOf(pub i32);
/// Service records of an order, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ServiceOf(pub i32);
/// Aliases of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AliasesOf(pub i32);
/// Images of an order, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImagesOf(pub i32);
/// A stored image's content facts, by SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobOf(pub String);
/// Orders of a chain (by chain root), oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainOf(pub i32);

/// Records linked to a person (automatic or confirmed, transitively), itself included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdentityOf(pub i32);
/// Links touching a person, in any state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinksOf(pub i32);
/// Events of a person link, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkEventsOf(pub i32);

/// The first page of a person's orders for one filter: what `Person.orders` shows without
/// `after`, batched across the persons resolved together (a page of search hits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FirstOrdersOf {
    pub person_id: i32,
    pub status: Option<crate::domain::status::OrderStatus>,
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
    pub first: usize,
    /// The caller's county scope (`None`: all courts).
    pub court_ids: Option<Vec<i32>>,
}

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<DbErr>>;

macro_rules! by_id {
    ($key:ident, $entity:ident) => {
        impl Loader<$key> for DbLoader {
            type Value = $entity::Model;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[$key]) -> LoadResult<$key, $entity::Model> {
                let rows = $entity::Entity::find()
                    .filter($entity::Column::Id.is_in(keys.iter().map(|k| k.0)))
                    .all(&self.db)
                    .await?;
                self.record(&rows);
                Ok(rows.into_iter().map(|r| ($key(r.id), r)).collect())
            }
        }
    };
}

by_id!(AgencyId, agency);

impl DbLoader {
    /// Rows by id: cached ones first, the rest from the database (then cached). Every row
    /// handed out is recorded for the audit row, hit or miss.
    async fn cached_by_id<T, F>(&self, ids: Vec<i32>, fetch: F) -> Result<Vec<T>, Arc<DbErr>>
    where
        T: Cached + Audited,
        F: AsyncFnOnce(Vec<i32>) -> Result<Vec<T>, DbErr>,
    {
        let (found, mut missing) = self.take_prefetched(ids, T::prefetched);
        let mut rows: Vec<T> = found.into_iter().map(|(_, r)| r).collect();
        let cache = self.cache.as_deref().zip(T::KIND);
        if let Some((c, kind)) = cache.filter(|_| !missing.is_empty()) {
            let names: Vec<String> = missing.iter().map(i32::to_string).collect();
            let got = c.get_many::<T>(kind, &names).await;
            let mut still = Vec::new();
            for (id, hit) in missing.into_iter().zip(got) {
                match hit {
                    Some(r) if r.id() == id => rows.push(r),
                    _ => still.push(id),
                }
            }
            missing = still;
        }
        if !missing.is_empty() {
            let fresh = fetch(missing).await?;
            if let Some((c, kind)) = cache {
                c.put_many(kind, fresh.iter().map(|r| (r.id().to_string(), r, r.ttl())))
                    .await;
            }
            rows.extend(fresh);
        }
        self.record(&rows);
        Ok(rows)
    }
}

macro_rules! cached_by_id {
    ($key:ident, $entity:ident) => {
        impl Loader<$key> for DbLoader {
            type Value = $entity::Model;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[$key]) -> LoadResult<$key, $entity::Model> {
                let db = &self.db;
                let rows = self
                    .cached_by_id(keys.iter().map(|k| k.0).collect(), async |ids: Vec<i32>| {
                        $entity::Entity::find()
                            .filter($entity::Column::Id.is_in(ids))
                            .all(db)
                            .await
                    })
                    .await?;
                Ok(rows.into_iter().map(|r| ($key(r.id), r)).collect())
            }
        }
    };
}

cached_by_id!(CourtId, court);
cached_by_id!(PersonId, person);
cached_by_id!(OrderId, order);

/// Field accessors the `grouped!` loaders group by.
trait GroupKey {
    fn group(&self) -> i32;
}

/// Where `Prefetched` keeps the groups of a `grouped_loader!`, if it does.
trait PrefetchedGroups: Sized {
    fn prefetched(_p: &Prefetched) -> Option<&HashMap<i32, Vec<Self>>> {
        None
    }
}

impl PrefetchedGroups for order_party::Model {
    fn prefetched(p: &Prefetched) -> Option<&HashMap<i32, Vec<Self>>> {
        Some(&p.parties)
    }
}
impl PrefetchedGroups for order_event::Model {
    fn prefetched(p: &Prefetched) -> Option<&HashMap<i32, Vec<Self>>> {
        Some(&p.events)
    }
}
impl PrefetchedGroups for service_record::Model {
    fn prefetched(p: &Prefetched) -> Option<&HashMap<i32, Vec<Self>>> {
        Some(&p.service)
    }
}
impl PrefetchedGroups for person_alias::Model {}
impl PrefetchedGroups for order_image::Model {}
impl PrefetchedGroups for person_link_event::Model {}

macro_rules! grouped_loader {
    ($key:ident, $entity:ident, $fk:ident, $field:ident, $order:ident) => {
        impl GroupKey for $entity::Model {
            fn group(&self) -> i32 {
                self.$field
            }
        }

        impl Loader<$key> for DbLoader {
            type Value = Vec<$entity::Model>;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[$key]) -> LoadResult<$key, Vec<$entity::Model>> {
                let (found, missing) = self.take_prefetched(
                    keys.iter().map(|k| k.0),
                    <$entity::Model as PrefetchedGroups>::prefetched,
                );
                let mut out: HashMap<$key, Vec<$entity::Model>> =
                    found.into_iter().map(|(k, v)| ($key(k), v)).collect();
                if missing.is_empty() {
                    return Ok(out);
                }
                let rows = $entity::Entity::find()
                    .filter($entity::Column::$fk.is_in(missing.iter().copied()))
                    .order_by_asc($entity::Column::$order)
                    .order_by_asc($entity::Column::Id)
                    .all(&self.db)
                    .await?;
                out.extend(missing.iter().map(|k| ($key(*k), Vec::new())));
                for r in rows {
                    out.entry($key(r.group())).or_default().push(r);
                }
                Ok(out)
            }
        }
    };
}

grouped_loader!(PartiesOf, order_party, OrderId, order_id, Id);
grouped_loader!(EventsOf, order_event, OrderId, order_id, OccurredAt);
grouped_loader!(ServiceOf, service_record, OrderId, order_id, ServedAt);
grouped_loader!(AliasesOf, person_alias, PersonId, person_id, Id);
grouped_loader!(ImagesOf, order_image, OrderId, order_id, Id);

impl Loader<BlobOf> for DbLoader {
    type Value = image_blob::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[BlobOf]) -> LoadResult<BlobOf, image_blob::Model> {
        let rows = image_blob::Entity::find()
            .filter(image_blob::Column::Sha256.is_in(keys.iter().map(|k| k.0.clone())))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (BlobOf(r.sha256.clone()), r))
            .collect())
    }
}
grouped_loader!(LinkEventsOf, person_link_event, LinkId, link_id, OccurredAt);

impl Loader<IdentityOf> for DbLoader {
    type Value = Vec<i32>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[IdentityOf]) -> LoadResult<IdentityOf, Vec<i32>> {
        let roots: Vec<i32> = keys.iter().map(|k| k.0).collect();
        let sets = crate::service::identity::identities(&self.db, &roots)
            .await
            .map_err(|e| Arc::new(DbErr::Custom(e.to_string())))?;
        Ok(sets
            .into_iter()
            .map(|(root, set)| (IdentityOf(root), set.into_iter().collect()))
            .collect())
    }
}

impl Loader<LinksOf> for DbLoader {
    type Value = Vec<person_link::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[LinksOf]) -> LoadResult<LinksOf, Vec<person_link::Model>> {
        use sea_orm::sea_query::Condition;
        let (found, ids) = self.take_prefetched(keys.iter().map(|k| k.0), |p| Some(&p.links));
        let mut out: HashMap<LinksOf, Vec<person_link::Model>> =
            found.into_iter().map(|(k, v)| (LinksOf(k), v)).collect();
        if ids.is_empty() {
            return Ok(out);
        }
        let rows = person_link::Entity::find()
            .filter(
                Condition::any()
                    .add(person_link::Column::PersonA.is_in(ids.iter().copied()))
                    .add(person_link::Column::PersonB.is_in(ids.iter().copied())),
            )
            .order_by_asc(person_link::Column::Id)
            .all(&self.db)
            .await?;
        let loaded = crate::service::identity::links_by_member(rows, ids);
        out.extend(loaded.into_iter().map(|(k, v)| (LinksOf(k), v)));
        Ok(out)
    }
}

impl Loader<FirstOrdersOf> for DbLoader {
    type Value = (Vec<order::Model>, bool);
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[FirstOrdersOf],
    ) -> LoadResult<FirstOrdersOf, (Vec<order::Model>, bool)> {
        use crate::service::reads::{OrderFilter, first_orders_of_persons};
        // one batch per distinct filter (usually one: the same field on every hit)
        let mut groups: HashMap<FirstOrdersOf, Vec<i32>> = HashMap::new();
        for k in keys {
            let filter = FirstOrdersOf {
                person_id: 0,
                ..k.clone()
            };
            groups.entry(filter).or_default().push(k.person_id);
        }
        let mut out = HashMap::new();
        for (g, persons) in groups {
            let filter = OrderFilter {
                status: g.status,
                as_of: g.as_of,
                court_ids: g.court_ids.clone(),
                ..Default::default()
            };
            let pages = first_orders_of_persons(&self.db, &persons, &filter, g.first)
                .await
                .map_err(|e| Arc::new(DbErr::Custom(e.to_string())))?;
            for (person_id, page) in pages {
                out.insert(
                    FirstOrdersOf {
                        person_id,
                        ..g.clone()
                    },
                    page,
                );
            }
        }
        Ok(out)
    }
}

impl Loader<ChainOf> for DbLoader {
    type Value = Vec<order::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[ChainOf]) -> LoadResult<ChainOf, Vec<order::Model>> {
        let rows = order::Entity::find()
            .filter(order::Column::ChainRootId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(order::Column::IssuedAt)
            .order_by_asc(order::Column::Id)
            .all(&self.db)
            .await?;
        self.record(&rows);
        let mut out: HashMap<ChainOf, Vec<order::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for r in rows {
            out.entry(ChainOf(r.chain_root_id)).or_default().push(r);
        }
        Ok(out)
    }
}

/// A request's loader cache that a subscription empties between events: its loader lives as
/// long as the subscription, and each event must be answered from the database as it is then.
#[derive(Debug, Clone, Default)]
pub struct EpochCache {
    epoch: Arc<std::sync::atomic::AtomicU64>,
}

impl EpochCache {
    /// Empties every storage of this cache (lazily, on its next use).
    pub fn forget(&self) {
        self.epoch
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl async_graphql::dataloader::CacheFactory for EpochCache {
    fn create<K, V>(&self) -> Box<dyn async_graphql::dataloader::CacheStorage<Key = K, Value = V>>
    where
        K: Send + Sync + Clone + Eq + std::hash::Hash + 'static,
        V: Send + Sync + Clone + 'static,
    {
        Box::new(EpochStorage {
            epoch: self.epoch.clone(),
            at: self.epoch.load(std::sync::atomic::Ordering::Relaxed),
            map: HashMap::new(),
        })
    }
}

struct EpochStorage<K, V> {
    epoch: Arc<std::sync::atomic::AtomicU64>,
    at: u64,
    map: HashMap<K, V>,
}

impl<K, V> EpochStorage<K, V> {
    fn sync(&mut self) {
        let now = self.epoch.load(std::sync::atomic::Ordering::Relaxed);
        if now != self.at {
            self.map.clear();
            self.at = now;
        }
    }
}

impl<K, V> async_graphql::dataloader::CacheStorage for EpochStorage<K, V>
where
    K: Send + Sync + Clone + Eq + std::hash::Hash + 'static,
    V: Send + Sync + Clone + 'static,
{
    type Key = K;
    type Value = V;

    fn get(&mut self, key: &K) -> Option<&V> {
        self.sync();
        self.map.get(key)
    }

    fn insert(&mut self, key: std::borrow::Cow<'_, K>, val: std::borrow::Cow<'_, V>) {
        self.sync();
        self.map.insert(key.into_owned(), val.into_owned());
    }

    fn remove(&mut self, key: &K) {
        self.map.remove(key);
    }

    fn clear(&mut self) {
        self.map.clear();
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&'_ K, &'_ V)> + '_> {
        Box::new(self.map.iter())
    }
}
