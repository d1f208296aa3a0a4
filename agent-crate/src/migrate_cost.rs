//! The migration's cost per value, measured on the agent's own migration path (`swap_all`: the
//! old code serializes, the new code deserializes, the old value is dropped), for a small state
//! and a large one. Not a test: `npm run bench -- migration` runs it (ignored by `cargo test`) in
//! the dev profile, the profile hot-patched apps run in, and reads the lines it prints:
//! `migration-cost <state> <values> <json bytes> <ns per run>…` (V1 → V2 on a fresh value each run).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::hot_state::{Codec, HotState};
use crate::migrate::{lock_all, swap_all, LOCK_WAIT};

// The old and the new layout of each state: a field added with a default (and read back, so
// the two layouts' conversion is checked, not only timed).
#[derive(Serialize, Deserialize)]
struct SmallV1 {
    count: u64,
    level: String,
}
#[derive(Serialize, Deserialize)]
struct SmallV2 {
    count: u64,
    level: String,
    #[serde(default)]
    speed: f32,
}

#[derive(Serialize, Deserialize, Clone)]
struct Entry {
    id: u64,
    name: String,
    pos: (f32, f32),
}
#[derive(Serialize, Deserialize)]
struct LargeV1 {
    count: u64,
    entries: Vec<Entry>,
}
#[derive(Serialize, Deserialize)]
struct LargeV2 {
    count: u64,
    entries: Vec<Entry>,
    #[serde(default)]
    speed: f32,
}

fn measure<Old, New>(state: &str, runs: usize, make: impl Fn() -> Old, check: impl Fn(&HotState<New>))
where
    Old: Serialize + serde::de::DeserializeOwned + 'static,
    New: Serialize + serde::de::DeserializeOwned + 'static,
{
    let mut ns = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let handle = HotState::new(make());
        let slots = vec![handle.slot()];
        bytes = handle.call(|v| serde_json::to_vec(v).unwrap().len());
        let guards = lock_all(&slots, LOCK_WAIT).unwrap();
        let start = Instant::now();
        swap_all(&slots, guards, vec![Codec::of::<New>()], || Ok(())).unwrap();
        ns.push(start.elapsed().as_nanos());
        check(&handle.viewed_as::<New>());
    }
    println!("migration-cost {state} 1 {bytes} {}", ns.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" "));
}

#[test]
#[ignore = "a benchmark: npm run bench -- migration"]
fn migration_cost() {
    measure::<SmallV1, SmallV2>("small", 21, || SmallV1 { count: 41, level: "forest".into() }, |h| {
        assert_eq!(h.call(|s| (s.count, s.level.clone(), s.speed)), (41, "forest".to_string(), 0.0))
    });
    let entries: Vec<Entry> = (0..100_000).map(|i| Entry { id: i, name: format!("entity-{i}"), pos: (i as f32, -(i as f32)) }).collect();
    measure::<LargeV1, LargeV2>("large-100k-entries", 7, || LargeV1 { count: 7, entries: entries.clone() }, |h| {
        assert_eq!(h.call(|s| (s.count, s.entries.len(), s.entries[99_999].id, s.speed)), (7, 100_000, 99_999, 0.0))
    });
}
